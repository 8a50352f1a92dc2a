// persistence/snapshot.h
//
// Snapshots: point-in-time images of the whole engine (settings, connections,
// remembered orders), written while the engine keeps serving and loaded at restart
// before the log is replayed (SPEC §7). The file format is in snapshot_format.h.
//
// Writing: WriteSnapshot() captures the engine piece by piece (Engine::
// CaptureSnapshot) into snap-<fence>.snap.tmp, syncs it, renames it to
// snap-<oldest fence>.snap and syncs the directory. Memory stays bounded: a shard is
// encoded into a buffer under its lock and written after the lock is released.
//
// Restart: ListSnapshots() (newest first) -> LoadSnapshot() of the first that loads
// -> replay the log records with seq > info.oldest_fence, passing &info.fences to
// Engine::Apply() so each part is applied only if newer than its piece's fence.
//
// Errors: DataLoss for anything that fails to verify, naming the file and the byte
// offset ("snapshot snap-...snap: block at offset 123: checksum mismatch");
// FailedPrecondition when the snapshot was made under another email policy or shard
// count than the engine's (naming both values) or the engine is not empty;
// Unavailable/NotFound from the file system.
//
// Thread-safety: every function may be called from any thread. Snapshots of one
// directory must not be written concurrently (they would share a temp name);
// WriteSnapshot() runs concurrently with any engine operation.
#ifndef ATTRIB_PERSISTENCE_SNAPSHOT_H_
#define ATTRIB_PERSISTENCE_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "engine/order_window.h"
#include "engine/types.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

struct SnapshotInfo {
  std::string path;
  engine::SnapshotFences fences;
  uint64_t oldest_fence = 0;  // Replay the log from seq oldest_fence + 1.
  uint64_t newest_fence = 0;
  uint64_t connections = 0;
  uint64_t settings = 0;
  uint64_t orders = 0;
  uint64_t affiliates = 0;  // Affiliate directory entries (format version 3).
  uint64_t identities = 0;  // Identity records (format version 4): customers with
                            // aliases, and shops with non-default identity settings.
  uint64_t bytes = 0;  // File size.
  int64_t created_at_ms = 0;
  double seconds = 0;  // Wall time of the write, or of the whole load/verify.
  uint8_t email_policy = 0;
  uint32_t shard_count = 0;  // Connection shards (= order shards in this engine).
  // LoadSnapshot() only: where the time went.
  double read_seconds = 0;     // Opening and mapping the file (FileSystem::MapFile).
  double verify_seconds = 0;   // Checksums (the pages are read here) and structure.
  double restore_seconds = 0;  // Decoding and inserting.
};

// Writes a snapshot of `engine` into `snapshot_dir` (which must exist). `current_seq`
// returns the sequence number of the last mutation handed to the log (see
// Engine::CaptureSnapshot); it is called under engine locks, so it must not block on
// them. `now_ms` is recorded as created_at. `before_publish`, when given, runs after
// the file is complete and synced and before it is renamed into place; its error
// abandons the snapshot. The log uses it to make every record up to the newest
// fence durable first: a snapshot must never be visible while the log records it
// already contains could still be lost (recovery would then hand their sequence
// numbers to new records, and the fences would skip those). On failure the temp
// file is removed (best effort) and no file appears under a final name; except if
// only the final SyncDir fails: the complete, synced snapshot is then in place but
// its name may not survive a crash.
absl::StatusOr<SnapshotInfo> WriteSnapshot(
    FileSystem* fs, const std::string& snapshot_dir, const engine::Engine& engine,
    const std::function<uint64_t()>& current_seq, int64_t now_ms,
    const std::function<absl::Status()>& before_publish = nullptr);

// Verifies a snapshot completely (every checksum, the structure, every record)
// without restoring anything.
absl::StatusOr<SnapshotInfo> ReadSnapshotInfo(FileSystem* fs, const std::string& path);

struct LoadSnapshotOptions {
  // Threads restoring connection and order shards in parallel (shards are
  // independent); 0: one per CPU.
  int threads = 0;
  // Called with the verified snapshot's info (fences, counts, created_at) before
  // anything is restored; a non-OK status is returned as is and nothing is restored.
  // Lets a point-in-time restore skip a snapshot that ends past its target without
  // reading the file twice (ReadSnapshotInfo + LoadSnapshot read and decode it twice).
  std::function<absl::Status(const SnapshotInfo&)> accept;
};

// Verifies every checksum of the snapshot, checks that it matches the engine (email
// policy, shard counts) and that the engine is empty, then restores it. The file is
// mapped (FileSystem::MapFile), and checksums and restore both run on
// options.threads threads. Reads format versions 1 to 4 (snapshot_format.h). On an error
// after restoring began (a record that checksums but does not decode: a bug, not a
// disk fault) the engine holds part of the snapshot and must be discarded.
absl::StatusOr<SnapshotInfo> LoadSnapshot(FileSystem* fs, const std::string& path,
                                          engine::Engine* empty_engine,
                                          const LoadSnapshotOptions& options = {});

// For offline tools (export, inspect): verifies the snapshot's checksums, then calls
// the functions for every record, in file order (settings, with their identity part, then
// affiliates, then customers with several identifiers, then connections by shard, then orders by shard in retention order), without an Engine. A null
// function skips those records (they are still decoded and checked).
absl::Status ReadSnapshotRecords(
    FileSystem* fs, const std::string& path,
    const std::function<void(engine::ShopId, const engine::ShopSettings&)>& fn_settings,
    const std::function<void(const engine::Connection&)>& fn_connection,
    const std::function<void(const engine::OrderRecord&)>& fn_order,
    const std::function<void(const engine::Affiliate&)>& fn_affiliate = nullptr,
    const std::function<void(engine::ShopId, const engine::CustomerIdentifiers&)>&
        fn_customer = nullptr);

// Paths of the snapshots in `dir`, newest (largest oldest fence) first; temp files
// and unrelated names are ignored. A missing directory is an empty list.
absl::StatusOr<std::vector<std::string>> ListSnapshots(FileSystem* fs,
                                                       const std::string& dir);

// Removes the temp files a crashed WriteSnapshot() left in `dir`; returns how many.
// Call it at startup, before any snapshot is written.
absl::StatusOr<int> RemoveStaleSnapshotTemps(FileSystem* fs, const std::string& dir);

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_SNAPSHOT_H_
