// webhooks/retry_policy.h
//
// What a delivery attempt's result means and when to try again:
//   2xx                         delivered
//   410 Gone                    the receiver says the endpoint is gone: disable now
//   any other status, a time-out or a connection error
//                               retry after an exponential backoff with jitter:
//                               first_backoff * 2^(failures-1), at most max_backoff,
//                               spread by +-jitter so that endpoints failing together
//                               do not retry in lock step; after `give_up_after`
//                               (default 3 days, as the platforms do) of failing
//                               without a success, disable the endpoint.
// Pure: times and random numbers are handed in.
//
// Thread-safety: pure functions and a value type.
#ifndef ATTRIB_WEBHOOKS_RETRY_POLICY_H_
#define ATTRIB_WEBHOOKS_RETRY_POLICY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace attrib::webhooks {

struct RetryPolicy {
  absl::Duration first_backoff = absl::Seconds(5);
  absl::Duration max_backoff = absl::Hours(1);
  double jitter = 0.2;  // +-20%.
  absl::Duration give_up_after = absl::Hours(72);
};

enum class AttemptResult { kDelivered, kRetry, kGone };

// From the HTTP status of the reply (0 when there was none: `transport` says why).
AttemptResult Classify(int http_status, const absl::Status& transport);

// The wait before the next attempt after `failures` consecutive failures (>= 1);
// `random` is uniform over uint64 (the caller's generator).
absl::Duration Backoff(const RetryPolicy& policy, uint32_t failures, uint64_t random);

// Whether an endpoint failing since `failing_since` (its first failure after the last
// success) should be disabled at `now`.
bool GiveUp(const RetryPolicy& policy, absl::Time failing_since, absl::Time now);

}  // namespace attrib::webhooks

#endif  // ATTRIB_WEBHOOKS_RETRY_POLICY_H_
