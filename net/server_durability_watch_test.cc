// net/server_durability_watch_test.cc
//
// The server's durability watch (issue 11, item 3): a reply held for durability shows
// in ServerFacts::oldest_durability_wait_ms (the `stats` reply, /metrics), and one
// held past --durability_stall_warning while the log has nothing left to commit is
// logged as a stall. The stall is made on purpose: fake durability hooks say the log
// is durable up to seq 5 and nothing is pending, but the server is never told
// (NotifyDurable), which is exactly the state of issue 11's bug. Then NotifyDurable
// releases the reply and the gauge returns to 0.
//
// A real Server on loopback, in process, spoken to over a plain socket (net/client.h
// and net/server.h both define HostPort, so this test frames requests itself); every
// wait polls an observable event or reads with a timeout, never a sleep as
// synchronization.
//
// Thread-safety: the test thread drives; the server runs its own threads.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "capnp/message.h"
#include "capnp/serialize.h"
#include "common/log.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "net/frame.h"
#include "net/handler.h"
#include "net/server.h"

namespace attrib::net {
namespace {

// The log says: durable up to `durable`, handed out up to `assigned`.
class FakeHooks final : public DurabilityHooks {
 public:
  absl::Status CanWrite() override { return absl::OkStatus(); }
  uint64_t LastAssignedSeq() override { return assigned.load(); }
  uint64_t DurableSeq() override { return durable.load(); }
  std::atomic<uint64_t> assigned{5};
  std::atomic<uint64_t> durable{5};
};

// Polls `done` until it holds or `limit` passes (then fails).
template <typename F>
bool Eventually(F done, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// One client connection: requests framed with EncodeFrame, replies read with a 20 s
// receive timeout (a read that times out throws, failing the test).
class Conn {
 public:
  explicit Conn(const std::string& address) {
    const size_t colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  ~Conn() { close(fd_); }
  bool ok() const { return ok_; }
  void Send(const std::function<void(wire::Request::Builder)>& fill) {
    capnp::MallocMessageBuilder m;
    auto req = m.initRoot<wire::Request>();
    req.setId(++id_);
    fill(req);
    const kj::Array<capnp::word> words = EncodeFrame(m);
    const kj::ArrayPtr<const char> bytes = words.asChars();
    ASSERT_EQ(write(fd_, bytes.begin(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // The next reply (kj throws if none arrives within the receive timeout).
  std::unique_ptr<capnp::StreamFdMessageReader> Receive() {
    return std::make_unique<capnp::StreamFdMessageReader>(fd_);
  }
  void SendConnect(const std::string& email) {
    Send([&](wire::Request::Builder r) {
      auto c = r.initConnect();
      c.setShop(1);
      c.setEmail(email);
      c.setAffiliate(9);
    });
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  uint64_t id_ = 0;
};

class ServerDurabilityWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pipe2(log_pipe_, O_NONBLOCK | O_CLOEXEC), 0);
    log::SetOutputFd(log_pipe_[1]);
    engine::EngineOptions eo;
    eo.shard_count = 4;
    engine_ = std::make_unique<engine::Engine>(eo);
    HandlerOptions ho;
    ho.durability = &hooks_;
    ho.server_facts = [this] { return server_->Facts(); };
    handler_ = std::make_unique<RequestHandler>(engine_.get(), ho);
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.threads = 2;
    so.durability = &hooks_;
    so.durability_stall_warning = absl::Milliseconds(100);
    server_ = std::make_unique<Server>(handler_.get(), so);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Shutdown();
    server_->Wait();
    log::SetOutputFd(2);
    close(log_pipe_[0]);
    close(log_pipe_[1]);
  }
  std::unique_ptr<Conn> Dial() {
    auto c = std::make_unique<Conn>(server_->bound_address());
    EXPECT_TRUE(c->ok());
    return c->ok() ? std::move(c) : nullptr;
  }
  int64_t StatsWaitMs(Conn& conn) {
    conn.Send([](wire::Request::Builder r) { r.setStats(); });
    auto reply = conn.Receive();
    auto resp = reply->getRoot<wire::Response>();
    EXPECT_TRUE(resp.isStats());
    return resp.isStats() ? resp.getStats().getOldestDurabilityWaitMs() : -1;
  }
  // Appends whatever the log pipe holds to log_; returns it.
  const std::string& ReadLog() {
    char buf[4096];
    for (ssize_t n; (n = read(log_pipe_[0], buf, sizeof buf)) > 0;) log_.append(buf, n);
    return log_;
  }
  int log_pipe_[2] = {-1, -1};
  std::string log_;
  FakeHooks hooks_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerDurabilityWatchTest, NoReplyWaitingIsZero) {
  server_->NotifyDurable(5);
  auto client = Dial();
  ASSERT_NE(client, nullptr);
  client->SendConnect("jane@x.com");
  // Released at once: seq 5 is durable.
  EXPECT_TRUE(client->Receive()->getRoot<wire::Response>().isConnect());
  EXPECT_EQ(server_->Facts().oldest_durability_wait_ms, 0);
  EXPECT_EQ(StatsWaitMs(*client), 0);
}

TEST_F(ServerDurabilityWatchTest, AStalledReplyShowsInTheGaugeAndTheLog) {
  // The server was never told that seq 5 is durable: the reply is held.
  auto writer = Dial();
  ASSERT_NE(writer, nullptr);
  writer->SendConnect("jane@x.com");
  ASSERT_TRUE(Eventually([&] { return server_->Facts().oldest_durability_wait_ms > 150; }))
      << "the gauge never showed the held reply";
  // Another client sees it in `stats` (reads never wait behind another connection).
  auto reader = Dial();
  ASSERT_NE(reader, nullptr);
  EXPECT_GT(StatsWaitMs(*reader), 0);
  // The log has nothing left to commit: the watch says replies are stalled.
  ASSERT_TRUE(Eventually([&] { return ReadLog().find("replies are stalled") != std::string::npos; }))
      << ReadLog();
  EXPECT_NE(log_.find("for log seq 5"), std::string::npos) << log_;
  EXPECT_NE(log_.find("WARNING"), std::string::npos) << log_;

  // Once told, the reply leaves and the gauge is back to 0.
  server_->NotifyDurable(5);
  EXPECT_TRUE(writer->Receive()->getRoot<wire::Response>().isConnect());
  ASSERT_TRUE(Eventually([&] { return server_->Facts().oldest_durability_wait_ms == 0; }));
}

TEST_F(ServerDurabilityWatchTest, AReplyWaitingForAPendingCommitIsNotAStall) {
  // Seq 6 is handed out but not yet durable: the log still has work, so a long wait
  // is slowness (a slow disk), shown by the gauge but not logged as a stall.
  hooks_.assigned = 6;
  server_->NotifyDurable(5);
  auto writer = Dial();
  ASSERT_NE(writer, nullptr);
  writer->SendConnect("jane@x.com");  // Waits for 6.
  ASSERT_TRUE(Eventually([&] { return server_->Facts().oldest_durability_wait_ms > 600; }));
  EXPECT_EQ(ReadLog().find("stalled"), std::string::npos) << log_;
  hooks_.durable = 6;
  server_->NotifyDurable(6);
  EXPECT_TRUE(writer->Receive()->getRoot<wire::Response>().isConnect());
  ASSERT_TRUE(Eventually([&] { return server_->Facts().oldest_durability_wait_ms == 0; }));
}

// The log's commit thread may report durability while the server is still starting
// (a replica commits what it follows before the listeners are up): NotifyDurable
// racing Start() must be safe. TSan (tools/test.sh --tsan) reported a data race on
// the server's context list here before the fix; afterwards the reported value is
// what a write's reply sees.
TEST_F(ServerDurabilityWatchTest, NotifyDurableWhileAnotherServerStarts) {
  ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = 2;
  so.durability = &hooks_;
  Server starting(handler_.get(), so);
  std::atomic<bool> started{false};
  std::thread committer([&] {
    for (uint64_t seq = 1; !started.load() || seq < 1000; ++seq) starting.NotifyDurable(seq);
  });
  ASSERT_TRUE(starting.Start().ok());
  started.store(true);
  committer.join();
  starting.Shutdown();
  starting.Wait();
}

}  // namespace
}  // namespace attrib::net
