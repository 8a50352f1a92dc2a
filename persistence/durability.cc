// persistence/durability.cc: the engine's durability (see the header).
#include "persistence/durability.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "absl/time/clock.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot_format.h"

namespace attrib::persistence {
namespace {

thread_local uint64_t t_request_seq = 0;

}  // namespace

absl::StatusOr<std::unique_ptr<Durability>> Durability::Open(FileSystem* fs,
                                                             DurabilityOptions options) {
  absl::StatusOr<std::unique_ptr<DataDir>> dir = DataDir::Open(fs, options.data_dir, options.meta);
  if (!dir.ok()) return dir.status();
  return std::unique_ptr<Durability>(new Durability(fs, std::move(options), *std::move(dir)));
}

Durability::~Durability() { (void)Shutdown(/*final_snapshot=*/false); }

absl::StatusOr<RecoveryReport> Durability::RecoverAndStart(engine::Engine* engine) {
  engine_ = engine;
  RecoveryOptions ro;
  ro.point_in_time = options_.point_in_time_recovery;
  ro.archive_dir = options_.wal_archive;
  absl::StatusOr<RecoveryReport> report = Recover(fs_, *dir_, engine, ro);
  if (!report.ok()) return report.status();
  LogWriterOptions wo;
  wo.wal_dir = dir_->wal_dir();
  wo.fsync = options_.fsync;
  wo.segment_bytes = options_.segment_bytes;
  wo.preallocate = options_.preallocate_segments;
  wo.email_policy = static_cast<uint8_t>(options_.meta.email_policy);
  absl::StatusOr<std::unique_ptr<LogWriter>> writer =
      LogWriter::Open(fs_, std::move(wo), report->next_seq);
  if (!writer.ok()) return writer.status();
  writer_ = *std::move(writer);
  snapshot_thread_ = std::thread([this] { SnapshotLoop(); });
  return report;
}

void Durability::OnMutation(const engine::Mutation& mutation) {
  // Runs under engine locks: encode into a per-thread buffer, append, no I/O.
  thread_local std::string buffer;
  buffer.clear();
  EncodeMutation(mutation, &buffer);
  t_request_seq = writer_->Append(buffer);
}

absl::Status Durability::CanWrite() const {
  return writer_ == nullptr ? absl::UnavailableError("log: not open") : writer_->health();
}

void Durability::BeginRequest() { t_request_seq = 0; }
uint64_t Durability::EndRequest() { return t_request_seq; }

void Durability::SetDurableCallback(std::function<void(uint64_t)> callback) {
  writer_->SetDurableCallback(std::move(callback));
}

uint64_t Durability::durable_seq() const { return writer_ ? writer_->durable_seq() : 0; }
uint64_t Durability::last_assigned_seq() const {
  return writer_ ? writer_->last_assigned_seq() : 0;
}

absl::StatusOr<SnapshotInfo> Durability::SnapshotNow() {
  absl::MutexLock one_at_a_time(&snapshot_mu_);
  if (engine_ == nullptr || writer_ == nullptr) {
    return absl::FailedPreconditionError("snapshot: the store is not open");
  }
  const uint64_t bytes_before = writer_->bytes_written();
  LogWriter* writer = writer_.get();
  std::optional<absl::WriterMutexLock> gate;
  if (options_.capture_gate != nullptr) gate.emplace(options_.capture_gate);
  absl::StatusOr<SnapshotInfo> info = WriteSnapshot(
      fs_, dir_->snapshot_dir(), *engine_, [writer] { return writer->last_assigned_seq(); },
      absl::ToUnixMillis(absl::Now()), [writer] { return writer->Flush(); });
  gate.reset();
  if (!info.ok()) return info.status();
  log::Info("snapshot %s: %d connections, %d orders, %.1f MiB in %.2f s (log seq %d)",
            info->path, info->connections, info->orders, info->bytes / 1048576.0,
            info->seconds, info->newest_fence);
  {
    absl::MutexLock lock(&mu_);
    ++snapshots_;
    bytes_at_last_snapshot_ = bytes_before;
    last_snapshot_ = *info;
  }
  if (absl::Status s = ApplyRetention(*info); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("snapshot written, but retention failed: ",
                                               s.message()));
  }
  return info;
}

absl::Status Durability::ApplyRetention(const SnapshotInfo& newest) {
  // Keep the newest two snapshots; the log must reach back to the older one's
  // oldest fence, so that a damaged newest snapshot can still be recovered from.
  absl::StatusOr<std::vector<std::string>> snaps = ListSnapshots(fs_, dir_->snapshot_dir());
  if (!snaps.ok()) return snaps.status();
  bool removed = false;
  for (size_t i = 2; i < snaps->size(); ++i) {
    if (absl::Status s = fs_->Remove((*snaps)[i]); !s.ok()) return s;
    removed = true;
  }
  if (removed) {
    if (absl::Status s = fs_->SyncDir(dir_->snapshot_dir()); !s.ok()) return s;
  }
  if (snaps->size() < 2) return absl::OkStatus();
  // The older snapshot's oldest fence is in its name (snap-<fence>.snap).
  uint64_t older_fence = 0;
  const std::string& older = (*snaps)[1];
  if (!ParseSnapshotName(older.substr(older.find_last_of('/') + 1), &older_fence)) {
    return absl::OkStatus();  // Unexpected name: keep the whole log.
  }
  uint64_t floor = std::min(older_fence, newest.oldest_fence);
  std::function<uint64_t(uint64_t)> hook;
  {
    absl::MutexLock lock(&mu_);
    hook = retention_hook_;
  }
  if (hook) floor = std::min(floor, hook(floor));
  return writer_->DropSegmentsUpTo(floor, options_.wal_archive);
}

void Durability::SetLogRetentionHook(std::function<uint64_t(uint64_t floor)> hook) {
  absl::MutexLock lock(&mu_);
  retention_hook_ = std::move(hook);
}

void Durability::SnapshotLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // Polls the log size; a snapshot thread that sleeps in between is enough for a
      // trigger measured in hundreds of megabytes.
      mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(1));
      if (stop_) return;
      if (options_.snapshot_every_bytes == 0 ||
          writer_->bytes_written() - bytes_at_last_snapshot_ < options_.snapshot_every_bytes) {
        continue;
      }
    }
    absl::StatusOr<SnapshotInfo> info = SnapshotNow();
    if (!info.ok()) log::Error("snapshot failed: %s", info.status().message());
  }
}

absl::Status Durability::Shutdown(bool final_snapshot) {
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::OkStatus();
    stop_ = true;
  }
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  absl::Status result;
  if (final_snapshot && writer_ != nullptr && writer_->health().ok()) {
    absl::StatusOr<SnapshotInfo> info = SnapshotNow();
    if (!info.ok()) result = info.status();
  }
  if (writer_ != nullptr) {
    absl::Status s = writer_->Close();
    if (result.ok()) result = s;
  }
  return result;
}

DurabilityStats Durability::Stats() const {
  DurabilityStats s;
  if (writer_ != nullptr) {
    s.last_assigned_seq = writer_->last_assigned_seq();
    s.durable_seq = writer_->durable_seq();
    s.log_bytes_written = writer_->bytes_written();
    s.fsyncs = writer_->fsyncs();
    s.fsync_durations = writer_->fsync_durations();
  }
  absl::MutexLock lock(&mu_);
  s.snapshots = snapshots_;
  s.last_snapshot = last_snapshot_;
  return s;
}

}  // namespace attrib::persistence
