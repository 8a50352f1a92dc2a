// webhooks/retry_policy.cc: delivery outcomes and backoff (see the header).
#include "webhooks/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace attrib::webhooks {

AttemptResult Classify(int http_status, const absl::Status& transport) {
  if (!transport.ok() || http_status == 0) return AttemptResult::kRetry;
  if (http_status >= 200 && http_status < 300) return AttemptResult::kDelivered;
  if (http_status == 410) return AttemptResult::kGone;
  return AttemptResult::kRetry;
}

absl::Duration Backoff(const RetryPolicy& policy, uint32_t failures, uint64_t random) {
  const uint32_t doublings = std::min<uint32_t>(failures == 0 ? 0 : failures - 1, 40);
  absl::Duration base = policy.first_backoff * std::ldexp(1.0, static_cast<int>(doublings));
  base = std::min(base, policy.max_backoff);
  // random -> [-1, 1).
  const double unit = static_cast<double>(random >> 11) / static_cast<double>(1ull << 53);
  const double factor = 1.0 + policy.jitter * (2.0 * unit - 1.0);
  return std::max(absl::ZeroDuration(), base * factor);
}

bool GiveUp(const RetryPolicy& policy, absl::Time failing_since, absl::Time now) {
  return now - failing_since >= policy.give_up_after;
}

}  // namespace attrib::webhooks
