// tests/durability_wait_test.cc
//
// Issue 11: after a restart, a request that writes nothing (a no-op connect, a
// duplicate order, a disconnect or reverse of nothing, a settings put that changes
// nothing) must be answered at once, and so must every request queued behind it on
// the same connection. A write request's reply waits until the log is durable up to
// the newest sequence number handed out; a server that did not know what recovery
// had already made durable waited for a commit that never came.
//
// Every test runs against real attribd processes on one data directory: the server
// is seeded, stopped (SIGTERM: drain and final snapshot; SIGKILL: log replay at the
// next start; the test parameter), started again, and then asked. Every wait is
// bounded by the client's timeout (kReplyTimeout): on the old code the request
// times out, on the fixed code it is answered in milliseconds. No sleeps.
//
// Thread-safety: single-threaded (the servers are other processes).
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/attribd_process.h"

namespace attrib {
namespace {

using net::Client;
using net::ClientOptions;
using testing::AttribdProcess;
using testing::RunCommand;

// Long enough for a loaded sanitizer build to answer a no-op many times over; short
// enough that a stalled reply fails the test instead of the ctest timeout.
constexpr absl::Duration kReplyTimeout = absl::Seconds(10);
constexpr uint64_t kShop = 1;

enum class Restart { kSigterm, kSigkill };

std::string RestartName(const ::testing::TestParamInfo<Restart>& info) {
  return info.param == Restart::kSigterm ? "AfterSigterm" : "AfterSigkill";
}

engine::ConnectRequest Connect(std::string email, uint64_t affiliate) {
  engine::ConnectRequest r;
  r.shop = kShop;
  r.email = std::move(email);
  r.affiliate = affiliate;
  return r;
}

engine::AttributeRequest Order(std::string order_id, std::string email) {
  engine::AttributeRequest r;
  r.shop = kShop;
  r.order_id = std::move(order_id);
  r.email = std::move(email);
  return r;
}

// The reply arrived (ok, or an error answered by the server), not a time-out.
void ExpectAnswered(const absl::Status& s, absl::string_view what,
                    const AttribdProcess& server) {
  EXPECT_FALSE(net::IsConnectionError(s))
      << what << ": no reply (" << s << "); server stderr:\n" << server.Stderr();
}

class DurabilityWaitTest : public ::testing::TestWithParam<Restart> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/attrib-durability-wait-XXXXXX";
    root_ = mkdtemp(tmpl);
    dir_ = root_ + "/data";
  }
  void TearDown() override {
    client_.reset();
    server_.reset();  // SIGKILL if still running, before its directory goes.
    int status = 0;
    RunCommand("rm -rf '" + root_ + "'", &status);
  }

  std::unique_ptr<AttribdProcess> Start(const std::string& dir,
                                        std::vector<std::string> flags = {}) {
    flags.push_back("--data_dir=" + dir);
    flags.push_back("--fsync=always");
    auto server = std::make_unique<AttribdProcess>(flags);
    EXPECT_TRUE(server->ok()) << server->Stderr();
    return server;
  }
  std::unique_ptr<Client> Dial(const AttribdProcess& server) {
    ClientOptions options;
    options.timeout = kReplyTimeout;
    auto client = Client::Connect(server.address(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  // Stops the server the way the test parameter says.
  void StopServer(std::unique_ptr<AttribdProcess> server) {
    if (GetParam() == Restart::kSigterm) {
      EXPECT_EQ(server->Stop(), 0) << server->Stderr();
    } else {
      server->Kill();
    }
  }
  // jane -> 42 with one counted order "o-1", 30-day validity; `extra` more customers.
  void Seed(Client& client, int extra = 0) {
    ASSERT_TRUE(client.Connect(Connect("jane@x.com", 42)).ok());
    ASSERT_TRUE(client.Attribute(Order("o-1", "jane@x.com")).ok());
    engine::ShopSettingsPatch patch;
    patch.validity_days = 30;
    ASSERT_TRUE(client.PutSettings(kShop, patch).ok());
    for (int i = 0; i < extra; ++i) {
      ASSERT_TRUE(client.Connect(Connect(absl::StrCat("c", i, "@x.com"), 7)).ok());
    }
  }
  // A seeded server on dir_, stopped per the parameter, then started again.
  std::unique_ptr<AttribdProcess> SeededAndRestarted(std::vector<std::string> flags = {},
                                                     int extra = 0) {
    auto first = Start(dir_, flags);
    if (!first->ok()) return first;
    auto client = Dial(*first);
    if (client == nullptr) return first;
    Seed(*client, extra);
    client.reset();
    StopServer(std::move(first));
    return Start(dir_, flags);
  }
  // SeededAndRestarted() into server_, and client_ dialled to it.
  bool SeedRestartAndDial() {
    server_ = SeededAndRestarted();
    if (!server_->ok()) return false;
    client_ = Dial(*server_);
    return client_ != nullptr;
  }
  // Every no-op write kind, each followed by a ping, on one connection.
  void ExpectNoOpsAnswered(const AttribdProcess& server) {
    auto client = Dial(server);
    ASSERT_NE(client, nullptr);
    auto connected = client->Connect(Connect("jane@x.com", 42));
    ExpectAnswered(connected.status(), "no-op connect", server);
    if (connected.ok()) {
      EXPECT_EQ(connected->get().getConnect().getOutcome(),
                net::wire::ConnectResult::Outcome::UNCHANGED);
    }
    auto duplicate = client->Attribute(Order("o-1", "jane@x.com"));
    ExpectAnswered(duplicate.status(), "duplicate order", server);
    if (duplicate.ok()) {
      EXPECT_TRUE(duplicate->get().getAttribute().getDuplicate());
    }
    ExpectAnswered(client->Ping().status(), "ping after the no-ops", server);
  }

  std::string root_;
  std::string dir_;
  std::unique_ptr<AttribdProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(DurabilityWaitTest, NoOpConnectIsAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  auto r = client_->Connect(Connect("jane@x.com", 42));
  ExpectAnswered(r.status(), "connect to the current affiliate", *server_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->get().getConnect().getOutcome(), net::wire::ConnectResult::Outcome::UNCHANGED);
}

TEST_P(DurabilityWaitTest, DuplicateOrderIsAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  auto r = client_->Attribute(Order("o-1", "jane@x.com"));
  ExpectAnswered(r.status(), "the same order id again", *server_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->get().getAttribute().getDuplicate());
  EXPECT_EQ(r->get().getAttribute().getDecision().getAffiliate(), 42u);
}

TEST_P(DurabilityWaitTest, NotFoundDisconnectIsAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  auto r = client_->Disconnect(kShop, "nobody@x.com");
  ExpectAnswered(r.status(), "disconnect of a customer without a connection", *server_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
}

TEST_P(DurabilityWaitTest, NotFoundReverseIsAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  auto r = client_->Reverse(kShop, "never-seen");
  ExpectAnswered(r.status(), "reverse of an unknown order", *server_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  // A repeated reverse of a reversed order is a no-op too.
  ASSERT_TRUE(client_->Reverse(kShop, "o-1").ok());
  auto again = client_->Reverse(kShop, "o-1");
  ExpectAnswered(again.status(), "reverse of a reversed order", *server_);
}

TEST_P(DurabilityWaitTest, UnchangedSettingsPutIsAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  engine::ShopSettingsPatch same;
  same.validity_days = 30;
  auto r = client_->PutSettings(kShop, same);
  ExpectAnswered(r.status(), "settings put that changes nothing", *server_);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectAnswered(client_->PutSettings(kShop, engine::ShopSettingsPatch{}).status(),
                 "empty settings put", *server_);
}

// Replies come back in request order, so a stalled no-op would hold every read
// pipelined behind it.
TEST_P(DurabilityWaitTest, ReadsRightAfterANoOpAreAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  capnp::MallocMessageBuilder connect, lookup, explain;
  auto c = connect.initRoot<net::wire::Request>();
  c.setId(1);
  Client::FillConnect(Connect("jane@x.com", 42), c.initConnect());
  auto l = lookup.initRoot<net::wire::Request>();
  l.setId(2);
  l.initLookup().setShop(kShop);
  l.getLookup().setEmail("jane@x.com");
  auto e = explain.initRoot<net::wire::Request>();
  e.setId(3);
  e.initExplain().setShop(kShop);
  e.getExplain().setOrderId("o-1");
  ASSERT_TRUE(client_->Send(connect).ok());
  ASSERT_TRUE(client_->Send(lookup).ok());
  ASSERT_TRUE(client_->Send(explain).ok());
  for (uint64_t id = 1; id <= 3; ++id) {
    auto reply = client_->Receive();
    ExpectAnswered(reply.status(), absl::StrCat("pipelined request ", id), *server_);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->get().getId(), id);
    EXPECT_FALSE(reply->get().isError()) << reply->get().getError().getMessage().cStr();
  }
}

TEST_P(DurabilityWaitTest, SnapshotRequestIsAnswered) {
  ASSERT_TRUE(SeedRestartAndDial());
  auto r = client_->Snapshot();
  ExpectAnswered(r.status(), "snapshot", *server_);
  EXPECT_TRUE(r.ok()) << r.status();
  ExpectNoOpsAnswered(*server_);
}

// Small segments: the recovered log spans several, and the writes after the restart
// roll more before the no-ops.
TEST_P(DurabilityWaitTest, NoOpsRightAfterASegmentRollAreAnswered) {
  const std::vector<std::string> flags = {"--wal_segment_bytes=4096"};
  auto server = SeededAndRestarted(flags, /*extra=*/200);
  ASSERT_TRUE(server->ok());
  ExpectNoOpsAnswered(*server);
  auto client = Dial(*server);
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(client->Connect(Connect(absl::StrCat("d", i, "@x.com"), 8)).ok());
  }
  ExpectNoOpsAnswered(*server);
}

// A log damaged in the middle: --recover=point-in-time keeps the valid prefix. The
// no-ops are answered on that start and on the next one (stopped per the parameter).
TEST_P(DurabilityWaitTest, NoOpsAfterPointInTimeRecoveryAreAnswered) {
  const std::vector<std::string> flags = {"--wal_segment_bytes=4096",
                                          "--snapshot_every_bytes=0"};
  {
    auto first = Start(dir_, flags);
    ASSERT_TRUE(first->ok());
    auto client = Dial(*first);
    ASSERT_NE(client, nullptr);
    Seed(*client, /*extra=*/300);
    first->Kill();  // The whole log stays: no final snapshot.
  }
  // Flip a byte in the middle of the second segment.
  int status = 0;
  const std::string second = RunCommand(
      "ls '" + dir_ + "/wal' | sort | sed -n 2p | tr -d '\\n'", &status);
  ASSERT_FALSE(second.empty()) << "expected several log segments";
  const std::string path = dir_ + "/wal/" + second;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << path;
    f.seekp(2000);
    f.put('\x5a');
  }
  std::vector<std::string> pit = flags;
  pit.push_back("--recover=point-in-time");
  auto recovered = Start(dir_, pit);
  ASSERT_TRUE(recovered->ok());
  ExpectNoOpsAnswered(*recovered);
  StopServer(std::move(recovered));
  auto again = Start(dir_, flags);
  ASSERT_TRUE(again->ok());
  ExpectNoOpsAnswered(*again);
}

// attrib-restore restore: the copy is served with the no-ops answered.
TEST_P(DurabilityWaitTest, NoOpsOnARestoredDirectoryAreAnswered) {
  {
    auto first = Start(dir_);
    ASSERT_TRUE(first->ok());
    auto client = Dial(*first);
    ASSERT_NE(client, nullptr);
    Seed(*client, /*extra=*/20);
    StopServer(std::move(first));
  }
  const std::string restored = root_ + "/restored";
  int status = 0;
  const std::string out = RunCommand(
      absl::StrCat(ATTRIB_RESTORE_PATH, " restore '", dir_, "' --to='", restored, "' 2>&1"),
      &status);
  ASSERT_EQ(status, 0) << out;
  auto server = Start(restored);
  ASSERT_TRUE(server->ok());
  ExpectNoOpsAnswered(*server);
}

// attrib-restore import into a new directory: the first start serves it at once.
TEST_P(DurabilityWaitTest, NoOpsOnAnImportedDirectoryAreAnswered) {
  const std::string csv = root_ + "/rows.csv";
  {
    std::ofstream f(csv);
    f << "email,affiliate_id,name\n";
    for (int i = 0; i < 50; ++i) f << "i" << i << "@x.com,9,Customer " << i << "\n";
  }
  const std::string imported = root_ + "/imported";
  int status = 0;
  const std::string out = RunCommand(
      absl::StrCat(ATTRIB_RESTORE_PATH, " import '", csv, "' --to='", imported,
                   "' --shop=1 2>&1"),
      &status);
  ASSERT_EQ(status, 0) << out;
  for (int start = 0; start < 2; ++start) {
    SCOPED_TRACE(start == 0 ? "first start on the imported directory" : "after a restart");
    auto server = Start(imported);
    ASSERT_TRUE(server->ok());
    auto client = Dial(*server);
    ASSERT_NE(client, nullptr);
    auto r = client->Connect(Connect("i7@x.com", 9));
    ExpectAnswered(r.status(), "no-op connect of an imported row", *server);
    ExpectAnswered(client->Disconnect(kShop, "nobody@x.com").status(),
                   "disconnect of nobody", *server);
    ExpectAnswered(client->Ping().status(), "ping", *server);
    if (start == 0) StopServer(std::move(server));
  }
}

INSTANTIATE_TEST_SUITE_P(Restarts, DurabilityWaitTest,
                         ::testing::Values(Restart::kSigterm, Restart::kSigkill), RestartName);

}  // namespace
}  // namespace attrib
