// replication/bootstrap.h
//
// Starting an empty replica whose primary no longer keeps its whole log (issue 16):
// before recovery, the replica copies the primary's newest snapshot into its own
// data directory and, beside it, the log records from the snapshot's oldest fence +
// 1 to its newest fence, as a log segment. Recovery then loads that snapshot and
// replays those records with its fences, exactly as on the primary, and the replica
// follows on from there. A replica with a log (or a primary that still has record 1)
// needs none of this.
//
// Steps: (1) a probe: hello from record 1; a welcome means the primary has the whole
// log (nothing to copy); kNeedSnapshot means copy; a primary that cannot be reached
// is left to the ReplicaClient's retries (nothing copied). (2) kSnapshotRequest: the
// file arrives in chunks into a temp name (removed at startup if a crash leaves it),
// is synced and renamed to the primary's name, then verified completely
// (ReadSnapshotInfo), and its shard count and email policy must be this data
// directory's. (3) hello from oldest fence + 1: the records up to the newest fence
// are written as the segment that starts there, synced.
//
// Thread-safety: runs on attribd's main thread before recovery, with the data
// directory locked (persistence::Durability::Open).
#ifndef ATTRIB_REPLICATION_BOOTSTRAP_H_
#define ATTRIB_REPLICATION_BOOTSTRAP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "persistence/data_dir.h"
#include "persistence/file_system.h"
#include "replication/replica_client.h"

namespace attrib::replication {

struct BootstrapReport {
  bool copied = false;      // False: nothing needed (or the primary was unreachable).
  std::string note;         // Why not, or what was copied (for the log).
  std::string snapshot;     // The path written.
  uint64_t snapshot_bytes = 0;
  uint64_t oldest_fence = 0;
  uint64_t newest_fence = 0;
  uint64_t records = 0;     // Log records copied beside it.
};

absl::StatusOr<BootstrapReport> BootstrapIfNeeded(persistence::FileSystem* fs,
                                                  const persistence::DataDir& dir,
                                                  const ReplicaClientOptions& options);

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_BOOTSTRAP_H_
