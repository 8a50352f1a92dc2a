// engine/engine_identity_race_test.cc: orders racing to link and merge the same
// customers (issue 12) end in one consistent state: every identifier belongs to
// exactly one customer, a connection sits only at a primary key, and the log replays
// to the live state. Threads start together on an atomic flag (no sleeps).
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace replay_testing;  // NOLINT

EngineOptions Options(const Clock* clock, MutationSink* sink, uint32_t shards) {
  EngineOptions o;
  o.shard_count = shards;
  o.clock = clock;
  o.sink = sink;
  return o;
}

// The index's invariants over a state dump.
void ExpectConsistent(const State& s) {
  std::set<std::pair<ShopId, std::string>> seen;
  for (const auto& [key, aliases] : s.identities) {
    EXPECT_TRUE(seen.insert(key).second) << "primary listed twice: " << key.second;
    for (const std::string& a : aliases) {
      EXPECT_TRUE(seen.insert({key.first, a}).second) << "identifier in two customers: " << a;
      EXPECT_EQ(s.connections.count({key.first, a}), 0u) << "connection at alias " << a;
      EXPECT_EQ(s.identities.count({key.first, a}), 0u) << "alias is a primary " << a;
    }
  }
}

TEST(EngineIdentityRaceTest, OrdersRacingToMergeTheSameCustomersEndConsistent) {
  for (uint32_t shards : {1u, 16u}) {
    FakeClock clock(1'700'000'000'000);
    RecordingSink sink;
    Engine live(Options(&clock, &sink, shards));
    constexpr int kRounds = 100;
    for (int round = 0; round < kRounds; ++round) {
      const ShopId shop = 1 + round;
      // Four customers, three by email and one by external id, each connected.
      const std::vector<std::string> emails = {"e1@example.com", "e2@example.com",
                                               "e3@example.com"};
      for (int i = 0; i < 3; ++i) {
        ConnectRequest r;
        r.shop = shop;
        r.email = emails[i];
        r.affiliate = 1 + i;
        ASSERT_TRUE(live.Connect(r).ok());
      }
      ConnectRequest x;
      x.shop = shop;
      x.external_id = "x1";
      x.affiliate = 4;
      ASSERT_TRUE(live.Connect(x).ok());
      std::atomic<int> ready{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          ready.fetch_add(1);
          while (ready.load() < 4) {
          }
          AttributeRequest r;
          r.shop = shop;
          r.order_id = absl::StrCat("o", t);
          r.email = emails[t % 3];
          r.external_id = "x1";
          ASSERT_TRUE(live.Attribute(r).ok());
        });
      }
      for (auto& th : threads) th.join();
      // Each email was ordered with x1: all four are one customer, one connection.
      const std::string primary = live.identity().Resolve(shop, *ExternalIdKey("x1"));
      for (const std::string& e : emails) EXPECT_EQ(live.identity().Resolve(shop, e), primary);
      EXPECT_EQ(*live.CountShop(shop), 1u) << "round " << round;
    }
    const State state = Dump(live);
    ExpectConsistent(state);
    uint64_t customers = 0;
    EXPECT_TRUE(live.CheckIdentities(&customers).ok());
    EXPECT_EQ(customers, static_cast<uint64_t>(kRounds));
    FakeClock other(1);
    Engine replayed(Options(&other, nullptr, shards));
    for (const Mutation& m : sink.Take()) ASSERT_TRUE(replayed.Apply(m).ok());
    EXPECT_TRUE(Dump(replayed) == state);
  }
}

TEST(EngineIdentityRaceTest, RandomIdentityWorkloadOnFourThreadsReplays) {
  for (uint64_t seed : {21, 22}) {
    FakeClock clock(1'700'000'000'000);
    RecordingSink sink;
    Engine live(Options(&clock, &sink, 16));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        RandomWorkload w(&live, nullptr, seed * 10 + t);
        for (int i = 0; i < 20'000; ++i) w.Step();
      });
    }
    for (auto& th : threads) th.join();
    const State state = Dump(live);
    ExpectConsistent(state);
    FakeClock other(1);
    Engine replayed(Options(&other, nullptr, 16));
    for (const Mutation& m : sink.Take()) {
      const absl::Status s = replayed.Apply(m);
      ASSERT_TRUE(s.ok()) << "seed " << seed << ": " << s;
    }
    EXPECT_TRUE(Dump(replayed) == state) << "seed " << seed;
  }
}

}  // namespace
}  // namespace attrib::engine
