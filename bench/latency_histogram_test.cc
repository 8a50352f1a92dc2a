// bench/latency_histogram_test.cc: bucket layout, precision bound, percentiles of
// known distributions, merge, and edge cases of LatencyHistogram.
#include "bench/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace attrib::bench {
namespace {

using H = LatencyHistogram;

// The exact percentile with the histogram's definition: the smallest value such that
// at least p% of the values are <= it.
uint64_t ExactPercentile(std::vector<uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * values.size()));
  rank = std::clamp<uint64_t>(rank, 1, values.size());
  return values[rank - 1];
}

void ExpectWithin(uint64_t got, uint64_t want, double tolerance) {
  const double error = std::abs(static_cast<double>(got) - static_cast<double>(want));
  EXPECT_LE(error, tolerance * static_cast<double>(want) + 0.5)
      << "got " << got << " want " << want;
}

TEST(LatencyHistogramTest, BucketsAreContiguousAndOrdered) {
  uint64_t next = 0;
  for (size_t i = 0; i + 1 < H::kBucketCount; ++i) {
    ASSERT_EQ(H::BucketLow(i), next) << i;
    ASSERT_EQ(H::BucketIndex(H::BucketLow(i)), i);
    ASSERT_EQ(H::BucketIndex(H::BucketLow(i) + H::BucketWidth(i) - 1), i);
    next = H::BucketLow(i) + H::BucketWidth(i);
  }
  EXPECT_EQ(H::BucketIndex(uint64_t{1} << H::kMaxValueBits), H::kBucketCount - 1);
  EXPECT_EQ(H::BucketIndex(UINT64_MAX), H::kBucketCount - 1);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  for (uint64_t v = 0; v < H::kSubBuckets * 2; ++v) {
    H h;
    h.Record(v);
    EXPECT_EQ(h.Percentile(50), v);
  }
}

TEST(LatencyHistogramTest, PrecisionBoundHoldsForEveryMagnitude) {
  // Every value from 1 ns to 100 s (sampled densely per power of two) comes back
  // within the documented relative error.
  std::mt19937_64 rng(7);
  for (int bits = 0; bits < 37; ++bits) {
    for (int i = 0; i < 200; ++i) {
      const uint64_t base = uint64_t{1} << bits;
      const uint64_t v = base + rng() % base;
      H h;
      h.Record(1);  // So the clamp to [min, max] is not what makes it exact.
      h.Record(v);
      h.Record(uint64_t{1} << 39);
      const uint64_t got = h.Percentile(50);
      ASSERT_LE(std::abs(static_cast<double>(got) - static_cast<double>(v)),
                H::kRelativeError * static_cast<double>(v))
          << v;
    }
  }
  EXPECT_LE(H::kRelativeError, 0.01);
}

TEST(LatencyHistogramTest, UniformDistributionPercentiles) {
  H h;
  std::vector<uint64_t> values;
  for (uint64_t v = 1; v <= 1'000'000; v += 7) {
    values.push_back(v * 10);
    h.Record(v * 10);
  }
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9}) {
    ExpectWithin(h.Percentile(p), ExactPercentile(values, p), H::kRelativeError);
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.count(), values.size());
  EXPECT_NEAR(h.mean(), 5'000'000.0, 50.0);
}

TEST(LatencyHistogramTest, ExponentialDistributionPercentiles) {
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> d(1.0 / 50'000);  // Mean 50 us.
  H h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 200'000; ++i) {
    const uint64_t v = static_cast<uint64_t>(d(rng)) + 1;
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    ExpectWithin(h.Percentile(p), ExactPercentile(values, p), H::kRelativeError);
  }
  EXPECT_EQ(h.Percentile(100), *std::max_element(values.begin(), values.end()));
}

TEST(LatencyHistogramTest, BimodalPercentilesLandOnTheRightMode) {
  H h;
  h.RecordN(10'000, 990);       // 10 us
  h.RecordN(5'000'000, 10);     // 5 ms
  ExpectWithin(h.Percentile(50), 10'000, H::kRelativeError);
  ExpectWithin(h.Percentile(99), 10'000, H::kRelativeError);
  ExpectWithin(h.Percentile(99.1), 5'000'000, H::kRelativeError);
  EXPECT_EQ(h.Percentile(100), 5'000'000u);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  H a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const uint64_t v = rng() % 10'000'000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  H merged;
  merged.Merge(a);
  merged.Merge(b);
  merged.Merge(H());  // Merging an empty histogram changes nothing.
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.Percentile(p), all.Percentile(p)) << p;
  }
}

TEST(LatencyHistogramTest, EmptyHistogram) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.Percentile(100), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogramTest, EdgeCases) {
  H h;
  h.Record(0);
  EXPECT_EQ(h.Percentile(50), 0u);
  h.Record(UINT64_MAX);  // Beyond the range: the overflow bucket, max stays exact.
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.Percentile(100), UINT64_MAX);
  EXPECT_EQ(h.Percentile(99), UINT64_MAX);
  EXPECT_EQ(h.Percentile(0), 0u);
  EXPECT_EQ(h.Percentile(-5), 0u);
  EXPECT_EQ(h.Percentile(250), UINT64_MAX);
  h.RecordN(5, 0);  // No-op.
  EXPECT_EQ(h.count(), 2u);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
}

TEST(LatencyHistogramTest, SingleValueIsReportedExactlyAtEveryPercentile) {
  H h;
  h.RecordN(123'456'789, 1000);  // The clamp to [min, max] makes it exact.
  for (double p : {0.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.Percentile(p), 123'456'789u);
}

}  // namespace
}  // namespace attrib::bench
