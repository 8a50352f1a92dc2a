// tests/replication_e2e_test.cc
//
// Log shipping between real attribd processes (issue 16, first part): a primary
// with --replication_listen and a replica with --replica_of on loopback, each with
// its own data directory. The replica serves every acknowledged write of the
// primary (polled with a bounded deadline, never a sleep), refuses writes with a
// "not_primary:" message naming the primary, survives SIGKILL (it restarts from its
// own log and catches up, including writes made while it was down), and keeps
// following across a primary restart (SIGKILL too: only acknowledged writes are
// durable, and those all reach the replica). After each phase the two agree on
// every key the test wrote.
//
// Thread-safety: one test thread; each attribd is its own process.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"
#include "tests/replication_e2e_util.h"

namespace attrib {
namespace {

using net::Client;
using testing::AttribdProcess;
using testing::RunCommand;

constexpr uint64_t kShop = 1;

using testing::Eventually;
using testing::Metric;
using testing::ReplicationAddress;

class ReplicationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/attrib-replication-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    replica_.reset();
    primary_.reset();
    int status = 0;
    RunCommand("rm -rf '" + root_ + "'", &status);
  }
  void StartPrimary(const std::string& replication_listen = "127.0.0.1:0",
                    const std::string& extra_flag = "--sync_replicas=0") {
    primary_ = std::make_unique<AttribdProcess>(std::vector<std::string>{
        extra_flag,
        "--data_dir=" + root_ + "/primary", "--fsync=always", "--http_listen=",
        "--wal_segment_bytes=4096",  // Small segments: snapshots let old ones go.
        "--replication_listen=" + replication_listen, "--replication_heartbeat=50ms",
        "--metrics_listen=127.0.0.1:0"});
    ASSERT_TRUE(primary_->ok()) << primary_->Stderr();
    replication_ = ReplicationAddress(*primary_);
    ASSERT_FALSE(replication_.empty()) << primary_->banner();
  }
  void StartReplica() {
    replica_ = std::make_unique<AttribdProcess>(std::vector<std::string>{
        "--data_dir=" + root_ + "/replica", "--fsync=always", "--http_listen=",
        "--replica_of=" + replication_, "--replication_retry_max=200ms",
        "--replication_heartbeat=50ms", "--metrics_listen=127.0.0.1:0"});
    ASSERT_TRUE(replica_->ok()) << replica_->Stderr();
    EXPECT_NE(replica_->banner().find("replica of " + replication_), std::string::npos)
        << replica_->banner();
  }
  // Connects n customers c<from>..c<from+n-1> on the primary (each acknowledged).
  void Write(int from, int n, uint64_t affiliate) {
    auto client = testing::Dial(*primary_);
    ASSERT_NE(client, nullptr);
    for (int i = from; i < from + n; ++i) {
      engine::ConnectRequest r;
      r.shop = kShop;
      r.email = absl::StrCat("c", i, "@x.com");
      r.affiliate = affiliate;
      r.mode = engine::ConnectMode::kReassign;
      ASSERT_TRUE(client->Connect(r).ok());
    }
    written_ = std::max(written_, from + n);
  }
  // The affiliate of c<i> on `server` (0: none).
  static uint64_t AffiliateOf(Client& client, int i) {
    auto r = client.Lookup(kShop, absl::StrCat("c", i, "@x.com"));
    if (!r.ok() || !r->get().getLookup().getFound()) return 0;
    return r->get().getLookup().getConnection().getAffiliate();
  }
  // Waits until the replica answers every key as the primary does.
  void ExpectReplicaAgrees() {
    auto p = testing::Dial(*primary_);
    auto r = testing::Dial(*replica_);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(r, nullptr);
    for (int i = 0; i < written_; ++i) {
      const uint64_t want = AffiliateOf(*p, i);
      ASSERT_NE(want, 0u) << "c" << i << " on the primary";
      ASSERT_TRUE(Eventually([&] { return AffiliateOf(*r, i) == want; }))
          << "c" << i << " never reached the replica; replica stderr:\n" << replica_->Stderr();
    }
  }

  std::string root_;
  std::string replication_;
  std::unique_ptr<AttribdProcess> primary_;
  std::unique_ptr<AttribdProcess> replica_;
  int written_ = 0;
};

TEST_F(ReplicationE2eTest, AReplicaServesThePrimarysWritesAndRefusesItsOwn) {
  StartPrimary();
  Write(0, 200, 7);
  StartReplica();
  Write(200, 200, 8);
  ExpectReplicaAgrees();
  // The metrics say so: connected, no lag; the primary counts one replica.
  EXPECT_TRUE(Eventually([&] {
    return Metric(*replica_, "attrib_replication_lag_records") == "0" &&
           Metric(*replica_, "attrib_replication_connected") == "1";
  })) << Metric(*replica_, "attrib_replication_lag_records");
  EXPECT_EQ(Metric(*replica_, "attrib_replication_is_replica"), "1");
  EXPECT_EQ(Metric(*primary_, "attrib_replication_is_replica"), "0");
  EXPECT_EQ(Metric(*primary_, "attrib_replication_replicas"), "1");

  net::ClientOptions no_follow;
  no_follow.follow_not_primary = false;  // tests/replication_failover_test follows.
  auto r = testing::Dial(*replica_, no_follow);
  ASSERT_NE(r, nullptr);
  engine::ConnectRequest c;
  c.shop = kShop;
  c.email = "new@x.com";
  c.affiliate = 9;
  auto refused = r->Connect(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_NE(refused.status().message().find("not_primary"), absl::string_view::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find(replication_), absl::string_view::npos)
      << refused.status();
}

TEST_F(ReplicationE2eTest, AKilledReplicaRestartsFromItsOwnLogAndCatchesUp) {
  StartPrimary();
  StartReplica();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    Write(round * 100, 100, 10 + round);
    ExpectReplicaAgrees();
    replica_->Kill();
    Write(0, 50, 20 + round);  // Reassigned while the replica is down.
    StartReplica();
    ExpectReplicaAgrees();
  }
}

TEST_F(ReplicationE2eTest, AnEmptyReplicaStartsFromThePrimarysSnapshot) {
  StartPrimary();
  // Writes and two snapshots: the primary's log no longer starts at record 1.
  for (int round = 0; round < 2; ++round) {
    Write(round * 200, 200, 5 + round);
    auto client = testing::Dial(*primary_);
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Snapshot().ok());
  }
  Write(100, 100, 9);  // Reassigned after the snapshots.
  StartReplica();
  EXPECT_NE(replica_->Stderr().find("copied the primary's snapshot"), std::string::npos)
      << replica_->Stderr();
  Write(400, 100, 10);  // While the replica follows.
  ExpectReplicaAgrees();
  replica_->Kill();  // It restarts from its own copy, not the primary's again.
  StartReplica();
  ExpectReplicaAgrees();
}

// Connects `email` on the primary in a thread: the reply may be held.
struct HeldWrite {
  HeldWrite(const AttribdProcess& primary, std::string email) {
    thread = std::thread([this, &primary, email] {
      net::ClientOptions o;
      o.timeout = absl::Minutes(3);
      auto client = testing::Dial(primary, o);
      engine::ConnectRequest r;
      r.shop = kShop;
      r.email = email;
      r.affiliate = 77;
      result = client == nullptr ? absl::UnavailableError("dial") : client->Connect(r).status();
      done.store(true);
    });
  }
  ~HeldWrite() {
    if (thread.joinable()) thread.join();
  }
  std::thread thread;
  std::atomic<bool> done{false};
  absl::Status result;
};

TEST_F(ReplicationE2eTest, WithSyncReplicasAWriteWaitsUntilAReplicaHasItDurable) {
  StartPrimary("127.0.0.1:0", "--sync_replicas=1");
  EXPECT_NE(primary_->banner().find("sync replicas 1"), std::string::npos) << primary_->banner();
  const auto held = [&] {
    const std::string v = Metric(*primary_, "attrib_durability_oldest_wait_seconds");
    return !v.empty() && v != "0";
  };
  {
    // No replica: the write is applied and in the primary's log, but not acknowledged.
    HeldWrite w(*primary_, "first@x.com");
    ASSERT_TRUE(Eventually(held)) << primary_->Stderr();
    EXPECT_FALSE(w.done.load());
    StartReplica();  // It copies the record and makes it durable: the reply comes.
    w.thread.join();
    EXPECT_TRUE(w.result.ok()) << w.result;
  }
  auto r = testing::Dial(*replica_);
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(Eventually([&] {
    auto got = r->Lookup(kShop, "first@x.com");
    return got.ok() && got->get().getLookup().getFound();
  }));
  {
    // The replica stopped (SIGSTOP): the next write waits until it runs again.
    ASSERT_EQ(::kill(replica_->pid(), SIGSTOP), 0);
    HeldWrite w(*primary_, "second@x.com");
    ASSERT_TRUE(Eventually(held)) << primary_->Stderr();
    EXPECT_FALSE(w.done.load());
    ASSERT_EQ(::kill(replica_->pid(), SIGCONT), 0);
    w.thread.join();
    EXPECT_TRUE(w.result.ok()) << w.result;
  }
  // Without --replication_listen the flag is refused at startup, naming it.
  int status = 0;
  const std::string out = RunCommand(
      absl::StrCat(ATTRIBD_PATH, " --sync_replicas=1 --listen=127.0.0.1:0 --http_listen= "
                   "--data_dir=", root_, "/refused 2>&1"),
      &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("sync_replicas: needs --replication_listen"), std::string::npos) << out;
}

TEST_F(ReplicationE2eTest, TheReplicaFollowsAKilledAndRestartedPrimary) {
  StartPrimary();
  StartReplica();
  Write(0, 150, 3);
  ExpectReplicaAgrees();
  const std::string address = replication_;
  primary_->Kill();
  StartPrimary(address);  // The same data directory and replication address.
  Write(150, 150, 4);
  ExpectReplicaAgrees();
}

}  // namespace
}  // namespace attrib
