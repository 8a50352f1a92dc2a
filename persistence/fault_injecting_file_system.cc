// persistence/fault_injecting_file_system.cc
//
// The in-memory, fault-injecting FileSystem; the model is described in
// fault_injecting_file_system.h.
//
// Thread-safety: all state, including every inode and every handle's view of it, is
// guarded by the one mutex mu_; handles take it for each operation.
#include "persistence/fault_injecting_file_system.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace attrib::persistence {
namespace {

// "a//b/./c/" -> "a/b/c"; "" and "./" -> "."; "/" stays "/". ".." is kept as a name.
std::string Normalize(absl::string_view path) {
  const bool absolute = !path.empty() && path.front() == '/';
  std::string out = absolute ? "/" : "";
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (!out.empty() && out.back() != '/') out.push_back('/');
    out.append(part.data(), part.size());
  }
  if (out.empty()) return ".";
  return out;
}

bool IsRoot(const std::string& path) { return path == "." || path == "/"; }

// The parent of a normalized, non-root path.
std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The last component of a normalized, non-root path.
std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct FaultInjectingFileSystem::Inode {
  std::string content;
  // What survives a crash: content[0, synced_size), unless before_truncate is set.
  uint64_t synced_size = 0;
  // Set by an unsynced OpenForAppend(truncate=true) over durable bytes: those bytes
  // are what survives a crash until the next Sync()/Truncate().
  std::optional<std::string> before_truncate;

  void MakeDurable() {
    synced_size = content.size();
    before_truncate.reset();
  }
  void TruncateUnsynced() {
    if (!before_truncate.has_value() && synced_size > 0) {
      before_truncate = content.substr(0, synced_size);
    }
    content.clear();
    synced_size = 0;
  }
  uint64_t durable_size() const {
    return before_truncate.has_value() ? before_truncate->size() : synced_size;
  }
  void Crash() {
    if (before_truncate.has_value()) {
      content = std::move(*before_truncate);
    } else {
      content.resize(synced_size);
    }
    MakeDurable();
  }
};

class FaultInjectingFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectingFileSystem* fs, std::string path, std::shared_ptr<Inode> inode,
       uint64_t epoch)
      : fs_(fs), path_(std::move(path)), inode_(std::move(inode)), epoch_(epoch) {}

  absl::Status Append(absl::string_view data) override {
    absl::MutexLock lock(&fs_->mu_);
    if (absl::Status s = Usable("append"); !s.ok()) return s;
    if (fs_->CrashesNow()) {
      if (fs_->torn_writes_ && !data.empty()) {
        // A torn write: the disk got a proper prefix of this append (and everything
        // before it) when the power went.
        const size_t keep = static_cast<size_t>(fs_->rng_() % data.size());
        inode_->content.append(data.data(), keep);
        inode_->MakeDurable();
      }
      return fs_->CrashedError("append", path_);
    }
    if (std::optional<absl::Status> fault = fs_->TakeFault("append", path_)) return *fault;
    inode_->content.append(data.data(), data.size());
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    absl::MutexLock lock(&fs_->mu_);
    if (absl::Status s = Usable("sync"); !s.ok()) return s;
    if (fs_->CrashesNow()) return fs_->CrashedError("sync", path_);
    if (std::optional<absl::Status> fault = fs_->TakeFault("sync", path_)) {
      sync_error_ = *fault;  // As on Linux: the unsynced pages may be gone.
      return *fault;
    }
    inode_->MakeDurable();
    ++fs_->syncs_;
    return absl::OkStatus();
  }

  absl::Status Close() override {
    absl::MutexLock lock(&fs_->mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    if (epoch_ != fs_->epoch_) return DeadError("close");
    return fs_->CheckAlive("close", path_);
  }

  uint64_t size() const override {
    absl::MutexLock lock(&fs_->mu_);
    return inode_->content.size();
  }

 private:
  absl::Status DeadError(absl::string_view op) const {
    return absl::UnavailableError(absl::StrCat(op, " ", path_, ": file system crashed"));
  }

  absl::Status Usable(absl::string_view op) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu_) {
    if (epoch_ != fs_->epoch_) return DeadError(op);
    if (absl::Status s = fs_->CheckAlive(op, path_); !s.ok()) return s;
    if (closed_) {
      return absl::FailedPreconditionError(absl::StrCat(op, " ", path_, ": file is closed"));
    }
    if (!sync_error_.ok()) {
      return absl::UnavailableError(absl::StrCat(
          op, " ", path_, ": an earlier sync failed (", sync_error_.message(),
          "); unsynced data may be lost, so this file must not be used again"));
    }
    return absl::OkStatus();
  }

  FaultInjectingFileSystem* const fs_;
  const std::string path_;
  // Stays valid after Remove()/Rename() of the path, like an open descriptor.
  const std::shared_ptr<Inode> inode_;
  const uint64_t epoch_;
  // Touched only by the one thread using this file (and under fs_->mu_ anyway).
  bool closed_ = false;
  absl::Status sync_error_;
};

class FaultInjectingFileSystem::HeldLock final : public FileLock {
 public:
  HeldLock(FaultInjectingFileSystem* fs, std::string path, uint64_t id)
      : fs_(fs), path_(std::move(path)), id_(id) {}
  ~HeldLock() override { fs_->ReleaseLock(path_, id_); }

 private:
  FaultInjectingFileSystem* const fs_;
  const std::string path_;
  const uint64_t id_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(uint64_t seed) : rng_(seed) {}
FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

absl::Status FaultInjectingFileSystem::CrashedError(absl::string_view op,
                                                    const std::string& path) const {
  return absl::UnavailableError(absl::StrCat(op, " ", path, ": crashed"));
}

absl::Status FaultInjectingFileSystem::CheckAlive(absl::string_view op,
                                                  const std::string& path) const {
  if (crashed_) return CrashedError(op, path);
  return absl::OkStatus();
}

bool FaultInjectingFileSystem::CrashesNow() {
  ++mutating_ops_;
  if (crash_countdown_ < 0) return false;
  if (crash_countdown_ > 0) {
    --crash_countdown_;
    return false;
  }
  crash_countdown_ = -1;
  crashed_ = true;
  return true;
}

std::optional<absl::Status> FaultInjectingFileSystem::TakeFault(absl::string_view op,
                                                                const std::string& path) {
  if (fault_count_ == 0) return std::nullopt;
  if (fault_count_ > 0) --fault_count_;
  return absl::Status(fault_code_, absl::StrCat(op, " ", path, ": ", fault_text_));
}

bool FaultInjectingFileSystem::IsDir(const Namespace& ns, const std::string& path) const {
  return IsRoot(path) || ns.dirs.count(path) > 0;
}

absl::Status FaultInjectingFileSystem::CheckParent(absl::string_view op,
                                                   const std::string& path) const {
  const std::string parent = Parent(path);
  if (IsDir(current_, parent)) return absl::OkStatus();
  if (current_.files.count(parent) > 0) {
    return absl::UnavailableError(absl::StrCat(op, " ", path, ": Not a directory"));
  }
  return absl::NotFoundError(absl::StrCat(op, " ", path, ": No such file or directory"));
}

absl::StatusOr<std::shared_ptr<FaultInjectingFileSystem::Inode>>
FaultInjectingFileSystem::FindFile(absl::string_view op, const std::string& path) const {
  if (IsDir(current_, path)) {
    return absl::UnavailableError(absl::StrCat(op, " ", path, ": Is a directory"));
  }
  auto it = current_.files.find(path);
  if (it == current_.files.end()) {
    return absl::NotFoundError(absl::StrCat(op, " ", path, ": No such file or directory"));
  }
  return it->second;
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::OpenForAppend(
    const std::string& path_arg, bool truncate) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("open", path); !s.ok()) return s;
  std::shared_ptr<Inode> inode;
  absl::StatusOr<std::shared_ptr<Inode>> found = FindFile("open", path);
  if (found.ok()) {
    inode = *std::move(found);
  } else if (absl::IsNotFound(found.status())) {
    if (absl::Status s = CheckParent("open", path); !s.ok()) return s;
  } else {
    return found.status();
  }
  if ((inode == nullptr || truncate) && CrashesNow()) return CrashedError("open", path);
  if (inode == nullptr) {
    inode = std::make_shared<Inode>();
    current_.files[path] = inode;
  } else if (truncate) {
    inode->TruncateUnsynced();
  }
  return std::make_unique<File>(this, path, std::move(inode), epoch_);
}

absl::StatusOr<std::string> FaultInjectingFileSystem::ReadFile(const std::string& path_arg) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("read", path); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<Inode>> inode = FindFile("read", path);
  if (!inode.ok()) return inode.status();
  return (*inode)->content;
}

absl::StatusOr<uint64_t> FaultInjectingFileSystem::FileSize(const std::string& path_arg) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("stat", path); !s.ok()) return s;
  if (IsDir(current_, path)) return 0;  // Unlike st_size of a real directory; unused.
  absl::StatusOr<std::shared_ptr<Inode>> inode = FindFile("stat", path);
  if (!inode.ok()) return inode.status();
  return (*inode)->content.size();
}

bool FaultInjectingFileSystem::Exists(const std::string& path_arg) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (crashed_) return false;
  return IsDir(current_, path) || current_.files.count(path) > 0;
}

absl::StatusOr<std::vector<std::string>> FaultInjectingFileSystem::ListDir(
    const std::string& dir_arg) {
  const std::string dir = Normalize(dir_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("list", dir); !s.ok()) return s;
  if (!IsDir(current_, dir)) {
    if (current_.files.count(dir) > 0) {
      return absl::UnavailableError(absl::StrCat("list ", dir, ": Not a directory"));
    }
    return absl::NotFoundError(absl::StrCat("list ", dir, ": No such file or directory"));
  }
  std::vector<std::string> names;
  for (const std::string& d : current_.dirs) {
    if (Parent(d) == dir) names.push_back(BaseName(d));
  }
  for (const auto& [path, inode] : current_.files) {
    if (Parent(path) == dir) names.push_back(BaseName(path));
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status FaultInjectingFileSystem::CreateDir(const std::string& dir_arg) {
  const std::string dir = Normalize(dir_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("mkdir", dir); !s.ok()) return s;
  // mkdir -p: every missing ancestor, outermost first.
  std::vector<std::string> missing;
  for (std::string d = dir; !IsRoot(d); d = Parent(d)) {
    if (current_.files.count(d) > 0) {
      return absl::UnavailableError(absl::StrCat("mkdir ", d, ": Not a directory"));
    }
    if (current_.dirs.count(d) == 0) missing.push_back(d);
  }
  if (missing.empty()) return absl::OkStatus();
  if (CrashesNow()) return CrashedError("mkdir", dir);
  current_.dirs.insert(missing.begin(), missing.end());
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::Rename(const std::string& from_arg,
                                              const std::string& to_arg) {
  const std::string from = Normalize(from_arg);
  const std::string to = Normalize(to_arg);
  const std::string what = absl::StrCat(from, " -> ", to);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("rename", what); !s.ok()) return s;
  if (IsDir(current_, from)) {
    return absl::UnimplementedError(absl::StrCat(
        "rename ", what, ": FaultInjectingFileSystem does not rename directories"));
  }
  absl::StatusOr<std::shared_ptr<Inode>> inode = FindFile("rename", from);
  if (!inode.ok()) {
    return absl::Status(inode.status().code(),
                        absl::StrCat("rename ", what, ": No such file or directory"));
  }
  if (IsDir(current_, to)) {
    return absl::UnavailableError(absl::StrCat("rename ", what, ": Is a directory"));
  }
  if (absl::Status s = CheckParent("rename", to); !s.ok()) return s;
  if (CrashesNow()) return CrashedError("rename", what);
  if (from == to) return absl::OkStatus();
  current_.files[to] = *std::move(inode);
  current_.files.erase(from);
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::Remove(const std::string& path_arg) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("remove", path); !s.ok()) return s;
  if (absl::Status s = FindFile("remove", path).status(); !s.ok()) return s;
  if (CrashesNow()) return CrashedError("remove", path);
  current_.files.erase(path);
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::Truncate(const std::string& path_arg, uint64_t size) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("truncate", path); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<Inode>> inode = FindFile("truncate", path);
  if (!inode.ok()) return inode.status();
  if (CrashesNow()) return CrashedError("truncate", path);
  (*inode)->content.resize(size, '\0');
  (*inode)->MakeDurable();  // Truncate() ends with an fsync of the file.
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::SyncDir(const std::string& dir_arg) {
  const std::string dir = Normalize(dir_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("sync dir", dir); !s.ok()) return s;
  if (!IsDir(current_, dir)) {
    if (current_.files.count(dir) > 0) {
      return absl::UnavailableError(absl::StrCat("sync dir ", dir, ": Not a directory"));
    }
    return absl::NotFoundError(absl::StrCat("sync dir ", dir, ": No such file or directory"));
  }
  if (CrashesNow()) return CrashedError("sync dir", dir);
  // The durable entries of `dir` become exactly its current entries.
  std::erase_if(durable_.files, [&](const auto& e) { return Parent(e.first) == dir; });
  std::erase_if(durable_.dirs, [&](const std::string& d) { return Parent(d) == dir; });
  for (const auto& [path, inode] : current_.files) {
    if (Parent(path) == dir) durable_.files[path] = inode;
  }
  for (const std::string& d : current_.dirs) {
    if (Parent(d) == dir) durable_.dirs.insert(d);
  }
  ++dir_syncs_;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectingFileSystem::Lock(
    const std::string& path_arg) {
  const std::string path = Normalize(path_arg);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckAlive("lock", path); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<Inode>> found = FindFile("lock", path);
  if (!found.ok() && !absl::IsNotFound(found.status())) return found.status();
  if (!found.ok()) {
    if (absl::Status s = CheckParent("lock", path); !s.ok()) return s;
  }
  if (locks_.count(path) > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", path,
                     ": held by another process (is another attribd running on this "
                     "data directory?)"));
  }
  if (!found.ok()) {  // Created like open(O_CREAT) does.
    if (CrashesNow()) return CrashedError("lock", path);
    current_.files[path] = std::make_shared<Inode>();
  }
  const uint64_t id = next_lock_id_++;
  locks_[path] = id;
  return std::make_unique<HeldLock>(this, path, id);
}

void FaultInjectingFileSystem::ReleaseLock(const std::string& path, uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = locks_.find(path);
  // A crash released it already (and someone may have taken it again since).
  if (it != locks_.end() && it->second == id) locks_.erase(it);
}

void FaultInjectingFileSystem::DropUnsyncedData() {
  absl::MutexLock lock(&mu_);
  for (auto& [path, inode] : durable_.files) inode->Crash();
  // Entries survive only inside directories that survived. std::set order puts a
  // directory before everything under it, so one pass settles nested ones.
  Namespace survived;
  for (const std::string& d : durable_.dirs) {
    if (IsDir(survived, Parent(d))) survived.dirs.insert(d);
  }
  for (const auto& [path, inode] : durable_.files) {
    if (IsDir(survived, Parent(path))) survived.files[path] = inode;
  }
  durable_ = survived;
  current_ = std::move(survived);
  ++epoch_;
  locks_.clear();  // The process holding them is gone.
  crashed_ = false;
  crash_countdown_ = -1;
}

void FaultInjectingFileSystem::FailWrites(absl::StatusCode code, std::string errno_text,
                                          int count) {
  absl::MutexLock lock(&mu_);
  fault_code_ = code;
  fault_text_ = std::move(errno_text);
  fault_count_ = count < 0 ? -1 : count;
}

void FaultInjectingFileSystem::ClearFaults() {
  absl::MutexLock lock(&mu_);
  fault_count_ = 0;
}

void FaultInjectingFileSystem::SetCrashAfter(int64_t ops) {
  absl::MutexLock lock(&mu_);
  crash_countdown_ = ops < 0 ? -1 : ops;
}

void FaultInjectingFileSystem::SetTornWrites(bool enabled) {
  absl::MutexLock lock(&mu_);
  torn_writes_ = enabled;
}

bool FaultInjectingFileSystem::crashed() const {
  absl::MutexLock lock(&mu_);
  return crashed_;
}

int64_t FaultInjectingFileSystem::mutating_ops() const {
  absl::MutexLock lock(&mu_);
  return mutating_ops_;
}

int64_t FaultInjectingFileSystem::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

int64_t FaultInjectingFileSystem::dir_syncs() const {
  absl::MutexLock lock(&mu_);
  return dir_syncs_;
}

std::string FaultInjectingFileSystem::DebugString() const {
  absl::MutexLock lock(&mu_);
  std::string out = absl::StrCat("FaultInjectingFileSystem: ", mutating_ops_,
                                 " mutating ops, ", syncs_, " syncs, ", dir_syncs_,
                                 " dir syncs", crashed_ ? ", CRASHED" : "", "\n");
  // Which namespaces hold the entry (the durable one is what survives a crash).
  auto where = [](bool current, bool durable) {
    if (current && durable) return "";
    return current ? "  (entry not durable)" : "  (removed, entry durable)";
  };
  std::set<std::string> dirs = current_.dirs;
  dirs.insert(durable_.dirs.begin(), durable_.dirs.end());
  for (const std::string& d : dirs) {
    absl::StrAppend(&out, "  ", d, "/", where(current_.dirs.count(d) > 0,
                                             durable_.dirs.count(d) > 0), "\n");
  }
  std::map<std::string, std::shared_ptr<Inode>> files = current_.files;
  files.insert(durable_.files.begin(), durable_.files.end());  // Current wins.
  for (const auto& [path, inode] : files) {
    const auto durable = durable_.files.find(path);
    absl::StrAppend(&out, "  ", path, " size=", inode->content.size(),
                    " synced=", inode->durable_size(),
                    inode->before_truncate ? " (before an unsynced truncate)" : "",
                    where(current_.files.count(path) > 0, durable != durable_.files.end()));
    if (durable != durable_.files.end() && durable->second != inode) {
      absl::StrAppend(&out, "  (a crash brings back another file here, synced=",
                      durable->second->durable_size(), ")");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace attrib::persistence
