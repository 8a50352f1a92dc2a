// engine/engine_customers_race_test.cc: threads ordering, naming, linking and
// merging the same customers (issue 12, the customer directory) end in one
// consistent state: every order is counted exactly once in the directory (the sum
// of orders_seen is the number of distinct orders), no entry sits at an alias, the
// numbers of racing orders of joined customers continue each count without a gap
// or a repeat, and the log replays to the live state.
// Threads start together on an atomic flag (no sleeps). Seeds are fixed.
#include <atomic>
#include <map>
#include <optional>
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

TEST(EngineCustomersRaceTest, RacingOrdersMergesAndNamesEndConsistent) {
  for (uint32_t shards : {1u, 16u}) {
    FakeClock clock(1'700'000'000'000);
    RecordingSink sink;
    EngineOptions o;
    o.shard_count = shards;
    o.clock = &clock;
    o.sink = &sink;
    Engine live(o);
    constexpr int kThreads = 4;
    constexpr int kOrdersPerThread = 300;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < kOrdersPerThread; ++i) {
          const int c = i % 10;  // Ten customers, each by email, ext id, or both.
          AttributeRequest r;
          r.shop = 1;
          r.order_id = absl::StrCat("t", t, "-", i);
          r.ordered_at = 1'700'000'000'000 + i;
          switch ((i + t) % 3) {
            case 0: r.email = absl::StrCat("c", c, "@example.com"); break;
            case 1: r.external_id = absl::StrCat("cus_", c); break;
            default:
              r.email = absl::StrCat("c", c, "@example.com");
              r.external_id = absl::StrCat("cus_", c);
          }
          if (i % 7 == 0) r.name = absl::StrCat("Name ", t);
          EXPECT_TRUE(live.Attribute(r).ok()) << "thread " << t << " order " << i;
          if (i % 25 == 0) {
            (void)live.PutCustomerName(
                1, CustomerRef{absl::StrCat("c", c, "@example.com"), std::nullopt},
                absl::StrCat("Put ", t));
          }
        }
      });
    }
    go.store(true);
    for (auto& th : threads) th.join();

    // Every order counted once in the directory, whatever merged meanwhile.
    uint64_t entries = 0;
    ASSERT_TRUE(live.CheckCustomerDirectory(&entries).ok());
    uint64_t seen = 0;
    live.customers().ForEachLocked(
        [&](ShopId, absl::string_view, const CustomerEntry& e) { seen += e.orders_seen; },
        [] {});
    EXPECT_EQ(seen, static_cast<uint64_t>(kThreads * kOrdersPerThread)) << shards << " shards";
    // Phase 2: racing orders of the now joined customers, by email only. Their
    // numbers continue each customer's count without a gap or a repeat.
    std::map<std::string, uint32_t> base;
    for (int c = 0; c < 10; ++c) {
      const std::string primary = live.identity().Resolve(1, absl::StrCat("c", c, "@example.com"));
      const std::optional<CustomerEntry> e = live.customers().Get(1, primary);
      base[primary] = e ? e->orders_seen : 0;
    }
    go.store(false);
    threads.clear();
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 100; ++i) {
          AttributeRequest r;
          r.shop = 1;
          r.order_id = absl::StrCat("p2-t", t, "-", i);
          r.email = absl::StrCat("c", i % 10, "@example.com");
          EXPECT_TRUE(live.Attribute(r).ok());
        }
      });
    }
    go.store(true);
    for (auto& th : threads) th.join();
    std::map<std::string, std::set<uint32_t>> numbers;
    live.orders().ForEach([&](const OrderRecord& r) {
      if (r.decision.order_id.rfind("p2-", 0) != 0) return;
      const std::string who = live.identity().Resolve(1, r.decision.canonical_email);
      EXPECT_TRUE(numbers[who].insert(r.decision.order_number_for_customer).second)
          << who << " number " << r.decision.order_number_for_customer;
    });
    ASSERT_EQ(numbers.size(), 10u);
    for (const auto& [who, set] : numbers) {
      EXPECT_EQ(set.size(), 40u) << who;
      EXPECT_EQ(*set.begin(), base[who] + 1) << who;
      EXPECT_EQ(*set.rbegin(), base[who] + 40) << who;
    }
    FakeClock other(1);
    EngineOptions ro;
    ro.shard_count = shards;
    ro.clock = &other;
    Engine replayed(ro);
    for (const Mutation& m : sink.Take()) ASSERT_TRUE(replayed.Apply(m).ok());
    EXPECT_TRUE(Dump(replayed) == Dump(live)) << shards << " shards";
  }
}

}  // namespace
}  // namespace attrib::engine
