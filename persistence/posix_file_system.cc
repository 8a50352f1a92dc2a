// persistence/posix_file_system.cc
//
// The real FileSystem (see file_system.h) on POSIX calls, plus JoinPath/DirName and
// the default FileSystem::MapFile (a read).
// Every descriptor is opened with O_CLOEXEC, so a child process (a hook, a test's
// attribd) never inherits the log files or the data directory lock.
//
// Thread-safety: PosixFileSystem() may be used from any thread (it has no state);
// one WritableFile by one thread at a time; a FileLock may be destroyed anywhere.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "persistence/file_system.h"

namespace attrib::persistence {
namespace {

// "<op> <path>: <strerror>", NotFound for ENOENT and Unavailable for everything
// else (a full disk, EIO, permissions): the caller can retry once the operator
// fixed the cause, and nothing the engine holds in memory is wrong.
absl::Status ErrnoError(absl::string_view op, const std::string& path, int err) {
  std::string message = absl::StrCat(op, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::UnavailableError(message);
}

// close() that keeps errno of the failure being reported.
void CloseQuietly(int fd) {
  const int saved = errno;
  ::close(fd);
  errno = saved;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  absl::Status Append(absl::string_view data) override {
    if (absl::Status s = Usable("append"); !s.ok()) return s;
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        // size_ already counts a partial write: the caller sees what reached the file.
        return ErrnoError("append", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Preallocate(uint64_t bytes) override {
    if (absl::Status s = Usable("preallocate"); !s.ok()) return s;
    if (bytes <= size_) return absl::OkStatus();
    int r;
    do {
      r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes));
    } while (r != 0 && errno == EINTR);
    if (r != 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
      return ErrnoError("preallocate", path_, errno);
    }
    preallocated_ = r == 0;
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (absl::Status s = Usable("sync"); !s.ok()) return s;
    int r;
    do {
      r = ::fdatasync(fd_);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      // After a failed fdatasync Linux may have marked the dirty pages clean without
      // writing them, so a later fdatasync can succeed while the data is gone.
      // Every later operation on this file fails: the caller must not trust it.
      sync_error_ = ErrnoError("sync", path_, errno);
      return sync_error_;
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    // Give back the reserved blocks past the end (Preallocate). Best effort: the
    // bytes written are untouched either way, and a later open would not need them.
    if (preallocated_) (void)::ftruncate(fd_, static_cast<off_t>(size_));
    const int r = ::close(fd_);
    fd_ = -1;
    // No EINTR retry: on Linux the descriptor is gone even when close fails.
    if (r != 0 && errno != EINTR) return ErrnoError("close", path_, errno);
    return absl::OkStatus();
  }

  uint64_t size() const override { return size_; }

 private:
  absl::Status Usable(absl::string_view op) const {
    if (fd_ < 0) {
      return absl::FailedPreconditionError(absl::StrCat(op, " ", path_, ": file is closed"));
    }
    if (!sync_error_.ok()) {
      return absl::UnavailableError(absl::StrCat(
          op, " ", path_, ": an earlier sync failed (", sync_error_.message(),
          "); unsynced data may be lost, so this file must not be used again"));
    }
    return absl::OkStatus();
  }

  const std::string path_;
  int fd_;
  uint64_t size_;
  absl::Status sync_error_;
  bool preallocated_ = false;  // Blocks past size_ may be reserved.
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // Closing releases the flock.
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  const int fd_;
};

class MappedFile final : public FileContents {
 public:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() override { ::munmap(addr_, size_); }
  absl::string_view bytes() const override {
    return absl::string_view(static_cast<const char*>(addr_), size_);
  }

 private:
  void* const addr_;
  const size_t size_;
};

class PosixFileSystemImpl final : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path,
                                                             bool truncate) override {
    const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const absl::Status s = ErrnoError("stat", path, errno);
      ::close(fd);
      return s;
    }
    return std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(st.st_size));
  }

  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError("read", path, errno);
    std::string content;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) content.reserve(st.st_size);
    // Read to EOF rather than trusting st_size: the file may grow meanwhile.
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        const absl::Status s = ErrnoError("read", path, errno);
        ::close(fd);
        return s;
      }
      if (n == 0) break;
      content.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return content;
  }

  absl::StatusOr<std::unique_ptr<FileContents>> MapFile(const std::string& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError("read", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const absl::Status s = ErrnoError("stat", path, errno);
      ::close(fd);
      return s;
    }
    if (st.st_size == 0) {  // mmap refuses an empty range.
      ::close(fd);
      return FileSystem::MapFile(path);
    }
    const size_t size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int mmap_errno = errno;
    ::close(fd);  // The mapping keeps the file open.
    if (p == MAP_FAILED) return ErrnoError("map", path, mmap_errno);
    // Start reading the whole file in the background (a cold page cache after a
    // reboot); the readers touch it from several threads.
    (void)::madvise(p, size, MADV_WILLNEED);
    return std::unique_ptr<FileContents>(new MappedFile(p, size));
  }

  absl::StatusOr<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());  // glibc opens it O_CLOEXEC.
    if (d == nullptr) return ErrnoError("list", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (const struct dirent* e = ::readdir(d)) {
      const absl::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoError("list", dir, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  absl::Status CreateDir(const std::string& dir) override {
    // mkdir -p: every prefix ending before a '/', then the whole path.
    for (size_t i = 1; i <= dir.size(); ++i) {
      if (i < dir.size() && dir[i] != '/') continue;
      if (dir[i - 1] == '/') continue;  // "a//b": the prefix "a/" was already done.
      const std::string prefix = dir.substr(0, i);
      if (::mkdir(prefix.c_str(), 0755) == 0) continue;
      if (errno != EEXIST) return ErrnoError("mkdir", prefix, errno);
      struct stat st;
      if (::stat(prefix.c_str(), &st) != 0) return ErrnoError("mkdir", prefix, errno);
      if (!S_ISDIR(st.st_mode)) return ErrnoError("mkdir", prefix, ENOTDIR);
    }
    return absl::OkStatus();
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError("rename", absl::StrCat(from, " -> ", to), errno);
    }
    return absl::OkStatus();
  }

  absl::Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError("remove", path, errno);
    return absl::OkStatus();
  }

  absl::Status Truncate(const std::string& path, uint64_t size) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("truncate", path, errno);
    int r;
    do {
      r = ::ftruncate(fd, static_cast<off_t>(size));
    } while (r != 0 && errno == EINTR);
    if (r == 0) {
      do {
        r = ::fsync(fd);  // fsync, not fdatasync: the size is metadata.
      } while (r != 0 && errno == EINTR);
    }
    if (r != 0) {
      const absl::Status s = ErrnoError("truncate", path, errno);
      CloseQuietly(fd);
      return s;
    }
    ::close(fd);
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("sync dir", dir, errno);
    int r;
    do {
      r = ::fsync(fd);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      const absl::Status s = ErrnoError("sync dir", dir, errno);
      CloseQuietly(fd);
      return s;
    }
    ::close(fd);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError("lock", path, errno);
    // flock locks belong to the open file description: a second open() of the same
    // file in this process conflicts too, and the lock dies with the process.
    int r;
    do {
      r = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        const std::string holder = HolderPid(fd);
        ::close(fd);
        return absl::FailedPreconditionError(absl::StrCat(
            "lock ", path, ": held by another process (",
            holder.empty() ? "" : absl::StrCat("pid ", holder, "; "),
            "is another attribd running on this data directory?)"));
      }
      ::close(fd);
      return ErrnoError("lock", path, err);
    }
    // Record our pid for the error message of the next would-be owner. Best effort:
    // the lock itself is the flock, not this content.
    const std::string pid = absl::StrCat(::getpid(), "\n");
    if (::ftruncate(fd, 0) == 0) {
      [[maybe_unused]] const ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return std::make_unique<PosixFileLock>(fd);
  }

 private:
  // The pid the current holder wrote into the lock file, or "" if unreadable.
  static std::string HolderPid(int fd) {
    char buf[32];
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) return "";
    const absl::string_view text =
        absl::StripAsciiWhitespace(absl::string_view(buf, static_cast<size_t>(n)));
    uint64_t pid;
    if (!absl::SimpleAtoi(text, &pid)) return "";
    return std::string(text);
  }
};

}  // namespace

namespace {

class StringContents final : public FileContents {
 public:
  explicit StringContents(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::string_view bytes() const override { return bytes_; }

 private:
  const std::string bytes_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FileContents>> FileSystem::MapFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return std::unique_ptr<FileContents>(new StringContents(std::move(*bytes)));
}

FileSystem* PosixFileSystem() {
  static FileSystem* const fs = new PosixFileSystemImpl();  // Leaked: lives forever.
  return fs;
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  const bool dir_slash = dir.back() == '/';
  const bool name_slash = name.front() == '/';
  if (dir_slash && name_slash) name.remove_prefix(1);
  return absl::StrCat(dir, dir_slash || name_slash ? "" : "/", name);
}

std::string DirName(absl::string_view path) {
  // Like POSIX dirname(): trailing slashes do not count, and "a//b" gives "a".
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  absl::string_view dir = path.substr(0, slash);
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (dir.empty()) return "/";
  return std::string(dir);
}

}  // namespace attrib::persistence
