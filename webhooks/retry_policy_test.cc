// webhooks/retry_policy_test.cc: outcomes, backoff and giving up
// (webhooks/retry_policy.h).
//
// Thread-safety: single-threaded tests.
#include "webhooks/retry_policy.h"

#include <random>

#include "gtest/gtest.h"

namespace attrib::webhooks {
namespace {

TEST(RetryPolicyTest, Outcomes) {
  EXPECT_EQ(Classify(200, absl::OkStatus()), AttemptResult::kDelivered);
  EXPECT_EQ(Classify(204, absl::OkStatus()), AttemptResult::kDelivered);
  EXPECT_EQ(Classify(410, absl::OkStatus()), AttemptResult::kGone);
  EXPECT_EQ(Classify(500, absl::OkStatus()), AttemptResult::kRetry);
  EXPECT_EQ(Classify(429, absl::OkStatus()), AttemptResult::kRetry);
  EXPECT_EQ(Classify(301, absl::OkStatus()), AttemptResult::kRetry);
  EXPECT_EQ(Classify(0, absl::DeadlineExceededError("timeout")), AttemptResult::kRetry);
  EXPECT_EQ(Classify(200, absl::UnavailableError("reset")), AttemptResult::kRetry);
}

TEST(RetryPolicyTest, BackoffDoublesWithinTheJitterUpToTheCap) {
  const uint64_t seed = 7;
  std::mt19937_64 rng(seed);
  RetryPolicy p;
  for (uint32_t failures = 1; failures <= 30; ++failures) {
    const absl::Duration ideal =
        std::min(p.first_backoff * (1 << std::min<uint32_t>(failures - 1, 20)), p.max_backoff);
    for (int i = 0; i < 100; ++i) {
      const absl::Duration d = Backoff(p, failures, rng());
      EXPECT_GE(d, ideal * (1 - p.jitter)) << "seed " << seed << " failures " << failures;
      EXPECT_LE(d, ideal * (1 + p.jitter)) << "seed " << seed << " failures " << failures;
    }
  }
  EXPECT_EQ(Backoff(p, 1, 1ull << 63), p.first_backoff);  // The middle of the spread.
}

TEST(RetryPolicyTest, GivesUpAfterThePeriod) {
  RetryPolicy p;
  const absl::Time since = absl::FromUnixSeconds(1'000'000);
  EXPECT_FALSE(GiveUp(p, since, since + absl::Hours(71)));
  EXPECT_TRUE(GiveUp(p, since, since + absl::Hours(72)));
}

}  // namespace
}  // namespace attrib::webhooks
