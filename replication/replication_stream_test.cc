// replication/replication_stream_test.cc
//
// Log shipping over real loopback sockets, in one process: a LogShipper on a
// primary and a ReplicaClient on a replica (each an engine made durable on an
// in-memory file system). A replica follows while the primary writes and reaches
// its exact state, acknowledges what it made durable, follows again after the
// primary's listener restarts (resuming from its own log's end) and after its own
// restart; a replica that has followed a newer epoch refuses an older primary; a
// replica whose records the primary's log no longer keeps is told it needs a
// snapshot. Every wait is bounded and polls the state it waits for.
//
// Thread-safety: the shipper's and client's threads run inside each test.
#include <functional>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "persistence/fault_injecting_file_system.h"
#include "replication/bootstrap.h"
#include "replication/log_shipper.h"
#include "replication/replica_client.h"
#include "replication/replication_test_util.h"

namespace attrib::replication {
namespace {

using testing::Node;

constexpr uint64_t kSeed = 20261203;

// Polls `done` until it holds or 30 s pass.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

struct Primary {
  explicit Primary(persistence::FileSystem* fs, uint64_t epoch = 1,
                   uint64_t snapshot_every = 0)
      : node(fs, "/primary", false, snapshot_every), epoch(epoch) {
    StartShipper("127.0.0.1:0");
  }
  void StartShipper(const std::string& listen) {
    LogShipperOptions o;
    o.listen = listen;
    o.wal_dir = "/primary/wal";
    o.snapshot_dir = "/primary/snapshots";
    o.epoch = epoch;
    o.heartbeat = absl::Milliseconds(50);
    shipper = std::make_unique<LogShipper>(
        node.fs, [this] { return node.durability->durable_seq(); }, o);
    ASSERT_TRUE(shipper->Start().ok());
  }
  Node node;
  const uint64_t epoch;
  std::unique_ptr<LogShipper> shipper;
};

std::unique_ptr<ReplicaClient> Follow(Node* replica, const std::string& primary,
                                      uint64_t epoch = 0) {
  ReplicaClientOptions o;
  o.primary = primary;
  o.epoch = epoch;
  o.retry_max = absl::Milliseconds(200);
  auto c = std::make_unique<ReplicaClient>(
      replica->follower.get(), [replica] { return replica->durability->durable_seq(); }, o);
  c->Start();
  return c;
}

TEST(ReplicationStreamTest, AReplicaFollowsWritesAcknowledgesAndResumesAfterRestarts) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  persistence::FaultInjectingFileSystem fs(1);
  Primary p(&fs);
  Node replica(&fs, "/replica", true);
  engine::replay_testing::RandomWorkload w(p.node.engine.get(), &p.node.clock, kSeed);
  auto client = Follow(&replica, p.shipper->bound_address());

  // Writes while the replica follows.
  for (int i = 0; i < 1500; ++i) w.Step();
  // The client's applied_seq, not the follower's next_seq: the local log numbers a
  // record before the engine applies it, so next_seq alone may run one record ahead
  // of the state compared below (seen under ThreadSanitizer).
  const auto caught_up = [&] {
    const uint64_t last = p.node.durability->last_assigned_seq();
    return replica.follower->next_seq() == last + 1 && client->Status().applied_seq == last &&
           p.node.durability->durable_seq() == last;
  };
  ASSERT_TRUE(Eventually(caught_up)) << client->Status().last_error;
  EXPECT_TRUE(replica.State() == p.node.State());
  EXPECT_TRUE(client->Status().connected);
  EXPECT_EQ(client->Status().epoch, 1u);
  // The primary learns what the replica made durable.
  const uint64_t last = p.node.durability->last_assigned_seq();
  ASSERT_TRUE(Eventually([&] {
    auto r = p.shipper->Replicas();
    return r.size() == 1 && r[0].durable_seq == last && r[0].applied_seq == last;
  }));

  // The primary's listener goes away and comes back on the same address; writes
  // made meanwhile reach the replica on reconnect.
  const std::string address = p.shipper->bound_address();
  p.shipper->Shutdown();
  ASSERT_TRUE(Eventually([&] { return !client->Status().connected; }));
  for (int i = 0; i < 300; ++i) w.Step();
  p.StartShipper(address);
  ASSERT_TRUE(Eventually(caught_up)) << client->Status().last_error;
  EXPECT_TRUE(replica.State() == p.node.State());
  EXPECT_GE(client->Status().reconnects, 1u);

  // The replica restarts: it resumes from its own log's end.
  client->Shutdown();
  replica.Reopen();
  for (int i = 0; i < 300; ++i) w.Step();
  client = Follow(&replica, address);
  ASSERT_TRUE(Eventually(caught_up)) << client->Status().last_error;
  EXPECT_TRUE(replica.State() == p.node.State());
  EXPECT_EQ(replica.follower->skipped(), 0u);
}

TEST(ReplicationStreamTest, AReplicaThatFollowedANewerEpochRefusesAnOlderPrimary) {
  persistence::FaultInjectingFileSystem fs(1);
  Primary p(&fs, /*epoch=*/3);
  Node replica(&fs, "/replica", true);
  auto client = Follow(&replica, p.shipper->bound_address(), /*epoch=*/5);
  ASSERT_TRUE(Eventually([&] { return client->Status().stopped_retrying; }));
  EXPECT_NE(client->Status().last_error.find("epoch 5"), std::string::npos)
      << client->Status().last_error;
  EXPECT_FALSE(client->Status().connected);
}

// A promoted primary (SetEpoch with the record its own epoch began at) refuses a
// replica of an older epoch whose log goes past that record (an old primary's
// unreplicated tail: kDiverged, for good), and serves one whose log ends before it.
TEST(ReplicationStreamTest, APromotedPrimaryRefusesAReplicaWithAnOldPrimarysTail) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  persistence::FaultInjectingFileSystem fs(1);
  Primary p(&fs, /*epoch=*/0);
  engine::replay_testing::RandomWorkload w(p.node.engine.get(), &p.node.clock, kSeed);
  for (int i = 0; i < 50; ++i) w.Step();
  ASSERT_TRUE(Eventually([&] {
    return p.node.durability->durable_seq() == p.node.durability->last_assigned_seq();
  }));
  const uint64_t end = p.node.durability->last_assigned_seq();
  ASSERT_GT(end, 10u);
  // As if this node was promoted at record 10: its own epoch 1 began at 11.
  p.shipper->SetEpoch(1, 11);
  EXPECT_EQ(p.shipper->epoch(), 1u);
  Node replica(&fs, "/replica", true);
  // A replica with nothing (epoch 0) follows: its log ends before record 11.
  auto client = Follow(&replica, p.shipper->bound_address(), /*epoch=*/0);
  ASSERT_TRUE(Eventually([&] { return replica.follower->next_seq() == end + 1; }))
      << client->Status().last_error;
  EXPECT_EQ(client->Status().epoch, 1u);
  client->Shutdown();
  // Now it claims epoch 0 with records past 10 (as an old primary would): refused.
  client = Follow(&replica, p.shipper->bound_address(), /*epoch=*/0);
  ASSERT_TRUE(Eventually([&] { return client->Status().stopped_retrying; }));
  EXPECT_NE(client->Status().last_error.find("never replicated here"), std::string::npos)
      << client->Status().last_error;
  // Having followed epoch 1, it is served again.
  client->Shutdown();
  client = Follow(&replica, p.shipper->bound_address(), /*epoch=*/1);
  ASSERT_TRUE(Eventually([&] { return client->Status().connected; }))
      << client->Status().last_error;
}

TEST(ReplicationStreamTest, AnEmptyReplicaBehindTheKeptLogStartsFromThePrimarysSnapshot) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  persistence::FaultInjectingFileSystem fs(1);
  Primary p(&fs);
  engine::replay_testing::RandomWorkload w(p.node.engine.get(), &p.node.clock, kSeed);
  // Snapshots with writes between (and during: fuzzy fences): retention drops the
  // segments before the older one's fences.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 400; ++i) w.Step();
    std::thread more([&] {
      for (int i = 0; i < 200; ++i) w.Step();
    });
    ASSERT_TRUE(p.node.durability->SnapshotNow().ok());
    more.join();
  }
  ASSERT_TRUE(Eventually([&] {
    return p.node.durability->durable_seq() == p.node.durability->last_assigned_seq();
  }));

  // Following from record 1 is refused: the log no longer reaches back.
  {
    Node empty(&fs, "/empty", true);
    auto client = Follow(&empty, p.shipper->bound_address());
    ASSERT_TRUE(Eventually([&] { return client->Status().stopped_retrying; }));
    EXPECT_NE(client->Status().last_error.find("refused"), std::string::npos)
        << client->Status().last_error;
    EXPECT_EQ(empty.follower->next_seq(), 1u);
  }

  // With the bootstrap before recovery, an empty replica copies the newest snapshot
  // and the records after its oldest fence, recovers to a prefix of the primary and
  // follows on to its exact state while the primary keeps writing.
  ReplicaClientOptions o;
  o.primary = p.shipper->bound_address();
  BootstrapReport report;
  Node replica(&fs, "/replica", true, 0, [&](const persistence::DataDir& dir) {
    auto r = BootstrapIfNeeded(&fs, dir, o);
    ASSERT_TRUE(r.ok()) << r.status();
    report = *r;
  });
  EXPECT_TRUE(report.copied) << report.note;
  EXPECT_GT(report.snapshot_bytes, 0u);
  EXPECT_GT(replica.follower->next_seq(), 1u);
  auto client = Follow(&replica, p.shipper->bound_address());
  for (int i = 0; i < 300; ++i) w.Step();
  ASSERT_TRUE(Eventually([&] {
    return replica.follower->next_seq() == p.node.durability->last_assigned_seq() + 1 &&
           p.node.durability->durable_seq() == p.node.durability->last_assigned_seq();
  })) << client->Status().last_error;
  EXPECT_TRUE(replica.State() == p.node.State());
  // And it restarts from what it copied and followed.
  client->Shutdown();
  replica.Reopen();
  EXPECT_TRUE(replica.State() == p.node.State());

  // A replica with its own log is not bootstrapped again.
  auto again = BootstrapIfNeeded(&fs, replica.durability->data_dir(), o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->copied);
}

}  // namespace
}  // namespace attrib::replication
