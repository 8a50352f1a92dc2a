// persistence/snapshot_corruption_test.cc: what a damaged, foreign or half-written
// snapshot does: a flipped byte anywhere and a truncation at every offset are
// DataLoss naming the file and the offset (and leave the engine empty); blocks
// swapped with valid checksums are caught by the chain; a policy or shard-count
// mismatch is FailedPrecondition naming both values; and a crash at every step of
// the write path leaves either the previous snapshots alone or a new snapshot that
// verifies, never a partial file under a final name.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_format.h"
#include "persistence/snapshot_reader.h"
#include "persistence/snapshot_test_util.h"

namespace attrib::persistence {
namespace {

using engine::Engine;
using engine::FakeClock;
using snapshot_testing::DumpAll;
using snapshot_testing::FillRandomState;
using snapshot_testing::kStartMs;
using snapshot_testing::Options;
using snapshot_testing::ReadOrDie;
using snapshot_testing::WriteDurable;
using ::testing::AnyOf;
using ::testing::HasSubstr;

class SnapshotCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir("snap").ok());
    ASSERT_TRUE(fs_.SyncDir(".").ok());
  }

  // Writes a snapshot of a random state; returns its path.
  std::string Write(uint32_t shards, int connects, int orders, uint64_t seq = 77) {
    FakeClock clock(kStartMs);
    Engine live(Options(shards, &clock));
    FillRandomState(&live, &clock, seq, connects, orders);
    absl::StatusOr<SnapshotInfo> w = WriteSnapshot(&fs_, "snap", live, [=] { return seq; }, 1);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? w->path : "";
  }

  // Both readers reject the file with DataLoss mentioning every `needles`, and a
  // load leaves the engine empty (every checksum is verified before restoring).
  void ExpectDataLoss(const std::string& path, const std::vector<std::string>& needles) {
    absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(&fs_, path);
    ASSERT_FALSE(info.ok());
    EXPECT_TRUE(absl::IsDataLoss(info.status())) << info.status();
    for (const std::string& n : needles) EXPECT_THAT(info.status().message(), HasSubstr(n));
    FakeClock clock(kStartMs);
    Engine target(Options(4, &clock));
    absl::StatusOr<SnapshotInfo> loaded = LoadSnapshot(&fs_, path, &target);
    ASSERT_FALSE(loaded.ok());
    EXPECT_TRUE(absl::IsDataLoss(loaded.status())) << loaded.status();
    EXPECT_EQ(target.Stats().connections, 0u);
    EXPECT_EQ(target.Stats().remembered_orders, 0u);
  }

  FaultInjectingFileSystem fs_;
};

TEST_F(SnapshotCorruptionTest, FlippedByteIsDataLossNamingFileAndOffset) {
  const std::string path = Write(4, 2000, 1500);
  const std::string name = SnapshotName(77);
  const std::string good = ReadOrDie(&fs_, path);
  absl::StatusOr<SnapshotIndex> index = IndexSnapshot(name, good);
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_GE(index->blocks.size(), 6u);
  const SnapshotBlock& middle = index->blocks[index->blocks.size() / 2];
  const uint64_t trailer = good.size() - kBlockFrameBytes - kTrailerBodyBytes;
  struct Case {
    uint64_t at;
    std::string where;  // The offset the message must name.
  };
  const std::vector<Case> cases = {
      {0, "offset 0"},                                       // Magic.
      {20, "offset 0"},                                      // Order shard count.
      {kSnapshotHeaderCrcOffset + 1, "offset 0"},            // Header CRC.
      {middle.offset + kBlockFrameBytes + 3, absl::StrCat("block at offset ", middle.offset)},
      {middle.records_offset + 100, absl::StrCat("block at offset ", middle.offset)},
      {middle.offset + 5, absl::StrCat("block at offset ", middle.offset)},  // Its CRC.
      {middle.offset + 1, "offset"},                                          // Its length.
      {trailer + kBlockFrameBytes + 10, absl::StrCat("offset ", trailer)},     // Trailer.
      {good.size() - 1, absl::StrCat("offset ", trailer)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("flipped byte at ", c.at));
    std::string bad = good;
    bad[c.at] = static_cast<char>(bad[c.at] ^ 0x40);
    WriteDurable(&fs_, path, bad);
    ExpectDataLoss(path, {name, c.where});
  }
  WriteDurable(&fs_, path, good);
  EXPECT_TRUE(ReadSnapshotInfo(&fs_, path).ok());
}

TEST_F(SnapshotCorruptionTest, EveryByteIsCoveredByAChecksum) {
  // Any single changed byte, anywhere, is DataLoss (the header CRC, the reserved
  // bytes check, the frame CRCs and the chain leave no byte uncovered).
  const std::string path = Write(2, 300, 200);
  const std::string good = ReadOrDie(&fs_, path);
  const uint64_t seed = 4242;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 400; ++i) {
    const size_t at = rng() % good.size();
    const char flip = static_cast<char>(1 + rng() % 255);
    SCOPED_TRACE(absl::StrCat("seed ", seed, " iteration ", i, ": byte ", at, " ^= ",
                              static_cast<int>(static_cast<uint8_t>(flip))));
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ flip);
    WriteDurable(&fs_, path, bad);
    absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(&fs_, path);
    ASSERT_TRUE(absl::IsDataLoss(info.status())) << info.status();
  }
}

TEST_F(SnapshotCorruptionTest, TruncationAtEveryOffsetIsDataLoss) {
  const std::string path = Write(2, 40, 30);
  const std::string good = ReadOrDie(&fs_, path);
  for (size_t n = 0; n < good.size(); ++n) {
    SCOPED_TRACE(absl::StrCat("truncated to ", n, " of ", good.size(), " bytes"));
    WriteDurable(&fs_, path, good.substr(0, n));
    absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(&fs_, path);
    ASSERT_FALSE(info.ok());
    ASSERT_TRUE(absl::IsDataLoss(info.status())) << info.status();
    EXPECT_THAT(info.status().message(),
                AnyOf(HasSubstr(absl::StrCat("truncated at offset ", n)),
                      HasSubstr(absl::StrCat("trailer missing (the file ends at offset ", n))));
  }
  WriteDurable(&fs_, path, good + "junk");
  ExpectDataLoss(path, {"unexpected bytes at offset"});
}

TEST_F(SnapshotCorruptionTest, SwappedValidBlocksAreCaughtByTheChain) {
  // One shard with several blocks: swapping two of them keeps every block checksum
  // and every count right; only the chain notices.
  FakeClock clock(kStartMs);
  Engine live(Options(1, &clock));
  for (int i = 0; i < 12'000; ++i) {
    engine::ConnectRequest r;
    r.shop = 1;
    r.email = absl::StrCat("Customer.Number", i, "@Example.com");
    r.affiliate = 1 + i % 77;
    r.name = "A Reasonably Long Customer Name";
    ASSERT_TRUE(live.Connect(r).ok());
  }
  absl::StatusOr<SnapshotInfo> w = WriteSnapshot(&fs_, "snap", live, [] { return 1; }, 1);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string good = ReadOrDie(&fs_, w->path);
  absl::StatusOr<SnapshotIndex> index = IndexSnapshot("x", good);
  ASSERT_TRUE(index.ok()) << index.status();
  // Blocks 0-3 are the (empty) affiliate directory's, identifier index's, webhook
  // endpoints' and customer directory's (format versions 3, 4 and 5).
  ASSERT_GE(index->blocks.size(), 7u);
  const SnapshotBlock& a = index->blocks[4];
  const SnapshotBlock& b = index->blocks[5];
  ASSERT_EQ(a.type, SnapshotBlockType::kConnections);
  ASSERT_EQ(b.type, SnapshotBlockType::kConnections);
  const size_t a_len = b.offset - a.offset;
  const size_t b_len = index->blocks[6].offset - b.offset;
  const std::string swapped = good.substr(0, a.offset) + good.substr(b.offset, b_len) +
                              good.substr(a.offset, a_len) + good.substr(b.offset + b_len);
  ASSERT_EQ(swapped.size(), good.size());
  WriteDurable(&fs_, w->path, swapped);
  ExpectDataLoss(w->path, {"chain checksum mismatch"});
  // A block left out: the counts no longer add up.
  WriteDurable(&fs_, w->path, good.substr(0, a.offset) + good.substr(b.offset));
  ExpectDataLoss(w->path, {"trailer at offset"});
}

TEST_F(SnapshotCorruptionTest, PolicyOrShardMismatchIsFailedPrecondition) {
  const std::string path = Write(4, 100, 50);
  FakeClock clock(kStartMs);
  Engine standard(Options(4, &clock, nullptr, engine::EmailPolicy::kStandard));
  absl::StatusOr<SnapshotInfo> s = LoadSnapshot(&fs_, path, &standard);
  ASSERT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("email policy provider"));
  EXPECT_THAT(s.status().message(), HasSubstr("the engine uses standard"));
  EXPECT_EQ(standard.Stats().connections, 0u);

  Engine wider(Options(8, &clock));
  s = LoadSnapshot(&fs_, path, &wider);
  ASSERT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("has 4 connection shards"));
  EXPECT_THAT(s.status().message(), HasSubstr("the engine has 8"));

  Engine busy(Options(4, &clock));
  engine::ConnectRequest r;
  r.shop = 1;
  r.email = "a@b.c";
  r.affiliate = 2;
  ASSERT_TRUE(busy.Connect(r).ok());
  s = LoadSnapshot(&fs_, path, &busy);
  ASSERT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("needs an empty engine"));

  // accept() may refuse a verified snapshot before anything is restored.
  Engine fine(Options(4, &clock));
  LoadSnapshotOptions refuse;
  refuse.accept = [](const SnapshotInfo& i) {
    return absl::OutOfRangeError(absl::StrCat("fence ", i.newest_fence));
  };
  s = LoadSnapshot(&fs_, path, &fine, refuse);
  EXPECT_TRUE(absl::IsOutOfRange(s.status())) << s.status();
  EXPECT_EQ(fine.Stats().connections, 0u);
}

TEST(SnapshotCrashTest, CrashAtEveryStepLeavesOldSnapshotOrAVerifiedNewOne) {
  FakeClock clock(kStartMs);
  Engine old_state(Options(16, &clock));
  FillRandomState(&old_state, &clock, 31, 400, 300);
  Engine new_state(Options(16, &clock));
  FillRandomState(&new_state, &clock, 32, 600, 300);
  const snapshot_testing::FullState expected_new = DumpAll(new_state);
  for (const bool torn : {false, true}) {
    for (const uint64_t new_seq : {uint64_t{20}, uint64_t{10}}) {  // 10: same name as old.
      bool succeeded = false;
      int64_t n = 0;
      for (; !succeeded; ++n) {
        const uint64_t seed = 1000 * n + 10 * torn + new_seq;
        SCOPED_TRACE(absl::StrCat("crash after ", n, " ops, torn ", torn, ", new seq ",
                                  new_seq, ", fs seed ", seed));
        ASSERT_LT(n, 1000) << "the write never completed";
        FaultInjectingFileSystem fs(seed);
        ASSERT_TRUE(fs.CreateDir("snap").ok());
        ASSERT_TRUE(fs.SyncDir(".").ok());
        absl::StatusOr<SnapshotInfo> old_snap =
            WriteSnapshot(&fs, "snap", old_state, [] { return 10; }, 1);
        ASSERT_TRUE(old_snap.ok()) << old_snap.status();
        fs.SetTornWrites(torn);
        fs.SetCrashAfter(n);
        absl::StatusOr<SnapshotInfo> new_snap =
            WriteSnapshot(&fs, "snap", new_state, [=] { return new_seq; }, 2);
        succeeded = new_snap.ok();
        fs.DropUnsyncedData();

        absl::StatusOr<std::vector<std::string>> list = ListSnapshots(&fs, "snap");
        ASSERT_TRUE(list.ok()) << list.status();
        bool new_present = false;
        for (const std::string& path : *list) {
          // Never a partial file under a final name.
          absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(&fs, path);
          ASSERT_TRUE(info.ok()) << info.status() << "\n" << fs.DebugString();
          if (info->created_at_ms == 2) {
            new_present = true;
            Engine loaded(Options(16, &clock));
            ASSERT_TRUE(LoadSnapshot(&fs, path, &loaded).ok());
            ASSERT_TRUE(DumpAll(loaded) == expected_new);
          } else {
            ASSERT_EQ(info->created_at_ms, 1);
            ASSERT_EQ(info->connections, old_snap->connections);
          }
        }
        // The old snapshot survives unless the new one replaced it under its name.
        ASSERT_EQ(list->size(), new_seq == 10 || !new_present ? 1u : 2u) << fs.DebugString();
        if (succeeded) {
          ASSERT_TRUE(new_present) << "a successful write must be durable";
        }
        ASSERT_TRUE(RemoveStaleSnapshotTemps(&fs, "snap").ok());
        absl::StatusOr<std::vector<std::string>> names = fs.ListDir("snap");
        ASSERT_TRUE(names.ok());
        ASSERT_EQ(names->size(), list->size());
      }
      // Open, an append per connection shard (16) and one more, sync, rename, sync
      // dir: every one of them was a crash point.
      EXPECT_GE(n, 21);
    }
  }
}

}  // namespace
}  // namespace attrib::persistence
