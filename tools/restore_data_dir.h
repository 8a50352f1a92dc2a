// tools/restore_data_dir.h
//
// attrib-restore's ways to touch a data directory as a whole:
//  - LoadDataDir: open one read-only (no lock, so it may run next to attribd: at
//    worst the newest segment ends in a record being written, which reads as a
//    torn tail) and recover it into a fresh engine built with its META;
//  - WriteNewDataDir: make a new directory from an in-memory engine: META, an empty
//    wal/, and one snapshot whose fences are all `last_seq`. attribd started on it
//    loads the snapshot and continues the log at last_seq + 1. The result is
//    verified by recovering it read-only into another engine before success is
//    reported;
//  - ListLogSegments: the log segments of a directory and of its archive, as
//    recovery sees them.
//
// Thread-safety: single-threaded (offline tool).
#ifndef ATTRIB_TOOLS_RESTORE_DATA_DIR_H_
#define ATTRIB_TOOLS_RESTORE_DATA_DIR_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "persistence/data_dir.h"
#include "persistence/file_system.h"
#include "persistence/log_reader.h"
#include "persistence/recovery.h"
#include "persistence/snapshot.h"

namespace attrib::tools {

struct LoadedDataDir {
  std::unique_ptr<persistence::DataDir> dir;
  std::unique_ptr<engine::Engine> engine;
  persistence::RecoveryReport report;

  // The sequence number of the last change the state holds: what a snapshot of it
  // must be fenced at so that the log can continue right after it.
  uint64_t last_seq() const {
    return std::max(report.last_seq, report.next_seq == 0 ? 0 : report.next_seq - 1);
  }
};

// Opens `path` read-only with an empty engine (the directory's email policy and shard
// count, `order_window_ms`): the state before the first change.
absl::StatusOr<LoadedDataDir> OpenEmptyDataDir(persistence::FileSystem* fs,
                                               const std::string& path,
                                               engine::TimeMs order_window_ms);

// Opens `path` read-only and recovers it (options.read_only is forced on) into a new
// engine with the directory's email policy and shard count and `order_window_ms`.
absl::StatusOr<LoadedDataDir> LoadDataDir(persistence::FileSystem* fs, const std::string& path,
                                          persistence::RecoveryOptions options,
                                          engine::TimeMs order_window_ms);

// OK when `path` does not exist or is an empty directory; FailedPrecondition naming
// what is in the way otherwise. Callers check before doing expensive work.
absl::Status CheckNewDataDir(persistence::FileSystem* fs, const std::string& path);

struct WrittenDataDir {
  persistence::SnapshotInfo snapshot;
  uint64_t connections = 0;  // As recovered from the new directory.
  uint64_t orders = 0;
  uint64_t shops_with_settings = 0;
};

// Creates the data directory `path` (CheckNewDataDir() must pass) with META from
// the engine (email policy, shard count), writes the snapshot fenced at
// max(last_seq, 1) stamped `now_ms`, and verifies the result (see the top). On an
// error after the directory was created it is left as it is, incomplete: the
// message says so.
absl::StatusOr<WrittenDataDir> WriteNewDataDir(persistence::FileSystem* fs,
                                               const std::string& path,
                                               const engine::Engine& engine,
                                               uint64_t last_seq, engine::TimeMs now_ms,
                                               engine::TimeMs order_window_ms);

// One log segment, live (DATA/wal) or archived (attribd --wal-archive).
struct LogSegment {
  persistence::SegmentInfo info;
  bool archived = false;
};

// The segments of `dir`'s wal/ and, when `archive_dir` is not empty and exists, of
// the archive, sorted by first sequence number; a live segment wins over an
// archived one with the same first_seq (recovery's rule). Names that are not
// segments are appended to `ignored` (as paths), when given.
absl::StatusOr<std::vector<LogSegment>> ListLogSegments(persistence::FileSystem* fs,
                                                        const persistence::DataDir& dir,
                                                        const std::string& archive_dir,
                                                        std::vector<std::string>* ignored);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_DATA_DIR_H_
