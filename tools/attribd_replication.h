// tools/attribd_replication.h
//
// attribd's replication wiring (issue 16, first part): its flags, and the pieces of
// replication/ a node runs.
//  - --replication_listen=host:port: serve this node's log to replicas
//    (replication::LogShipper).
//  - --replica_of=host:port: this node is a replica of that primary's
//    --replication_listen: it follows the primary's log (replication::ReplicaClient
//    and Follower), writes it to its own data directory, serves reads, and refuses
//    every write with not_primary (common/not_primary.h) naming the primary's client
//    addresses: those its welcome carried, or --primary_client_address /
//    --primary_http_address.
//  - Reads on a replica (CanRead): past --max_replica_lag they are refused with
//    `unavailable`; one with a min_seq the replica has not applied waits up to
//    --replica_read_wait, then is refused naming both numbers.
//  - Promote() (attribctl promote): the replica stops following, records a higher
//    epoch in DATA/replication_epoch (replication/epoch_file.h) and accepts writes;
//    its listener (if any) ships with the new epoch.
//  - --sync_replicas=K (with --replication_listen): a write's reply waits until the
//    primary's log and K replicas' logs have made it durable. The log's durable
//    callback goes through OnLocalDurable(); the servers get, through the sink set
//    by SetDurableSink(), the smaller of the local durable sequence number and the
//    K-th highest one the replicas acknowledged (recomputed on every commit and
//    every acknowledgement). K = 0: the local one, as without replication.
// The two may be combined (a replica that serves replicas of its own).
//
// Thread-safety: Configure(), Bootstrap() and Start() by main before the servers
// start, StartListener() by main once they listen; CanWrite(), CanRead(),
// Promote(), OnLocalDurable(), AcknowledgedSeq(), WriteMetrics() and Describe()
// from any thread; Shutdown() by main after the servers stopped.
#ifndef ATTRIB_TOOLS_ATTRIBD_REPLICATION_H_
#define ATTRIB_TOOLS_ATTRIBD_REPLICATION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics_text.h"
#include "engine/engine.h"
#include "persistence/durability.h"
#include "persistence/file_system.h"
#include "replication/epoch_file.h"
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
  // After recovery: a replica starts following its primary.
  absl::Status Start(persistence::FileSystem* fs, persistence::Durability* durability,
                     engine::Engine* engine);
  // Once the servers listen: starts --replication_listen, whose welcome names
  // `client_address` and `http_address` (the servers' bound addresses).
  absl::Status StartListener(const std::string& client_address,
                             const std::string& http_address);

  // A replica that has not been promoted.
  bool is_replica() const { return !replica_of_.empty() && !promoted_.load(); }
  // OK on a primary; on a replica not_primary (common/not_primary.h).
  absl::Status CanWrite() const;
  // OK on a primary; on a replica: unavailable past --max_replica_lag, or when it
  // has not applied `min_seq` (waiting up to --replica_read_wait if `may_wait`).
  absl::Status CanRead(uint64_t min_seq, bool may_wait) const;
  struct PromoteResult {
    uint64_t epoch = 0;
    uint64_t seq = 0;          // The new epoch's first record will be seq + 1.
    uint64_t applied_seq = 0;
    uint64_t primary_seq = 0;  // The old primary's durable seq as last heard.
  };
  // Stops following and becomes a primary of a higher epoch. FailedPrecondition on
  // a primary, and (unless `force`) when the replica has not applied what it last
  // heard the primary had durable.
  absl::StatusOr<PromoteResult> Promote(bool force);
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

  // The replica's lag: records, and how long since it was last caught up.
  uint64_t LagRecords(const replication::ReplicaStatus& st) const;
  absl::Duration LagTime(const replication::ReplicaStatus& st) const;

  std::string listen_;
  std::string data_dir_;
  persistence::FileSystem* fs_ = nullptr;
  persistence::Durability* durability_ = nullptr;
  uint32_t sync_replicas_ = 0;
  std::string primary_client_address_;  // --primary_client_address.
  std::string primary_http_address_;    // --primary_http_address.
  absl::Duration read_wait_;            // --replica_read_wait.
  uint64_t max_lag_records_ = 0;        // --max_replica_lag as records (0: off).
  absl::Duration max_lag_time_;         // --max_replica_lag as time (0: off).
  std::string max_lag_text_;
  std::atomic<bool> promoted_{false};
  std::atomic<bool> promoting_{false};  // One Promote() at a time.
  mutable absl::Mutex promote_mu_;      // The epoch file (never held while joining).
  replication::EpochRecord epoch_ ABSL_GUARDED_BY(promote_mu_);
  std::atomic<uint64_t> local_durable_{0};
  mutable absl::Mutex publish_mu_;
  std::function<void(uint64_t)> sink_ ABSL_GUARDED_BY(publish_mu_);
  uint64_t published_ ABSL_GUARDED_BY(publish_mu_) = 0;
  std::string replica_of_;
  replication::LogShipperOptions shipper_options_;
  replication::ReplicaClientOptions client_options_;
  absl::Mutex gate_;
  // Owned by shipper_ (main thread: StartListener, Shutdown); read through
  // shipper_ptr_ by every other thread (it is published once it has started).
  std::unique_ptr<replication::LogShipper> shipper_;
  std::atomic<replication::LogShipper*> shipper_ptr_{nullptr};
  replication::LogShipper* shipper() const { return shipper_ptr_.load(); }
  std::unique_ptr<replication::Follower> follower_;
  std::unique_ptr<replication::ReplicaClient> client_;
};

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBD_REPLICATION_H_
