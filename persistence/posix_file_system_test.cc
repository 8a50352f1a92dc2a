// persistence/posix_file_system_test.cc: PosixFileSystem on a real temporary
// directory (mkdtemp), including mapped reads (MapFile), plus JoinPath/DirName.
#include "persistence/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::persistence {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "attrib_fs_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  void WriteFile(const std::string& name, absl::string_view content) {
    absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(Path(name), true);
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE((*f)->Append(content).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }

  FileSystem* const fs_ = PosixFileSystem();
  std::string dir_;
};

TEST_F(PosixFileSystemTest, SingletonIsStable) { EXPECT_EQ(PosixFileSystem(), fs_); }

TEST_F(PosixFileSystemTest, AppendSyncRead) {
  const std::string path = Path("a.log");
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(path, false);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->size(), 0u);
  ASSERT_TRUE((*f)->Append("hello").ok());
  ASSERT_TRUE((*f)->Append(std::string(100000, 'x')).ok());
  ASSERT_TRUE((*f)->Append("").ok());
  EXPECT_EQ((*f)->size(), 100005u);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_TRUE((*f)->Close().ok());  // Idempotent.
  EXPECT_EQ((*f)->Append("more").code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<std::string> content = fs_->ReadFile(path);
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, "hello" + std::string(100000, 'x'));
  EXPECT_EQ(*fs_->FileSize(path), 100005u);
  EXPECT_TRUE(fs_->Exists(path));

  // Reopening appends after the existing bytes; truncate empties.
  f = fs_->OpenForAppend(path, false);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->size(), 100005u);
  ASSERT_TRUE((*f)->Append("!").ok());
  f->reset();
  EXPECT_EQ(*fs_->FileSize(path), 100006u);
  f = fs_->OpenForAppend(path, true);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->size(), 0u);
  EXPECT_EQ(*fs_->ReadFile(path), "");
}

// Blocks on disk of a file (st_blocks is in 512-byte units).
uint64_t AllocatedBytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST_F(PosixFileSystemTest, PreallocateReservesWithoutChangingTheContent) {
  const std::string path = Path("p.log");
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(path, true);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE((*f)->Append("head").ok());
  ASSERT_TRUE((*f)->Preallocate(4 << 20).ok());
  EXPECT_EQ((*f)->size(), 4u);
  EXPECT_EQ(*fs_->FileSize(path), 4u);  // The size is the bytes written, not reserved.
  const bool reserved = AllocatedBytes(path) >= (4u << 20);  // Not on every file system.
  ASSERT_TRUE((*f)->Append(std::string(10000, 'r')).ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(*fs_->ReadFile(path), "head" + std::string(10000, 'r'));
  ASSERT_TRUE((*f)->Close().ok());
  // Close gives back what was reserved and not written.
  EXPECT_EQ(*fs_->FileSize(path), 10004u);
  if (reserved) EXPECT_LT(AllocatedBytes(path), 1u << 20);
  EXPECT_TRUE((*f)->Preallocate(1 << 20).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_F(PosixFileSystemTest, MissingFilesAreNotFound) {
  const std::string path = Path("missing");
  EXPECT_FALSE(fs_->Exists(path));
  absl::Status s = fs_->ReadFile(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr("No such file or directory"));
  EXPECT_EQ(fs_->FileSize(path).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_->ListDir(path).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_->Remove(path).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_->Truncate(path, 0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_->Rename(path, Path("x")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_->OpenForAppend(Path("no/such/dir/f"), false).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, MapFileShowsTheWholeFileAndOutlivesItsName) {
  std::string content;
  for (int i = 0; i < 300'000; ++i) content += static_cast<char>('a' + i % 26);
  WriteFile("big.snap", content);
  WriteFile("empty.snap", "");
  absl::StatusOr<std::unique_ptr<FileContents>> mapped = fs_->MapFile(Path("big.snap"));
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ((*mapped)->bytes(), content);
  // Removing (or replacing) the name keeps the mapped bytes: the server deletes old
  // snapshots while an offline tool may be reading one.
  ASSERT_TRUE(fs_->Remove(Path("big.snap")).ok());
  EXPECT_EQ((*mapped)->bytes(), content);
  absl::StatusOr<std::unique_ptr<FileContents>> empty = fs_->MapFile(Path("empty.snap"));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE((*empty)->bytes().empty());
  absl::StatusOr<std::unique_ptr<FileContents>> missing = fs_->MapFile(Path("nope.snap"));
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.snap"));
}

TEST_F(PosixFileSystemTest, RenameReplacesTarget) {
  WriteFile("tmp", "new");
  WriteFile("final", "old");
  ASSERT_TRUE(fs_->Rename(Path("tmp"), Path("final")).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_).ok());
  EXPECT_FALSE(fs_->Exists(Path("tmp")));
  EXPECT_EQ(*fs_->ReadFile(Path("final")), "new");
}

TEST_F(PosixFileSystemTest, CreateDirAndListDirSorted) {
  WriteFile("c", "");
  WriteFile("a", "");
  WriteFile("b", "");
  ASSERT_TRUE(fs_->CreateDir(Path("sub/deep/er")).ok());
  ASSERT_TRUE(fs_->CreateDir(Path("sub/deep")).ok());  // Existing: fine.
  ASSERT_TRUE(fs_->SyncDir(Path("sub")).ok());
  EXPECT_THAT(*fs_->ListDir(dir_), ElementsAre("a", "b", "c", "sub"));
  EXPECT_THAT(*fs_->ListDir(Path("sub")), ElementsAre("deep"));
  EXPECT_THAT(*fs_->ListDir(Path("sub/deep/er")), ElementsAre());
  // A file in the way.
  EXPECT_FALSE(fs_->CreateDir(Path("a/b")).ok());
}

TEST_F(PosixFileSystemTest, TruncateCutsAndExtends) {
  WriteFile("t", "abcdef");
  ASSERT_TRUE(fs_->Truncate(Path("t"), 3).ok());
  EXPECT_EQ(*fs_->ReadFile(Path("t")), "abc");
  ASSERT_TRUE(fs_->Truncate(Path("t"), 5).ok());
  EXPECT_EQ(*fs_->ReadFile(Path("t")), std::string("abc\0\0", 5));
}

TEST_F(PosixFileSystemTest, Remove) {
  WriteFile("r", "x");
  ASSERT_TRUE(fs_->Remove(Path("r")).ok());
  EXPECT_FALSE(fs_->Exists(Path("r")));
  const absl::Status again = fs_->Remove(Path("r"));
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(again.message(), HasSubstr("remove " + Path("r")));
}

TEST_F(PosixFileSystemTest, LockConflictsUntilReleased) {
  const std::string path = Path("LOCK");
  absl::StatusOr<std::unique_ptr<FileLock>> first = fs_->Lock(path);
  ASSERT_TRUE(first.ok()) << first.status();
  // A second open file description conflicts even in the same process.
  absl::StatusOr<std::unique_ptr<FileLock>> second = fs_->Lock(path);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("lock " + path + ": held by another process"));
  EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat("pid ", ::getpid())));
  EXPECT_THAT(second.status().message(),
              HasSubstr("is another attribd running on this data directory?"));
  first->reset();
  second = fs_->Lock(path);
  EXPECT_TRUE(second.ok()) << second.status();
}

// A full device: /dev/full fails every write with ENOSPC.
TEST_F(PosixFileSystemTest, FullDiskIsUnavailableWithErrnoText) {
  if (!fs_->Exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend("/dev/full", false);
  ASSERT_TRUE(f.ok()) << f.status();
  const absl::Status s = (*f)->Append("data");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "append /dev/full: No space left on device");
  EXPECT_EQ((*f)->size(), 0u);  // Nothing reached the device.
}

// Every descriptor the file system keeps open is close-on-exec.
TEST_F(PosixFileSystemTest, DescriptorsAreCloseOnExec) {
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(Path("f"), false);
  ASSERT_TRUE(f.ok());
  absl::StatusOr<std::unique_ptr<FileLock>> lock = fs_->Lock(Path("LOCK"));
  ASSERT_TRUE(lock.ok());
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || !absl::StartsWith(target.string(), dir_)) continue;
    const int fd = std::stoi(entry.path().filename().string());
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << target;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(PathTest, JoinPath) {
  EXPECT_EQ(JoinPath("data", "wal"), "data/wal");
  EXPECT_EQ(JoinPath("data/", "wal"), "data/wal");
  EXPECT_EQ(JoinPath("data/", "/wal"), "data/wal");
  EXPECT_EQ(JoinPath("/", "wal"), "/wal");
  EXPECT_EQ(JoinPath("", "wal"), "wal");
  EXPECT_EQ(JoinPath("data", ""), "data");
}

TEST(PathTest, DirName) {
  EXPECT_EQ(DirName("data/wal/0001.log"), "data/wal");
  EXPECT_EQ(DirName("0001.log"), ".");
  EXPECT_EQ(DirName("/0001.log"), "/");
  EXPECT_EQ(DirName("/"), "/");
  EXPECT_EQ(DirName("data/wal/"), "data");
  EXPECT_EQ(DirName("data//wal"), "data");
  EXPECT_EQ(DirName(""), ".");
}

}  // namespace
}  // namespace attrib::persistence
