// cluster/etcd_coordinator.h
//
// The Coordinator on etcd (Debian's etcd-server 3.4), through its JSON gateway
// (cluster/etcd_client.h):
//   Campaign:     POST /v3/lease/grant {TTL}, then one transaction
//                 /v3/kv/txn: if create_revision(<prefix><group>/leader) == 0
//                 then put(key, address, lease) else range(key). The put's revision
//                 is the key's create revision: the epoch.
//   KeepAlive:    /v3/lease/keepalive {ID}: an answer without TTL = the lease is gone.
//   CurrentLeader:/v3/kv/range {key}.
//   Resign:       /v3/lease/revoke {ID} (which deletes the key).
// etcd rounds a ttl up to whole seconds and to its minimum (about 1.5 x its election
// timeout); Leadership::ttl is what it granted.
//
// A Campaign whose answer was lost (a member failed after committing) is retried on
// another member; finding the key attached to its own lease, it reports success.
//
// Thread-safety: every method may be called from any thread.
#ifndef ATTRIB_CLUSTER_ETCD_COORDINATOR_H_
#define ATTRIB_CLUSTER_ETCD_COORDINATOR_H_

#include <string>

#include "cluster/coordinator.h"
#include "cluster/etcd_client.h"

namespace attrib::cluster {

struct EtcdCoordinatorOptions {
  EtcdClientOptions client;
  std::string prefix = "/attrib/";  // Keys: <prefix><group>/leader.
};

class EtcdCoordinator final : public Coordinator {
 public:
  explicit EtcdCoordinator(EtcdCoordinatorOptions options);

  absl::StatusOr<Leadership> Campaign(absl::string_view group, absl::string_view address,
                                      absl::Duration ttl, Leader* current) override;
  absl::Status KeepAlive(int64_t lease) override;
  absl::StatusOr<std::optional<Leader>> CurrentLeader(absl::string_view group) override;
  absl::Status Resign(int64_t lease) override;

  std::string LeaderKey(absl::string_view group) const;

 private:
  const EtcdCoordinatorOptions options_;
  EtcdClient client_;
};

}  // namespace attrib::cluster

#endif  // ATTRIB_CLUSTER_ETCD_COORDINATOR_H_
