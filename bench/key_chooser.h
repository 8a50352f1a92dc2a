// bench/key_chooser.h
//
// Which key the next request of attrib-bench asks for: uniform over the N keys of
// the key set, or Zipf-distributed (rank r has probability proportional to r^-s),
// plus the small random number generator every connection of the driver owns.
//
// Zipf is sampled by rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-
// inversion to generate variates from monotone discrete distributions", 1996; the
// algorithm of Apache Commons RNG's RejectionInversionZipfSampler): exact for any
// s > 0, O(1) expected time (a few log/exp per sample, < 1.1 trials on average), and
// only three constants are precomputed, so it needs no O(N) table even at 10M keys.
// Rank r (1-based) is key index r - 1: the hottest keys are the first ones, which
// are as spread over the server's shards and hash slots as any (the emails are
// hashed there, not the indices).
//
// Thread-safety: a KeyChooser is immutable after Create() and may be shared by all
// threads; each thread (connection) passes its own SplitMix64.
#ifndef ATTRIB_BENCH_KEY_CHOOSER_H_
#define ATTRIB_BENCH_KEY_CHOOSER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::bench {

// splitmix64: tiny, fast, good enough for choosing keys and operations; a value type
// owned by one thread.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for the n
  // used here).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [0, 1), 53 bits.
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

enum class KeyDistribution { kUniform, kZipf };

// "uniform" | "zipf" -> the distribution; InvalidArgument naming the flag otherwise.
absl::StatusOr<KeyDistribution> ParseKeyDistribution(absl::string_view text);

class KeyChooser {
 public:
  // `key_count` >= 1; for kZipf, `zipf_s` in (0, 10].
  static absl::StatusOr<KeyChooser> Create(KeyDistribution distribution, uint64_t key_count,
                                           double zipf_s);

  // A key index in [0, key_count).
  uint64_t Next(SplitMix64& rng) const {
    return distribution_ == KeyDistribution::kUniform ? rng.Below(key_count_)
                                                      : NextZipfRank(rng) - 1;
  }

  uint64_t key_count() const { return key_count_; }

 private:
  KeyChooser(KeyDistribution distribution, uint64_t key_count, double zipf_s);
  uint64_t NextZipfRank(SplitMix64& rng) const;  // In [1, key_count].
  double H(double x) const;                // x^-s
  double HIntegral(double x) const;        // (x^(1-s) - 1) / (1 - s), log x at s = 1.
  double HIntegralInverse(double x) const;

  KeyDistribution distribution_;
  uint64_t key_count_;
  double s_;
  // Precomputed once (see the paper): the integral bounds and the squeeze constant.
  double h_integral_x1_ = 0;
  double h_integral_n_ = 0;
  double squeeze_ = 0;
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_KEY_CHOOSER_H_
