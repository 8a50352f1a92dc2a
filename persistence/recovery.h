// persistence/recovery.h
//
// Recovery at start: the newest snapshot that verifies (falling back to an older
// one, saying so), then the log after it: every record with seq > the snapshot's
// oldest fence, each part applied only if newer than its piece's fence
// (engine::SnapshotFences).
//
//  - A torn tail on the last segment (a crash mid-write) is cut off, with a warning
//    that says how many bytes were dropped, in which file, at which offset.
//  - Anything else that fails to verify, a missing segment or a sequence gap stops
//    the start with an error naming file and offset, unless point_in_time is set:
//    then the valid prefix is kept and everything after it is moved to
//    DATA/quarantine/ (reported).
//
// Thread-safety: runs before the server starts; single-threaded use.
#ifndef ATTRIB_PERSISTENCE_RECOVERY_H_
#define ATTRIB_PERSISTENCE_RECOVERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "persistence/data_dir.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

struct RecoveryOptions {
  bool point_in_time = false;
  // Stop replaying after this sequence number / this mutation time (attrib-restore
  // restore --until-seq / --until-time); 0 = everything.
  uint64_t until_seq = 0;
  int64_t until_time_ms = 0;
  // Also read archived segments from here (restore from snapshot + log + archive).
  std::string archive_dir;
  // Offline tools read without repairing: no truncation, no quarantine moves.
  bool read_only = false;
};

struct RecoveryReport {
  std::string snapshot;                 // Path loaded; empty: none.
  uint64_t snapshot_connections = 0;
  uint64_t replay_from_seq = 0;         // First sequence number replayed.
  uint64_t replayed = 0;                // Records applied.
  uint64_t last_seq = 0;                // Last sequence number in the state.
  uint64_t next_seq = 1;                // Where the log continues.
  uint64_t torn_bytes_dropped = 0;
  std::vector<std::string> warnings;    // Fallbacks, torn tails, quarantined files.
  std::vector<std::string> quarantined;
  double snapshot_seconds = 0;
  double replay_seconds = 0;
};

// Rebuilds `engine` (empty, no sink calls happen) from the data directory.
absl::StatusOr<RecoveryReport> Recover(FileSystem* fs, const DataDir& dir,
                                       engine::Engine* engine,
                                       const RecoveryOptions& options);

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_RECOVERY_H_
