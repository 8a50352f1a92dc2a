// replication/bootstrap.cc: an empty replica's copy of the primary's snapshot (see
// the header).
#include "replication/bootstrap.h"

#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "persistence/log_format.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_format.h"
#include "replication/socket_io.h"
#include "replication/stream_format.h"

namespace attrib::replication {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);

// A connection to the primary with `first` sent; closed at the end of scope.
struct Conn {
  int fd = -1;
  FrameReader reader;
  StopSignal never;  // Bootstrap is not interrupted (it runs before serving).
  explicit Conn(size_t max_frame) : reader(max_frame) {}
  ~Conn() {
    if (fd >= 0) ::close(fd);
  }
  absl::Status Open(const ReplicaClientOptions& o, FrameType type, absl::string_view body) {
    absl::StatusOr<int> c = ConnectTcp(o.primary, kConnectTimeout, never);
    if (!c.ok()) return c.status();
    fd = *c;
    std::string out;
    AppendFrame(type, body, &out);
    return WriteAll(fd, out, kConnectTimeout, never);
  }
  absl::StatusOr<Frame> Next(const ReplicaClientOptions& o) {
    return ReadFrame(fd, &reader, o.heartbeat_timeout, never);
  }
};

absl::Status RefusedError(const Frame& f) {
  return absl::FailedPreconditionError(
      absl::StrCat("the primary refused: ", f.body.empty() ? "" : f.body.substr(1)));
}

bool IsNeedSnapshot(const Frame& f) {
  return f.type == FrameType::kRefused && !f.body.empty() &&
         static_cast<RefusedReason>(f.body[0]) == RefusedReason::kNeedSnapshot;
}

// Copies the newest snapshot into `dir`; returns its path.
absl::StatusOr<std::string> CopySnapshot(persistence::FileSystem* fs,
                                         const persistence::DataDir& dir,
                                         const ReplicaClientOptions& o, uint64_t* bytes) {
  Conn conn(o.max_frame_bytes);
  if (absl::Status s = conn.Open(o, FrameType::kSnapshotRequest, ""); !s.ok()) return s;
  const std::string temp = persistence::JoinPath(dir.snapshot_dir(),
                                                 persistence::SnapshotTempName(0));
  absl::StatusOr<std::unique_ptr<persistence::WritableFile>> file =
      fs->OpenForAppend(temp, /*truncate=*/true);
  if (!file.ok()) return file.status();
  absl::Cleanup remove_temp = [fs, &temp] { (void)fs->Remove(temp); };
  *bytes = 0;
  for (;;) {
    absl::StatusOr<Frame> f = conn.Next(o);
    if (!f.ok()) return f.status();
    if (f->type == FrameType::kRefused) return RefusedError(*f);
    if (f->type == FrameType::kSnapshotChunk) {
      if (absl::Status s = (*file)->Append(f->body); !s.ok()) return s;
      *bytes += f->body.size();
      continue;
    }
    if (f->type != FrameType::kSnapshotEnd) {
      return absl::InvalidArgumentError("replication: unexpected frame in a snapshot copy");
    }
    uint64_t fence = 0;
    if (!persistence::ParseSnapshotName(f->body, &fence)) {
      return absl::InvalidArgumentError(
          absl::StrCat("replication: the primary named its snapshot '", f->body, "'"));
    }
    if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
    if (absl::Status s = (*file)->Close(); !s.ok()) return s;
    const std::string path = persistence::JoinPath(dir.snapshot_dir(), f->body);
    if (absl::Status s = fs->Rename(temp, path); !s.ok()) return s;
    std::move(remove_temp).Cancel();
    if (absl::Status s = fs->SyncDir(dir.snapshot_dir()); !s.ok()) return s;
    return path;
  }
}

// Writes the records (from, through] of the primary's log as the segment starting
// at from + 1; returns how many.
absl::StatusOr<uint64_t> CopyRecords(persistence::FileSystem* fs, const persistence::DataDir& dir,
                                     const ReplicaClientOptions& o, uint64_t from,
                                     uint64_t through) {
  Conn conn(o.max_frame_bytes);
  if (absl::Status s = conn.Open(o, FrameType::kHello, PairBody(from + 1, o.epoch)); !s.ok()) {
    return s;
  }
  std::string segment = persistence::EncodeSegmentHeader(
      {from + 1, static_cast<uint8_t>(dir.meta().email_policy)});
  uint64_t next = from + 1;
  while (next <= through) {
    absl::StatusOr<Frame> f = conn.Next(o);
    if (!f.ok()) return f.status();
    if (f->type == FrameType::kRefused) return RefusedError(*f);
    if (f->type != FrameType::kRecords) continue;  // Welcome, heartbeats.
    absl::StatusOr<std::vector<ShippedRecord>> records = ParseRecords(f->body);
    if (!records.ok()) return records.status();
    for (const ShippedRecord& r : *records) {
      if (r.seq != next) {
        return absl::DataLossError(absl::StrCat("replication: record ", r.seq,
                                                " arrived, expected ", next));
      }
      persistence::AppendRecord(r.seq, r.payload, &segment);
      ++next;
    }
  }
  const std::string path =
      persistence::JoinPath(dir.wal_dir(), persistence::SegmentName(from + 1));
  absl::StatusOr<std::unique_ptr<persistence::WritableFile>> file =
      fs->OpenForAppend(path, /*truncate=*/true);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(segment); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  if (absl::Status s = (*file)->Close(); !s.ok()) return s;
  if (absl::Status s = fs->SyncDir(dir.wal_dir()); !s.ok()) return s;
  return next - from - 1;
}

}  // namespace

absl::StatusOr<BootstrapReport> BootstrapIfNeeded(persistence::FileSystem* fs,
                                                  const persistence::DataDir& dir,
                                                  const ReplicaClientOptions& options) {
  BootstrapReport report;
  absl::StatusOr<std::vector<std::string>> snaps =
      persistence::ListSnapshots(fs, dir.snapshot_dir());
  if (!snaps.ok()) return snaps.status();
  absl::StatusOr<std::vector<std::string>> wal = fs->ListDir(dir.wal_dir());
  bool has_log = false;
  if (wal.ok()) {
    for (const std::string& name : *wal) {
      uint64_t first = 0;
      has_log = has_log || persistence::ParseSegmentName(name, &first);
    }
  }
  if (!snaps->empty() || has_log) {
    report.note = "the data directory has its own snapshot or log";
    return report;
  }
  {
    Conn probe(options.max_frame_bytes);
    absl::Status s = probe.Open(options, FrameType::kHello, PairBody(1, options.epoch));
    absl::StatusOr<Frame> f = s.ok() ? probe.Next(options) : absl::StatusOr<Frame>(s);
    // The welcome comes first; what follows it tells: records or a heartbeat (the
    // log reaches back to record 1), or the refusal.
    if (f.ok() && f->type == FrameType::kWelcome) f = probe.Next(options);
    if (!f.ok()) {
      report.note = absl::StrCat("the primary is not reachable (", f.status().message(),
                                 "); following it will be retried");
      return report;
    }
    if (f->type == FrameType::kRecords || f->type == FrameType::kHeartbeat) {
      report.note = "the primary has its whole log";
      return report;
    }
    if (!IsNeedSnapshot(*f)) {
      return f->type == FrameType::kRefused
                 ? RefusedError(*f)
                 : absl::InvalidArgumentError("replication: the primary did not answer");
    }
  }
  absl::StatusOr<std::string> path = CopySnapshot(fs, dir, options, &report.snapshot_bytes);
  if (!path.ok()) return path.status();
  report.snapshot = *path;
  absl::StatusOr<persistence::SnapshotInfo> info = persistence::ReadSnapshotInfo(fs, *path);
  if (!info.ok()) {
    (void)fs->Remove(*path);
    return absl::DataLossError(absl::StrCat("replication: the snapshot copied from the primary "
                                            "does not verify: ", info.status().message()));
  }
  if (info->shard_count != dir.meta().shard_count ||
      info->email_policy != static_cast<uint8_t>(dir.meta().email_policy)) {
    (void)fs->Remove(*path);
    return absl::FailedPreconditionError(absl::StrCat(
        "replication: the primary's snapshot has ", info->shard_count,
        " shards and email policy ", static_cast<int>(info->email_policy), "; this data directory has ",
        dir.meta().shard_count, " and ", static_cast<int>(dir.meta().email_policy),
        " (start the replica with the primary's --shards and --email_policy)"));
  }
  report.oldest_fence = info->oldest_fence;
  report.newest_fence = info->newest_fence;
  if (info->newest_fence > info->oldest_fence) {
    absl::StatusOr<uint64_t> n =
        CopyRecords(fs, dir, options, info->oldest_fence, info->newest_fence);
    if (!n.ok()) return n.status();
    report.records = *n;
  }
  report.copied = true;
  report.note = absl::StrCat("copied the primary's snapshot ", *path, " (",
                             report.snapshot_bytes, " bytes) and ", report.records,
                             " log records after its oldest fence ", report.oldest_fence);
  return report;
}

}  // namespace attrib::replication
