// bench/key_chooser.cc: uniform and Zipf key choice (see the header for the method).
//
// Thread-safety: as the header (const after Create()).
#include "bench/key_chooser.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace attrib::bench {
namespace {

// log1p(x) / x, continuous at 0.
double Helper1(double x) {
  if (std::abs(x) > 1e-8) return std::log1p(x) / x;
  return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

// expm1(x) / x, continuous at 0.
double Helper2(double x) {
  if (std::abs(x) > 1e-8) return std::expm1(x) / x;
  return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

}  // namespace

absl::StatusOr<KeyDistribution> ParseKeyDistribution(absl::string_view text) {
  if (text == "uniform") return KeyDistribution::kUniform;
  if (text == "zipf") return KeyDistribution::kZipf;
  return absl::InvalidArgumentError(
      absl::StrCat("--dist: expected uniform or zipf, got '", text, "'"));
}

absl::StatusOr<KeyChooser> KeyChooser::Create(KeyDistribution distribution,
                                              uint64_t key_count, double zipf_s) {
  if (key_count == 0) return absl::InvalidArgumentError("--keys: must be at least 1");
  if (distribution == KeyDistribution::kZipf && !(zipf_s > 0 && zipf_s <= 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--zipf_s: must be in (0, 10], got ", zipf_s));
  }
  return KeyChooser(distribution, key_count, zipf_s);
}

KeyChooser::KeyChooser(KeyDistribution distribution, uint64_t key_count, double zipf_s)
    : distribution_(distribution), key_count_(key_count), s_(zipf_s) {
  if (distribution_ != KeyDistribution::kZipf) return;
  h_integral_x1_ = HIntegral(1.5) - 1;
  h_integral_n_ = HIntegral(static_cast<double>(key_count_) + 0.5);
  squeeze_ = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
}

double KeyChooser::H(double x) const { return std::exp(-s_ * std::log(x)); }

double KeyChooser::HIntegral(double x) const {
  const double log_x = std::log(x);
  return Helper2((1 - s_) * log_x) * log_x;
}

double KeyChooser::HIntegralInverse(double x) const {
  double t = x * (1 - s_);
  if (t < -1) t = -1;  // Rounding near the lower bound.
  return std::exp(Helper1(t) * x);
}

uint64_t KeyChooser::NextZipfRank(SplitMix64& rng) const {
  const double n = static_cast<double>(key_count_);
  for (;;) {
    // u is uniform in (h_integral_x1_, h_integral_n_].
    const double u = h_integral_n_ + rng.NextDouble() * (h_integral_x1_ - h_integral_n_);
    const double x = HIntegralInverse(u);
    double k = std::floor(x + 0.5);
    k = std::clamp(k, 1.0, n);
    // Accept quickly inside the squeeze, else test against the exact bound.
    if (k - x <= squeeze_ || u >= HIntegral(k + 0.5) - H(k)) {
      return static_cast<uint64_t>(k);
    }
  }
}

}  // namespace attrib::bench
