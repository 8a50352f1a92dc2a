// net/client_test.cc: the client library against a scripted in-process fake server
// (a thread with a blocking socket), so framing, pipelining, partial reads, errors
// of the connection and server errors are tested without attribd.
#include "net/client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/frame.h"

namespace attrib::net {
namespace {

using ::testing::HasSubstr;

// Listens on 127.0.0.1:0, accepts one connection and runs `session` on it.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(int fd)> session) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, session = std::move(session)] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      session(fd);
      ::close(fd);
    });
  }
  ~FakeServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Reads one request frame; empty at end of stream.
kj::Array<capnp::word> ReadFrame(int fd, std::string* pending) {
  for (;;) {
    const FrameInfo info = InspectFrame(reinterpret_cast<const uint8_t*>(pending->data()),
                                        pending->size(), FrameLimits{});
    if (info.kind == FrameInfo::Kind::kComplete) {
      auto words = kj::heapArray<capnp::word>(info.frame_bytes / kWordBytes);
      std::memcpy(words.begin(), pending->data(), info.frame_bytes);
      pending->erase(0, info.frame_bytes);
      return words;
    }
    if (info.kind == FrameInfo::Kind::kInvalid) return nullptr;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return nullptr;
    pending->append(buf, static_cast<size_t>(n));
  }
}

void WriteBytes(int fd, const void* data, size_t size, bool one_byte_at_a_time = false) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, p, one_byte_at_a_time ? 1 : size, MSG_NOSIGNAL);
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteMessage(int fd, capnp::MessageBuilder& message, bool one_byte_at_a_time = false) {
  const kj::Array<capnp::word> frame = EncodeFrame(message);
  WriteBytes(fd, frame.begin(), frame.size() * kWordBytes, one_byte_at_a_time);
}

// A session that answers every request with `answer(request, response)`.
std::function<void(int)> Answering(
    std::function<void(wire::Request::Reader, wire::Response::Builder)> answer,
    bool one_byte_at_a_time = false) {
  return [answer, one_byte_at_a_time](int fd) {
    std::string pending;
    for (;;) {
      kj::Array<capnp::word> frame = ReadFrame(fd, &pending);
      if (frame.size() == 0) return;
      capnp::FlatArrayMessageReader reader(frame);
      const wire::Request::Reader request = reader.getRoot<wire::Request>();
      capnp::MallocMessageBuilder message;
      wire::Response::Builder response = message.initRoot<wire::Response>();
      response.setId(request.getId());
      answer(request, response);
      WriteMessage(fd, message, one_byte_at_a_time);
    }
  };
}

ClientOptions FastOptions() {
  ClientOptions options;
  options.timeout = absl::Seconds(5);
  return options;
}

TEST(SplitHostPortTest, Forms) {
  absl::StatusOr<HostPort> hp = SplitHostPort("127.0.0.1:7411");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, "7411");
  hp = SplitHostPort("[::1]:80");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  hp = SplitHostPort("localhost:1");
  ASSERT_TRUE(hp.ok());
  for (const char* bad : {"", "host", ":7411", "host:", "host:0", "host:65536", "::1:80",
                          "[::1]80", "[::1]", "host:12a"}) {
    hp = SplitHostPort(bad);
    ASSERT_FALSE(hp.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(hp.status()));
    EXPECT_THAT(hp.status().message(), HasSubstr("address: expected host:port")) << bad;
  }
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  // A port that was just free: bind, read the port, close.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string address = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  auto client = Client::Connect(address, FastOptions());
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsUnavailable(client.status()));
  EXPECT_EQ(client.status().message(),
            absl::StrCat("connect to ", address, ": Connection refused"));
  EXPECT_TRUE(IsConnectionError(client.status()));
}

TEST(ClientTest, BadAddressIsInvalidArgument) {
  auto client = Client::Connect("nonsense", FastOptions());
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(client.status()));
  EXPECT_FALSE(IsConnectionError(client.status()));
}

TEST(ClientTest, PingWithRepliesArrivingByteByByte) {
  FakeServer server(Answering(
      [](wire::Request::Reader req, wire::Response::Builder resp) {
        EXPECT_TRUE(req.isPing());
        resp.setPong();
      },
      /*one_byte_at_a_time=*/true));
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Reply> reply = (*client)->Ping();
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_TRUE(reply->get().isPong());
  }
}

TEST(ClientTest, ServerErrorBecomesStatusWithCurrentAffiliate) {
  FakeServer server(Answering([](wire::Request::Reader req, wire::Response::Builder resp) {
    ASSERT_TRUE(req.isConnect());
    EXPECT_EQ(req.getConnect().getEmail(), "jane@x.com");
    EXPECT_EQ(req.getConnect().getName(), "Jane");
    wire::Error::Builder error = resp.initError();
    error.setCode(wire::ErrorCode::ALREADY_EXISTS);
    error.setMessage("already_connected: jane@x.com is connected to affiliate 7");
    error.setCurrentAffiliate(7);
  }));
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok());
  engine::ConnectRequest r;
  r.shop = 1;
  r.email = "jane@x.com";
  r.affiliate = 42;
  r.name = "Jane";
  absl::StatusOr<Reply> reply = (*client)->Connect(r);
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(reply.status()));
  EXPECT_FALSE(IsConnectionError(reply.status()));
  EXPECT_THAT(reply.status().message(), HasSubstr("already_connected"));
  auto payload = reply.status().GetPayload(engine::kCurrentAffiliatePayload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "7");
  // The connection is still good.
  EXPECT_FALSE((*client)->Connect(r).ok());
}

TEST(ClientTest, PipelinedRepliesInOrderAndLargeFrames) {
  // Each reply is a list page of 200 items (~40 KiB), so frames straddle reads and
  // the input buffer must grow.
  FakeServer server(Answering([](wire::Request::Reader req, wire::Response::Builder resp) {
    ASSERT_TRUE(req.isList());
    auto items = resp.initList().initItems(200);
    for (uint32_t i = 0; i < 200; ++i) {
      items[i].initConnection().setCanonicalEmail(
          absl::StrCat("customer-", req.getId(), "-", i, "@example.com"));
    }
  }));
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok());
  constexpr int kRequests = 300;
  std::vector<uint64_t> ids;
  for (int i = 0; i < kRequests; ++i) {
    capnp::MallocMessageBuilder message;
    wire::Request::Builder request = message.initRoot<wire::Request>();
    ids.push_back((*client)->NextId());
    request.setId(ids.back());
    request.initList().setShop(1);
    ASSERT_TRUE((*client)->Send(message).ok());
  }
  EXPECT_EQ((*client)->outstanding(), static_cast<size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) {
    absl::StatusOr<Reply> reply = (*client)->Receive();  // Flushes first.
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get().getId(), ids[i]);
    EXPECT_EQ(reply->get().getList().getItems().size(), 200u);
    EXPECT_EQ(reply->get().getList().getItems()[199].getConnection().getCanonicalEmail(),
              absl::StrCat("customer-", ids[i], "-199@example.com"));
  }
  EXPECT_EQ((*client)->outstanding(), 0u);
}

TEST(ClientTest, MismatchedReplyIdBreaksTheConnection) {
  FakeServer server(Answering([](wire::Request::Reader req, wire::Response::Builder resp) {
    resp.setId(req.getId() + 100);
    resp.setPong();
  }));
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Reply> reply = (*client)->Ping();
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(IsConnectionError(reply.status()));
  EXPECT_THAT(reply.status().message(), HasSubstr("does not match request id"));
  absl::StatusOr<Reply> again = (*client)->Ping();
  EXPECT_EQ(again.status(), reply.status());
}

TEST(ClientTest, ServerClosingIsUnavailable) {
  FakeServer server([](int fd) {
    std::string pending;
    ReadFrame(fd, &pending);
    WriteBytes(fd, "\0\0\0\0\x05\0\0\0", 8);  // Half a frame, then close.
  });
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Reply> reply = (*client)->Ping();
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(absl::IsUnavailable(reply.status()));
  EXPECT_EQ(reply.status().message(), "server closed the connection");
  EXPECT_TRUE(IsConnectionError(reply.status()));
}

TEST(ClientTest, ReadTimeoutIsDeadlineExceeded) {
  FakeServer server([](int fd) {
    std::string pending;
    ReadFrame(fd, &pending);
    ReadFrame(fd, &pending);  // Never answers; returns when the client closes.
  });
  ClientOptions options;
  options.timeout = absl::Milliseconds(100);
  auto client = Client::Connect(server.address(), options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Reply> reply = (*client)->Ping();
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(reply.status()));
  EXPECT_THAT(reply.status().message(), HasSubstr("no reply within 100ms"));
  EXPECT_TRUE(IsConnectionError(reply.status()));
}

TEST(ClientTest, MalformedReplyFrame) {
  FakeServer server([](int fd) {
    std::string pending;
    ReadFrame(fd, &pending);
    WriteBytes(fd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
  });
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Reply> reply = (*client)->Ping();
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr("malformed reply"));
  EXPECT_TRUE(IsConnectionError(reply.status()));
}

TEST(ClientTest, ReplyOverTheFrameLimit) {
  FakeServer server(Answering([](wire::Request::Reader, wire::Response::Builder resp) {
    resp.initList().initItems(1000);
  }));
  ClientOptions options = FastOptions();
  options.max_frame_bytes = 4096;
  auto client = Client::Connect(server.address(), options);
  ASSERT_TRUE(client.ok());
  engine::ListRequest r;
  r.shop = 1;
  absl::StatusOr<Reply> reply = (*client)->List(r);
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr("4096-byte limit"));
}

TEST(ClientTest, AuthIsSentFirst) {
  std::vector<std::string> seen;
  {
    FakeServer server(Answering([&seen](wire::Request::Reader req, wire::Response::Builder resp) {
      if (req.isAuth()) {
        seen.push_back(absl::StrCat("auth ", req.getAuth().getToken().cStr()));
        resp.setAuth();
      } else {
        seen.push_back("other");
        resp.setPong();
      }
    }));
    ClientOptions options = FastOptions();
    options.auth_token = "s3cret";
    auto client = Client::Connect(server.address(), options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Ping().ok());
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("auth s3cret", "other"));
}

TEST(ClientTest, RejectedAuthFailsConnect) {
  FakeServer server(Answering([](wire::Request::Reader, wire::Response::Builder resp) {
    resp.initError().setCode(wire::ErrorCode::UNAUTHENTICATED);
    resp.getError().setMessage("auth: wrong token");
  }));
  ClientOptions options = FastOptions();
  options.auth_token = "nope";
  auto client = Client::Connect(server.address(), options);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(client.status()));
  EXPECT_EQ(client.status().message(), "auth: wrong token");
}

TEST(ClientTest, CallRefusesWithPipelinedRepliesOutstanding) {
  FakeServer server(Answering([](wire::Request::Reader, wire::Response::Builder resp) {
    resp.setPong();
  }));
  auto client = Client::Connect(server.address(), FastOptions());
  ASSERT_TRUE(client.ok());
  capnp::MallocMessageBuilder message;
  message.initRoot<wire::Request>().setPing();
  ASSERT_TRUE((*client)->Send(message).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*client)->Ping().status()));
  ASSERT_TRUE((*client)->Receive().ok());
  EXPECT_TRUE((*client)->Ping().ok());
}

}  // namespace
}  // namespace attrib::net
