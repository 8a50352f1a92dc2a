// cluster/coordinator.h
//
// Who is primary: the interface between attribd's replication (issue 16) and the
// distributed store that decides it (etcd in production, cluster/etcd_coordinator.h;
// an in-memory fake in tests, cluster/fake_coordinator.h). No home-made consensus:
// the coordinator holds one key per replication group, `<prefix>/<group>/leader`,
// whose value is the primary's address, written only while that key does not exist
// and attached to a lease of `ttl`. The key's create revision is the primary's
// **epoch**: it only grows (a later primary's key is created later), so it serves
// as a fencing token that attrib writes into its log at promotion and that replicas
// compare (a stream from a lower epoch is refused).
//
// The primary keeps its lease alive (KeepAlive) well within the ttl; one that cannot
// must stop acknowledging writes before the lease can expire (cluster/lease_guard.h
// computes that deadline from when each renewal was *sent*). When the lease expires,
// the key is deleted by the coordinator and another candidate's Campaign succeeds.
//
// Errors: Unavailable when the coordinator cannot be reached (no endpoint answers);
// FailedPrecondition from Campaign when another node leads (its address in the
// message and in `*current`); NotFound from KeepAlive when the lease is gone
// (expired or revoked): the caller is no longer primary.
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef ATTRIB_CLUSTER_COORDINATOR_H_
#define ATTRIB_CLUSTER_COORDINATOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace attrib::cluster {

// The current primary of a group, as the coordinator has it.
struct Leader {
  std::string address;  // What the primary wrote: where clients and replicas go.
  uint64_t epoch = 0;   // The leader key's create revision (> 0).
  int64_t lease = 0;    // The lease the key is attached to.
};

// What a successful Campaign returns: this node is now primary with `epoch`, as long
// as it keeps `lease` alive.
struct Leadership {
  uint64_t epoch = 0;
  int64_t lease = 0;
  absl::Duration ttl;  // As granted (the coordinator may round it up).
};

class Coordinator {
 public:
  virtual ~Coordinator() = default;

  // Tries once to become primary of `group` with `address`: grants a lease of `ttl`
  // and creates the leader key under it if the key does not exist. On
  // FailedPrecondition `current` (if not null) gets the leader that holds it.
  virtual absl::StatusOr<Leadership> Campaign(absl::string_view group,
                                              absl::string_view address, absl::Duration ttl,
                                              Leader* current) = 0;
  // Renews `lease` for another ttl. NotFound: the lease expired or was revoked.
  virtual absl::Status KeepAlive(int64_t lease) = 0;
  // The current leader of `group`; nullopt when there is none.
  virtual absl::StatusOr<std::optional<Leader>> CurrentLeader(absl::string_view group) = 0;
  // Gives leadership up at once (revokes the lease, which deletes the key).
  virtual absl::Status Resign(int64_t lease) = 0;
};

}  // namespace attrib::cluster

#endif  // ATTRIB_CLUSTER_COORDINATOR_H_
