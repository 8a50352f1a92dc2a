// persistence/durability_test.cc
//
// The durability layer end to end on the fault-injecting file system: engine +
// Durability (log, group commit, snapshots, recovery) under a random workload, then a
// simulated power loss at a random point (SetCrashAfter + DropUnsyncedData), then
// recovery into a fresh engine. Every change acknowledged as durable must be there,
// and the recovered state must be exactly the state after some prefix of the
// mutation sequence (never a mix). Also: a full disk (ENOSPC) refuses writes, loses
// nothing acknowledged and resumes by itself; corruption is refused with file and
// offset unless point-in-time recovery; a missing segment; the directory lock; the
// email policy recorded in META.
//
// Thread-safety: single-threaded tests (the log writer's commit thread runs inside).
#include "persistence/durability.h"

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_format.h"

namespace attrib::persistence {
namespace {

using engine::Engine;
using engine::EngineOptions;
using engine::FakeClock;
using engine::Mutation;
using engine::replay_testing::Dump;
using engine::replay_testing::RandomWorkload;

constexpr char kDir[] = "/data";

// Forwards to the Durability and remembers every mutation with its sequence number,
// so a test can compute the state after any prefix.
class TeeSink : public engine::MutationSink {
 public:
  void OnMutation(const Mutation& m) override {
    target->OnMutation(m);
    log.push_back(m);
  }
  Durability* target = nullptr;
  std::vector<Mutation> log;  // log[i] has seq first_seq + i.
};

EngineOptions Options(const engine::Clock* clock, engine::MutationSink* sink) {
  EngineOptions o;
  o.shard_count = 8;
  o.order_window_ms = 4 * engine::kMsPerDay;
  o.clock = clock;
  o.sink = sink;
  return o;
}

DurabilityOptions DOptions(uint64_t segment_bytes = 4096) {
  DurabilityOptions o;
  o.data_dir = kDir;
  o.meta.shard_count = 8;
  o.segment_bytes = segment_bytes;
  o.snapshot_every_bytes = 0;
  return o;
}

// A live engine on a Durability over `fs`, with a tee recording the mutations.
struct Live {
  Live(FileSystem* fs, const DurabilityOptions& options, const engine::Clock* clock) {
    auto d = Durability::Open(fs, options);
    EXPECT_TRUE(d.ok()) << d.status();
    durability = *std::move(d);
    tee.target = durability.get();
    engine = std::make_unique<Engine>(Options(clock, &tee));
    auto report = durability->RecoverAndStart(engine.get());
    EXPECT_TRUE(report.ok()) << report.status();
    first_seq = report.ok() ? report->next_seq : 1;
    durability->SetDurableCallback([this](uint64_t seq) { acked.store(seq); });
  }
  // Waits (on the durable callback, not a clock) until every change so far is durable.
  void WaitAcked() {
    const uint64_t want = first_seq - 1 + tee.log.size();
    while (acked.load() < want) std::this_thread::yield();
  }
  std::unique_ptr<Durability> durability;
  TeeSink tee;
  std::unique_ptr<Engine> engine;
  uint64_t first_seq = 1;
  std::atomic<uint64_t> acked{0};
};

// Recovers `fs` into a fresh engine; returns the report (and the engine).
absl::StatusOr<RecoveryReport> RecoverFresh(FileSystem* fs, const DurabilityOptions& options,
                                            std::unique_ptr<Engine>* out) {
  auto d = Durability::Open(fs, options);
  if (!d.ok()) return d.status();
  static FakeClock clock(5);
  *out = std::make_unique<Engine>(Options(&clock, d->get()));
  auto report = (*d)->RecoverAndStart(out->get());
  if (report.ok()) (void)(*d)->Shutdown(false);
  return report;
}

TEST(DurabilityTest, RandomCrashPointsLoseNothingAcknowledged) {
  int crashes_that_lost_something = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    FaultInjectingFileSystem fs(seed);
    fs.SetTornWrites(true);
    FakeClock clock(1'700'000'000'000);
    std::vector<Mutation> mutations;  // Everything ever made, in seq order.
    uint64_t acked = 0;
    {
      Live live(&fs, DOptions(2048 + rng() % 4096), &clock);
      RandomWorkload work(live.engine.get(), &clock, seed);
      const int steps = 300 + static_cast<int>(rng() % 700);
      const int crash_at = static_cast<int>(rng() % steps);
      for (int i = 0; i < steps; ++i) {
        if (i == crash_at) fs.SetCrashAfter(static_cast<int64_t>(rng() % 20));
        work.Step();
        if (i % 97 == 0) (void)live.durability->SnapshotNow();
      }
      (void)live.durability->Shutdown(false);
      acked = live.acked.load();
      mutations = live.tee.log;
      ASSERT_EQ(live.first_seq, 1u);
    }
    fs.DropUnsyncedData();  // Power loss: only what was synced survives.
    fs.ClearFaults();
    std::unique_ptr<Engine> recovered;
    absl::StatusOr<RecoveryReport> report = RecoverFresh(&fs, DOptions(), &recovered);
    ASSERT_TRUE(report.ok()) << report.status() << "\n" << fs.DebugString();
    // Every acknowledged change is there...
    ASSERT_GE(report->last_seq, acked);
    ASSERT_LE(report->last_seq, mutations.size());
    // ...and the state is exactly the one after that prefix.
    FakeClock other(9);
    Engine reference(Options(&other, nullptr));
    for (uint64_t s = 0; s < report->last_seq; ++s) {
      ASSERT_TRUE(reference.Apply(mutations[s]).ok());
    }
    ASSERT_TRUE(Dump(*recovered) == Dump(reference)) << "last_seq " << report->last_seq;
    if (report->last_seq < mutations.size()) ++crashes_that_lost_something;
  }
  // The crash points really cut into the workload (else this test proves little).
  EXPECT_GE(crashes_that_lost_something, 6);
}

// A crash after every single file operation of a snapshot that also deletes covered
// log segments (temp written, synced, log flushed, renamed, dir synced, old
// snapshot removed, segments deleted): recovery always yields every acknowledged
// change, and exactly a prefix of the mutation sequence.
TEST(DurabilityTest, CrashAtEveryStepOfSnapshotAndSegmentDeletion) {
  bool completed = false;
  int64_t iterations = 0;
  for (int64_t crash_after = 0; !completed && crash_after < 400; ++crash_after) {
    ++iterations;
    SCOPED_TRACE(testing::Message() << "crash after " << crash_after << " operations");
    FaultInjectingFileSystem fs(7);
    FakeClock clock(1'700'000'000'000);
    std::vector<Mutation> mutations;
    uint64_t acked = 0;
    {
      Live live(&fs, DOptions(/*segment_bytes=*/700), &clock);
      RandomWorkload work(live.engine.get(), &clock, 5);
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 60; ++i) {
          work.Step();
          live.WaitAcked();  // Small batches: several segments per round.
        }
        if (round < 2) {
          ASSERT_TRUE(live.durability->SnapshotNow().ok());
        }
      }
      const size_t segments_before = fs.ListDir("/data/wal")->size();
      const int64_t ops_before = fs.mutating_ops();
      fs.SetCrashAfter(crash_after);
      completed = live.durability->SnapshotNow().ok() &&
                  fs.mutating_ops() - ops_before <= crash_after;
      if (completed) {
        // The completed snapshot did delete covered segments: the sweep crossed it.
        EXPECT_LT(fs.ListDir("/data/wal")->size(), segments_before) << fs.DebugString();
      }
      (void)live.durability->Shutdown(false);
      acked = live.acked.load();
      mutations = live.tee.log;
    }
    fs.DropUnsyncedData();
    std::unique_ptr<Engine> recovered;
    absl::StatusOr<RecoveryReport> report = RecoverFresh(&fs, DOptions(), &recovered);
    ASSERT_TRUE(report.ok()) << report.status() << "\n" << fs.DebugString();
    ASSERT_GE(report->last_seq, acked);
    FakeClock other(9);
    Engine reference(Options(&other, nullptr));
    for (uint64_t s = 0; s < report->last_seq; ++s) ASSERT_TRUE(reference.Apply(mutations[s]).ok());
    ASSERT_TRUE(Dump(*recovered) == Dump(reference));
  }
  EXPECT_TRUE(completed) << "the sweep never reached a snapshot that completes";
  EXPECT_GT(iterations, 10);  // Every operation of the path was a crash point.
}

TEST(DurabilityTest, FullDiskRefusesWritesKeepsReadsAndResumes) {
  FaultInjectingFileSystem fs(1);
  FakeClock clock(1'700'000'000'000);
  Live live(&fs, DOptions(), &clock);
  engine::ConnectRequest c;
  c.shop = 1;
  c.affiliate = 2;
  c.email = "before@x.com";
  ASSERT_TRUE(live.engine->Connect(c).ok());
  ASSERT_TRUE(live.durability->SnapshotNow().ok());  // Flushes everything before.
  fs.FailWrites(absl::StatusCode::kUnavailable, "No space left on device", -1);
  c.email = "during@x.com";
  ASSERT_TRUE(live.engine->Connect(c).ok());  // Applied; its batch fails and waits.
  // The failure is reported to whoever asks before the next write.
  absl::Status can;
  for (int i = 0; i < 1'000'000 && (can = live.durability->CanWrite()).ok(); ++i) {
  }
  ASSERT_FALSE(can.ok());
  EXPECT_NE(can.message().find("No space left on device"), absl::string_view::npos) << can;
  EXPECT_TRUE(live.engine->Lookup(1, "before@x.com")->found);  // Reads go on.
  const uint64_t during_seq = live.tee.log.size();
  EXPECT_LT(live.acked.load(), during_seq);  // Not acknowledged while failing.
  fs.ClearFaults();  // Space is back: the writer retries by itself.
  while (live.acked.load() < during_seq) {
  }
  EXPECT_TRUE(live.durability->CanWrite().ok());
  (void)live.durability->Shutdown(false);
  fs.DropUnsyncedData();
  std::unique_ptr<Engine> recovered;
  ASSERT_TRUE(RecoverFresh(&fs, DOptions(), &recovered).ok());
  EXPECT_TRUE(recovered->Lookup(1, "during@x.com")->found);
}

TEST(DurabilityTest, CorruptionIsRefusedWithFileAndOffsetUnlessPointInTime) {
  FaultInjectingFileSystem fs(1);
  FakeClock clock(1'700'000'000'000);
  {
    Live live(&fs, DOptions(/*segment_bytes=*/600), &clock);
    for (int i = 0; i < 40; ++i) {
      engine::ConnectRequest c;
      c.shop = 1;
      c.affiliate = 1 + i;
      c.email = absl::StrCat("c", i, "@x.com");
      ASSERT_TRUE(live.engine->Connect(c).ok());
      live.WaitAcked();  // One batch per record, so that segments roll.
    }
    ASSERT_TRUE(live.durability->Shutdown(false).ok());
  }
  auto names = fs.ListDir("/data/wal");
  ASSERT_TRUE(names.ok());
  ASSERT_GE(names->size(), 3u) << fs.DebugString();
  // Flip a byte inside the first record of the second segment.
  const std::string victim = JoinPath("/data/wal", (*names)[1]);
  std::string bytes = *fs.ReadFile(victim);
  bytes[kSegmentHeaderBytes + kRecordHeaderBytes + 3] ^= 0x40;
  ASSERT_TRUE(fs.Remove(victim).ok());
  auto f = fs.OpenForAppend(victim, true);
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(fs.SyncDir("/data/wal").ok());

  std::unique_ptr<Engine> recovered;
  absl::StatusOr<RecoveryReport> strict = RecoverFresh(&fs, DOptions(), &recovered);
  ASSERT_EQ(strict.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(strict.status().message().find(victim), absl::string_view::npos) << strict.status();
  EXPECT_NE(strict.status().message().find("offset 32"), absl::string_view::npos)
      << strict.status();

  DurabilityOptions pitr = DOptions();
  pitr.point_in_time_recovery = true;
  absl::StatusOr<RecoveryReport> kept = RecoverFresh(&fs, pitr, &recovered);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_FALSE(kept->quarantined.empty());
  EXPECT_GT(kept->last_seq, 0u);
  EXPECT_LT(kept->last_seq, 40u);
  EXPECT_EQ(recovered->Stats().connections, kept->last_seq);
  // The quarantined rest is set aside, and a restart now succeeds in strict mode.
  EXPECT_TRUE(RecoverFresh(&fs, DOptions(), &recovered).ok());
}

// Connects c0@x.com .. c<n-1>@x.com to affiliate 1 of shop 1, each acknowledged
// before the next.
void ConnectAcked(Live& live, int n) {
  for (int i = 0; i < n; ++i) {
    engine::ConnectRequest c;
    c.shop = 1;
    c.affiliate = 1;
    c.email = absl::StrCat("c", i, "@x.com");
    ASSERT_TRUE(live.engine->Connect(c).ok());
    live.WaitAcked();
  }
}

TEST(DurabilityTest, MissingSegmentIsAGap) {
  FaultInjectingFileSystem fs(1);
  FakeClock clock(1'700'000'000'000);
  {
    Live live(&fs, DOptions(/*segment_bytes=*/600), &clock);
    ConnectAcked(live, 40);
    ASSERT_TRUE(live.durability->Shutdown(false).ok());
  }
  auto names = fs.ListDir("/data/wal");
  ASSERT_TRUE(fs.Remove(JoinPath("/data/wal", (*names)[1])).ok());
  std::unique_ptr<Engine> recovered;
  absl::StatusOr<RecoveryReport> r = RecoverFresh(&fs, DOptions(), &recovered);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("are missing"), absl::string_view::npos) << r.status();
}

TEST(DurabilityTest, OneServerPerDirectoryAndThePolicyIsPinned) {
  FaultInjectingFileSystem fs(1);
  auto first = Durability::Open(&fs, DOptions());
  ASSERT_TRUE(first.ok());
  auto second = Durability::Open(&fs, DOptions());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  DurabilityOptions other = DOptions();
  other.meta.email_policy = engine::EmailPolicy::kStandard;
  auto refused = Durability::Open(&fs, other);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--email_policy=provider"), absl::string_view::npos)
      << refused.status();
}

// What the metrics read: log bytes, fsyncs with one duration each, the last snapshot.
TEST(DurabilityTest, StatsCountLogBytesFsyncsAndSnapshots) {
  FaultInjectingFileSystem fs(1);
  FakeClock clock(1'700'000'000'000);
  Live live(&fs, DOptions(), &clock);
  DurabilityStats before = live.durability->Stats();
  EXPECT_EQ(before.log_bytes_written, 0u);
  EXPECT_EQ(before.fsync_durations.count(), before.fsyncs);
  EXPECT_TRUE(before.last_snapshot.path.empty());
  ConnectAcked(live, 5);
  EXPECT_EQ(live.durability->last_assigned_seq(), live.first_seq + 4);
  const DurabilityStats after = live.durability->Stats();
  EXPECT_GT(after.log_bytes_written, 0u);
  EXPECT_GE(after.fsyncs, before.fsyncs + 1);  // --fsync=always: at least one batch.
  EXPECT_EQ(after.fsync_durations.count(), after.fsyncs);
  ASSERT_TRUE(live.durability->SnapshotNow().ok());
  const DurabilityStats snapped = live.durability->Stats();
  EXPECT_EQ(snapped.snapshots, 1u);
  EXPECT_GT(snapped.last_snapshot.bytes, 0u);
  EXPECT_EQ(snapped.last_snapshot.connections, 5u);
  ASSERT_TRUE(live.durability->Shutdown(false).ok());
}

}  // namespace
}  // namespace attrib::persistence

namespace attrib::persistence {
namespace {

// Issue 11: a durable-callback listener set after recovery is told at once what
// recovery made durable, so a reply waiting for a recovered sequence number (the
// newest one handed out, for a write request that changed nothing) is never held
// until some later commit.
TEST(DurabilityTest, DurableCallbackStartsFromWhatRecoveryFound) {
  FaultInjectingFileSystem fs(1);
  FakeClock clock(1'700'000'000'000);
  uint64_t before_restart = 0;
  {
    Live live(&fs, DOptions(), &clock);
    EXPECT_EQ(live.acked.load(), 0u);  // An empty directory: nothing durable yet.
    ConnectAcked(live, 5);
    before_restart = live.durability->last_assigned_seq();
    ASSERT_TRUE(live.durability->Shutdown(false).ok());
  }
  Live again(&fs, DOptions(), &clock);
  ASSERT_EQ(again.first_seq, before_restart + 1);
  // No write since the restart, yet the listener already knows.
  EXPECT_EQ(again.acked.load(), before_restart);
  EXPECT_EQ(again.durability->last_assigned_seq(), before_restart);
  ASSERT_TRUE(again.durability->Shutdown(false).ok());
}

}  // namespace
}  // namespace attrib::persistence
