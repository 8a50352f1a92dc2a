// persistence/snapshot_test_util.h
//
// Shared by the snapshot tests (snapshot_test.cc, snapshot_corruption_test.cc): a
// random but reproducible engine state (connections with names and non-ASCII
// emails, settings, orders including late and reversed ones), a dump of everything
// an engine holds including the order shards' high-water marks, and file helpers
// for the in-memory file system.
//
// Thread-safety: test helpers; one thread.
#ifndef ATTRIB_PERSISTENCE_SNAPSHOT_TEST_UTIL_H_
#define ATTRIB_PERSISTENCE_SNAPSHOT_TEST_UTIL_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/snapshot.h"

namespace attrib::persistence::snapshot_testing {

inline constexpr engine::TimeMs kStartMs = 1'700'000'000'000;

inline engine::EngineOptions Options(uint32_t shards, const engine::Clock* clock,
                                     engine::MutationSink* sink = nullptr,
                                     engine::EmailPolicy policy = engine::EmailPolicy::kProvider) {
  engine::EngineOptions o;
  o.shard_count = shards;
  o.email_policy = policy;
  o.order_window_ms = 4 * engine::kMsPerDay;
  o.clock = clock;
  o.sink = sink;
  return o;
}

// Everything an engine holds: the replay dump plus each order shard's mark.
struct FullState {
  engine::replay_testing::State state;
  std::vector<engine::TimeMs> high_water;
  friend bool operator==(const FullState&, const FullState&) = default;
};

inline FullState DumpAll(const engine::Engine& e) {
  FullState s;
  s.state = engine::replay_testing::Dump(e);
  for (uint32_t i = 0; i < e.orders().shard_count(); ++i) {
    e.orders().ReadShard(i, [&](const engine::OrderShard& shard) {
      s.high_water.push_back(shard.high_water());
    });
  }
  return s;
}

// A reproducible mix of everything the snapshot must carry. `connects` attempts
// roughly that many connects; invalid emails of the pool are simply rejected.
inline void FillRandomState(engine::Engine* e, engine::FakeClock* clock, uint64_t seed,
                            int connects, int orders) {
  std::mt19937_64 rng(seed);
  const auto pick = [&](uint64_t n) { return rng() % n; };
  const char* kDomains[] = {"gmail.com", "GoogleMail.com", "example.com", "bücher.de",
                            "xn--bcher-kva.de", "mail.例え.jp", "outlook.com"};
  const char* kLocals[] = {"Jane.Doe", "jürgen", "bob+promo", "O'Brien", "zoë.ångström",
                           "x"};
  const char* kNames[] = {"", "Jane Doe", "Zoë Ångström", "山田太郎", "O'Brien, Pat"};
  std::vector<std::string> emails;
  for (int i = 0; i < connects; ++i) {
    emails.push_back(absl::StrCat(kLocals[pick(6)], i, "@", kDomains[pick(7)]));
  }
  for (int i = 0; i < connects; ++i) {
    engine::ConnectRequest r;
    r.shop = 1 + pick(5);
    r.email = emails[pick(emails.size())];
    r.affiliate = 1 + pick(50'000);  // Multi-byte varints too.
    r.source = static_cast<engine::Source>(pick(4));
    r.mode = pick(4) == 0 ? engine::ConnectMode::kReassign : engine::ConnectMode::kIfAbsent;
    if (pick(2)) r.name = kNames[pick(5)];
    if (pick(3) == 0) r.connected_at = kStartMs - static_cast<engine::TimeMs>(pick(1'000'000'000));
    (void)e->Connect(r);
    if (pick(20) == 0) clock->Advance(static_cast<engine::TimeMs>(pick(engine::kMsPerDay)));
  }
  for (engine::ShopId shop = 1; shop <= 4; ++shop) {
    engine::ShopSettingsPatch p;
    p.validity_days = static_cast<uint32_t>(pick(100));
    p.validity_mode = static_cast<engine::ValidityMode>(pick(2));
    p.validity_max_orders = static_cast<uint32_t>(pick(300));
    p.precedence = static_cast<engine::Precedence>(pick(3));
    p.auto_connect = pick(2) == 1;
    p.auto_connect_new_customers_only = pick(2) == 1;
    p.connections_enabled = shop != 4;
    EXPECT_TRUE(e->UpdateSettings(shop, p).ok());
  }
  for (int i = 0; i < orders; ++i) {
    engine::AttributeRequest r;
    r.shop = 1 + pick(5);
    r.order_id = absl::StrCat("order-", pick(static_cast<uint64_t>(orders)));  // Repeats.
    if (pick(5) != 0) r.email = emails[pick(emails.size())];
    if (pick(2)) r.referral_affiliate = 1 + pick(50);
    if (pick(2)) r.customer_is_new = pick(2) == 1;
    if (pick(4) == 0) {  // A late webhook.
      r.ordered_at = clock->NowMs() - static_cast<engine::TimeMs>(pick(6 * engine::kMsPerDay));
    }
    (void)e->Attribute(r);
    if (pick(6) == 0) (void)e->Reverse(r.shop, r.order_id);
    // Slow enough that most orders stay in the 4-day window, fast enough to evict some.
    if (pick(10) == 0) clock->Advance(static_cast<engine::TimeMs>(pick(engine::kMsPerDay / 40)));
  }
  engine::replay_testing::FillWebhookEndpoints(e);  // Format version 4.
}

// Customers with external ids and several emails, links, unlinks, merges (with
// and without conflicts), and non-default identity settings, over 4 shops.
inline void FillIdentityState(engine::Engine* e, engine::FakeClock* clock, uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  const auto pick = [&](uint64_t n) { return rng() % n; };
  for (engine::ShopId shop = 1; shop <= 4; ++shop) {
    engine::ShopSettingsPatch p;
    p.auto_link_identifiers = shop != 4;
    p.merge_conflict = static_cast<engine::MergeConflictRule>(shop - 1);
    EXPECT_TRUE(e->UpdateSettings(shop, p).ok());
  }
  for (int i = 0; i < steps; ++i) {
    const engine::ShopId shop = 1 + pick(4);
    const std::string email = absl::StrCat("Cust", pick(60), "@example.com");
    const std::string ext = absl::StrCat("cus_", pick(40));
    switch (pick(5)) {
      case 0: {
        engine::ConnectRequest r;
        r.shop = shop;
        if (pick(2)) r.email = email;
        if (r.email.empty() || pick(3) == 0) r.external_id = ext;
        r.affiliate = 1 + pick(9);
        (void)e->Connect(r);
        break;
      }
      case 1:
      case 2: {
        engine::AttributeRequest r;
        r.shop = shop;
        r.order_id = absl::StrCat("id-order-", i);
        r.email = email;
        r.external_id = ext;
        (void)e->Attribute(r);
        break;
      }
      case 3:
        (void)e->LinkIdentifier(shop, engine::CustomerRef{email, std::nullopt},
                                engine::CustomerRef{absl::StrCat("alt", pick(60), "@x.org"),
                                                    std::nullopt});
        break;
      default:
        (void)e->UnlinkIdentifier(shop, engine::CustomerRef{absl::StrCat("alt", pick(60),
                                                                         "@x.org"),
                                                            std::nullopt});
    }
    clock->Advance(1000);
  }
}

// The affiliate directory and its settings on top of FillRandomState's emails
// (format version 3): affiliates with customers' emails (self-referrals, disconnects),
// disabled ones, every new setting, and orders that meet them.
inline void FillAffiliateState(engine::Engine* e, engine::FakeClock* clock, uint64_t seed,
                               int orders) {
  std::mt19937_64 rng(seed);
  const auto pick = [&](uint64_t n) { return rng() % n; };
  for (engine::ShopId shop = 1; shop <= 4; ++shop) {
    engine::ShopSettingsPatch p;
    p.require_registered_affiliates = shop == 3;
    p.block_self_referrals = shop != 2;
    p.on_customer_becomes_affiliate = shop == 1 ? engine::CustomerBecomesAffiliate::kDisconnect
                                                : engine::CustomerBecomesAffiliate::kKeep;
    p.auto_connect = true;
    EXPECT_TRUE(e->UpdateSettings(shop, p).ok());
  }
  for (int i = 0; i < 40; ++i) {
    engine::PutAffiliateRequest r;
    r.shop = 1 + pick(4);
    r.id = 1 + pick(50);
    r.name = absl::StrCat(pick(2) ? "Ann " : "Zoë ", i);
    for (uint64_t n = pick(3); n > 0; --n) r.emails.push_back(absl::StrCat("Jane.Doe", pick(150), "@gmail.com"));
    if (pick(4) == 0) r.status = engine::AffiliateStatus::kDisabled;
    (void)e->PutAffiliate(r);
    clock->Advance(1000);
  }
  for (int i = 0; i < orders; ++i) {
    engine::AttributeRequest r;
    r.shop = 1 + pick(4);
    r.order_id = absl::StrCat("aff-order-", i);
    r.email = absl::StrCat("Jane.Doe", pick(150), "@gmail.com");
    if (pick(3) != 0) r.referral_affiliate = 1 + pick(50);
    (void)e->Attribute(r);
  }
  // Every affiliate refers an order of its own (self-referrals where blocked).
  std::vector<engine::Affiliate> all;
  e->affiliates().ForEachLocked([&](const engine::Affiliate& a) { all.push_back(a); }, [] {});
  for (const engine::Affiliate& a : all) {
    if (a.emails.empty()) continue;
    engine::AttributeRequest r;
    r.shop = a.shop;
    r.order_id = absl::StrCat("self-", a.shop, "-", a.id);
    r.email = a.emails[0];
    r.referral_affiliate = a.id;
    (void)e->Attribute(r);
  }
}

inline std::string ReadOrDie(FileSystem* fs, const std::string& path) {
  absl::StatusOr<std::string> bytes = fs->ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

// Replaces `path` with `bytes`, durably.
inline void WriteDurable(FileSystem* fs, const std::string& path, absl::string_view bytes) {
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs->OpenForAppend(path, true);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  ASSERT_TRUE(fs->SyncDir(DirName(path)).ok());
}

// One line per record with every field, for golden files and comparisons. The
// format of testdata/snapshot_v1.txt: keep it unchanged.
inline std::string SettingsLine(engine::ShopId shop, const engine::ShopSettings& s) {
  return absl::StrCat("settings ", shop, " ", s.connections_enabled, s.auto_connect,
                      s.auto_connect_new_customers_only, " ", s.validity_days, " ",
                      static_cast<int>(s.validity_mode), " ", s.validity_max_orders, " ",
                      static_cast<int>(s.precedence));
}
inline std::string ConnectionLine(const engine::Connection& c) {
  return absl::StrCat("connection ", c.shop, " ", c.affiliate, " ", static_cast<int>(c.source),
                      " ", c.connected_at, " ", c.last_order_at, " ", c.order_count, " [",
                      c.canonical_email, "] [", c.entered_email, "] [", c.name, "]");
}
inline std::string OrderLine(const engine::OrderRecord& r) {
  const engine::AttributionDecision& d = r.decision;
  return absl::StrCat("order ", r.shop, " [", d.order_id, "] ", d.ordered_at, " ", d.affiliate,
                      " ", static_cast<int>(d.reason), " ",
                      static_cast<int>(d.connection_inactive), " ", d.counted,
                      d.connection_created, d.connection_moved, d.reversed, " ",
                      d.previous_affiliate, " [", d.canonical_email, "] ", r.counted_affiliate,
                      " ", r.counted_connected_at, " ", r.prev_last_order_at, " ", r.retain_mark);
}
// What format version 3 added to a settings / order line, and its affiliate lines
// (testdata/snapshot_v3.txt).
inline std::string SettingsLineV3(const engine::ShopSettings& s) {
  return absl::StrCat(" ", s.require_registered_affiliates, s.block_self_referrals,
                      static_cast<int>(s.on_customer_becomes_affiliate));
}
inline std::string OrderLineV3(const engine::AttributionDecision& d) {
  return absl::StrCat(" ", static_cast<int>(d.connection_inactive), " ",
                      static_cast<int>(d.referral_refused), " ", d.refused_affiliate, " ",
                      d.order_number_in_connection);
}
inline std::string AffiliateLine(const engine::Affiliate& a) {
  std::string line = absl::StrCat("affiliate ", a.shop, " ", a.id, " [", a.name, "] ",
                                  static_cast<int>(a.status), " ", a.created_at);
  for (const std::string& e : a.emails) absl::StrAppend(&line, " [", e, "]");
  return line;
}
// Every record of a snapshot file as lines, in file order (ReadSnapshotRecords).
// `v3`: with the fields format version 3 added (else the lines of snapshot_v1.txt).
inline std::vector<std::string> RecordLines(FileSystem* fs, const std::string& path,
                                            bool v3 = false) {
  std::vector<std::string> lines;
  const absl::Status s = ReadSnapshotRecords(
      fs, path,
      [&](engine::ShopId shop, const engine::ShopSettings& st) {
        lines.push_back(SettingsLine(shop, st) + (v3 ? SettingsLineV3(st) : ""));
      },
      [&](const engine::Connection& c) { lines.push_back(ConnectionLine(c)); },
      [&](const engine::OrderRecord& r) {
        lines.push_back(OrderLine(r) + (v3 ? OrderLineV3(r.decision) : ""));
      },
      [&](const engine::Affiliate& a) {
        if (v3) lines.push_back(AffiliateLine(a));
      });
  EXPECT_TRUE(s.ok()) << s;
  return lines;
}

// A fixture: a fault-injecting file system with a synced "snap" directory, and
// Write(): a snapshot of an engine there (its path; "" and a test failure on error).
class SnapshotDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir("snap").ok());
    ASSERT_TRUE(fs_.SyncDir(".").ok());
  }
  std::string Write(const engine::Engine& e, uint64_t seq = 9) {
    absl::StatusOr<SnapshotInfo> w = WriteSnapshot(&fs_, "snap", e, [=] { return seq; }, 1);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? w->path : "";
  }
  FaultInjectingFileSystem fs_;
};

}  // namespace attrib::persistence::snapshot_testing

#endif  // ATTRIB_PERSISTENCE_SNAPSHOT_TEST_UTIL_H_
