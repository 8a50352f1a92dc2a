// common/histogram_test.cc
#include "common/histogram.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace attrib::metrics {
namespace {

TEST(HistogramTest, BucketOfUsesInclusiveUpperBounds) {
  EXPECT_EQ(BucketOf(0), 0u);
  EXPECT_EQ(BucketOf(1'000), 0u);      // le="1e-06" includes 1 us.
  EXPECT_EQ(BucketOf(1'001), 1u);
  EXPECT_EQ(BucketOf(2'500), 1u);
  EXPECT_EQ(BucketOf(7'000), 3u);      // (5 us, 10 us].
  EXPECT_EQ(BucketOf(10'000'000'000), kFiniteBuckets - 1);
  EXPECT_EQ(BucketOf(10'000'000'001), kFiniteBuckets);  // +Inf.
}

TEST(HistogramTest, BoundsIncrease) {
  for (size_t i = 1; i < kFiniteBuckets; ++i) {
    EXPECT_LT(kBucketBoundsNanos[i - 1], kBucketBoundsNanos[i]) << i;
  }
}

TEST(HistogramTest, RecordsCountsAndSum) {
  Histogram h;
  h.Record(800);
  h.Record(3'000);
  h.RecordMany(20'000, 3);
  const HistogramSnapshot s = h.Read();
  EXPECT_EQ(s.count(), 5u);
  EXPECT_EQ(s.counts[0], 1u);
  EXPECT_EQ(s.counts[2], 1u);
  EXPECT_EQ(s.counts[4], 3u);
  EXPECT_EQ(s.sum_nanos, 800u + 3'000u + 60'000u);
}

TEST(HistogramTest, ThreadsRecordingAtOnceLoseNothing) {
  Histogram h;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) h.Record(1'000u * (t + 1));
    });
  }
  for (std::thread& t : threads) t.join();
  const HistogramSnapshot s = h.Read();
  EXPECT_EQ(s.count(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.sum_nanos, uint64_t{kPerThread} * 1'000u * (1 + 2 + 3 + 4));
}

TEST(HistogramTest, SnapshotsAdd) {
  Histogram a, b;
  a.Record(1);
  b.Record(1);
  b.Record(20'000'000'000);
  HistogramSnapshot s = a.Read();
  s += b.Read();
  EXPECT_EQ(s.count(), 3u);
  EXPECT_EQ(s.counts[0], 2u);
  EXPECT_EQ(s.counts[kFiniteBuckets], 1u);
}

}  // namespace
}  // namespace attrib::metrics
