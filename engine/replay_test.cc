// engine/replay_test.cc: replaying the Mutation values of a long randomized history
// on an empty engine rebuilds the identical state, without the clock (the replaying
// engine's clock is set to a different time) or the settings being consulted again.
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace replay_testing;  // NOLINT: shared workload and state dump.

EngineOptions Options(const Clock* clock, MutationSink* sink) {
  EngineOptions o;
  o.shard_count = 16;
  o.order_window_ms = 4 * kMsPerDay;  // Short, so eviction happens during the run.
  o.clock = clock;
  o.sink = sink;
  return o;
}

void ExpectReplayRebuilds(const Engine& live, const std::vector<Mutation>& log,
                          uint64_t seed) {
  FakeClock other_time(42);  // Replay must not read it.
  Engine replayed(Options(&other_time, nullptr));
  for (size_t i = 0; i < log.size(); ++i) {
    const absl::Status s = replayed.Apply(log[i]);
    ASSERT_TRUE(s.ok()) << "seed " << seed << ", mutation " << i << ": " << s;
  }
  const State want = Dump(live);
  const State got = Dump(replayed);
  EXPECT_EQ(got.connections.size(), want.connections.size()) << "seed " << seed;
  EXPECT_EQ(got.settings, want.settings) << "seed " << seed;
  EXPECT_EQ(got.affiliates, want.affiliates) << "seed " << seed;
  EXPECT_EQ(got.orders.size(), want.orders.size()) << "seed " << seed;
  EXPECT_TRUE(got == want) << "seed " << seed << ": replayed state differs";
}

TEST(ReplayTest, LongRandomHistoryRebuildsIdenticalState) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    FakeClock clock(1'700'000'000'000);
    RecordingSink sink;
    Engine live(Options(&clock, &sink));
    RandomWorkload workload(&live, &clock, seed);
    for (int i = 0; i < 20'000; ++i) workload.Step();
    const std::vector<Mutation> log = sink.Take();
    ASSERT_GT(log.size(), 5'000u) << "seed " << seed;
    ExpectReplayRebuilds(live, log, seed);
    if (HasFailure()) return;
  }
}

TEST(ReplayTest, ConcurrentHistoryReplaysInSinkOrder) {
  // The sink is called under the engine's locks, so its order is a valid serial
  // order for every key even when threads interleave.
  const uint64_t seed = 99;
  FakeClock clock(1'700'000'000'000);
  RecordingSink sink;
  Engine live(Options(&clock, &sink));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RandomWorkload w(&live, /*clock=*/nullptr, seed + t);  // Time fixed: no races on it.
      for (int i = 0; i < 10'000; ++i) w.Step();
    });
  }
  for (auto& th : threads) th.join();
  ExpectReplayRebuilds(live, sink.Take(), seed);
}

TEST(ReplayTest, ReplayReportsMutationsThatDoNotFit) {
  Engine e(Options(nullptr, nullptr));
  Mutation remove{0, RemoveConnection{1, "nobody@x.com", 3}};
  EXPECT_EQ(e.Apply(remove).code(), absl::StatusCode::kFailedPrecondition);
  ReverseOrder unknown;
  unknown.shop = 1;
  unknown.order_id = "unknown";
  Mutation reverse{0, unknown};
  EXPECT_EQ(e.Apply(reverse).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace attrib::engine
