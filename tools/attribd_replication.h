// tools/attribd_replication.h
//
// attribd's replication wiring (issue 16, first part): its flags, and the pieces of
// replication/ a node runs.
//  - --replication_listen=host:port: serve this node's log to replicas
//    (replication::LogShipper).
//  - --replica_of=host:port: this node is a replica of that primary's
//    --replication_listen: it follows the primary's log (replication::ReplicaClient
//    and Follower), writes it to its own data directory, serves reads, and refuses
//    every write with `unavailable` and a message that starts "not_primary:" and
//    names the primary (a dedicated not_primary code and redirects are to come).
//  - --sync_replicas=K (with --replication_listen): a write's reply waits until the
//    primary's log and K replicas' logs have made it durable. The log's durable
//    callback goes through OnLocalDurable(); the servers get, through the sink set
//    by SetDurableSink(), the smaller of the local durable sequence number and the
//    K-th highest one the replicas acknowledged (recomputed on every commit and
//    every acknowledgement). K = 0: the local one, as without replication.
// The two may be combined (a replica that serves replicas of its own).
//
// Thread-safety: Configure() and Start() by main before the servers start;
// CanWrite(), OnLocalDurable(), AcknowledgedSeq(), WriteMetrics() and Describe()
// from any thread; Shutdown() by main
// after the servers stopped.
#ifndef ATTRIB_TOOLS_ATTRIBD_REPLICATION_H_
#define ATTRIB_TOOLS_ATTRIBD_REPLICATION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics_text.h"
#include "engine/engine.h"
#include "persistence/durability.h"
#include "persistence/file_system.h"
#include "replication/follower.h"
#include "replication/log_shipper.h"
#include "replication/replica_client.h"

namespace attrib::tools {

class AttribdReplication {
 public:
  AttribdReplication() = default;
  ~AttribdReplication() { Shutdown(); }
  AttribdReplication(const AttribdReplication&) = delete;
  AttribdReplication& operator=(const AttribdReplication&) = delete;

  // Reads and checks the flags; a replica's snapshots need the capture gate.
  absl::Status Configure(persistence::DurabilityOptions* options);
  // Before recovery, on a replica: an empty data directory whose primary no longer
  // keeps its whole log gets the primary's snapshot (replication/bootstrap.h).
  absl::Status Bootstrap(persistence::FileSystem* fs, const persistence::DataDir& dir);
  // After recovery: starts the listener and/or follows the primary.
  absl::Status Start(persistence::FileSystem* fs, persistence::Durability* durability,
                     engine::Engine* engine);

  bool is_replica() const { return !replica_of_.empty(); }
  // OK on a primary; on a replica, why writes are refused.
  absl::Status CanWrite() const;
  // The servers' NotifyDurable (both front ends); called at once with what is
  // acknowledged already.
  void SetDurableSink(std::function<void(uint64_t)> sink);
  // The local log's durable callback.
  void OnLocalDurable(uint64_t seq);
  // What a reply may count as durable now (the stall check's view, DurableSeq()).
  uint64_t AcknowledgedSeq() const;
  // The attrib_replication_* families (README "Metrics").
  void WriteMetrics(metrics::MetricsText& m) const;
  // ", replication on 127.0.0.1:7413, replica of 10.0.0.1:7413", or "".
  std::string Describe() const;
  void Shutdown();

 private:
  // Recomputes the acknowledged sequence number and tells the sink when it grew.
  void Publish();

  std::string listen_;
  uint32_t sync_replicas_ = 0;
  std::atomic<uint64_t> local_durable_{0};
  mutable absl::Mutex publish_mu_;
  std::function<void(uint64_t)> sink_ ABSL_GUARDED_BY(publish_mu_);
  uint64_t published_ ABSL_GUARDED_BY(publish_mu_) = 0;
  std::string replica_of_;
  replication::LogShipperOptions shipper_options_;
  replication::ReplicaClientOptions client_options_;
  absl::Mutex gate_;
  std::unique_ptr<replication::LogShipper> shipper_;
  std::unique_ptr<replication::Follower> follower_;
  std::unique_ptr<replication::ReplicaClient> client_;
};

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBD_REPLICATION_H_
