// persistence/fault_injecting_file_system.h
//
// An in-memory FileSystem for tests that enforces the durability contract of
// file_system.h strictly and can fail on purpose: a simulated power loss
// (DropUnsyncedData) keeps exactly what was made durable and nothing else, writes can
// fail like a full disk or a bad sector, and the whole file system can "crash" after
// N mutating operations, optionally tearing the append that was in flight.
//
// Model:
//  - A file is an inode: its content, plus what survives a crash (the prefix
//    synced by the last Sync()/Truncate(); or, after an unsynced
//    OpenForAppend(truncate=true), the content from before that truncate).
//  - Two namespaces map paths to inodes and hold directories: the current one (what
//    every operation sees) and the durable one. A created, renamed or removed entry
//    (file or directory) reaches the durable namespace only at SyncDir() of its
//    parent; "." and "/" always exist. So a new directory survives a crash only once
//    its parent was synced too, exactly as on a real file system.
//  - DropUnsyncedData(): the current namespace becomes the durable one (minus the
//    entries of directories that did not survive), every file is cut to what it made
//    durable, open WritableFiles and FileLocks become dead (their operations fail
//    with Unavailable "... file system crashed"), and a pending crash is cleared.
//  - A failed Sync() leaves its WritableFile unusable, like PosixFileSystem (the
//    pages may be lost): reopen the file, or start a new one.
//  - Paths are normalized ("a//b/./c" is "a/b/c"); ".." is not interpreted. Renaming
//    a directory is not supported (Unimplemented). Parent directories must exist,
//    as on POSIX (NotFound otherwise).
//
// Mutating operations, counted by mutating_ops() and by SetCrashAfter(): Append,
// Sync, Rename, Remove, Truncate, SyncDir, and OpenForAppend, CreateDir and Lock when
// they create or truncate something. An operation rejected for bad arguments (a
// missing file) is not counted.
//
// Thread-safety: every method may be called from any thread (one mutex); one
// WritableFile by one thread at a time. The FaultInjectingFileSystem must outlive
// every WritableFile and FileLock it returned.
#ifndef ATTRIB_PERSISTENCE_FAULT_INJECTING_FILE_SYSTEM_H_
#define ATTRIB_PERSISTENCE_FAULT_INJECTING_FILE_SYSTEM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

// errno texts for FailWrites(), as strerror() spells them.
inline constexpr char kNoSpaceErrorText[] = "No space left on device";  // ENOSPC
inline constexpr char kIoErrorText[] = "Input/output error";            // EIO

class FaultInjectingFileSystem final : public FileSystem {
 public:
  // `seed` drives the torn-write lengths; the same seed and the same operations
  // give the same files.
  explicit FaultInjectingFileSystem(uint64_t seed = 1);
  ~FaultInjectingFileSystem() override;
  FaultInjectingFileSystem(const FaultInjectingFileSystem&) = delete;
  FaultInjectingFileSystem& operator=(const FaultInjectingFileSystem&) = delete;

  // FileSystem.
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path,
                                                             bool truncate) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override;
  // False after a crash (every operation fails then).
  bool Exists(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::Status CreateDir(const std::string& dir) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::Status Truncate(const std::string& path, uint64_t size) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<FileLock>> Lock(const std::string& path) override;

  // Simulated power loss and reboot; see the model above. Fault switches set by
  // FailWrites() and SetTornWrites() stay (a full disk is still full after a
  // reboot); SetCrashAfter() is cleared.
  void DropUnsyncedData();

  // The next `count` Append/Sync calls fail with `code` and the message
  // "<op> <path>: <errno_text>" (count -1: every call until ClearFaults()). A
  // failed Append writes nothing.
  void FailWrites(absl::StatusCode code, std::string errno_text, int count);
  void ClearFaults();

  // After `ops` more mutating operations succeed, the next one and every operation
  // after it (reads too) fail with Unavailable "<op> <path>: crashed", until
  // DropUnsyncedData(). ops < 0 cancels.
  void SetCrashAfter(int64_t ops);
  // With torn writes on, an Append that hits the crash point writes a random
  // proper prefix of its bytes (possibly empty), and that file's content up to the
  // tear survives DropUnsyncedData() as if the disk had got that far.
  void SetTornWrites(bool enabled);
  bool crashed() const;

  // Mutating operations attempted so far (including one that hit the crash point).
  int64_t mutating_ops() const;
  // Successful WritableFile::Sync() and SyncDir() calls.
  int64_t syncs() const;
  int64_t dir_syncs() const;

  // Directories and files of both namespaces with sizes and synced sizes, one per
  // line, for failure messages.
  std::string DebugString() const;

 private:
  class File;
  class HeldLock;
  struct Inode;
  struct Namespace {
    std::map<std::string, std::shared_ptr<Inode>> files;
    std::set<std::string> dirs;  // Never holds "." or "/", which always exist.
  };

  // Shared by the operations: mu_ must be held.
  absl::Status CheckAlive(absl::string_view op, const std::string& path) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a mutating operation; true if it is the one that hits the crash point
  // (the file system is crashed from then on).
  bool CrashesNow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CrashedError(absl::string_view op, const std::string& path) const;
  // The injected failure for an Append/Sync, if one is due (consumes it).
  std::optional<absl::Status> TakeFault(absl::string_view op, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsDir(const Namespace& ns, const std::string& path) const;
  // NotFound unless the parent of `path` is a directory of the current namespace.
  absl::Status CheckParent(absl::string_view op, const std::string& path) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<Inode>> FindFile(absl::string_view op,
                                                  const std::string& path) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLock(const std::string& path, uint64_t id);

  mutable absl::Mutex mu_;
  Namespace current_ ABSL_GUARDED_BY(mu_);
  Namespace durable_ ABSL_GUARDED_BY(mu_);
  // Incremented by DropUnsyncedData(); handles from an older epoch are dead.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, uint64_t> locks_ ABSL_GUARDED_BY(mu_);  // path -> lock id
  uint64_t next_lock_id_ ABSL_GUARDED_BY(mu_) = 1;

  bool crashed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t crash_countdown_ ABSL_GUARDED_BY(mu_) = -1;  // < 0: no crash planned.
  bool torn_writes_ ABSL_GUARDED_BY(mu_) = false;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);

  int fault_count_ ABSL_GUARDED_BY(mu_) = 0;  // -1: until ClearFaults().
  absl::StatusCode fault_code_ ABSL_GUARDED_BY(mu_) = absl::StatusCode::kOk;
  std::string fault_text_ ABSL_GUARDED_BY(mu_);

  int64_t mutating_ops_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dir_syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_FAULT_INJECTING_FILE_SYSTEM_H_
