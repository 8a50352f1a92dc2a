// persistence/durability.h
//
// Makes the engine durable: the engine's MutationSink (every mutation is encoded and
// appended to the write-ahead log, under the engine's locks, so log order is a valid
// serial order per key), recovery at start, snapshots (on log growth, on request, at
// clean shutdown) with retention of the newest two, and the log segments they make
// unnecessary deleted or archived.
//
// The server asks these things of it (net/ sees them as DurabilityHooks):
//  - CanWrite(): refuse a write request up front while the log cannot be written
//    (full disk, I/O error); reads go on.
//  - the sequence number a request's reply must wait for (thread-local: the engine
//    calls OnMutation on the thread that runs the request);
//  - a callback when the durable sequence number advances (and once at once with
//    what recovery made durable, so the server never waits for a recovered
//    sequence number that no later commit would report: issue 11);
//  - durable_seq() and last_assigned_seq(): equal when the log has nothing left to
//    commit (the server's stall check).
//
// Thread-safety: OnMutation, CanWrite, the thread-local accessors and SnapshotNow may
// be called from any thread; Open/RecoverAndStart/Shutdown by the owner only.
#ifndef ATTRIB_PERSISTENCE_DURABILITY_H_
#define ATTRIB_PERSISTENCE_DURABILITY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "engine/mutation.h"
#include "persistence/data_dir.h"
#include "persistence/file_system.h"
#include "persistence/log_writer.h"
#include "persistence/recovery.h"
#include "persistence/snapshot.h"

namespace attrib::persistence {

struct DurabilityOptions {
  std::string data_dir = "./data";
  DataDirMeta meta;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  uint64_t segment_bytes = 64 << 20;
  bool preallocate_segments = true;           // LogWriterOptions::preallocate.
  uint64_t snapshot_every_bytes = 256 << 20;  // 0: only on request and shutdown.
  std::string wal_archive;                    // Empty: covered segments are deleted.
  bool point_in_time_recovery = false;
  // A replica (replication/follower.h) applies the primary's mutations with
  // Engine::Apply and appends them here in two steps, so a snapshot must not be
  // captured between them: with a gate, SnapshotNow holds it exclusively for the
  // capture and the follower holds it shared per mutation. Null on a primary (the
  // engine calls OnMutation under its own locks). Must outlive the Durability.
  absl::Mutex* capture_gate = nullptr;
};

struct DurabilityStats {
  uint64_t last_assigned_seq = 0;
  uint64_t durable_seq = 0;
  uint64_t log_bytes_written = 0;
  uint64_t fsyncs = 0;
  metrics::HistogramSnapshot fsync_durations;  // Of those fsyncs.
  uint64_t snapshots = 0;
  SnapshotInfo last_snapshot;  // path empty: none yet.
};

class Durability final : public engine::MutationSink {
 public:
  // Opens (creates) the data directory and takes its lock.
  static absl::StatusOr<std::unique_ptr<Durability>> Open(FileSystem* fs,
                                                          DurabilityOptions options);
  ~Durability() override;

  // Recovers into `engine` (constructed with this as its sink, still empty), then
  // opens the log where recovery ended and starts the snapshot thread.
  absl::StatusOr<RecoveryReport> RecoverAndStart(engine::Engine* engine);

  // engine::MutationSink.
  void OnMutation(const engine::Mutation& mutation) override;

  absl::Status CanWrite() const;
  // The request protocol: BeginRequest() before running a request on this thread,
  // EndRequest() after: the last sequence number the request produced (0: none).
  static void BeginRequest();
  static uint64_t EndRequest();
  // LogWriter::SetDurableCallback: called at once with what recovery made durable,
  // then after each commit. Only after RecoverAndStart.
  void SetDurableCallback(std::function<void(uint64_t)> callback);
  uint64_t durable_seq() const;
  // The newest sequence number handed out (cheap: no lock; Stats() takes one).
  uint64_t last_assigned_seq() const;

  // Takes a snapshot now (one at a time), applies retention, drops covered segments.
  absl::StatusOr<SnapshotInfo> SnapshotNow();
  // Stops the snapshot thread, optionally takes a final snapshot, closes the log.
  absl::Status Shutdown(bool final_snapshot);
  DurabilityStats Stats() const;
  const DataDir& data_dir() const { return *dir_; }
  const std::string& wal_archive() const { return options_.wal_archive; }

  // Log consumers that still need old records (webhook deliverers, issue 13): after
  // a snapshot, before the segments whose records all have seq <= floor are dropped
  // (or archived), `hook(floor)` says how far they may be: floor when no consumer
  // needs them, else less (a consumer at cursor C needs C on: C - 1). The hook
  // decides how much to keep (it may give up on a consumer instead). Runs on the
  // snapshot thread.
  void SetLogRetentionHook(std::function<uint64_t(uint64_t floor)> hook);

 private:
  Durability(FileSystem* fs, DurabilityOptions options, std::unique_ptr<DataDir> dir)
      : fs_(fs), options_(std::move(options)), dir_(std::move(dir)) {}
  void SnapshotLoop();
  absl::Status ApplyRetention(const SnapshotInfo& newest);

  FileSystem* const fs_;
  const DurabilityOptions options_;
  const std::unique_ptr<DataDir> dir_;
  engine::Engine* engine_ = nullptr;
  std::unique_ptr<LogWriter> writer_;

  absl::Mutex snapshot_mu_;  // One snapshot at a time.
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_at_last_snapshot_ ABSL_GUARDED_BY(mu_) = 0;
  SnapshotInfo last_snapshot_ ABSL_GUARDED_BY(mu_);
  std::function<uint64_t(uint64_t)> retention_hook_ ABSL_GUARDED_BY(mu_);
  std::thread snapshot_thread_;
};

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_DURABILITY_H_
