// common/histogram.h
//
// A latency histogram cheap enough for the request path: fixed log-spaced buckets
// (1 us .. 10 s in a 1-2.5-5 series, plus +Inf), counters in relaxed atomics striped
// by thread, so recording takes no lock, allocates nothing and two threads recording
// at once do not fight over one cache line. Reading sums the stripes; a read that
// races with recordings may miss the newest of them (the counters only grow).
// Rendering in the Prometheus text format is in common/metrics_text.h.
//
// Thread-safety: Record/RecordMany and Read may be called from any thread at once.
#ifndef ATTRIB_COMMON_HISTOGRAM_H_
#define ATTRIB_COMMON_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace attrib::metrics {

// Upper bounds of the finite buckets, in nanoseconds: 1 us, 2.5 us, 5 us, 10 us, ...,
// 10 s. Log-spaced so the same relative resolution covers a cached lookup (a few
// microseconds) and an fdatasync on a slow disk (tens of milliseconds).
inline constexpr size_t kFiniteBuckets = 22;
inline constexpr std::array<uint64_t, kFiniteBuckets> kBucketBoundsNanos = {
    1'000,         2'500,         5'000,         10'000,        25'000,
    50'000,        100'000,       250'000,       500'000,       1'000'000,
    2'500'000,     5'000'000,     10'000'000,    25'000'000,    50'000'000,
    100'000'000,   250'000'000,   500'000'000,   1'000'000'000, 2'500'000'000,
    5'000'000'000, 10'000'000'000};

// The bucket a duration falls in: the first whose bound is >= nanos, or
// kFiniteBuckets (+Inf).
size_t BucketOf(uint64_t nanos);

// What a histogram holds at one moment. counts are per bucket (not cumulative); the
// last one is +Inf.
struct HistogramSnapshot {
  std::array<uint64_t, kFiniteBuckets + 1> counts{};
  uint64_t sum_nanos = 0;
  uint64_t count() const;
  HistogramSnapshot& operator+=(const HistogramSnapshot& other);
};

class Histogram {
 public:
  Histogram() = default;
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Record(uint64_t nanos) { RecordMany(nanos, 1); }
  // `n` events of `nanos` each (a batch timed as a whole, split evenly).
  void RecordMany(uint64_t nanos, uint64_t n) {
    Stripe& s = stripes_[ThisThreadStripe()];
    s.counts[BucketOf(nanos)].fetch_add(n, std::memory_order_relaxed);
    s.sum_nanos.fetch_add(nanos * n, std::memory_order_relaxed);
  }
  HistogramSnapshot Read() const;

  // Stripes: enough that the few threads of a process (I/O threads, the log's
  // commit thread) rarely share one; each is a whole number of cache lines.
  static constexpr size_t kStripes = 8;

 private:
  struct alignas(64) Stripe {
    std::array<std::atomic<uint64_t>, kFiniteBuckets + 1> counts{};
    std::atomic<uint64_t> sum_nanos{0};
  };
  // This thread's stripe, assigned round-robin at its first use.
  static size_t ThisThreadStripe();

  std::array<Stripe, kStripes> stripes_{};
};

}  // namespace attrib::metrics

#endif  // ATTRIB_COMMON_HISTOGRAM_H_
