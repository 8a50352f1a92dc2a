// engine/engine_connections_test.cc: connect, disconnect, lookup, batch lookup,
// list and counts through the Engine (SPEC §3), and the if_absent race.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

constexpr TimeMs kT0 = 1'700'000'000'000;

class EngineConnectionsTest : public testing::Test {
 protected:
  EngineConnectionsTest() : clock_(kT0), engine_(Options()) {}
  EngineOptions Options() {
    EngineOptions o;
    o.shard_count = 8;
    o.clock = &clock_;
    return o;
  }
  absl::StatusOr<ConnectResult> Connect(absl::string_view email, AffiliateId a,
                                        ConnectMode mode = ConnectMode::kIfAbsent,
                                        ShopId shop = 1) {
    ConnectRequest r;
    r.shop = shop;
    r.email = std::string(email);
    r.affiliate = a;
    r.mode = mode;
    return engine_.Connect(r);
  }
  FakeClock clock_;
  Engine engine_;
};

TEST_F(EngineConnectionsTest, ConnectCreatesThenSameAffiliateIsUnchanged) {
  auto r = Connect(" Jane.Doe+promo@GoogleMail.com ", 42);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outcome, ConnectResult::Outcome::kCreated);
  EXPECT_EQ(r->connection.canonical_email, "janedoe@gmail.com");
  EXPECT_EQ(r->connection.entered_email, "Jane.Doe+promo@GoogleMail.com");
  EXPECT_EQ(r->connection.connected_at, kT0);
  EXPECT_EQ(r->connection.source, Source::kApi);
  clock_.Advance(1000);
  auto again = Connect("janedoe@gmail.com", 42);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, ConnectResult::Outcome::kUnchanged);
  EXPECT_EQ(again->connection.connected_at, kT0);  // Not renewed.
}

TEST_F(EngineConnectionsTest, ConnectToAnotherAffiliateNamesTheCurrentOne) {
  ASSERT_TRUE(Connect("jane@x.com", 42).ok());
  auto r = Connect("JANE@x.com", 7);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("already_connected"), absl::string_view::npos);
  EXPECT_NE(r.status().message().find("affiliate 42"), absl::string_view::npos);
  const auto payload = r.status().GetPayload(kCurrentAffiliatePayload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "42");
}

TEST_F(EngineConnectionsTest, ReassignReplacesAndReportsPrevious) {
  ConnectRequest first;
  first.shop = 1;
  first.email = "jane@x.com";
  first.affiliate = 42;
  first.name = "Jane";
  ASSERT_TRUE(engine_.Connect(first).ok());
  clock_.Advance(5000);
  auto r = Connect("jane@x.com", 7, ConnectMode::kReassign);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, ConnectResult::Outcome::kReplaced);
  EXPECT_EQ(r->previous_affiliate, 42u);
  EXPECT_EQ(r->connection.affiliate, 7u);
  EXPECT_EQ(r->connection.connected_at, kT0 + 5000);
  EXPECT_EQ(r->connection.name, "Jane");  // Kept when not given.
  EXPECT_EQ(engine_.CountAffiliate(1, 42).value(), 0u);
  EXPECT_EQ(engine_.CountAffiliate(1, 7).value(), 1u);
}

TEST_F(EngineConnectionsTest, IfAbsentReplacesAnExpiredConnection) {
  ASSERT_TRUE(Connect("jane@x.com", 42).ok());
  ShopSettingsPatch p;
  p.validity_days = 30;
  ASSERT_TRUE(engine_.UpdateSettings(1, p).ok());
  clock_.Advance(30 * kMsPerDay);
  auto r = Connect("jane@x.com", 7);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outcome, ConnectResult::Outcome::kReplaced);
  EXPECT_EQ(r->previous_affiliate, 42u);
  EXPECT_EQ(r->previous_inactive, InactiveReason::kExpired);
}

TEST_F(EngineConnectionsTest, IfAbsentDoesNotTreatDisabledShopsAsFreeForAll) {
  ASSERT_TRUE(Connect("jane@x.com", 42).ok());
  ShopSettingsPatch p;
  p.connections_enabled = false;
  ASSERT_TRUE(engine_.UpdateSettings(1, p).ok());
  EXPECT_EQ(Connect("jane@x.com", 7).status().code(), absl::StatusCode::kAlreadyExists);
  auto l = engine_.Lookup(1, "jane@x.com");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->status.inactive, InactiveReason::kDisabled);
}

TEST_F(EngineConnectionsTest, DisconnectReportsPreviousOrNotFound) {
  ASSERT_TRUE(Connect("jane@x.com", 42).ok());
  auto d = engine_.Disconnect(1, "Jane@X.com");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->removed.affiliate, 42u);
  auto again = engine_.Disconnect(1, "jane@x.com");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(again.status().message().find("not_found"), absl::string_view::npos);
  EXPECT_FALSE(engine_.Lookup(1, "jane@x.com")->found);
}

TEST_F(EngineConnectionsTest, LookupReportsActivityAtAGivenTime) {
  ASSERT_TRUE(Connect("jane@x.com", 42).ok());
  ShopSettingsPatch p;
  p.validity_days = 1;
  ASSERT_TRUE(engine_.UpdateSettings(1, p).ok());
  auto now = engine_.Lookup(1, "jane@x.com");
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->found);
  EXPECT_TRUE(now->status.active());
  EXPECT_EQ(now->status.expires_at, kT0 + kMsPerDay);
  auto later = engine_.Lookup(1, "jane@x.com", kT0 + kMsPerDay);
  EXPECT_EQ(later->status.inactive, InactiveReason::kExpired);
  auto miss = engine_.Lookup(1, "nobody@x.com");
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->found);
}

TEST_F(EngineConnectionsTest, InvalidInputsNameTheField) {
  const auto field_of = [](const absl::Status& s) {
    return std::string(s.message().substr(0, s.message().find(':')));
  };
  EXPECT_EQ(field_of(Connect("jane@x.com", 42, ConnectMode::kIfAbsent, 0).status()), "shop");
  EXPECT_EQ(field_of(Connect("jane@x.com", 0).status()), "affiliate");
  EXPECT_EQ(field_of(Connect("jane@@x.com", 1).status()), "email");
  ConnectRequest r;
  r.shop = 1;
  r.email = "jane@x.com";
  r.affiliate = 1;
  r.name = std::string(129, 'a');
  EXPECT_EQ(field_of(engine_.Connect(r).status()), "name");
  r.name = "bad\xff";
  EXPECT_EQ(field_of(engine_.Connect(r).status()), "name");
  r.name = "line\nbreak";
  EXPECT_EQ(field_of(engine_.Connect(r).status()), "name");
  r.name.reset();
  r.connected_at = -1;
  EXPECT_EQ(field_of(engine_.Connect(r).status()), "connected_at");
  EXPECT_EQ(field_of(engine_.Lookup(1, "x@y.com", -5).status()), "at");
  std::vector<absl::string_view> too_many(kMaxBatchLookup + 1, "a@b.c");
  EXPECT_EQ(field_of(engine_.LookupBatch(1, too_many).status()), "emails");
  for (const auto& s : {Connect("jane@x.com", 42, ConnectMode::kIfAbsent, 0).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(EngineConnectionsTest, BatchLookupKeepsOrderAndPerItemErrors) {
  ASSERT_TRUE(Connect("a@x.com", 1).ok());
  ASSERT_TRUE(Connect("c@x.com", 3).ok());
  const std::vector<absl::string_view> emails = {"C@x.com", "bad@@x", "b@x.com", "a@x.com"};
  auto items = engine_.LookupBatch(1, emails);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 4u);
  EXPECT_TRUE((*items)[0].result.found);
  EXPECT_EQ((*items)[0].result.connection.affiliate, 3u);
  EXPECT_EQ((*items)[1].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE((*items)[2].result.found);
  EXPECT_EQ((*items)[3].result.connection.affiliate, 1u);
}

TEST_F(EngineConnectionsTest, ListPagesInCanonicalOrderWithFilters) {
  std::set<std::string> expected;
  for (int i = 0; i < 250; ++i) {
    const std::string email = absl::StrCat("User", 1000 + i, "@Shop.com");
    ConnectRequest r;
    r.shop = 1;
    r.email = email;
    r.affiliate = 1 + i % 3;
    r.source = i % 5 == 0 ? Source::kImport : Source::kManual;
    ASSERT_TRUE(engine_.Connect(r).ok());
    if (r.affiliate == 2) expected.insert(absl::StrCat("user", 1000 + i, "@shop.com"));
  }
  ASSERT_TRUE(Connect("user1@shop.com", 2, ConnectMode::kIfAbsent, /*shop=*/2).ok());
  ListRequest req;
  req.shop = 1;
  req.affiliate = 2;
  req.limit = 7;
  std::vector<std::string> got;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = engine_.List(req);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->items.size(), 7u);
    for (const ListItem& it : page->items) {
      EXPECT_EQ(it.connection.affiliate, 2u);
      got.push_back(it.connection.canonical_email);
    }
    if (page->next_cursor.empty()) break;
    req.cursor = page->next_cursor;
  }
  EXPECT_EQ(got, std::vector<std::string>(expected.begin(), expected.end()));

  ListRequest by_prefix;
  by_prefix.shop = 1;
  by_prefix.email_prefix = "USER11";  // Case-insensitive: matches user1100..1199.
  by_prefix.source = Source::kImport;
  by_prefix.limit = 1000;
  auto page = engine_.List(by_prefix);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 20u);  // Every 5th of 100.
  EXPECT_TRUE(page->next_cursor.empty());

  ListRequest bad;
  bad.shop = 1;
  bad.limit = 1001;
  EXPECT_EQ(engine_.List(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.limit = 10;
  bad.cursor = "not a cursor!";
  auto s = engine_.List(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 7), "cursor:");
}

TEST_F(EngineConnectionsTest, CountsPerShopAndAffiliate) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Connect(absl::StrCat("c", i, "@x.com"), 1 + i % 3).ok());
  }
  EXPECT_EQ(engine_.CountShop(1).value(), 30u);
  EXPECT_EQ(engine_.CountShop(2).value(), 0u);
  const auto by = engine_.CountsByAffiliate(1).value();
  EXPECT_EQ(by.size(), 3u);
  EXPECT_EQ(by.at(1), 10u);
  ASSERT_TRUE(engine_.Disconnect(1, "c0@x.com").ok());
  EXPECT_EQ(engine_.CountAffiliate(1, 1).value(), 9u);
}

// N threads connect one customer to N different affiliates with if_absent: exactly
// one wins; every other caller is told the winner.
TEST(EngineConcurrencyTest, IfAbsentRaceHasExactlyOneWinner) {
  for (int round = 0; round < 50; ++round) {
    Engine engine(EngineOptions{});
    constexpr int kThreads = 8;
    std::atomic<int> ready{0};
    std::vector<absl::StatusOr<ConnectResult>> results(
        kThreads, absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) {
        }
        ConnectRequest r;
        r.shop = 1;
        r.email = "Race@Example.com";
        r.affiliate = 100 + t;
        results[t] = engine.Connect(r);
      });
    }
    for (auto& th : threads) th.join();
    int winners = 0;
    AffiliateId winner = 0;
    for (const auto& r : results) {
      if (r.ok()) {
        ++winners;
        winner = r->connection.affiliate;
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    for (const auto& r : results) {
      if (r.ok()) continue;
      ASSERT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
      EXPECT_EQ(std::string(*r.status().GetPayload(kCurrentAffiliatePayload)),
                absl::StrCat(winner));
    }
    EXPECT_EQ(engine.Lookup(1, "race@example.com")->connection.affiliate, winner);
  }
}

}  // namespace
}  // namespace attrib::engine
