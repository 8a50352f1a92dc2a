// common/histogram.cc: see histogram.h.
#include "common/histogram.h"

namespace attrib::metrics {

size_t BucketOf(uint64_t nanos) {
  // Most durations are short: a linear scan from the smallest bound ends after a
  // few compares, cheaper than a binary search's unpredictable branches.
  size_t i = 0;
  while (i < kFiniteBuckets && nanos > kBucketBoundsNanos[i]) ++i;
  return i;
}

uint64_t HistogramSnapshot::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

HistogramSnapshot& HistogramSnapshot::operator+=(const HistogramSnapshot& other) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum_nanos += other.sum_nanos;
  return *this;
}

size_t Histogram::ThisThreadStripe() {
  static std::atomic<size_t> next{0};
  thread_local const size_t stripe = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return stripe;
}

HistogramSnapshot Histogram::Read() const {
  HistogramSnapshot out;
  for (const Stripe& s : stripes_) {
    for (size_t i = 0; i < s.counts.size(); ++i) {
      out.counts[i] += s.counts[i].load(std::memory_order_relaxed);
    }
    out.sum_nanos += s.sum_nanos.load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace attrib::metrics
