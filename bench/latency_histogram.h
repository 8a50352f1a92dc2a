// bench/latency_histogram.h
//
// A log-linear latency histogram in the style of HdrHistogram, for attrib-bench:
// fixed memory, O(1) Record(), mergeable, percentiles with a bounded relative error.
//
// Layout: values are nanoseconds (uint64). Values below 2^kSubBucketBits (128 ns) get
// one exact bucket each. Above, each power-of-two range [2^m, 2^(m+1)) is split into
// 2^kSubBucketBits (128) equal sub-buckets of width 2^(m-7), up to 2^kMaxValueBits ns
// (~18 minutes); larger values land in the last bucket (min/max stay exact). So a
// bucket's width is at most 1/128 of its lowest value, and the reported value of a
// bucket (its midpoint) is within 0.4% (< kRelativeError) of every value it holds.
// 4,352 counters of 8 bytes: 34 KiB per histogram.
//
// Thread-safety: a value type with no internal locking; one thread records into its
// own histogram, and histograms are merged (Merge) after the threads are joined.
#ifndef ATTRIB_BENCH_LATENCY_HISTOGRAM_H_
#define ATTRIB_BENCH_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attrib::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;
  // Values at or above 2^kMaxValueBits ns share the last bucket.
  static constexpr int kMaxValueBits = 40;
  static constexpr size_t kBucketCount =
      kSubBuckets + (kMaxValueBits - kSubBucketBits) * kSubBuckets;
  // Bound on |reported - true| / true for any recorded value below 2^kMaxValueBits.
  static constexpr double kRelativeError = 1.0 / (2 * kSubBuckets);
  static_assert(kMaxValueBits > kSubBucketBits && kMaxValueBits < 63);
  static_assert((uint64_t{1} << kMaxValueBits) > uint64_t{100} * 1000 * 1000 * 1000,
                "must cover at least 100 s in ns");

  LatencyHistogram();

  void Record(uint64_t value_ns) { RecordN(value_ns, 1); }
  void RecordN(uint64_t value_ns, uint64_t count);
  // Adds every value of `other` (histograms of the same layout always merge exactly).
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // The value at percentile `p` in [0, 100]: the smallest recorded value v such that
  // at least p% of the values are <= v, within kRelativeError. 0 when empty; p <= 0
  // gives min(), p >= 100 gives max(). The result is clamped to [min(), max()].
  uint64_t Percentile(double p) const;

  // Bucket mapping, public for tests.
  static size_t BucketIndex(uint64_t value_ns);
  static uint64_t BucketLow(size_t index);     // Lowest value in the bucket.
  static uint64_t BucketWidth(size_t index);   // Number of values in the bucket.

 private:
  std::vector<uint64_t> counts_;  // kBucketCount counters.
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  double sum_ = 0;  // For the mean only; double so that it never overflows.
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_LATENCY_HISTOGRAM_H_
