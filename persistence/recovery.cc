// persistence/recovery.cc: snapshot + log replay at start (see the header).
#include "persistence/recovery.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"

namespace attrib::persistence {
namespace {

constexpr absl::string_view kHowToRecover =
    "; to keep the valid prefix and set the rest aside in DATA/quarantine, start with "
    "--recover=point-in-time";

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Moves bytes [offset, end) of `path` into the quarantine directory and cuts the file.
absl::Status QuarantineTail(FileSystem* fs, const std::string& path, uint64_t offset,
                            const std::string& quarantine, std::string* moved_to) {
  absl::StatusOr<std::string> bytes = fs->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status s = fs->CreateDir(quarantine); !s.ok()) return s;
  if (absl::Status s = fs->SyncDir(DirName(quarantine)); !s.ok()) return s;
  const std::string base = path.substr(path.find_last_of('/') + 1);
  *moved_to = JoinPath(quarantine, absl::StrCat(base, ".from-offset-", offset));
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs->OpenForAppend(*moved_to, true);
  if (!f.ok()) return f.status();
  absl::Status s = (*f)->Append(absl::string_view(*bytes).substr(offset));
  if (s.ok()) s = (*f)->Sync();
  if (s.ok()) s = (*f)->Close();
  if (s.ok()) s = fs->SyncDir(quarantine);
  if (s.ok()) s = fs->Truncate(path, offset);
  return s;
}

}  // namespace

absl::StatusOr<RecoveryReport> Recover(FileSystem* fs, const DataDir& dir,
                                       engine::Engine* engine,
                                       const RecoveryOptions& options) {
  RecoveryReport r;
  const auto snapshot_start = std::chrono::steady_clock::now();

  // 1. The newest snapshot that verifies (and, for a restore, that ends early enough).
  engine::SnapshotFences fences;
  bool have_snapshot = false;
  uint64_t start = 0;         // Replay records with seq > start.
  uint64_t newest_fence = 0;  // Everything <= this may be in the snapshot.
  absl::StatusOr<std::vector<std::string>> snaps = ListSnapshots(fs, dir.snapshot_dir());
  if (!snaps.ok()) return snaps.status();
  for (size_t i = 0; i < snaps->size() && !have_snapshot; ++i) {
    const std::string& path = (*snaps)[i];
    // A restore point before the snapshot's end: skip it (checked on the verified
    // header, before anything is restored).
    bool past_restore_point = false;
    LoadSnapshotOptions load;
    load.accept = [&](const SnapshotInfo& info) {
      if ((options.until_seq != 0 && info.newest_fence > options.until_seq) ||
          (options.until_time_ms != 0 && info.created_at_ms > options.until_time_ms)) {
        past_restore_point = true;
        return absl::OutOfRangeError("holds changes past the restore point");
      }
      return absl::OkStatus();
    };
    absl::StatusOr<SnapshotInfo> info = LoadSnapshot(fs, path, engine, load);
    if (past_restore_point) continue;
    if (!info.ok()) {
      if (absl::IsFailedPrecondition(info.status())) return info.status();
      r.warnings.push_back(absl::StrCat(
          "snapshot ", path, " is unusable (", info.status().message(), "); ",
          i + 1 < snaps->size() ? "falling back to the older snapshot"
                                : "replaying the log from its start"));
      continue;
    }
    have_snapshot = true;
    fences = info->fences;
    start = info->oldest_fence;
    newest_fence = info->newest_fence;
    r.snapshot = path;
    r.snapshot_connections = info->connections;
  }
  r.snapshot_seconds = SecondsSince(snapshot_start);

  // 2. The log after it: archived segments first, the live ones win on a clash.
  const auto replay_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<SegmentInfo>> segments = ListSegments(fs, dir.wal_dir());
  if (!segments.ok()) return segments.status();
  if (!options.archive_dir.empty() && fs->Exists(options.archive_dir)) {
    absl::StatusOr<std::vector<SegmentInfo>> archived = ListSegments(fs, options.archive_dir);
    if (!archived.ok()) return archived.status();
    for (const SegmentInfo& a : *archived) {
      const bool clash = std::any_of(segments->begin(), segments->end(),
                                     [&](const SegmentInfo& s) { return s.first_seq == a.first_seq; });
      if (!clash) segments->push_back(a);
    }
    std::sort(segments->begin(), segments->end(),
              [](const SegmentInfo& a, const SegmentInfo& b) { return a.first_seq < b.first_seq; });
  }

  r.replay_from_seq = start + 1;
  uint64_t expected = start + 1;
  bool stopped = false;  // Reached the restore point.
  const auto quarantine_rest = [&](size_t from) -> absl::Status {
    for (size_t j = from; j < segments->size(); ++j) {
      const std::string to = JoinPath(dir.quarantine_dir(), (*segments)[j].name);
      if (absl::Status s = fs->CreateDir(dir.quarantine_dir()); !s.ok()) return s;
      if (absl::Status s = fs->Rename((*segments)[j].path, to); !s.ok()) return s;
      r.quarantined.push_back(to);
    }
    if (from < segments->size()) {
      if (absl::Status s = fs->SyncDir(dir.wal_dir()); !s.ok()) return s;
      return fs->SyncDir(dir.quarantine_dir());
    }
    return absl::OkStatus();
  };

  for (size_t idx = 0; idx < segments->size() && !stopped; ++idx) {
    const SegmentInfo& seg = (*segments)[idx];
    const bool last = idx + 1 == segments->size();
    if (!last && (*segments)[idx + 1].first_seq - 1 <= start) continue;  // All replayed.
    if (seg.first_seq > expected) {
      const std::string problem = absl::StrCat(
          "log: records ", expected, "..", seg.first_seq - 1, " are missing (the next segment is ",
          seg.path, ")");
      if (!options.point_in_time || options.read_only) {
        return absl::DataLossError(absl::StrCat(problem, kHowToRecover));
      }
      r.warnings.push_back(absl::StrCat(problem, "; kept the state up to ", expected - 1));
      if (absl::Status s = quarantine_rest(idx); !s.ok()) return s;
      break;
    }
    absl::Status apply_error;
    absl::StatusOr<SegmentScan> scan = ScanSegment(
        fs, seg.path, [&](const LogRecordRef& rec) -> absl::Status {
          if (rec.seq <= start) return absl::OkStatus();
          if (rec.seq != expected) {
            return absl::DataLossError(absl::StrCat("log ", seg.path, ": record at offset ",
                                                    rec.offset, " has seq ", rec.seq,
                                                    ", expected ", expected));
          }
          if (options.until_seq != 0 && rec.seq > options.until_seq) {
            stopped = true;
            return absl::CancelledError("restore point");
          }
          absl::StatusOr<engine::Mutation> m = DecodeMutation(rec.payload);
          if (!m.ok()) {
            return absl::DataLossError(absl::StrCat("log ", seg.path, ": record at offset ",
                                                    rec.offset, ": ", m.status().message()));
          }
          if (options.until_time_ms != 0 && m->made_at > options.until_time_ms) {
            stopped = true;
            return absl::CancelledError("restore point");
          }
          absl::Status s = engine->Apply(*m, rec.seq, have_snapshot ? &fences : nullptr);
          if (!s.ok()) {
            return absl::DataLossError(absl::StrCat("log ", seg.path, ": record seq ", rec.seq,
                                                    " at offset ", rec.offset,
                                                    " does not fit the state: ", s.message()));
          }
          ++expected;
          ++r.replayed;
          return absl::OkStatus();
        });
    if (!scan.ok()) {
      if (stopped) break;
      return scan.status();
    }
    if (scan->header.email_policy != 0 &&
        scan->header.email_policy != static_cast<uint8_t>(dir.meta().email_policy)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "log ", seg.path, " was written under another email policy than META says"));
    }
    if (scan->tail == SegmentScan::Tail::kClean) continue;
    if (scan->tail == SegmentScan::Tail::kTorn && last) {
      // A crash mid-write: cut the torn record off and say so.
      r.torn_bytes_dropped = scan->dropped_bytes();
      r.warnings.push_back(absl::StrCat("log ", seg.path, ": torn tail at offset ",
                                        scan->bad_offset, ", ", scan->dropped_bytes(),
                                        " bytes dropped (", scan->problem, ")"));
      if (!options.read_only) {
        if (absl::Status s = fs->Truncate(seg.path, scan->valid_bytes); !s.ok()) return s;
      }
      continue;
    }
    const std::string problem = absl::StrCat("log ", seg.path, ": ", scan->problem,
                                             " (offset ", scan->bad_offset, ")");
    if (!options.point_in_time || options.read_only) {
      return absl::DataLossError(absl::StrCat(problem, kHowToRecover));
    }
    std::string moved_to;
    if (absl::Status s = QuarantineTail(fs, seg.path, scan->valid_bytes, dir.quarantine_dir(),
                                        &moved_to);
        !s.ok()) {
      return s;
    }
    r.quarantined.push_back(moved_to);
    r.warnings.push_back(absl::StrCat(problem, "; kept the state up to seq ", expected - 1,
                                      ", moved the rest to ", dir.quarantine_dir()));
    if (absl::Status s = quarantine_rest(idx + 1); !s.ok()) return s;
    break;
  }
  r.last_seq = expected - 1;
  r.next_seq = std::max(expected, newest_fence + 1);
  r.replay_seconds = SecondsSince(replay_start);
  return r;
}

}  // namespace attrib::persistence
