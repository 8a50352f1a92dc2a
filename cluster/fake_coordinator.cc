// cluster/fake_coordinator.cc: the in-memory coordinator (see the header).
#include "cluster/fake_coordinator.h"

#include "absl/strings/str_cat.h"

namespace attrib::cluster {

void FakeCoordinator::Expire() {
  const absl::Time now = now_();
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.expires > now) {
      ++it;
      continue;
    }
    for (auto l = leaders_.begin(); l != leaders_.end();) {
      l = l->second.lease == it->first ? leaders_.erase(l) : std::next(l);
    }
    ++revision_;  // etcd: the deletion is a revision of its own.
    it = leases_.erase(it);
  }
}

absl::Status FakeCoordinator::CheckReachable() const {
  return reachable_ ? absl::OkStatus()
                    : absl::UnavailableError("coordinator: unreachable (fake partition)");
}

absl::StatusOr<Leadership> FakeCoordinator::Campaign(absl::string_view group,
                                                     absl::string_view address,
                                                     absl::Duration ttl, Leader* current) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckReachable(); !s.ok()) return s;
  Expire();
  const int64_t lease = next_lease_++;
  leases_[lease] = Lease{ttl, now_() + ttl};
  ++revision_;  // The grant.
  if (auto it = leaders_.find(group); it != leaders_.end()) {
    if (current != nullptr) *current = it->second;
    leases_.erase(lease);  // Like a candidate that revokes its unused lease.
    return absl::FailedPreconditionError(absl::StrCat(
        "coordinator: group ", group, " is led by ", it->second.address, " (epoch ",
        it->second.epoch, ")"));
  }
  const uint64_t epoch = ++revision_;
  leaders_[std::string(group)] = Leader{std::string(address), epoch, lease};
  return Leadership{epoch, lease, ttl};
}

absl::Status FakeCoordinator::KeepAlive(int64_t lease) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckReachable(); !s.ok()) return s;
  Expire();
  auto it = leases_.find(lease);
  if (it == leases_.end()) {
    return absl::NotFoundError(absl::StrCat("coordinator: lease ", lease, " has expired"));
  }
  it->second.expires = now_() + it->second.ttl;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Leader>> FakeCoordinator::CurrentLeader(absl::string_view group) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckReachable(); !s.ok()) return s;
  Expire();
  auto it = leaders_.find(group);
  if (it == leaders_.end()) return std::optional<Leader>();
  return std::optional<Leader>(it->second);
}

absl::Status FakeCoordinator::Resign(int64_t lease) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckReachable(); !s.ok()) return s;
  Expire();
  auto it = leases_.find(lease);
  if (it != leases_.end()) it->second.expires = absl::InfinitePast();
  Expire();
  return absl::OkStatus();
}

void FakeCoordinator::SetReachable(bool reachable) {
  absl::MutexLock lock(&mu_);
  reachable_ = reachable;
}

}  // namespace attrib::cluster
