// tests/server_robustness_test.cc
//
// attribd under load and hostile input, end to end against a real process:
// 10,000 pipelined requests answered in order, 50 concurrent clients, malformed
// frames (random bytes, a segment table claiming 2^32 words or 2^29 segments, a
// frame over the limit, a truncated frame then close) that never disturb another
// client, a client that never reads its replies (server memory stays bounded), the
// connection limit, the idle timeout, and SIGTERM draining.
//
// Synchronization is on events (replies, EOF, a socket that stops accepting bytes),
// never on sleeps; the poll timeouts below only bound how long a broken server
// could hang the suite.
//
// Thread-safety: the concurrency test runs one client per thread.
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "net/frame.h"
#include "tests/attribd_process.h"
#include "tests/pipeline_check.h"
#include "tests/raw_socket.h"

namespace attrib {
namespace {

using net::Client;
using testing::AttribdProcess;
using testing::Dial;
using testing::RawSocket;

constexpr int kBoundMs = 30'000;  // Only bounds a hang; never a synchronization.


using testing::LookupFrame;

void ExpectServing(const AttribdProcess& server) {
  auto other = Dial(server);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Ping().ok()) << "server stopped serving; stderr: " << server.Stderr();
}

TEST(ServerRobustnessTest, TenThousandPipelinedRequestsAnsweredInOrder) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  auto client = Dial(server);
  ASSERT_NE(client, nullptr);
  testing::ExpectPipelinedRepliesInOrder(client.get(), 10'000);
}

TEST(ServerRobustnessTest, FiftyConcurrentClients) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 50; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect(server.address(), net::ClientOptions{});
      if (!c.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < 200; ++i) {
        engine::ConnectRequest req;
        req.shop = 1 + t;
        req.email = absl::StrCat("c", i, "@t", t, ".com");
        req.affiliate = 1 + i;
        auto r = (*c)->Connect(req);
        auto l = (*c)->Lookup(1 + t, req.email);
        if (!r.ok() || !l.ok() || l->get().getLookup().getConnection().getAffiliate() !=
                                      static_cast<uint64_t>(1 + i)) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto stats = Dial(server)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->get().getStats().getConnections(), 50u * 200u);
}

// Sends `bytes` on a fresh connection, half-closes, and returns what came back
// before the server closed it.
std::string SendHostile(const AttribdProcess& server, const std::string& bytes,
                        bool* closed) {
  RawSocket raw(server.address());
  EXPECT_TRUE(raw.connected());
  raw.SendAll(bytes);
  raw.ShutdownWrite();
  return raw.ReadUntilClosed(kBoundMs, closed);
}

std::string Table(std::vector<uint32_t> fields) {
  return std::string(reinterpret_cast<const char*>(fields.data()), fields.size() * 4);
}

TEST(ServerRobustnessTest, MalformedFramesGetAnErrorAndACloseOthersUnaffected) {
  AttribdProcess server({"--max_frame_bytes=4096"});
  ASSERT_TRUE(server.ok());
  auto bystander = Dial(server);
  ASSERT_NE(bystander, nullptr);
  size_t frames = 0;
  bool closed = false;

  // A segment table claiming 2^29 segments: refused from its first 4 bytes.
  std::string reply = SendHostile(server, Table({(1u << 29) - 1}), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:invalid_argument");
  // One segment of 2^32-1 words: over the frame limit.
  reply = SendHostile(server, Table({0, 0xffffffffu}), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:resource_exhausted");
  // A real frame just over the limit (with a body).
  std::string big = Table({0, 4096 / 8});
  big.resize(big.size() + 4096, '\0');
  reply = SendHostile(server, big, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:resource_exhausted");
  // A well-framed message whose root pointer points out of the segment.
  std::string garbage = Table({0, 1}) + std::string("\x00\x00\x00\x00\xff\x7f\x00\x00", 8);
  reply = SendHostile(server, garbage, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:invalid_argument");
  // A truncated frame then EOF: nothing to answer, the connection is closed.
  const std::string lookup = LookupFrame(5, "jane@x.com");
  reply = SendHostile(server, lookup.substr(0, lookup.size() / 2), &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(reply.empty());
  // A valid request followed by garbage: the request is answered, then the error.
  reply = SendHostile(server, lookup + Table({1u << 30}), &closed);
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "5:ok 0:invalid_argument");

  // Random bytes (fixed seed): whatever they decode to, the server answers or
  // closes, and keeps serving.
  const uint64_t seed = 20261121;
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 50; ++round) {
    std::string junk(1 + rng() % 2000, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    SendHostile(server, junk, &closed);
    EXPECT_TRUE(closed) << "seed " << seed << " round " << round;
  }
  EXPECT_TRUE(bystander->Ping().ok()) << server.Stderr();
  ExpectServing(server);
}

TEST(ServerRobustnessTest, AClientThatNeverReadsCannotGrowServerMemory) {
  AttribdProcess server({"--max_queued_output_bytes=65536"});
  ASSERT_TRUE(server.ok());
  auto setup = Dial(server);
  ASSERT_NE(setup, nullptr);
  RawSocket slow(server.address());
  ASSERT_TRUE(slow.connected());
  testing::ExpectNeverReadingClientIsPaused(
      server, setup.get(), [&slow](const std::string& burst, int stall_ms, size_t max) {
        return slow.SendUntilStalled(burst, stall_ms, max);
      });
  ExpectServing(server);
}

TEST(ServerRobustnessTest, ConnectionsOverTheLimitAreRefusedOthersUnaffected) {
  AttribdProcess server({"--max_connections=3"});
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Dial(server));
    ASSERT_TRUE(clients.back()->Ping().ok());
  }
  RawSocket extra(server.address());
  bool closed = false;
  const std::string reply = extra.ReadUntilClosed(kBoundMs, &closed);
  size_t frames = 0;
  EXPECT_TRUE(closed);
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:resource_exhausted");
  for (auto& c : clients) EXPECT_TRUE(c->Ping().ok());
  clients.pop_back();  // Frees a slot once the server sees the close...
  auto again = Dial(server);
  // ...which may take a moment: retry on refusal only, bounded by the attempts.
  bool served = again != nullptr && again->Ping().ok();
  for (int attempt = 0; !served && attempt < 1000; ++attempt) {
    again = Dial(server);
    served = again != nullptr && again->Ping().ok();
  }
  EXPECT_TRUE(served);
}

TEST(ServerRobustnessTest, IdleConnectionsAreClosed) {
  AttribdProcess server({"--idle_timeout=1s"});
  ASSERT_TRUE(server.ok());
  RawSocket idle(server.address());
  bool closed = false;
  idle.ReadUntilClosed(kBoundMs, &closed);
  EXPECT_TRUE(closed);
  ExpectServing(server);
}

TEST(ServerRobustnessTest, SigtermFinishesWhatWasReadAndExitsZero) {
  // Requests the server had not read yet when it drained make it linger (this
  // client reads only after the exit): 1 s instead of --linger_timeout's 5.
  AttribdProcess server({"--linger_timeout=1s"});
  ASSERT_TRUE(server.ok());
  auto client = Dial(server);
  ASSERT_NE(client, nullptr);
  constexpr uint64_t kRequests = 2000;
  for (uint64_t i = 1; i <= kRequests; ++i) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<net::wire::Request>();
    r.setId(i);
    r.setPing();
    ASSERT_TRUE(client->Send(m).ok());
  }
  ASSERT_TRUE(client->Flush().ok());
  auto first = client->Receive();
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->get().getId(), 1u);
  const int exit_code = server.Stop();
  // Replies keep coming in order until the server closes: a prefix, no gap, then
  // shutdown's unavailable error (id 0), then EOF.
  uint64_t next = 2;
  bool told = false;
  for (;;) {
    auto reply = client->Receive();
    if (!reply.ok()) break;
    ASSERT_FALSE(told) << "a reply after the shutdown error";
    if (reply->get().getId() == 0) {
      ASSERT_TRUE(reply->get().isError());
      EXPECT_EQ(reply->get().getError().getCode(), net::wire::ErrorCode::UNAVAILABLE);
      told = true;
      continue;
    }
    ASSERT_EQ(reply->get().getId(), next);
    ++next;
  }
  EXPECT_TRUE(told) << "no unavailable error after the last reply";
  EXPECT_EQ(exit_code, 0) << server.Stderr();
  RawSocket after(server.address());
  EXPECT_FALSE(after.connected());
}

}  // namespace
}  // namespace attrib
