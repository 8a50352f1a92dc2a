// persistence/change_feed_test.cc
//
// The change feed's reader against logs written by the real Durability layer (on the
// fault-injecting file system, small segments so that reads cross segment rolls): a
// random workload's mutations come back in order with their sequence numbers, read
// at once or in small resumed chunks while writes go on; nothing past the durable
// sequence number; a sequence number deleted by snapshot retention is OutOfRange,
// and read from the archive when there is one; a damaged record is DataLoss naming
// the file and offset.
//
// Thread-safety: single-threaded tests (the log writer's commit thread runs inside).
#include "persistence/change_feed.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"
#include "persistence/durability.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_format.h"

namespace attrib::persistence {
namespace {

using engine::FakeClock;
using engine::Mutation;

constexpr uint64_t kSeed = 20261201;

// Records every mutation, in log order, on its way to the Durability.
class Tee : public engine::MutationSink {
 public:
  void OnMutation(const Mutation& m) override {
    target->OnMutation(m);
    log.push_back(m);
  }
  Durability* target = nullptr;
  std::vector<Mutation> log;  // log[i] has seq i + 1 (a fresh directory).
};

struct Writer {
  explicit Writer(FileSystem* fs, std::string archive = "") : clock(1'700'000'000'000) {
    DurabilityOptions o;
    o.data_dir = "/data";
    o.meta.shard_count = 4;
    o.segment_bytes = 4096;
    o.snapshot_every_bytes = 0;
    o.wal_archive = std::move(archive);
    durability = *Durability::Open(fs, o);
    tee.target = durability.get();
    engine::EngineOptions eo;
    eo.shard_count = 4;
    eo.order_window_ms = 30 * engine::kMsPerDay;
    eo.clock = &clock;
    eo.sink = &tee;
    engine = std::make_unique<engine::Engine>(eo);
    EXPECT_TRUE(durability->RecoverAndStart(engine.get()).ok());
    durability->SetDurableCallback([this](uint64_t seq) { durable.store(seq); });
  }
  // `n` random steps, waiting (on the durable callback) after every 10 until they
  // are durable: many commits, so that segments roll (they roll between batches).
  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      workload.Step();
      if (i % 10 == 9 || i == n - 1) {
        while (durable.load() < tee.log.size()) std::this_thread::yield();
      }
    }
  }
  FakeClock clock;
  Tee tee;
  std::unique_ptr<Durability> durability;
  std::unique_ptr<engine::Engine> engine;
  engine::replay_testing::RandomWorkload workload{nullptr, nullptr, kSeed};
  std::atomic<uint64_t> durable{0};
};

// The records must be log[from-1 ..] exactly.
void ExpectMatches(const std::vector<ChangeRecord>& got, const std::vector<Mutation>& log,
                   uint64_t from) {
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].seq, from + i);
    ASSERT_LE(got[i].seq, log.size());
    ASSERT_TRUE(got[i].mutation == log[got[i].seq - 1]) << "seq " << got[i].seq;
  }
}

TEST(ChangeFeedTest, EveryChangeInOrderAcrossSegmentsAtOnceOrInResumedChunks) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  FaultInjectingFileSystem fs(1);
  Writer w(&fs);
  w.workload = engine::replay_testing::RandomWorkload(w.engine.get(), &w.clock, kSeed);
  w.Write(400);
  ASSERT_GE(fs.ListDir("/data/wal")->size(), 3u) << "the log should span several segments";

  ChangeFeed all(&fs, "/data/wal");
  auto everything = all.Read(1, w.durable.load(), 100000);
  ASSERT_TRUE(everything.ok()) << everything.status();
  ASSERT_EQ(everything->size(), w.tee.log.size());
  ExpectMatches(*everything, w.tee.log, 1);

  // A consumer reading 7 at a time while the writer goes on (the tail is followed
  // into segments created after the consumer started).
  ChangeFeed chunks(&fs, "/data/wal");
  uint64_t next = 1;
  for (int round = 0; round < 6; ++round) {
    for (;;) {
      auto got = chunks.Read(next, w.durable.load(), 7);
      ASSERT_TRUE(got.ok()) << got.status();
      if (got->empty()) break;
      ExpectMatches(*got, w.tee.log, next);
      next += got->size();
    }
    EXPECT_EQ(next, w.durable.load() + 1);
    w.Write(150);
  }
  ASSERT_TRUE(w.durability->Shutdown(false).ok());
}

TEST(ChangeFeedTest, NothingPastDurableAndAnEmptyReadAtTheEnd) {
  FaultInjectingFileSystem fs(1);
  Writer w(&fs);
  w.workload = engine::replay_testing::RandomWorkload(w.engine.get(), &w.clock, kSeed);
  w.Write(50);
  ChangeFeed feed(&fs, "/data/wal");
  auto part = feed.Read(1, 20, 1000);  // The caller's durable view says 20.
  ASSERT_TRUE(part.ok()) << part.status();
  ASSERT_EQ(part->size(), 20u);
  ExpectMatches(*part, w.tee.log, 1);
  auto none = feed.Read(21, 20, 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto rest = feed.Read(21, w.durable.load(), 1000);  // Resumes from the cursor.
  ASSERT_TRUE(rest.ok()) << rest.status();
  ExpectMatches(*rest, w.tee.log, 21);
  EXPECT_EQ(21 + rest->size(), w.durable.load() + 1);
  // Starting anywhere in the middle works too (a fresh reader seeks).
  ChangeFeed middle(&fs, "/data/wal");
  auto mid = middle.Read(33, w.durable.load(), 5);
  ASSERT_TRUE(mid.ok()) << mid.status();
  ExpectMatches(*mid, w.tee.log, 33);
  ASSERT_TRUE(w.durability->Shutdown(false).ok());
}

TEST(ChangeFeedTest, RetainedSegmentsOnlyUnlessArchived) {
  for (const bool archive : {false, true}) {
    SCOPED_TRACE(archive ? "with --wal_archive" : "without an archive");
    FaultInjectingFileSystem fs(1);
    Writer w(&fs, archive ? "/archive" : "");
    w.workload = engine::replay_testing::RandomWorkload(w.engine.get(), &w.clock, kSeed);
    // Two snapshots with writes between: retention drops what the older one covers.
    for (int i = 0; i < 3; ++i) {
      w.Write(300);
      ASSERT_TRUE(w.durability->SnapshotNow().ok());
    }
    ChangeFeed feed(&fs, "/data/wal", archive ? "/archive" : "");
    auto got = feed.Read(1, w.durable.load(), 100000);
    if (archive) {
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->size(), w.tee.log.size());
      ExpectMatches(*got, w.tee.log, 1);
    } else {
      ASSERT_EQ(got.status().code(), absl::StatusCode::kOutOfRange) << got.status();
      EXPECT_NE(got.status().message().find("start from a snapshot"), absl::string_view::npos);
    }
    ASSERT_TRUE(w.durability->Shutdown(false).ok());
  }
}

TEST(ChangeFeedTest, ADamagedRecordIsDataLossNamingFileAndOffset) {
  FaultInjectingFileSystem fs(1);
  uint64_t durable = 0;
  {
    Writer w(&fs);
    w.workload = engine::replay_testing::RandomWorkload(w.engine.get(), &w.clock, kSeed);
    w.Write(300);
    durable = w.durable.load();
    ASSERT_TRUE(w.durability->Shutdown(false).ok());
  }
  auto names = fs.ListDir("/data/wal");
  ASSERT_GE(names->size(), 2u);
  const std::string victim = JoinPath("/data/wal", (*names)[1]);
  std::string bytes = *fs.ReadFile(victim);
  bytes[kSegmentHeaderBytes + kRecordHeaderBytes + 1] ^= 0x10;  // First record's payload.
  ASSERT_TRUE(fs.Remove(victim).ok());
  auto f = fs.OpenForAppend(victim, true);
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Close().ok());
  ChangeFeed feed(&fs, "/data/wal");
  auto got = feed.Read(1, durable, 100000);
  ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  EXPECT_NE(got.status().message().find(victim), absl::string_view::npos) << got.status();
  EXPECT_NE(got.status().message().find("offset 32"), absl::string_view::npos) << got.status();
}

}  // namespace
}  // namespace attrib::persistence
