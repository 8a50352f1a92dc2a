// replication/follower_test.cc
//
// The Follower against real logs (fault-injecting, in-memory file system): a random
// workload's log read back from the primary with the change feed and applied to a
// replica leaves the same state; a repeat is skipped and a gap is DataLoss with
// nothing applied; the replica restarts from its own directory and resumes; and the
// replica's own snapshots, taken while it applies, recover to the same state (the
// capture gate: without it a snapshot piece could carry a record its fence says it
// lacks, or miss one it says it has).
//
// Thread-safety: single-threaded tests, except the snapshot test's snapshot thread.
#include "replication/follower.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "persistence/change_feed.h"
#include "persistence/fault_injecting_file_system.h"
#include "replication/replication_test_util.h"

namespace attrib::replication {
namespace {

using testing::Node;

constexpr uint64_t kSeed = 20261202;

// Writes `n` workload steps on the primary and waits until they are durable.
void Write(Node* primary, engine::replay_testing::RandomWorkload* w, int n) {
  for (int i = 0; i < n; ++i) w->Step();
  while (primary->durable.load() < primary->durability->last_assigned_seq()) {
    std::this_thread::yield();
  }
}

// Feeds the replica up to `chunk` records the primary has made durable; how many.
size_t FollowOnce(Node* primary, Node* replica, persistence::ChangeFeed* feed, size_t chunk) {
  auto got = feed->Read(replica->follower->next_seq(), primary->durable.load(), chunk);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!got.ok()) return 0;
  for (const persistence::ChangeRecord& r : *got) {
    absl::Status s = replica->follower->Apply(r.seq, r.mutation);
    EXPECT_TRUE(s.ok()) << "seq " << r.seq << ": " << s;
    if (!s.ok()) return 0;
  }
  return got->size();
}

// Feeds the replica everything the primary has made durable, `chunk` at a time.
void Follow(Node* primary, Node* replica, persistence::ChangeFeed* feed, size_t chunk) {
  while (FollowOnce(primary, replica, feed, chunk) > 0) {
  }
}

// A primary and a replica on one file system, the workload and a change feed.
class FollowerTest : public ::testing::Test {
 protected:
  persistence::FaultInjectingFileSystem fs{1};
  Node primary{&fs, "/primary", false};
  Node replica{&fs, "/replica", true};
  engine::replay_testing::RandomWorkload w{primary.engine.get(), &primary.clock, kSeed};
  persistence::ChangeFeed feed{&fs, "/primary/wal"};
};

TEST_F(FollowerTest, TheReplicaReachesThePrimarysStateAndResumesAfterARestart) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);

  Write(&primary, &w, 300);
  Follow(&primary, &replica, &feed, 17);
  EXPECT_EQ(replica.follower->next_seq(), primary.durability->last_assigned_seq() + 1);
  EXPECT_TRUE(replica.State() == primary.State());

  replica.Reopen();  // A restart: recovery from its own log.
  EXPECT_EQ(replica.follower->next_seq(), primary.durability->last_assigned_seq() + 1);
  EXPECT_TRUE(replica.State() == primary.State());

  Write(&primary, &w, 300);
  persistence::ChangeFeed again(&fs, "/primary/wal");  // A new connection's reader.
  Follow(&primary, &replica, &again, 1000);
  EXPECT_TRUE(replica.State() == primary.State());
  // The replica's log is the primary's: it recovers to the same state again.
  replica.Reopen();
  EXPECT_TRUE(replica.State() == primary.State());
}

TEST_F(FollowerTest, ARepeatIsSkippedAndAGapAppliesNothing) {
  Write(&primary, &w, 60);
  auto records = feed.Read(1, primary.durable.load(), 1000);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_GE(records->size(), 10u);

  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(replica.follower->Apply((*records)[i].seq, (*records)[i].mutation).ok());
  }
  // After a reconnect the primary may send what the replica has: skipped, counted.
  ASSERT_TRUE(replica.follower->Apply((*records)[3].seq, (*records)[3].mutation).ok());
  EXPECT_EQ(replica.follower->skipped(), 1u);
  EXPECT_EQ(replica.follower->next_seq(), 6u);
  // Record 8 before 6 and 7: a gap, refused, naming both numbers; nothing changes.
  const auto before = replica.State();
  absl::Status gap = replica.follower->Apply((*records)[7].seq, (*records)[7].mutation);
  EXPECT_EQ(gap.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(gap.message().find("record 8"), absl::string_view::npos) << gap;
  EXPECT_NE(gap.message().find("needs 6"), absl::string_view::npos) << gap;
  EXPECT_EQ(replica.follower->next_seq(), 6u);
  EXPECT_TRUE(replica.State() == before);
  EXPECT_EQ(replica.follower->applied(), 5u);
}

TEST_F(FollowerTest, SnapshotsTakenWhileFollowingRecoverToTheSameState) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  Write(&primary, &w, 200);

  // 60 rounds: snapshots back to back on the replica while it applies in small
  // steps (the primary writing more when it runs out), until 3 snapshots were taken
  // during the stream; then a restart, which recovers from the newest of them.
  for (int round = 0; round < 60; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    std::atomic<bool> done{false};
    std::atomic<int> snapshots{0};
    std::thread snapshotter([&] {
      while (!done.load()) {
        auto info = replica.durability->SnapshotNow();
        ASSERT_TRUE(info.ok()) << info.status();
        snapshots.fetch_add(1);
      }
    });
    while (snapshots.load() < 3) {
      if (FollowOnce(&primary, &replica, &feed, 3) == 0) Write(&primary, &w, 20);
      if (::testing::Test::HasFailure()) break;
    }
    done.store(true);
    snapshotter.join();
    Follow(&primary, &replica, &feed, 1000);
    ASSERT_TRUE(replica.State() == primary.State());
    // Recovery = the newest snapshot + the log after its fences.
    replica.Reopen();
    ASSERT_TRUE(replica.State() == primary.State());
  }
}

}  // namespace
}  // namespace attrib::replication
