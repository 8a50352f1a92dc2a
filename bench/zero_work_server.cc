// bench/zero_work_server.cc
//
// zero-work-server: the machine's ceiling for a request/response server (SPEC §9,
// issue 15). One thread, one epoll loop (level-triggered), non-blocking sockets: per
// readiness event one read, every complete request of it answered with a fixed reply
// (bench/zero_work_replies.h), then one write of all those replies, as a real
// server batches them. Nothing else happens per request, so attrib-bench's figure
// against it is what the client, loopback TCP and epoll allow on this machine;
// bench/compare_redis.sh runs it beside attribd and Redis in the same run.
//
//   zero-work-server --protocol=attrib [--listen=127.0.0.1:0]
//   zero-work-server: listening on 127.0.0.1:40123 (protocol attrib)
//
// The line is printed on stdout once the socket listens (port 0: the kernel picks a
// free one), so scripts read the address from it. It only listens on loopback. A
// connection whose output is not drained is not read until it is (no unbounded
// buffering); a request over --max_request_bytes or not framed as the protocol says
// closes its connection. SIGTERM or SIGINT stops it (exit status 0).
//
// Thread-safety: single-threaded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_socket.h"
#include "bench/zero_work_replies.h"

ABSL_FLAG(std::string, protocol, "attrib",
          "attrib (Cap'n Proto frames, as attribd) or resp (RESP2, as Redis).");
ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "host:port to listen on; must be loopback (a benchmark fixture, not a "
          "server). Port 0 picks a free port, printed on stdout.");
ABSL_FLAG(uint64_t, max_request_bytes, 1 << 20,
          "Largest request frame or command accepted; a larger one closes the "
          "connection, so a client cannot make the server buffer unbounded input.");
ABSL_FLAG(uint64_t, read_bytes, 64 << 10,
          "Bytes asked of each read: enough for a pipeline of 128 lookups or a batch of "
          "128 emails in one read.");

namespace attrib::bench {
namespace {

constexpr int kMaxEvents = 256;

struct Conn {
  int fd = -1;
  std::vector<uint64_t> in;  // Words, so attrib frames start 8-byte aligned.
  size_t in_begin = 0, in_end = 0;  // Bytes.
  std::string out;
  size_t out_begin = 0;
  bool closing = false;  // Close once `out` is written.
  char* bytes() { return reinterpret_cast<char*>(in.data()); }
  size_t capacity() const { return in.size() * sizeof(uint64_t); }
};

class Server {
 public:
  Server(ZeroWorkProtocol protocol, size_t max_request_bytes, size_t read_bytes)
      : responder_(protocol, max_request_bytes),
        max_request_bytes_(max_request_bytes),
        read_bytes_(read_bytes) {}
  ~Server() {
    for (auto& [fd, conn] : conns_) close(fd);
    if (listen_fd_ >= 0) close(listen_fd_);
    if (signal_fd_ >= 0) close(signal_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  // Listens on `address`; the address it got ("127.0.0.1:40123"). SIGTERM and SIGINT
  // are taken from here on (into the epoll set), so a signal sent as soon as the
  // address is printed stops the server cleanly.
  absl::StatusOr<std::string> Listen(const LoopbackAddress& address) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    signal_fd_ = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (signal_fd_ < 0 || epoll_fd_ < 0 || !Watch(EPOLL_CTL_ADD, signal_fd_, EPOLLIN)) {
      return absl::InternalError(absl::StrCat("epoll setup: ", std::strerror(errno)));
    }
    const int one = 1;
    listen_fd_ = socket(address.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address.address), address.length) ||
        listen(listen_fd_, 1024) != 0 || !Watch(EPOLL_CTL_ADD, listen_fd_, EPOLLIN)) {
      return absl::UnavailableError(
          absl::StrCat("--listen=", address.text, ": ", std::strerror(errno)));
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    char host[INET6_ADDRSTRLEN] = "?";
    if (bound.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&bound);
      inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
      return absl::StrCat("[", host, "]:", ntohs(v6->sin6_port));
    }
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&bound);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    return absl::StrCat(host, ":", ntohs(v4->sin_port));
  }

  // Runs until SIGTERM or SIGINT (after Listen).
  absl::Status Run() {
    epoll_event events[kMaxEvents];
    while (true) {
      const int n = epoll_wait(epoll_fd_, events, kMaxEvents, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::InternalError(absl::StrCat("epoll_wait: ", std::strerror(errno)));
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == signal_fd_) return absl::OkStatus();
        if (fd == listen_fd_) {
          Accept();
          continue;
        }
        auto it = conns_.find(fd);
        if (it != conns_.end()) Serve(*it->second, events[i].events);
      }
    }
  }

 private:
  bool Watch(int op, int fd, uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    return epoll_ctl(epoll_fd_, op, fd, &e) == 0;
  }

  void Accept() {
    while (true) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a client that left already.
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      conn->in.resize((read_bytes_ + sizeof(uint64_t) - 1) / sizeof(uint64_t));
      if (!Watch(EPOLL_CTL_ADD, fd, EPOLLIN)) {
        close(fd);
        continue;
      }
      conns_.emplace(fd, std::move(conn));
    }
  }

  void Close(Conn& c) {
    const int fd = c.fd;
    close(fd);  // Also leaves the epoll set.
    conns_.erase(fd);
  }

  void Serve(Conn& c, uint32_t events) {
    if (!c.out.empty() || c.closing) {
      // Waiting for the socket to take the rest of the replies.
      if (!Flush(c)) return Close(c);
      if (c.out.empty()) {
        if (c.closing) return Close(c);
        Watch(EPOLL_CTL_MOD, c.fd, EPOLLIN);
      }
      return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
    if (!MakeRoom(c)) return Close(c);
    const ssize_t n = read(c.fd, c.bytes() + c.in_end, c.capacity() - c.in_end);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return Close(c);
    if (n < 0) return;
    c.in_end += static_cast<size_t>(n);
    std::string error;
    c.in_begin += responder_.AnswerAll(c.bytes() + c.in_begin, c.in_end - c.in_begin, c.out,
                                       &error);
    if (c.in_begin == c.in_end) {
      c.in_begin = c.in_end = 0;
    } else if (c.in_begin > 0) {
      // A request cut by the read: to the front (it stays 8-byte aligned, the
      // responder consumes whole frames), so the next read has the whole buffer.
      std::memmove(c.bytes(), c.bytes() + c.in_begin, c.in_end - c.in_begin);
      c.in_end -= c.in_begin;
      c.in_begin = 0;
    }
    if (!error.empty()) c.closing = true;
    if (!Flush(c)) return Close(c);
    if (c.out.empty()) {
      if (c.closing) Close(c);
      return;
    }
    Watch(EPOLL_CTL_MOD, c.fd, EPOLLOUT);  // Read again once the replies are out.
  }

  // Room to read into (the unread part of a request is at the front): the buffer
  // grown for a request larger than it, up to past --max_request_bytes, so the
  // responder sees that the request is over the limit.
  bool MakeRoom(Conn& c) {
    if (c.in_end < c.capacity()) return true;
    if (c.capacity() > max_request_bytes_) return false;
    c.in.resize(2 * c.in.size());
    return true;
  }

  // One write of what is pending; false if the connection broke.
  bool Flush(Conn& c) {
    if (c.out.empty()) return true;
    const ssize_t n = send(c.fd, c.out.data() + c.out_begin, c.out.size() - c.out_begin,
                           MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.out_begin += static_cast<size_t>(n);
    if (c.out_begin == c.out.size()) {
      c.out.clear();
      c.out_begin = 0;
    }
    return true;
  }

  ZeroWorkResponder responder_;
  const size_t max_request_bytes_;
  const size_t read_bytes_;
  int listen_fd_ = -1, signal_fd_ = -1, epoll_fd_ = -1;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
};

// "127.x.y.z:port" or "[::1]:port" (numeric: a fixture resolves nothing); port 0 is
// allowed. InvalidArgument naming --listen for anything else, a non-loopback
// address included.
absl::StatusOr<LoopbackAddress> ParseListen(const std::string& text) {
  LoopbackAddress a;
  a.text = text;
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: expected 127.0.0.1:PORT or [::1]:PORT, got '", text, "'"));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1 &&
        IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
      a.length = sizeof(sockaddr_in6);
      return a;
    }
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.address);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1 &&
        (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
      a.length = sizeof(sockaddr_in);
      return a;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--listen: '", host, "' is not a loopback address (127.0.0.0/8 or ::1); the "
      "zero-work server is a benchmark fixture and only listens on this machine"));
}

// The flags, checked in order; the first problem is the usage error.
absl::Status CheckFlags(uint64_t max_request, uint64_t read_bytes) {
  if (max_request < 64 || max_request > (uint64_t{1} << 30)) {
    return absl::InvalidArgumentError("--max_request_bytes: must be 64 .. 2^30");
  }
  if (read_bytes < 64 || read_bytes > (uint64_t{64} << 20)) {
    return absl::InvalidArgumentError("--read_bytes: must be 64 .. 64 MiB");
  }
  return absl::OkStatus();
}

int Main() {
  const absl::StatusOr<ZeroWorkProtocol> protocol =
      ParseZeroWorkProtocol(absl::GetFlag(FLAGS_protocol));
  const absl::StatusOr<LoopbackAddress> address = ParseListen(absl::GetFlag(FLAGS_listen));
  const uint64_t max_request = absl::GetFlag(FLAGS_max_request_bytes);
  const uint64_t read_bytes = absl::GetFlag(FLAGS_read_bytes);
  absl::Status usage = CheckFlags(max_request, read_bytes);
  if (!address.ok()) usage = address.status();
  if (!protocol.ok()) usage = protocol.status();
  if (!usage.ok()) {
    std::fprintf(stderr, "zero-work-server: %s\n", std::string(usage.message()).c_str());
    return 2;
  }
  Server server(*protocol, max_request, read_bytes);
  absl::StatusOr<std::string> listening = server.Listen(*address);
  if (!listening.ok()) {
    std::fprintf(stderr, "zero-work-server: %s\n",
                 std::string(listening.status().message()).c_str());
    return 1;
  }
  std::printf("zero-work-server: listening on %s (protocol %s)\n", listening->c_str(),
              absl::GetFlag(FLAGS_protocol).c_str());
  std::fflush(stdout);
  const absl::Status status = server.Run();
  if (!status.ok()) {
    std::fprintf(stderr, "zero-work-server: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace attrib::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "zero-work-server: answers every request with a fixed reply (the machine's "
      "ceiling for bench/compare_redis.sh).\n"
      "  zero-work-server --protocol=attrib|resp [--listen=127.0.0.1:0]");
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "zero-work-server: unexpected argument '%s' (flags only)\n", rest[1]);
    return 2;
  }
  return attrib::bench::Main();
}
