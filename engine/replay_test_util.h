// engine/replay_test_util.h
//
// Shared by the replay tests (replay_test.cc, snapshot_replay_test.cc): a sink that
// records (and numbers) mutations, a dump of an engine's whole state in a canonical
// order, and a random workload over a small key space.
//
// Thread-safety: RecordingSink is thread-safe; a RandomWorkload belongs to one thread.
#ifndef ATTRIB_ENGINE_REPLAY_TEST_UTIL_H_
#define ATTRIB_ENGINE_REPLAY_TEST_UTIL_H_

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "gtest/gtest.h"

namespace attrib::engine::replay_testing {

class RecordingSink : public MutationSink {
 public:
  void OnMutation(const Mutation& m) override {
    absl::MutexLock lock(&mu_);
    mutations_.push_back(m);
  }
  std::vector<Mutation> Take() {
    absl::MutexLock lock(&mu_);
    return std::move(mutations_);
  }
  std::vector<Mutation> Copy() {
    absl::MutexLock lock(&mu_);
    return mutations_;
  }
  // Mutation i (0-based) has sequence number i + 1; this is the last one given.
  uint64_t LastSeq() {
    absl::MutexLock lock(&mu_);
    return mutations_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<Mutation> mutations_ ABSL_GUARDED_BY(mu_);
};

// Everything an engine holds, in a canonical order.
struct State {
  std::map<std::pair<ShopId, std::string>, Connection> connections;
  std::map<ShopId, ShopSettings> settings;
  std::map<std::pair<ShopId, std::string>, OrderRecord> orders;
  std::map<std::pair<ShopId, AffiliateId>, Affiliate> affiliates;
  std::vector<WebhookEndpoint> webhooks;  // By id.
  // Customers with aliases: primary -> aliases (identity_index.h).
  std::map<std::pair<ShopId, std::string>, std::vector<std::string>> identities;
  // The customer directory (customer_directory.h): primary key -> entry.
  std::map<std::pair<ShopId, std::string>, CustomerEntry> customers;
  friend bool operator==(const State&, const State&) = default;
};

inline State Dump(const Engine& e) {
  State s;
  for (uint32_t i = 0; i < e.store().shard_count(); ++i) {
    e.store().ForEachInShard(i, [&](const Shard& shard, record::View v) {
      Connection c = shard.Materialize(v);
      s.connections[{c.shop, c.canonical_email}] = c;
    });
  }
  e.settings().ForEach([&](ShopId shop, const ShopSettings& st) { s.settings[shop] = st; });
  e.orders().ForEach([&](const OrderRecord& r) {
    s.orders[{r.shop, r.decision.order_id}] = r;
  });
  e.affiliates().ForEachLocked(
      [&](const Affiliate& a) { s.affiliates[{a.shop, a.id}] = a; }, [] {});
  s.webhooks = e.webhooks().List(0);
  e.identity().ForEachLocked(
      [&](ShopId shop, const CustomerIdentifiers& c) {
        s.identities[{shop, c.primary}] = c.aliases;
      },
      [] {});
  e.customers().ForEachLocked(
      [&](ShopId shop, absl::string_view key, const CustomerEntry& c) {
        s.customers[{shop, std::string(key)}] = c;
      },
      [] {});
  return s;
}

// Webhook endpoints in every state an endpoint can be in: created with and without
// event types, updated, rotated (a previous secret), disabled with a reason, deleted.
inline void FillWebhookEndpoints(Engine* e) {
  std::vector<uint64_t> ids;
  for (ShopId shop = 1; shop <= 3; ++shop) {
    for (int i = 0; i < 3; ++i) {
      WebhookEndpointRequest r;
      r.shop = shop;
      r.url = absl::StrCat("https://hooks.example.com/", shop, "/", i);
      if (i == 1) r.event_types = {"connection.created", "order.reversed"};
      r.secret = absl::StrCat("whsec_c2VjcmV0", shop, i);
      absl::StatusOr<WebhookEndpoint> ep = e->CreateWebhookEndpoint(r);
      EXPECT_TRUE(ep.ok()) << ep.status();
      if (ep.ok()) ids.push_back(ep->id);
    }
  }
  if (ids.size() < 9) return;
  WebhookEndpointPatch p;
  p.url = "http://127.0.0.1:9/x";
  p.event_types = std::vector<std::string>{"settings.updated"};
  EXPECT_TRUE(e->UpdateWebhookEndpoint(1, ids[0], p).ok());
  EXPECT_TRUE(e->RotateWebhookSecret(1, ids[1], "whsec_bmV3", 86'400'000).ok());
  EXPECT_TRUE(e->DisableWebhookEndpoint(2, ids[3], "the receiver answered 410 Gone").ok());
  EXPECT_TRUE(e->DeleteWebhookEndpoint(3, ids[8]).ok());
}

// Random operations over a small key space, so that keys collide, expire, get
// capped, reassigned, reversed...
class RandomWorkload {
 public:
  RandomWorkload(Engine* engine, FakeClock* clock, uint64_t seed)
      : engine_(engine), clock_(clock), rng_(seed) {}

  void Step() {
    if (clock_ != nullptr && Pick(10) == 0) clock_->Advance(Pick(3 * kMsPerDay));
    const ShopId shop = 1 + Pick(3);
    const std::string email = absl::StrCat(Pick(2) ? "Cust" : "cust", Pick(40),
                                           Pick(2) ? "+tag" : "", "@gmail.com");
    const std::string external_id = absl::StrCat("ext-", Pick(30));
    switch (Pick(15)) {
      case 0:
      case 1: {
        ConnectRequest r;
        r.shop = shop;
        r.email = email;
        r.affiliate = 1 + Pick(5);
        r.mode = Pick(3) == 0 ? ConnectMode::kReassign : ConnectMode::kIfAbsent;
        r.source = static_cast<Source>(Pick(4));
        if (Pick(4) == 0) r.name = absl::StrCat("Name ", Pick(100));
        if (Pick(5) == 0) r.connected_at = 1'600'000'000'000 + Pick(1'000'000'000);
        (void)engine_->Connect(r);
        break;
      }
      case 2:
        (void)engine_->Disconnect(shop, email);
        break;
      case 3: {
        ShopSettingsPatch p;
        if (Pick(2)) p.validity_days = Pick(4) * 2;
        if (Pick(2)) p.validity_mode = static_cast<ValidityMode>(Pick(2));
        if (Pick(2)) p.validity_max_orders = Pick(4);
        if (Pick(2)) p.precedence = static_cast<Precedence>(Pick(3));
        if (Pick(2)) p.auto_connect = Pick(2) == 1;
        if (Pick(2)) p.auto_connect_new_customers_only = Pick(2) == 1;
        if (Pick(5) == 0) p.connections_enabled = Pick(3) != 0;
        (void)engine_->UpdateSettings(shop, p);
        break;
      }
      case 4:
      case 5:
      case 6: {
        AttributeRequest r;
        r.shop = shop;
        r.order_id = absl::StrCat("order-", Pick(300));  // Repeats: duplicates.
        if (Pick(5) != 0) r.email = email;
        if (Pick(2)) r.referral_affiliate = 1 + Pick(5);
        if (Pick(2)) r.customer_is_new = Pick(2) == 1;
        if (Pick(4) == 0 && clock_ != nullptr) {
          r.ordered_at = clock_->NowMs() - static_cast<TimeMs>(Pick(5 * kMsPerDay));
        }
        (void)engine_->Attribute(r);
        break;
      }
      case 7:
        (void)engine_->Reverse(shop, absl::StrCat("order-", Pick(300)));
        break;
      case 8:
        (void)engine_->Explain(shop, absl::StrCat("order-", Pick(300)));
        break;
      case 9: {  // The affiliate directory: customers' emails, so self-referrals happen.
        const AffiliateId id = 1 + Pick(5);
        if (Pick(3) == 0) {
          (void)engine_->SetAffiliateStatus(
              shop, id, Pick(2) ? AffiliateStatus::kDisabled : AffiliateStatus::kActive);
          break;
        }
        PutAffiliateRequest r;
        r.shop = shop;
        r.id = id;
        r.name = absl::StrCat(Pick(2) ? "Ann " : "bob ", Pick(10));
        for (uint64_t n = Pick(3); n > 0; --n) r.emails.push_back(absl::StrCat("cust", Pick(40), "@gmail.com"));
        if (Pick(3) == 0) r.status = static_cast<AffiliateStatus>(Pick(2));
        (void)engine_->PutAffiliate(r);
        break;
      }
      case 10: {
        ShopSettingsPatch p;
        if (Pick(2)) p.require_registered_affiliates = Pick(3) == 0;
        if (Pick(2)) p.block_self_referrals = Pick(3) != 0;
        if (Pick(2)) p.on_customer_becomes_affiliate = static_cast<CustomerBecomesAffiliate>(Pick(2));
        (void)engine_->UpdateSettings(shop, p);
        break;
      }
      case 11: {  // Customer identifiers: orders with both (links and merges).
        AttributeRequest r;
        r.shop = shop;
        r.order_id = absl::StrCat("order-", Pick(300));
        if (Pick(4) != 0) r.email = email;
        r.external_id = external_id;
        if (Pick(2)) r.referral_affiliate = 1 + Pick(5);
        (void)engine_->Attribute(r);
        break;
      }
      case 12: {
        ConnectRequest r;
        r.shop = shop;
        if (Pick(2)) r.email = email;
        if (r.email.empty() || Pick(2)) r.external_id = external_id;
        r.affiliate = 1 + Pick(5);
        r.mode = Pick(2) == 0 ? ConnectMode::kReassign : ConnectMode::kIfAbsent;
        (void)engine_->Connect(r);
        break;
      }
      case 13: {
        const CustomerRef other{Pick(2) ? std::optional<std::string>(absl::StrCat(
                                              "cust", Pick(40), "@gmail.com"))
                                        : std::nullopt,
                                std::nullopt};
        CustomerRef id = other;
        if (!id.email) id.external_id = external_id;
        switch (Pick(4)) {
          case 0:
            (void)engine_->LinkIdentifier(shop, CustomerRef{email, std::nullopt}, id);
            break;
          case 1:
            (void)engine_->UnlinkIdentifier(shop, id);
            break;
          default: {
            MergeRequest m;
            m.shop = shop;
            m.into = CustomerRef{email, std::nullopt};
            m.from = id;
            if (Pick(2)) m.keep = static_cast<MergeKeep>(Pick(3));
            (void)engine_->MergeCustomers(m);
          }
        }
        break;
      }
      case 14: {
        ShopSettingsPatch p;
        if (Pick(2)) p.auto_link_identifiers = Pick(4) != 0;
        if (Pick(2)) p.merge_conflict = static_cast<MergeConflictRule>(Pick(4));
        (void)engine_->UpdateSettings(shop, p);
        break;
      }
    }
  }

 private:
  uint64_t Pick(uint64_t n) { return rng_() % n; }
  Engine* engine_;
  FakeClock* clock_;
  std::mt19937_64 rng_;
};

}  // namespace attrib::engine::replay_testing

#endif  // ATTRIB_ENGINE_REPLAY_TEST_UTIL_H_
