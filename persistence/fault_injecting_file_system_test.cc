// persistence/fault_injecting_file_system_test.cc: the durability model (what survives
// DropUnsyncedData), the fault switches, crash points, torn writes, locks, and a
// concurrency smoke test.
#include "persistence/fault_injecting_file_system.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::persistence {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kMissing[] = "<missing>";

class FaultInjectingFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir("d").ok());
    ASSERT_TRUE(fs_.SyncDir(".").ok());
  }

  std::unique_ptr<WritableFile> Open(const std::string& path, bool truncate = false) {
    absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_.OpenForAppend(path, truncate);
    EXPECT_TRUE(f.ok()) << f.status() << "\n" << fs_.DebugString();
    return f.ok() ? *std::move(f) : nullptr;
  }

  // Writes, syncs the file and its directory: fully durable.
  void WriteDurable(const std::string& path, absl::string_view content) {
    std::unique_ptr<WritableFile> f = Open(path, /*truncate=*/true);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->Append(content).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs_.SyncDir(DirName(path)).ok());
  }

  std::string Read(const std::string& path) {
    absl::StatusOr<std::string> content = fs_.ReadFile(path);
    if (absl::IsNotFound(content.status())) return kMissing;
    EXPECT_TRUE(content.ok()) << content.status();
    return content.value_or("<error>");
  }

  FaultInjectingFileSystem fs_;
};

TEST_F(FaultInjectingFileSystemTest, UnsyncedAppendsAreDroppedSyncedOnesKept) {
  std::unique_ptr<WritableFile> f = Open("d/log");
  ASSERT_TRUE(fs_.SyncDir("d").ok());
  ASSERT_TRUE(f->Append("synced|").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("unsynced").ok());
  EXPECT_EQ(f->size(), 15u);
  EXPECT_EQ(Read("d/log"), "synced|unsynced");  // Visible before the crash.
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/log"), "synced|") << fs_.DebugString();
  // The old handle died with the "process".
  const absl::Status s = f->Append("x");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "append d/log: file system crashed");
  EXPECT_EQ(f->Sync().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fs_.syncs(), 1);
}

TEST_F(FaultInjectingFileSystemTest, CreatedFileNeedsSyncDir) {
  WriteDurable("d/kept", "k");
  std::unique_ptr<WritableFile> f = Open("d/new");
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());  // The bytes are durable, the name is not.
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/new"), kMissing) << fs_.DebugString();
  EXPECT_FALSE(fs_.Exists("d/new"));
  EXPECT_EQ(Read("d/kept"), "k");
  EXPECT_THAT(*fs_.ListDir("d"), ElementsAre("kept"));
}

TEST_F(FaultInjectingFileSystemTest, RenameWithoutSyncDirReverts) {
  WriteDurable("d/final", "old");
  WriteDurable("d/tmp", "new");
  ASSERT_TRUE(fs_.Rename("d/tmp", "d/final").ok());
  EXPECT_EQ(Read("d/final"), "new");
  EXPECT_EQ(Read("d/tmp"), kMissing);
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/final"), "old") << fs_.DebugString();
  EXPECT_EQ(Read("d/tmp"), "new");
}

TEST_F(FaultInjectingFileSystemTest, SyncDirMakesRenameStick) {
  WriteDurable("d/final", "old");
  WriteDurable("d/tmp", "new");
  ASSERT_TRUE(fs_.Rename("d/tmp", "d/final").ok());
  ASSERT_TRUE(fs_.SyncDir("d").ok());
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/final"), "new") << fs_.DebugString();
  EXPECT_EQ(Read("d/tmp"), kMissing);
}

TEST_F(FaultInjectingFileSystemTest, RenameAcrossDirectoriesNeedsBothSyncs) {
  ASSERT_TRUE(fs_.CreateDir("e").ok());
  ASSERT_TRUE(fs_.SyncDir(".").ok());
  WriteDurable("d/f", "x");
  ASSERT_TRUE(fs_.Rename("d/f", "e/f").ok());
  ASSERT_TRUE(fs_.SyncDir("e").ok());  // The new name is durable; the old one too.
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("e/f"), "x");
  EXPECT_EQ(Read("d/f"), "x");
}

TEST_F(FaultInjectingFileSystemTest, RemoveWithoutSyncDirReverts) {
  WriteDurable("d/a", "a");
  WriteDurable("d/b", "b");
  ASSERT_TRUE(fs_.Remove("d/a").ok());
  ASSERT_TRUE(fs_.Remove("d/b").ok());
  ASSERT_TRUE(fs_.SyncDir("d").ok());
  WriteDurable("d/c", "c");
  ASSERT_TRUE(fs_.Remove("d/c").ok());
  fs_.DropUnsyncedData();
  EXPECT_THAT(*fs_.ListDir("d"), ElementsAre("c")) << fs_.DebugString();
}

TEST_F(FaultInjectingFileSystemTest, RemovedFileKeepsItsOpenHandle) {
  WriteDurable("d/f", "abc");
  std::unique_ptr<WritableFile> f = Open("d/f");
  ASSERT_TRUE(fs_.Remove("d/f").ok());
  EXPECT_TRUE(f->Append("def").ok());  // Like an unlinked inode with an open fd.
  EXPECT_EQ(f->size(), 6u);
  EXPECT_EQ(Read("d/f"), kMissing);
}

TEST_F(FaultInjectingFileSystemTest, UnsyncedTruncatingOpenBringsBackOldContent) {
  WriteDurable("d/f", "old content");
  std::unique_ptr<WritableFile> f = Open("d/f", /*truncate=*/true);
  ASSERT_TRUE(f->Append("new").ok());
  EXPECT_EQ(Read("d/f"), "new");
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/f"), "old content") << fs_.DebugString();

  f = Open("d/f", /*truncate=*/true);
  ASSERT_TRUE(f->Append("new").ok());
  ASSERT_TRUE(f->Sync().ok());
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/f"), "new");
}

TEST_F(FaultInjectingFileSystemTest, TruncateIsDurable) {
  WriteDurable("d/f", "abcdef");
  std::unique_ptr<WritableFile> f = Open("d/f");
  ASSERT_TRUE(f->Append("ghi").ok());
  ASSERT_TRUE(fs_.Truncate("d/f", 7).ok());  // Its fsync makes "abcdefg" durable.
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/f"), "abcdefg");
  ASSERT_TRUE(fs_.Truncate("d/f", 9).ok());
  EXPECT_EQ(Read("d/f"), std::string("abcdefg\0\0", 9));
  EXPECT_EQ(fs_.Truncate("d/none", 0).code(), absl::StatusCode::kNotFound);
}

TEST_F(FaultInjectingFileSystemTest, NewDirectoryNeedsItsParentSynced) {
  ASSERT_TRUE(fs_.CreateDir("d/wal/archive").ok());
  WriteDurable("d/wal/archive/1.log", "x");  // Syncs d/wal/archive, not d or d/wal.
  fs_.DropUnsyncedData();
  EXPECT_FALSE(fs_.Exists("d/wal")) << fs_.DebugString();
  EXPECT_THAT(*fs_.ListDir("d"), ElementsAre());

  ASSERT_TRUE(fs_.CreateDir("d/wal/archive").ok());
  WriteDurable("d/wal/archive/1.log", "x");
  ASSERT_TRUE(fs_.SyncDir("d/wal").ok());
  ASSERT_TRUE(fs_.SyncDir("d").ok());
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/wal/archive/1.log"), "x") << fs_.DebugString();
}

TEST_F(FaultInjectingFileSystemTest, NamespaceBasics) {
  WriteDurable("d/c", "");
  WriteDurable("d/a", "");
  ASSERT_TRUE(fs_.CreateDir("d/b").ok());
  EXPECT_THAT(*fs_.ListDir("d"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(*fs_.ListDir("."), ElementsAre("d"));
  EXPECT_THAT(*fs_.ListDir("./d//"), ElementsAre("a", "b", "c"));  // Normalized.
  EXPECT_EQ(Read("d//a"), "");
  EXPECT_EQ(fs_.ListDir("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_.ListDir("d/a").status().code(), absl::StatusCode::kUnavailable);
  // Parents must exist, as on POSIX.
  const absl::Status s = fs_.OpenForAppend("nope/f", false).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "open nope/f: No such file or directory");
  EXPECT_EQ(fs_.Remove("d/zzz").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_.Rename("d/zzz", "d/y").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_.ReadFile("d/b").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fs_.Rename("d/b", "d/e").code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(fs_.CreateDir("d/a/x").ok());  // A file in the way.
  EXPECT_EQ(*fs_.FileSize("d/a"), 0u);
}

TEST_F(FaultInjectingFileSystemTest, FailWritesNoSpaceThenClearFaults) {
  WriteDurable("d/log", "ok|");
  std::unique_ptr<WritableFile> f = Open("d/log");
  fs_.FailWrites(absl::StatusCode::kUnavailable, kNoSpaceErrorText, -1);
  for (int i = 0; i < 3; ++i) {
    const absl::Status s = f->Append("lost");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(s.message(), "append d/log: No space left on device");
  }
  EXPECT_EQ(f->size(), 3u);  // A failed append writes nothing.
  EXPECT_EQ(Read("d/log"), "ok|");  // Reads keep working.
  fs_.ClearFaults();
  ASSERT_TRUE(f->Append("more").ok());
  ASSERT_TRUE(f->Sync().ok());
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/log"), "ok|more");
}

TEST_F(FaultInjectingFileSystemTest, FailWritesCountsDown) {
  std::unique_ptr<WritableFile> f = Open("d/log");
  fs_.FailWrites(absl::StatusCode::kUnavailable, kIoErrorText, 2);
  EXPECT_FALSE(f->Append("a").ok());
  EXPECT_FALSE(f->Append("b").ok());
  EXPECT_TRUE(f->Append("c").ok());
  EXPECT_EQ(Read("d/log"), "c");
}

TEST_F(FaultInjectingFileSystemTest, FailedSyncMakesTheFileUnusable) {
  std::unique_ptr<WritableFile> f = Open("d/log");
  ASSERT_TRUE(fs_.SyncDir("d").ok());
  ASSERT_TRUE(f->Append("a").ok());
  fs_.FailWrites(absl::StatusCode::kUnavailable, kIoErrorText, 1);
  const absl::Status s = f->Sync();
  EXPECT_EQ(s.message(), "sync d/log: Input/output error");
  // The fault is used up, but this file can no longer be trusted.
  const absl::Status again = f->Sync();
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(again.message(), HasSubstr("an earlier sync failed (sync d/log: Input/output"));
  EXPECT_FALSE(f->Append("b").ok());
  // A new handle works.
  std::unique_ptr<WritableFile> g = Open("d/log");
  ASSERT_TRUE(g->Sync().ok());
  fs_.DropUnsyncedData();
  EXPECT_EQ(Read("d/log"), "a");
}

TEST_F(FaultInjectingFileSystemTest, CrashAfterNFailsOperationNPlusOne) {
  const int64_t before = fs_.mutating_ops();
  fs_.SetCrashAfter(3);
  std::unique_ptr<WritableFile> f = Open("d/log");  // 1 (creates)
  ASSERT_TRUE(f->Append("a").ok());                 // 2
  ASSERT_TRUE(fs_.SyncDir("d").ok());               // 3
  EXPECT_FALSE(fs_.crashed());
  EXPECT_EQ(Read("d/log"), "a");  // Reads do not count.
  const absl::Status s = f->Sync();  // 4: the crash.
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "sync d/log: crashed");
  EXPECT_TRUE(fs_.crashed());
  EXPECT_EQ(fs_.mutating_ops() - before, 4);
  // Everything fails until the "reboot".
  EXPECT_EQ(fs_.ReadFile("d/log").status().message(), "read d/log: crashed");
  EXPECT_EQ(fs_.ListDir("d").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fs_.Lock("d/LOCK").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(f->Append("b").ok());
  EXPECT_FALSE(fs_.Exists("d/log"));
  fs_.DropUnsyncedData();
  EXPECT_FALSE(fs_.crashed());
  EXPECT_EQ(Read("d/log"), "");  // The entry was synced, the append was not.
  std::unique_ptr<WritableFile> g = Open("d/log");
  EXPECT_TRUE(g->Append("b").ok());
  EXPECT_TRUE(g->Sync().ok());
}

// The pattern snapshots use (write temp, fsync, rename, fsync dir), crashed at every
// mutating operation: the target always holds the old or the new content in full.
TEST_F(FaultInjectingFileSystemTest, AtomicReplaceSurvivesACrashAtEveryPoint) {
  auto replace = [](FileSystem& fs) -> absl::Status {
    absl::StatusOr<std::unique_ptr<WritableFile>> f = fs.OpenForAppend("d/snap.tmp", true);
    if (!f.ok()) return f.status();
    for (absl::string_view part : {"new ", "snapshot ", "content"}) {
      if (absl::Status s = (*f)->Append(part); !s.ok()) return s;
    }
    if (absl::Status s = (*f)->Sync(); !s.ok()) return s;
    if (absl::Status s = fs.Rename("d/snap.tmp", "d/snap"); !s.ok()) return s;
    return fs.SyncDir("d");
  };
  WriteDurable("d/snap", "old");
  const int64_t start = fs_.mutating_ops();
  ASSERT_TRUE(replace(fs_).ok());
  const int64_t ops = fs_.mutating_ops() - start;
  EXPECT_EQ(ops, 7);
  for (int64_t n = 0; n <= ops; ++n) {
    for (bool torn : {false, true}) {
      SCOPED_TRACE(absl::StrCat("crash after ", n, " ops, torn=", torn));
      FaultInjectingFileSystem fs(/*seed=*/static_cast<uint64_t>(n));
      ASSERT_TRUE(fs.CreateDir("d").ok());
      ASSERT_TRUE(fs.SyncDir(".").ok());
      {
        std::unique_ptr<WritableFile> f = *fs.OpenForAppend("d/snap", false);
        ASSERT_TRUE(f->Append("old").ok());
        ASSERT_TRUE(f->Sync().ok());
        ASSERT_TRUE(fs.SyncDir("d").ok());
      }
      fs.SetTornWrites(torn);
      fs.SetCrashAfter(n);
      const absl::Status s = replace(fs);
      EXPECT_EQ(s.ok(), n == ops) << s;
      fs.DropUnsyncedData();
      const std::string got = *fs.ReadFile("d/snap");
      EXPECT_TRUE(got == "old" || got == "new snapshot content")
          << got << "\n" << fs.DebugString();
      if (n == ops) {
        EXPECT_EQ(got, "new snapshot content");
      }
    }
  }
}

TEST_F(FaultInjectingFileSystemTest, TornWritesLeaveAPrefix) {
  const std::string record = "0123456789abcdef";
  int partial = 0;  // Tears that kept some but not all of the record.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    FaultInjectingFileSystem fs(seed);
    ASSERT_TRUE(fs.SyncDir(".").ok());
    std::unique_ptr<WritableFile> f = *fs.OpenForAppend("log", false);
    ASSERT_TRUE(fs.SyncDir(".").ok());
    ASSERT_TRUE(f->Append("head|").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(f->Append("unsynced|").ok());
    fs.SetTornWrites(true);
    fs.SetCrashAfter(0);
    EXPECT_EQ(f->Append(record).message(), "append log: crashed");
    fs.DropUnsyncedData();
    const std::string got = *fs.ReadFile("log");
    // The tear keeps everything before the torn append and a proper prefix of it.
    ASSERT_THAT(got, StartsWith("head|unsynced|")) << fs.DebugString();
    const std::string kept = got.substr(14);
    EXPECT_LT(kept.size(), record.size());
    EXPECT_EQ(kept, record.substr(0, kept.size()));
    if (!kept.empty()) ++partial;
  }
  EXPECT_GT(partial, 10);  // Deterministic for these seeds.
}

TEST_F(FaultInjectingFileSystemTest, LocksConflictUntilReleasedOrCrash) {
  absl::StatusOr<std::unique_ptr<FileLock>> first = fs_.Lock("d/LOCK");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(fs_.Exists("d/LOCK"));  // Created, like open(O_CREAT).
  absl::StatusOr<std::unique_ptr<FileLock>> second = fs_.Lock("d/LOCK");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            "lock d/LOCK: held by another process (is another attribd running on this "
            "data directory?)");
  EXPECT_TRUE(fs_.Lock("d/OTHER").ok());
  first->reset();
  second = fs_.Lock("d/LOCK");
  ASSERT_TRUE(second.ok());
  // A crash releases every lock; the dead holder's destructor then releases nothing.
  fs_.DropUnsyncedData();
  absl::StatusOr<std::unique_ptr<FileLock>> third = fs_.Lock("d/LOCK");
  ASSERT_TRUE(third.ok()) << third.status();
  second->reset();
  EXPECT_EQ(fs_.Lock("d/LOCK").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FaultInjectingFileSystemTest, DebugStringShowsSizes) {
  WriteDurable("d/a", "abc");
  std::unique_ptr<WritableFile> f = Open("d/a");
  ASSERT_TRUE(f->Append("de").ok());
  std::unique_ptr<WritableFile> g = Open("d/b");
  const std::string debug = fs_.DebugString();
  EXPECT_THAT(debug, HasSubstr("d/a size=5 synced=3\n"));
  EXPECT_THAT(debug, HasSubstr("d/b size=0 synced=0  (entry not durable)\n"));
  EXPECT_THAT(debug, HasSubstr("d/\n"));
}

TEST_F(FaultInjectingFileSystemTest, ConcurrentAppendsToDifferentFiles) {
  constexpr int kThreads = 4;
  constexpr int kRecords = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      const std::string path = absl::StrCat("d/f", t);
      std::unique_ptr<WritableFile> f = *fs_.OpenForAppend(path, false);
      for (int i = 0; i < kRecords; ++i) {
        EXPECT_TRUE(f->Append(absl::StrCat(i, ",")).ok());
        if (i % 100 == 99) {
          EXPECT_TRUE(f->Sync().ok());
        }
        if (i % 500 == 0) {
          EXPECT_TRUE(fs_.SyncDir("d").ok());
          EXPECT_TRUE(fs_.ListDir("d").ok());
          EXPECT_FALSE(fs_.DebugString().empty());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(fs_.SyncDir("d").ok());
  fs_.DropUnsyncedData();
  std::string want;
  for (int i = 0; i < kRecords; ++i) absl::StrAppend(&want, i, ",");
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(Read(absl::StrCat("d/f", t)), want);
  EXPECT_EQ(fs_.syncs(), kThreads * kRecords / 100);
}

}  // namespace
}  // namespace attrib::persistence
