// cluster/fake_coordinator.h
//
// An in-memory Coordinator for unit tests, with the same contract as etcd's: leases
// expire `ttl` after their last grant or renewal on the fake's clock (a function the
// test controls), expiry deletes the keys attached to the lease, and every created
// key takes the next revision of a store-wide counter (so epochs only grow). Tests
// can also make it unreachable (every call: Unavailable), as a partition would.
//
// Thread-safety: every method may be called from any thread (one mutex).
#ifndef ATTRIB_CLUSTER_FAKE_COORDINATOR_H_
#define ATTRIB_CLUSTER_FAKE_COORDINATOR_H_

#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cluster/coordinator.h"

namespace attrib::cluster {

class FakeCoordinator final : public Coordinator {
 public:
  // `now` is the coordinator's clock; it must outlive the fake.
  explicit FakeCoordinator(std::function<absl::Time()> now) : now_(std::move(now)) {}

  absl::StatusOr<Leadership> Campaign(absl::string_view group, absl::string_view address,
                                      absl::Duration ttl, Leader* current) override;
  absl::Status KeepAlive(int64_t lease) override;
  absl::StatusOr<std::optional<Leader>> CurrentLeader(absl::string_view group) override;
  absl::Status Resign(int64_t lease) override;

  // While false, every call fails with Unavailable (time still passes).
  void SetReachable(bool reachable);

 private:
  struct Lease {
    absl::Duration ttl;
    absl::Time expires;
  };
  // Deletes expired leases and their keys.
  void Expire() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckReachable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
  bool reachable_ ABSL_GUARDED_BY(mu_) = true;
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 1;  // etcd starts at 1 too.
  int64_t next_lease_ ABSL_GUARDED_BY(mu_) = 1000;
  std::map<int64_t, Lease> leases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Leader, std::less<>> leaders_ ABSL_GUARDED_BY(mu_);  // By group.
};

}  // namespace attrib::cluster

#endif  // ATTRIB_CLUSTER_FAKE_COORDINATOR_H_
