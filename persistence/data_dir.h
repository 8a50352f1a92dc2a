// persistence/data_dir.h
//
// A data directory's layout and identity:
//
//   DATA/LOCK          exclusive lock: one server (or offline tool) per directory
//   DATA/META          text: format version, email policy, shard count (see below)
//   DATA/wal/          log segments (log_format.h)
//   DATA/snapshots/    snapshots (snapshot_format.h); the newest two are kept
//   DATA/quarantine/   what point-in-time recovery set aside
//
// META pins what the stored data depends on: the email policy (canonical keys) and
// the shard count (snapshot fences are per shard). A server started with other
// values refuses the directory with a message saying which flag to use (or to
// re-key with attrib-restore).
//
// Thread-safety: a DataDir is immutable after Open().
#ifndef ATTRIB_PERSISTENCE_DATA_DIR_H_
#define ATTRIB_PERSISTENCE_DATA_DIR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/canonical_email.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

struct DataDirMeta {
  engine::EmailPolicy email_policy = engine::EmailPolicy::kProvider;
  uint32_t shard_count = 256;
  friend bool operator==(const DataDirMeta&, const DataDirMeta&) = default;
};

std::string EncodeMeta(const DataDirMeta& meta);
absl::StatusOr<DataDirMeta> DecodeMeta(absl::string_view text);
// Reads DATA/META (offline tools).
absl::StatusOr<DataDirMeta> ReadMeta(FileSystem* fs, const std::string& dir);

class DataDir {
 public:
  // Creates `dir` if needed (with META from `wanted`), takes its lock, and checks an
  // existing META against `wanted`. `fs` must outlive the DataDir.
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(FileSystem* fs, const std::string& dir,
                                                       const DataDirMeta& wanted);

  // For offline readers (verify, export, history): no lock, no changes; META must
  // exist. Reading a live server's directory is safe: at worst the newest segment
  // ends in a record being written, which reads as a torn tail.
  static absl::StatusOr<std::unique_ptr<DataDir>> OpenReadOnly(FileSystem* fs,
                                                               const std::string& dir);

  const std::string& path() const { return dir_; }
  const DataDirMeta& meta() const { return meta_; }
  std::string wal_dir() const { return JoinPath(dir_, "wal"); }
  std::string snapshot_dir() const { return JoinPath(dir_, "snapshots"); }
  std::string quarantine_dir() const { return JoinPath(dir_, "quarantine"); }
  bool created() const { return created_; }  // META was written by this Open.

 private:
  DataDir(std::string dir, DataDirMeta meta, std::unique_ptr<FileLock> lock, bool created)
      : dir_(std::move(dir)), meta_(meta), lock_(std::move(lock)), created_(created) {}
  const std::string dir_;
  const DataDirMeta meta_;
  const std::unique_ptr<FileLock> lock_;
  const bool created_;
};

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_DATA_DIR_H_
