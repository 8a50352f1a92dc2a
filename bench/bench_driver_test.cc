// bench/bench_driver_test.cc: the pure parts of the driver: --mix parsing and merging
// per-thread counters. The driver's loops are tested end to end by
// tests/attrib_bench_test.cc against real and fake servers.
#include "bench/bench_driver.h"

#include "gtest/gtest.h"

namespace attrib::bench {
namespace {

TEST(ParseOpMixTest, WeightsAndNormalizedText) {
  absl::StatusOr<OpMix> mix = ParseOpMix(" connect=10 , lookup=90");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_EQ(mix->weight[static_cast<int>(Op::kLookup)], 90u);
  EXPECT_EQ(mix->weight[static_cast<int>(Op::kConnect)], 10u);
  EXPECT_EQ(mix->total, 100u);
  EXPECT_EQ(mix->text, "lookup=90,connect=10");  // Schema order, zero weights dropped.
  mix = ParseOpMix("batch=1,attribute=0,lookup=2,lookup=3");
  ASSERT_TRUE(mix.ok());
  EXPECT_EQ(mix->text, "lookup=5,batch=1");
  mix = ParseOpMix("ping=100");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_EQ(mix->weight[static_cast<int>(Op::kPing)], 100u);
  EXPECT_EQ(mix->text, "ping=100");
}

TEST(ParseOpMixTest, ClearErrors) {
  for (const char* bad : {"", "lookup=0", "scan=5", "lookup", "lookup=-1", "lookup=x",
                          "lookup=2000000", "load=1", "auth=1"}) {
    absl::StatusOr<OpMix> mix = ParseOpMix(bad);
    EXPECT_FALSE(mix.ok()) << bad;
    EXPECT_EQ(mix.status().message().rfind("--mix: ", 0), 0u) << mix.status();
  }
}

TEST(PhaseCountersTest, MergeAddsEverything) {
  PhaseCounters a, b;
  a.requests = 3;
  a.keys = 5;
  a.misses = 1;
  a.errors = 2;
  a.by_op[0] = 3;
  a.errors_by_kind["not_found"] = 2;
  a.latency.Record(1000);
  b.requests = 4;
  b.keys = 4;
  b.errors = 1;
  b.by_op[2] = 4;
  b.errors_by_kind["not_found"] = 1;
  b.errors_by_kind["ERR"] = 0;
  b.latency.Record(9000);
  b.unsent_backlog = 7;
  b.fresh_generated = 2;
  a.Merge(b);
  EXPECT_EQ(a.requests, 7u);
  EXPECT_EQ(a.keys, 9u);
  EXPECT_EQ(a.misses, 1u);
  EXPECT_EQ(a.errors, 3u);
  EXPECT_EQ(a.by_op[0], 3u);
  EXPECT_EQ(a.by_op[2], 4u);
  EXPECT_EQ(a.errors_by_kind["not_found"], 3u);
  EXPECT_EQ(a.latency.count(), 2u);
  EXPECT_EQ(a.latency.max(), 9000u);
  EXPECT_EQ(a.unsent_backlog, 7u);
  EXPECT_EQ(a.fresh_generated, 2u);
}

}  // namespace
}  // namespace attrib::bench
