// tests/lingering_close_test.cc
//
// Issue 17, end to end against a real attribd: a reply that ends a connection
// reaches the client even while the client is still sending (net/lingering_close.h).
// Closing with unread request bytes makes the kernel reset the connection, and the
// reset can destroy the reply before the client reads it; so every case here keeps
// sending after the server has decided to close, and asserts the reply is read, many
// times over (the loss is a race: it showed in about half of the attempts):
//  - a whole 1.2 MiB frame over the 1 MiB --max_frame_bytes, 200 times;
//  - a malformed segment table followed by 512 KiB of garbage, 200 times;
//  - a well-framed message that is not a Request, followed by requests;
//  - requests before `auth` on a server with a token, and a wrong token;
//  - a connection over --max_connections that sends requests at once;
//  - SIGTERM while a client streams requests: its replies, then `unavailable`;
//  - the idle timeout with part of a frame received: `deadline_exceeded`;
//  - a client that streams garbage forever is closed within --linger_max_bytes or
//    --linger_timeout, and the server's memory does not grow meanwhile.
// The metrics port's 431, 400, 413 and 503 are checked the same way (TLS:
// tls_test.cc).
//
// Rounds run on a few threads at once (each its own connection); poll timeouts only
// bound how long a broken server could hang the suite, never synchronize.
//
// Thread-safety: RunRounds' threads each use their own socket.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "capnp/message.h"
#include "gtest/gtest.h"
#include "net/attrib.capnp.h"
#include "net/frame.h"
#include "tests/attribd_process.h"
#include "tests/pipeline_check.h"
#include "tests/raw_socket.h"

namespace attrib {
namespace {

using testing::AttribdProcess;
using testing::Dial;
using testing::LookupFrame;
using testing::RawSocket;

constexpr int kBoundMs = 30'000;  // Only bounds a hang; never a synchronization.
constexpr int kThreads = 4;
// The clients' SO_SNDBUF (RawSocket::SetSendBuffer): the request is still being
// sent when the server answers, as over a real network.
constexpr int kClientSendBuffer = 64 << 10;

// Runs `round(i)` for i in [0, rounds) on `threads_wanted` threads; a round returns
// "" or what went wrong. Reports the first few failures and returns how many failed.
int RunRounds(int rounds, const std::function<std::string(int)>& round,
              int threads_wanted = kThreads) {
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_wanted; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < rounds; i = next++) {
        std::string failure = round(i);
        if (failure.empty()) continue;
        ++failed;
        std::lock_guard<std::mutex> lock(mu);
        if (failures.size() < 5) failures.push_back(absl::StrCat("round ", i, ": ", failure));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& f : failures) ADD_FAILURE() << f;
  return failed.load();
}

// One connection, as a simple client does it: sends all of `request` (the server
// may stop reading it after its first bytes: then the lingering close discards the
// rest), then reads until the server closes. Returns the responses read, as
// DescribeResponses() writes them, and says so when the connection was reset: a
// client whose write fails with "connection reset" (the bug) gives up there, never
// reading the reply that may sit in its receive buffer.
std::string SendThenRead(const std::string& address, const std::string& request) {
  RawSocket raw(address);
  if (!raw.connected()) return "not connected";
  raw.SetSendBuffer(kClientSendBuffer);
  const bool sent = raw.SendAll(request);
  bool closed = false;
  bool reset = false;
  const std::string reply = raw.ReadUntilClosed(kBoundMs, &closed, &reset);
  size_t frames = 0;
  std::string described = testing::DescribeResponses(reply, &frames);
  if (!sent) absl::StrAppend(&described, " (the request's write was reset)");
  if (reset) absl::StrAppend(&described, " (reset, not EOF, after it)");
  return described;
}

// Fails a round unless `got` is `want`.
std::string Expect(const std::string& got, const std::string& want) {
  return got == want ? "" : absl::StrCat("got '", got, "', want '", want, "'");
}

std::string Words(std::vector<uint32_t> fields) {
  return std::string(reinterpret_cast<const char*>(fields.data()), fields.size() * 4);
}

// A frame of one segment of `bytes` (a multiple of 8) zero bytes.
std::string FrameOfBytes(size_t bytes) {
  return Words({0, static_cast<uint32_t>(bytes / 8)}) + std::string(bytes, '\0');
}

// `bytes` random bytes (seeded) after a segment table claiming 2^32 segments.
std::string Garbage(size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string junk = Words({0xffffffffu});
  junk.resize(4 + bytes);
  for (size_t i = 4; i < junk.size(); ++i) junk[i] = static_cast<char>(rng());
  return junk;
}

std::string Repeat(const std::string& frame, int times) {
  std::string out;
  out.reserve(frame.size() * times);
  for (int i = 0; i < times; ++i) out += frame;
  return out;
}

std::string RequestFrame(uint64_t id, const std::function<void(net::wire::Request::Builder)>& set) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<net::wire::Request>();
  r.setId(id);
  set(r);
  const kj::Array<capnp::word> words = net::EncodeFrame(m);
  return std::string(words.asChars().begin(), words.asChars().size());
}

std::string PingFrame(uint64_t id) {
  return RequestFrame(id, [](net::wire::Request::Builder r) { r.setPing(); });
}

TEST(LingeringCloseTest, AWholeOversizedFrameGetsItsErrorEveryTime) {
  AttribdProcess server;  // --max_frame_bytes 1 MiB.
  ASSERT_TRUE(server.ok());
  const std::string frame = FrameOfBytes(1'258'288);  // 1.2 MiB.
  EXPECT_EQ(RunRounds(200,
                      [&](int) {
                        return Expect(SendThenRead(server.address(), frame),
                                      "0:resource_exhausted");
                      }),
            0);
  auto other = Dial(server);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Ping().ok()) << server.Stderr();
}

TEST(LingeringCloseTest, TheClientLibraryGetsTheServersErrorForAnOversizedBatch) {
  // What a user of net::Client sees: a lookupBatch of 10,000 emails of 120 bytes
  // (~1.3 MiB) fails with the server's resource_exhausted error, not with
  // "connection reset" (a reset while writing the request breaks the client
  // before it reads the reply).
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  std::vector<std::string> emails;
  for (int i = 0; i < 10'000; ++i) {
    emails.push_back(absl::StrCat(std::string(100, 'a'), i, "@example.com"));
  }
  EXPECT_EQ(RunRounds(100,
                      [&](int) -> std::string {
                        auto client = Dial(server);
                        if (client == nullptr) return "not connected";
                        const auto reply = client->LookupBatch(1, emails);
                        if (reply.status().code() == absl::StatusCode::kResourceExhausted) {
                          return "";
                        }
                        return absl::StrCat("got ", reply.status().ToString());
                      }),
            0);
}

TEST(LingeringCloseTest, AStreamOfGarbageGetsItsErrorEveryTime) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(RunRounds(200,
                      [&](int round) {
                        const uint64_t seed = 17'000 + round;
                        const std::string failure =
                            Expect(SendThenRead(server.address(), Garbage(512 << 10, seed)),
                                   "0:invalid_argument");
                        return failure.empty() ? failure
                                               : absl::StrCat(failure, " (seed ", seed, ")");
                      }),
            0);
}

TEST(LingeringCloseTest, AMessageThatIsNotARequestThenMoreRequests) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  // Well framed, but its root pointer leaves the segment: the handler's error.
  const std::string bad = Words({0, 1}) + std::string("\x00\x00\x00\x00\xff\x7f\x00\x00", 8);
  const std::string request = bad + Repeat(PingFrame(9), 20'000);
  EXPECT_EQ(RunRounds(100,
                      [&](int) {
                        return Expect(SendThenRead(server.address(), request),
                                      "0:invalid_argument");
                      }),
            0);
}

TEST(LingeringCloseTest, FailedAuthenticationThenMoreRequests) {
  char path[] = "/tmp/attrib_token_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "s3cret-token\n", 13), 13);
  close(fd);
  AttribdProcess server({absl::StrCat("--auth_token_file=", path)});
  ASSERT_TRUE(server.ok());
  const std::string pings = Repeat(PingFrame(9), 20'000);  // ~0.6 MiB.
  const std::string wrong = RequestFrame(
      7, [](net::wire::Request::Builder r) { r.initAuth().setToken("not-the-token"); });
  EXPECT_EQ(RunRounds(100,
                      [&](int round) {
                        // Even rounds: a wrong token; odd: no `auth` at all.
                        return round % 2 == 0
                                   ? Expect(SendThenRead(server.address(), wrong + pings),
                                            "7:unauthenticated")
                                   : Expect(SendThenRead(server.address(), pings),
                                            "9:unauthenticated");
                      }),
            0);
  unlink(path);
}

TEST(LingeringCloseTest, AConnectionOverTheLimitThatSendsAtOnce) {
  AttribdProcess server({"--max_connections=1"});
  ASSERT_TRUE(server.ok());
  auto held = Dial(server);
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(held->Ping().ok());  // Now surely counted as open.
  const std::string pings = Repeat(PingFrame(9), 20'000);
  EXPECT_EQ(RunRounds(100,
                      [&](int) {
                        return Expect(SendThenRead(server.address(), pings),
                                      "0:resource_exhausted");
                      }),
            0);
  EXPECT_TRUE(held->Ping().ok());
}

// The replies "N:ok ... N:ok 0:unavailable": "" if `described` is that.
std::string RepliesThenUnavailable(const std::string& described) {
  const std::vector<std::string> replies = absl::StrSplit(described, ' ');
  if (replies.back() != "0:unavailable") {
    return absl::StrCat("last reply '", replies.back(), "' of ", replies.size(),
                        ", want 0:unavailable");
  }
  for (size_t i = 0; i + 1 < replies.size(); ++i) {
    if (!absl::EndsWith(replies[i], ":ok")) return absl::StrCat("reply ", i, ": ", replies[i]);
  }
  return "";
}

TEST(LingeringCloseTest, SigtermWhileAClientStreamsEndsWithUnavailable) {
  // A process per round: 5 rounds, not 200 (each costs a start and a stop).
  std::string pings;
  for (int id = 1; id <= 1000; ++id) pings += PingFrame(id);
  for (int round = 0; round < 5; ++round) {
    // A client that streams forever is cut at --linger_max_bytes: 64 MiB leaves it
    // ample time to read the last frame before that.
    AttribdProcess server({"--linger_timeout=2s", "--linger_max_bytes=67108864"});
    ASSERT_TRUE(server.ok());
    RawSocket raw(server.address());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.SendAll(pings));
    std::string first;
    ASSERT_TRUE(raw.ReadExactly(16, &first, kBoundMs));  // Being served.
    int exit_code = -1;
    std::thread stopper([&] { exit_code = server.Stop(); });
    std::string received = first;
    size_t sent = 0;
    const bool closed = raw.StreamUntilClosed(pings, 0, kBoundMs, &received, &sent);
    stopper.join();
    EXPECT_TRUE(closed) << "round " << round;
    EXPECT_EQ(exit_code, 0) << server.Stderr();
    size_t frames = 0;
    EXPECT_EQ(RepliesThenUnavailable(testing::DescribeResponses(received, &frames)), "")
        << "round " << round << ", " << frames << " replies";
  }
}

TEST(LingeringCloseTest, IdleTimeoutWithPartOfAFrameSaysWhy) {
  AttribdProcess server({"--idle_timeout=1s"});
  ASSERT_TRUE(server.ok());
  RawSocket raw(server.address());
  const std::string lookup = LookupFrame(5, "jane@x.com");
  ASSERT_TRUE(raw.SendAll(lookup.substr(0, lookup.size() / 2)));
  bool closed = false;
  const std::string reply = raw.ReadUntilClosed(kBoundMs, &closed);
  EXPECT_TRUE(closed);
  size_t frames = 0;
  EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:deadline_exceeded");
}

TEST(LingeringCloseTest, GarbageForeverIsCutAtTheByteBound) {
  // The time bound is out of reach (60 s, over the test's own bound): only
  // --linger_max_bytes can end these. Four at once, and the server's memory is
  // sampled meanwhile: the discarded bytes land in one small buffer per thread.
  constexpr size_t kMaxBytes = 32 << 20;
  AttribdProcess server(
      {"--linger_timeout=60s", absl::StrCat("--linger_max_bytes=", kMaxBytes)});
  ASSERT_TRUE(server.ok());
  const size_t rss_before = server.RssBytes();
  std::atomic<int> running{kThreads};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RawSocket raw(server.address());
      std::string received;
      size_t sent = 0;
      const bool closed =
          raw.StreamUntilClosed(Garbage(64 << 10, t), 0, kBoundMs, &received, &sent);
      size_t frames = 0;
      const std::string reply = testing::DescribeResponses(received, &frames);
      // What the server read and dropped, plus what the kernel buffers held: well
      // under twice the bound (the buffers are a few MiB at most).
      if (!closed || reply != "0:invalid_argument" || sent > 2 * kMaxBytes) {
        ++failed;
        ADD_FAILURE() << "closed " << closed << ", reply '" << reply << "', sent " << sent;
      }
      --running;
    });
  }
  size_t rss_max = rss_before;
  while (running.load() > 0) {
    rss_max = std::max(rss_max, server.RssBytes());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Sampling interval.
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LT(rss_max, rss_before + (8u << 20)) << "RSS grew while discarding";
}

TEST(LingeringCloseTest, GarbageForeverIsCutAtTheTimeBound) {
  // A trickle (1 KiB per 20 ms) that never reaches --linger_max_bytes (1 GiB): the
  // lingering ends at --linger_timeout.
  AttribdProcess server({"--linger_timeout=1s", "--linger_max_bytes=1073741824"});
  ASSERT_TRUE(server.ok());
  RawSocket raw(server.address());
  ASSERT_TRUE(raw.SendAll(Garbage(1024, 1)));
  std::string received;
  size_t sent = 0;
  EXPECT_TRUE(raw.StreamUntilClosed(Garbage(1024, 2), 20, kBoundMs, &received, &sent))
      << "still lingering after " << kBoundMs << " ms, " << sent << " bytes";
  size_t frames = 0;
  EXPECT_EQ(testing::DescribeResponses(received, &frames), "0:invalid_argument");
}

// The metrics port: HTTP errors that end the connection, with the request still
// arriving.
std::string StatusLine(const std::string& address, const std::string& request) {
  RawSocket raw(address);
  if (!raw.connected()) return "not connected";
  raw.SetSendBuffer(kClientSendBuffer);
  const bool sent = raw.SendAll(request);
  bool closed = false;
  bool reset = false;
  const std::string reply = raw.ReadUntilClosed(kBoundMs, &closed, &reset);
  std::string line = reply.substr(0, reply.find("\r\n"));
  if (!sent) absl::StrAppend(&line, " (the request's write was reset)");
  if (reset) absl::StrAppend(&line, " (reset, not EOF, after it)");
  return line;
}

// `rounds` connections, two at a time (with the connections still lingering, within
// the listener's slots), cycling through three requests that end the connection:
// a header over the limit (431), bytes that are not HTTP (400), a body over the
// limit (413). Returns the rounds whose status line was not the one due.
int HttpErrorRounds(const std::string& address, int rounds, const std::string& big_header,
                    const std::string& junk, const std::string& body) {
  return RunRounds(
      rounds,
      [&](int round) {
        switch (round % 3) {
          case 0:
            return Expect(StatusLine(address, big_header),
                          "HTTP/1.1 431 Request Header Fields Too Large");
          case 1:
            return Expect(StatusLine(address, junk), "HTTP/1.1 400 Bad Request");
          default:
            return Expect(StatusLine(address, body), "HTTP/1.1 413 Payload Too Large");
        }
      },
      2);
}

// A listener with `slots` connections: silent connections take every slot
// (accepted first: the accept queue is FIFO), then `rounds` connections, one at a
// time (refusals still lingering count, up to the listener's bound; beyond, a flood
// is closed without a response), each send `request` at once and must read a 503.
// Returns the rounds that did not (every round fails if a slot could not be taken).
int RefusedRounds(const std::string& address, int slots, const std::string& request,
                  int rounds) {
  std::vector<std::unique_ptr<RawSocket>> silent;
  for (int i = 0; i < slots; ++i) {
    silent.push_back(std::make_unique<RawSocket>(address));
    if (!silent.back()->connected()) {
      ADD_FAILURE() << "silent connection " << i << " did not connect";
      return rounds;
    }
  }
  return RunRounds(
      rounds,
      [&](int) { return Expect(StatusLine(address, request), "HTTP/1.1 503 Service Unavailable"); },
      1);
}

TEST(LingeringCloseTest, MetricsPortErrorsReachTheClient) {
  AttribdProcess server({"--metrics_listen=127.0.0.1:0", "--metrics_max_connections=8"});
  ASSERT_TRUE(server.ok());
  const std::string& metrics = server.metrics_address();
  // A header over --metrics_max_header_bytes (8 KiB), sent whole: 431.
  const std::string big_header = absl::StrCat(
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(256 << 10, 'x'), "\r\n\r\n");
  // Not HTTP: 400.
  const std::string junk = "\x16\x03\x01" + Garbage(256 << 10, 3);
  // A body (a scrape has none), sent whole: 413.
  const std::string body = absl::StrCat("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                                        256 << 10, "\r\n\r\n", std::string(256 << 10, 'b'));
  EXPECT_EQ(HttpErrorRounds(metrics, 120, big_header, junk, body), 0);
}

// Over --metrics_max_connections: 503, with the request sent at once (a server of
// its own: after other tests' rounds, connections may still linger and hold slots).
TEST(LingeringCloseTest, MetricsPortOverItsConnectionLimitSays503) {
  constexpr int kSlots = 8;
  AttribdProcess server({"--metrics_listen=127.0.0.1:0",
                         absl::StrCat("--metrics_max_connections=", kSlots),
                         "--metrics_read_timeout=60s"});
  ASSERT_TRUE(server.ok());
  const std::string get = Repeat("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 2'000);
  EXPECT_EQ(RefusedRounds(server.metrics_address(), kSlots, get, 40), 0);
}

// The HTTP API listener (issue 13): the errors that end a connection, with the
// request still arriving, read every time: a header over --http_max_header_bytes
// (431), a body over --http_max_body_bytes (413), bytes that are not HTTP (400).
TEST(LingeringCloseTest, HttpApiErrorsReachTheClient) {
  AttribdProcess server({"--http_max_header_bytes=8192", "--http_max_body_bytes=65536"});
  ASSERT_TRUE(server.ok());
  const std::string& http = server.http_address();
  const std::string host = absl::StrCat("Host: ", http, "\r\n");
  const std::string big_header = absl::StrCat("GET /healthz HTTP/1.1\r\n", host, "X-Big: ",
                                              std::string(256 << 10, 'x'), "\r\n\r\n");
  const std::string junk = "\x16\x03\x01" + Garbage(256 << 10, 5);
  const std::string body = absl::StrCat(
      "POST /v1/shops/1/connections HTTP/1.1\r\n", host,
      "Content-Type: application/json\r\nContent-Length: ", 1 << 20, "\r\n\r\n",
      std::string(1 << 20, ' '));
  EXPECT_EQ(HttpErrorRounds(http, 200, big_header, junk, body), 0);
}

// Over --http_max_connections: 503, with requests sent at once.
TEST(LingeringCloseTest, HttpApiOverItsConnectionLimitSays503) {
  constexpr int kSlots = 4;
  AttribdProcess server({absl::StrCat("--http_max_connections=", kSlots),
                         "--http_request_timeout=60s"});
  ASSERT_TRUE(server.ok());
  const std::string& http = server.http_address();
  const std::string get = Repeat(absl::StrCat("GET /healthz HTTP/1.1\r\nHost: ", http,
                                              "\r\n\r\n"), 2'000);
  EXPECT_EQ(RefusedRounds(http, kSlots, get, 100), 0);
}

}  // namespace
}  // namespace attrib
