// bench/latency_histogram.cc: see the header for the bucket layout.
//
// Thread-safety: as the header (a value type).
#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace attrib::bench {

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

size_t LatencyHistogram::BucketIndex(uint64_t value_ns) {
  if (value_ns < kSubBuckets) return static_cast<size_t>(value_ns);
  const int magnitude = 63 - std::countl_zero(value_ns);  // >= kSubBucketBits.
  if (magnitude >= kMaxValueBits) return kBucketCount - 1;
  const int shift = magnitude - kSubBucketBits;
  const uint64_t sub = (value_ns >> shift) - kSubBuckets;  // In [0, kSubBuckets).
  return static_cast<size_t>(kSubBuckets + uint64_t(shift) * kSubBuckets + sub);
}

uint64_t LatencyHistogram::BucketLow(size_t index) {
  if (index < kSubBuckets) return index;
  const uint64_t group = (index - kSubBuckets) / kSubBuckets;
  const uint64_t sub = (index - kSubBuckets) % kSubBuckets;
  return (kSubBuckets + sub) << group;
}

uint64_t LatencyHistogram::BucketWidth(size_t index) {
  if (index < kSubBuckets) return 1;
  return uint64_t{1} << ((index - kSubBuckets) / kSubBuckets);
}

void LatencyHistogram::RecordN(uint64_t value_ns, uint64_t count) {
  if (count == 0) return;
  counts_[BucketIndex(value_ns)] += count;
  count_ += count;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
  sum_ += static_cast<double>(value_ns) * static_cast<double>(count);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  if (!(p > 0)) return min_;  // Also NaN.
  if (p >= 100) return max_;
  // The rank of the wanted value, 1-based: the smallest r with r >= p% of count.
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen < rank) continue;
    if (i == kBucketCount - 1) return max_;  // The overflow bucket: max is exact.
    const uint64_t middle = BucketLow(i) + (BucketWidth(i) - 1) / 2;
    return std::clamp(middle, min_, max_);
  }
  return max_;  // Not reached: the counts add up to count_.
}

}  // namespace attrib::bench
