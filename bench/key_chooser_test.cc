// bench/key_chooser_test.cc: uniform and Zipf key choice match their distributions,
// stay in range, and are deterministic per seed.
#include "bench/key_chooser.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace attrib::bench {
namespace {

// Total variation distance between observed counts and expected probabilities.
double TotalVariation(const std::vector<uint64_t>& counts, const std::vector<double>& p,
                      uint64_t samples) {
  double tv = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    tv += std::abs(static_cast<double>(counts[i]) / samples - p[i]);
  }
  return tv / 2;
}

std::vector<double> ZipfProbabilities(uint64_t n, double s) {
  std::vector<double> p(n);
  double sum = 0;
  for (uint64_t k = 1; k <= n; ++k) sum += p[k - 1] = std::pow(static_cast<double>(k), -s);
  for (double& x : p) x /= sum;
  return p;
}

TEST(KeyChooserTest, ParsesDistributionNames) {
  EXPECT_EQ(*ParseKeyDistribution("uniform"), KeyDistribution::kUniform);
  EXPECT_EQ(*ParseKeyDistribution("zipf"), KeyDistribution::kZipf);
  EXPECT_FALSE(ParseKeyDistribution("normal").ok());
}

TEST(KeyChooserTest, RejectsBadParameters) {
  EXPECT_FALSE(KeyChooser::Create(KeyDistribution::kUniform, 0, 0).ok());
  EXPECT_FALSE(KeyChooser::Create(KeyDistribution::kZipf, 10, 0).ok());
  EXPECT_FALSE(KeyChooser::Create(KeyDistribution::kZipf, 10, -1).ok());
  EXPECT_FALSE(KeyChooser::Create(KeyDistribution::kZipf, 10, 11).ok());
  EXPECT_FALSE(KeyChooser::Create(KeyDistribution::kZipf, 10, std::nan("")).ok());
  EXPECT_TRUE(KeyChooser::Create(KeyDistribution::kUniform, 1, 0).ok());
}

TEST(KeyChooserTest, UniformCoversTheRangeEvenly) {
  const uint64_t n = 100;
  KeyChooser c = *KeyChooser::Create(KeyDistribution::kUniform, n, 0);
  SplitMix64 rng(1);
  std::vector<uint64_t> counts(n);
  const uint64_t samples = 1'000'000;
  for (uint64_t i = 0; i < samples; ++i) {
    const uint64_t k = c.Next(rng);
    ASSERT_LT(k, n);
    ++counts[k];
  }
  EXPECT_LT(TotalVariation(counts, std::vector<double>(n, 1.0 / n), samples), 0.01);
}

TEST(KeyChooserTest, ZipfMatchesTheDistribution) {
  for (double s : {0.5, 0.99, 1.0, 1.2, 2.0}) {
    const uint64_t n = 1000;
    KeyChooser c = *KeyChooser::Create(KeyDistribution::kZipf, n, s);
    SplitMix64 rng(99);
    std::vector<uint64_t> counts(n);
    const uint64_t samples = 2'000'000;
    for (uint64_t i = 0; i < samples; ++i) {
      const uint64_t k = c.Next(rng);
      ASSERT_LT(k, n);
      ++counts[k];
    }
    const std::vector<double> p = ZipfProbabilities(n, s);
    EXPECT_LT(TotalVariation(counts, p, samples), 0.01) << "s=" << s;
    // The head, rank by rank.
    for (int k = 0; k < 5; ++k) {
      EXPECT_NEAR(static_cast<double>(counts[k]) / samples, p[k], 0.05 * p[k] + 0.001)
          << "s=" << s << " rank " << k + 1;
    }
  }
}

TEST(KeyChooserTest, ZipfOverManyKeysStaysInRangeAndReachesTheTail) {
  const uint64_t n = 10'000'000;
  KeyChooser c = *KeyChooser::Create(KeyDistribution::kZipf, n, 0.99);
  SplitMix64 rng(5);
  uint64_t max_seen = 0, first = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const uint64_t k = c.Next(rng);
    ASSERT_LT(k, n);
    max_seen = std::max(max_seen, k);
    first += k == 0;
  }
  EXPECT_GT(max_seen, n / 2);
  double harmonic = 0;  // H(n, 0.99), so p(rank 1) = 1 / harmonic (~0.055).
  for (uint64_t k = n; k >= 1; --k) harmonic += std::pow(static_cast<double>(k), -0.99);
  EXPECT_NEAR(first / 1e6, 1 / harmonic, 0.003);
}

TEST(KeyChooserTest, SingleKey) {
  for (KeyDistribution d : {KeyDistribution::kUniform, KeyDistribution::kZipf}) {
    KeyChooser c = *KeyChooser::Create(d, 1, 0.99);
    SplitMix64 rng(3);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(c.Next(rng), 0u);
  }
}

TEST(KeyChooserTest, DeterministicPerSeed) {
  KeyChooser c = *KeyChooser::Create(KeyDistribution::kZipf, 1'000'000, 0.99);
  SplitMix64 a(11), b(11), other(12);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = c.Next(a);
    ASSERT_EQ(x, c.Next(b));
    differs |= x != c.Next(other);
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace attrib::bench
