// replication/log_shipper.h
//
// The primary's side of replication (issue 16): a TCP listener
// (--replication_listen) where replicas connect and receive every durable log
// record from the sequence number they ask for, in order, as the log commits them
// (replication/stream_format.h). Records are read back from the write-ahead log with
// persistence::ChangeFeed, so a replica that disconnects resumes exactly where it
// stopped, and a replica that asks for records the log no longer keeps is refused
// with kNeedSnapshot (it must start from a snapshot). A replica that sends
// kSnapshotRequest instead of a hello gets the newest snapshot file
// (replication/bootstrap.h).
//
// Each replica gets two threads: one sends (wakes on NotifyDurable, and sends a
// heartbeat after `heartbeat` of quiet), one reads its acknowledgements (the
// replica's durable and applied sequence numbers: Replicas(), the lag metrics and,
// to come, --sync_replicas). A slow replica slows only its own threads: the log is
// read from disk, nothing is buffered per replica beyond one frame.
//
// Thread-safety: Start() once; NotifyDurable(), Replicas(), bound_address(), SetEpoch() and
// Shutdown() (idempotent, joins every thread; also run by the destructor) from any
// thread.
#ifndef ATTRIB_REPLICATION_LOG_SHIPPER_H_
#define ATTRIB_REPLICATION_LOG_SHIPPER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "persistence/file_system.h"

namespace attrib::replication {

struct LogShipperOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 = any free.
  std::string wal_dir;                 // DATA/wal of the primary.
  std::string archive_dir;             // --wal_archive; empty: none.
  std::string snapshot_dir;            // DATA/snapshots: served to empty replicas.
  uint64_t epoch = 0;                  // The primary's epoch (sent in kWelcome).
  // The first record of this node's own epoch (replication/epoch_file.h; 0: none):
  // a replica of an older epoch whose log goes past it is refused (kDiverged).
  uint64_t epoch_start_seq = 0;
  // Where this node serves clients (its --listen and --http_listen as bound), sent
  // in kWelcome: a replica names them in its not_primary errors.
  std::string client_address;
  std::string http_address;
  size_t max_replicas = 8;             // --replication_max_replicas.
  size_t max_frame_bytes = 4 << 20;    // --replication_max_frame_bytes.
  absl::Duration heartbeat = absl::Milliseconds(500);
  // Called (on a replica's reader thread) after each acknowledgement is recorded;
  // --sync_replicas recomputes what is acknowledged. Null: none.
  std::function<void()> on_ack;
};

struct ReplicaInfo {
  std::string peer;           // The replica's address.
  uint64_t from_seq = 0;      // What it asked for when it connected.
  uint64_t sent_seq = 0;      // The last record sent.
  uint64_t durable_seq = 0;   // Acknowledged: fdatasync'ed in its log.
  uint64_t applied_seq = 0;   // Acknowledged: applied to its engine.
};

class LogShipper {
 public:
  // `durable_seq()` reads the primary log's durable sequence number; `fs` and it
  // must outlive the shipper.
  LogShipper(persistence::FileSystem* fs, std::function<uint64_t()> durable_seq,
             LogShipperOptions options);
  ~LogShipper();
  LogShipper(const LogShipper&) = delete;
  LogShipper& operator=(const LogShipper&) = delete;

  absl::Status Start();
  std::string bound_address() const;
  // The log is durable up to `seq` (wakes the senders; any order, any thread).
  void NotifyDurable(uint64_t seq);
  std::vector<ReplicaInfo> Replicas() const;
  // The k-th highest durable sequence number acknowledged by the replicas connected
  // now (k >= 1): everything up to it is durable on at least k replicas. 0 when
  // fewer than k are connected.
  uint64_t DurableOnReplicas(size_t k) const;
  // A promotion (attribctl promote): welcomes from now on carry `epoch`, and
  // replicas that followed a higher one are refused against it.
  void SetEpoch(uint64_t epoch, uint64_t start_seq);
  uint64_t epoch() const;
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_LOG_SHIPPER_H_
