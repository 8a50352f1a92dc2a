// tests/tls_test.cc
//
// attribd with --tls_cert/--tls_key against the client library (net/client.h) over
// TLS, end to end: ping, connect and lookup, 10,000 pipelined requests in order;
// the certificate checks (another CA, a host name the certificate does not name, an
// unreadable CA bundle); clients that do not speak TLS (closed, nobody else
// harmed); the handshake bounded by the idle timeout; a TLS client that never reads
// its replies (the server stops reading it; memory stays bounded); the connection
// limit and SIGTERM draining on a TLS port; an oversized frame's error read every
// time although the client is still sending (issue 17). Certificates are made by
// the test (TlsCerts).
//
// Synchronization is on events (replies, EOF, process exit), never on sleeps; the
// poll bounds only stop a broken server from hanging the suite.
//
// Thread-safety: single-threaded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "net/frame.h"
#include "tests/attribd_process.h"
#include "tests/pipeline_check.h"
#include "tests/raw_socket.h"
#include "tests/tls_certs.h"

namespace attrib {
namespace {

using net::Client;
using net::ClientOptions;
using testing::AttribdProcess;
using testing::RawSocket;

constexpr int kBoundMs = 30'000;  // Only bounds a hang; never a synchronization.

// A TLS client that writes and never reads, or writes a whole request before it
// reads, which the client library can not be (it reads replies while it writes).
// OpenSSL directly, certificate verified by `ca`. `send_buffer` > 0: SO_SNDBUF (a
// slow network: a large request is still being sent when the server answers).
class TlsWriter {
 public:
  TlsWriter(const std::string& address, const std::string& ca, int send_buffer = 0) {
    auto hp = net::SplitHostPort(address);
    if (!hp.ok()) return;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(hp->port)));
    inet_pton(AF_INET, hp->host.c_str(), &sa.sin_addr);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (send_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
    }
    const timeval bound{kBoundMs / 1000, 0};  // Bounds the blocking calls below.
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    handshaken_ = SSL_connect(ssl_) == 1;  // Blocking: the socket is still blocking.
  }
  ~TlsWriter() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return handshaken_; }
  // Writes `bytes` over and over until the socket stays unwritable for `stall_ms`
  // (the server stopped reading) or `max_total` bytes were written.
  size_t WriteUntilStalled(const std::string& bytes, int stall_ms, size_t max_total) {
    // MSG_DONTWAIT is not available through OpenSSL: make the socket non-blocking.
    const int flags = fcntl(fd_, F_GETFL);
    fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    size_t total = 0;
    size_t offset = 0;
    while (total < max_total) {
      const int n = SSL_write(ssl_, bytes.data() + offset, bytes.size() - offset);
      if (n > 0) {
        total += static_cast<size_t>(n);
        offset = (offset + static_cast<size_t>(n)) % bytes.size();
        continue;
      }
      if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_WRITE) return total;
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, stall_ms) <= 0) return total;  // Not writable for stall_ms.
    }
    return total;
  }
  // Blocking: writes all of `bytes`; false if the connection failed first (reset).
  bool WriteAll(const std::string& bytes) {
    signal(SIGPIPE, SIG_IGN);  // OpenSSL write()s: a reset is EPIPE, not death.
    for (size_t offset = 0; offset < bytes.size();) {
      const int n = SSL_write(ssl_, bytes.data() + offset, bytes.size() - offset);
      if (n <= 0) return false;
      offset += static_cast<size_t>(n);
    }
    return true;
  }
  // Blocking: reads until the server closes (EOF, with or without close_notify);
  // *reset says whether the TCP connection was reset instead.
  std::string ReadUntilClosed(bool* reset) {
    std::string out;
    char buf[16384];
    for (;;) {
      const int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      *reset = SSL_get_error(ssl_, n) == SSL_ERROR_SYSCALL && errno == ECONNRESET;
      return out;
    }
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
};

class TlsTest : public testing::TlsCertsTest {
 protected:
  static std::vector<std::string> TlsFlags(std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {certs_->cert_flag(), certs_->key_flag()};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  }
  static ClientOptions TlsOptions(const std::string& ca) {
    ClientOptions o;
    o.tls = true;
    o.tls_ca_file = ca;
    o.timeout = absl::Seconds(30);
    return o;
  }
  static std::unique_ptr<Client> DialTls(const AttribdProcess& server) {
    auto c = Client::Connect(server.address(), TlsOptions(certs_->ca()));
    EXPECT_TRUE(c.ok()) << c.status() << "; stderr: " << server.Stderr();
    return c.ok() ? *std::move(c) : nullptr;
  }
  static void ExpectServingTls(const AttribdProcess& server) {
    auto other = DialTls(server);
    ASSERT_NE(other, nullptr);
    EXPECT_TRUE(other->Ping().ok()) << "server stopped serving; stderr: " << server.Stderr();
  }
};

TEST_F(TlsTest, BannerSaysTlsOn) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  EXPECT_NE(server.banner().find("tls on"), std::string::npos) << server.banner();
  AttribdProcess plain;
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(plain.banner().find("tls off"), std::string::npos) << plain.banner();
}

TEST_F(TlsTest, PingConnectAndLookupOverTls) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  auto client = DialTls(server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Ping().ok());
  engine::ConnectRequest connect;
  connect.shop = 3;
  connect.email = "Jane.Doe+tls@GoogleMail.com";
  connect.affiliate = 42;
  auto connected = client->Connect(connect);
  ASSERT_TRUE(connected.ok()) << connected.status();
  auto found = client->Lookup(3, "janedoe@gmail.com");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->get().isLookup());
  EXPECT_TRUE(found->get().getLookup().getFound());
  EXPECT_EQ(found->get().getLookup().getConnection().getAffiliate(), 42u);
}

TEST_F(TlsTest, TenThousandPipelinedRequestsAnsweredInOrderOverTls) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  auto client = DialTls(server);
  ASSERT_NE(client, nullptr);
  testing::ExpectPipelinedRepliesInOrder(client.get(), 10'000);
}

TEST_F(TlsTest, AnotherCaFailsWithVerifyError) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  auto c = Client::Connect(server.address(), TlsOptions(certs_->other_ca()));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(net::IsConnectionError(c.status())) << c.status();
  EXPECT_NE(c.status().message().find("tls: certificate verify failed"), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find(server.address()), std::string::npos) << c.status();
  ExpectServingTls(server);
}

TEST_F(TlsTest, HostTheCertificateDoesNotNameFailsWithVerifyError) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  // The certificate names IP 127.0.0.1 only; dialled as "localhost" it must fail.
  const std::string port = server.address().substr(server.address().rfind(':') + 1);
  auto c = Client::Connect("localhost:" + port, TlsOptions(certs_->ca()));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tls: certificate verify failed: hostname mismatch"),
            std::string::npos)
      << c.status();
}

TEST_F(TlsTest, UnreadableCaBundleIsAnInvalidArgument) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  auto c = Client::Connect(server.address(), TlsOptions(certs_->dir() + "/missing.pem"));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  EXPECT_NE(c.status().message().find("tls_ca: cannot load"), std::string::npos) << c.status();
}

TEST_F(TlsTest, PlainClientsOnATlsPortAreClosedAndOthersKeepBeingServed) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  auto tls_client = DialTls(server);
  ASSERT_NE(tls_client, nullptr);
  {
    // A Cap'n Proto ping in clear text: the handshake fails, the server closes.
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<net::wire::Request>();
    r.setId(1);
    r.setPing();
    const kj::Array<capnp::word> words = net::EncodeFrame(m);
    RawSocket raw(server.address());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.SendAll(std::string(words.asChars().begin(), words.asChars().size())));
    bool closed = false;
    const std::string got = raw.ReadUntilClosed(kBoundMs, &closed);
    EXPECT_TRUE(closed);
    size_t frames = 0;
    testing::DescribeResponses(got, &frames);
    EXPECT_EQ(frames, 0u) << "a plain client got a reply on a TLS port";
  }
  // The client library without TLS: a connection error, not a hang or a crash.
  auto plain = Client::Connect(server.address(), ClientOptions{});
  ASSERT_TRUE(plain.ok()) << plain.status();  // TCP connects; the ping fails.
  auto ping = (*plain)->Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_TRUE(net::IsConnectionError(ping.status())) << ping.status();
  EXPECT_TRUE(tls_client->Ping().ok()) << server.Stderr();
  ExpectServingTls(server);
}

TEST_F(TlsTest, TlsClientOnAPlainPortFailsTheHandshake) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  auto c = Client::Connect(server.address(), TlsOptions(certs_->ca()));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(net::IsConnectionError(c.status())) << c.status();
  EXPECT_NE(c.status().message().find("tls: handshake failed with " + server.address()),
            std::string::npos)
      << c.status();
}

TEST_F(TlsTest, SilentClientIsClosedWhenTheHandshakeOutlastsTheIdleTimeout) {
  AttribdProcess server(TlsFlags({"--idle_timeout=1s"}));
  ASSERT_TRUE(server.ok());
  RawSocket raw(server.address());  // Connects, never sends a ClientHello.
  ASSERT_TRUE(raw.connected());
  bool closed = false;
  raw.ReadUntilClosed(kBoundMs, &closed);
  EXPECT_TRUE(closed) << "the server kept a connection without a handshake";
  ExpectServingTls(server);
}

TEST_F(TlsTest, ATlsClientThatNeverReadsCannotGrowServerMemory) {
  AttribdProcess server(TlsFlags({"--max_queued_output_bytes=65536"}));
  ASSERT_TRUE(server.ok());
  auto setup = DialTls(server);
  ASSERT_NE(setup, nullptr);
  TlsWriter slow(server.address(), certs_->ca());
  ASSERT_TRUE(slow.ok());
  testing::ExpectNeverReadingClientIsPaused(
      server, setup.get(), [&slow](const std::string& burst, int stall_ms, size_t max) {
        return slow.WriteUntilStalled(burst, stall_ms, max);
      });
  ExpectServingTls(server);
}

TEST_F(TlsTest, AWholeOversizedFrameGetsItsErrorEveryTimeOverTls) {
  // Issue 17 over TLS: the error frame, then a lingering close at the TCP level
  // (tests/lingering_close_test.cc has the plain-TCP cases). 50 rounds: each costs a
  // handshake.
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  std::string frame(8 + 1'258'288, '\0');  // One segment of 1.2 MiB: over 1 MiB.
  const uint32_t table[2] = {0, 1'258'288 / 8};
  std::memcpy(frame.data(), table, sizeof(table));
  for (int round = 0; round < 50; ++round) {
    TlsWriter writer(server.address(), certs_->ca(), 64 << 10);
    ASSERT_TRUE(writer.ok());
    const bool sent = writer.WriteAll(frame);
    bool reset = false;
    const std::string reply = writer.ReadUntilClosed(&reset);
    size_t frames = 0;
    EXPECT_TRUE(sent) << "round " << round << ": the request's write failed";
    EXPECT_FALSE(reset) << "round " << round;
    EXPECT_EQ(testing::DescribeResponses(reply, &frames), "0:resource_exhausted")
        << "round " << round;
  }
  ExpectServingTls(server);
}

TEST_F(TlsTest, ConnectionsOverTheLimitAreClosedOnATlsPort) {
  AttribdProcess server(TlsFlags({"--max_connections=1"}));
  ASSERT_TRUE(server.ok());
  auto first = DialTls(server);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Ping().ok());  // Now surely counted as open.
  auto second = Client::Connect(server.address(), TlsOptions(certs_->ca()));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(net::IsConnectionError(second.status())) << second.status();
  EXPECT_TRUE(first->Ping().ok());
}

TEST_F(TlsTest, SigtermDrainsTlsConnections) {
  AttribdProcess server(TlsFlags());
  ASSERT_TRUE(server.ok());
  auto client = DialTls(server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Ping().ok());
  EXPECT_EQ(server.Stop(), 0);
  auto after = client->Ping();
  ASSERT_FALSE(after.ok());
  EXPECT_TRUE(net::IsConnectionError(after.status())) << after.status();
}

}  // namespace
}  // namespace attrib
