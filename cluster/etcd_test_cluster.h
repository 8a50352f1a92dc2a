// cluster/etcd_test_cluster.h
//
// For tests: a real etcd cluster (Debian's etcd-server) of N members on free
// loopback ports, data on tmpfs (/dev/shm) when present, started by the test and
// stopped (SIGKILL) at the end. Fast elections (heartbeat 50 ms, election timeout
// 500 ms) keep lease and failover tests short; etcd then grants leases of 1 s at
// least. Ready() waits (bounded) until the cluster serves a quorum read.
//
// Thread-safety: one test thread owns it.
#ifndef ATTRIB_CLUSTER_ETCD_TEST_CLUSTER_H_
#define ATTRIB_CLUSTER_ETCD_TEST_CLUSTER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace attrib::cluster {

class EtcdTestCluster {
 public:
  explicit EtcdTestCluster(int members);
  ~EtcdTestCluster();
  EtcdTestCluster(const EtcdTestCluster&) = delete;
  EtcdTestCluster& operator=(const EtcdTestCluster&) = delete;

  // OK once a quorum read succeeds, or why not (etcd missing, a member exited).
  absl::Status Ready(absl::Duration limit = absl::Seconds(30));
  // The members' client addresses, "127.0.0.1:port".
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // SIGKILLs member i (its endpoint then refuses connections).
  void Kill(int i);

 private:
  std::string dir_;
  std::vector<std::string> endpoints_;
  std::vector<pid_t> pids_;
};

}  // namespace attrib::cluster

#endif  // ATTRIB_CLUSTER_ETCD_TEST_CLUSTER_H_
