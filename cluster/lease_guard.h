// cluster/lease_guard.h
//
// When a primary must stop acknowledging writes. A lease renewed by a KeepAlive
// that was *sent* at time S lasts at least until S + ttl on the coordinator's clock
// (the coordinator cannot have started the new ttl before it received the request).
// Clocks of two machines run at slightly different rates, and the renewal's answer
// may arrive late, so the primary counts from the send time and keeps a margin:
//
//   writes may be acknowledged until  S_last_success + ttl * (1 - drift) - margin
//
// A primary that is paused (SIGSTOP, a long GC-like stall), cut off from the
// coordinator, or whose renewals fail, therefore stops acknowledging before any other
// node can have been elected: another candidate's Campaign can only succeed after
// the coordinator deleted the key, at S_last_success + ttl at the earliest.
//
// Pure arithmetic on absl::Time values handed in by the caller (no clock inside), so
// tests drive it with any times.
//
// Thread-safety: not thread-safe; the primary's lease loop owns it (the write path
// reads `deadline()` through an atomic the loop publishes).
#ifndef ATTRIB_CLUSTER_LEASE_GUARD_H_
#define ATTRIB_CLUSTER_LEASE_GUARD_H_

#include "absl/time/time.h"

namespace attrib::cluster {

struct LeaseGuardOptions {
  absl::Duration ttl = absl::Seconds(10);
  double max_clock_drift = 0.01;            // Rate difference tolerated between clocks.
  absl::Duration margin = absl::Milliseconds(500);  // Scheduling and network slack.
};

class LeaseGuard {
 public:
  explicit LeaseGuard(LeaseGuardOptions options) : options_(options) {}

  // The lease was granted (or renewed) by a request sent at `sent`.
  void Renewed(absl::Time sent);
  // The lease is known to be gone (revoked, expired, another leader): no more writes.
  void Lost() { deadline_ = absl::InfinitePast(); }
  // Until when writes may be acknowledged; InfinitePast before the first grant.
  absl::Time deadline() const { return deadline_; }
  bool MayAcknowledge(absl::Time now) const { return now < deadline_; }
  // When the next renewal should be sent after one sent at `sent`: a third of the ttl,
  // so that two renewals in a row may fail before the deadline passes.
  absl::Time NextRenewal(absl::Time sent) const { return sent + options_.ttl / 3; }

 private:
  const LeaseGuardOptions options_;
  absl::Time deadline_ = absl::InfinitePast();
};

}  // namespace attrib::cluster

#endif  // ATTRIB_CLUSTER_LEASE_GUARD_H_
