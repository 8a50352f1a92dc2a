// replication/socket_io.cc: blocking, stoppable socket I/O (see the header).
#include "replication/socket_io.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace attrib::replication {
namespace {

// Waits for `events` on fd; OK when ready.
absl::Status Wait(int fd, short events, absl::Duration timeout, const StopSignal& stop) {
  pollfd fds[2] = {{fd, events, 0}, {stop.fd(), POLLIN, 0}};
  const int ms = timeout == absl::InfiniteDuration()
                     ? -1
                     : static_cast<int>(absl::ToInt64Milliseconds(timeout));
  for (;;) {
    const int n = ::poll(fds, 2, ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    if (fds[1].revents != 0) return absl::CancelledError("replication: stopping");
    if (n == 0) return absl::DeadlineExceededError("replication: the peer timed out");
    return absl::OkStatus();
  }
}

absl::Status SplitAddress(absl::string_view address, std::string* host, uint16_t* port) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\": expected host:port or [v6]:port"));
  }
  absl::string_view h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  uint32_t p = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\": a bad port"));
  }
  *host = std::string(h == "localhost" ? "127.0.0.1" : h);
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

absl::StatusOr<addrinfo*> Resolve(const std::string& host, uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string service = absl::StrCat(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", host, "\": not a numeric address (", gai_strerror(rc), ")"));
  }
  return res;
}

std::string Describe(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return absl::StrCat(buf, ":", ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  return absl::StrCat("[", buf, "]:", ntohs(in6->sin6_port));
}

}  // namespace

StopSignal::StopSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
StopSignal::~StopSignal() {
  if (fd_ >= 0) ::close(fd_);
}
void StopSignal::Notify() {
  const uint64_t one = 1;
  (void)!::write(fd_, &one, sizeof one);
}
bool StopSignal::notified() const {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

absl::Status WriteAll(int fd, absl::string_view bytes, absl::Duration timeout,
                      const StopSignal& stop) {
  while (!bytes.empty()) {
    if (absl::Status s = Wait(fd, POLLOUT, timeout, stop); !s.ok()) return s;
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      return absl::UnavailableError(absl::StrCat("replication: send: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<Frame> ReadFrame(int fd, FrameReader* reader, absl::Duration timeout,
                                const StopSignal& stop) {
  Frame f;
  char buf[64 << 10];
  for (;;) {
    absl::StatusOr<bool> got = reader->Next(&f);
    if (!got.ok()) return got.status();
    if (*got) return f;
    if (absl::Status s = Wait(fd, POLLIN, timeout, stop); !s.ok()) return s;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      return absl::UnavailableError(absl::StrCat("replication: recv: ", std::strerror(errno)));
    }
    if (n == 0) return absl::UnavailableError("replication: the peer closed the connection");
    reader->Feed(absl::string_view(buf, static_cast<size_t>(n)));
  }
}

absl::StatusOr<int> ConnectTcp(absl::string_view address, absl::Duration timeout,
                               const StopSignal& stop) {
  std::string host;
  uint16_t port = 0;
  if (absl::Status s = SplitAddress(address, &host, &port); !s.ok()) return s;
  absl::StatusOr<addrinfo*> res = Resolve(host, port, false);
  if (!res.ok()) return res.status();
  const int fd = ::socket((*res)->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::freeaddrinfo(*res);
    return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  int rc = ::connect(fd, (*res)->ai_addr, (*res)->ai_addrlen);
  ::freeaddrinfo(*res);
  absl::Status status;
  if (rc < 0 && errno == EINPROGRESS) {
    status = Wait(fd, POLLOUT, timeout, stop);
    int err = 0;
    socklen_t len = sizeof err;
    if (status.ok() && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
      errno = err;
      rc = -1;
    } else {
      rc = status.ok() ? 0 : -1;
    }
  }
  if (rc < 0) {
    ::close(fd);
    if (!status.ok() && status.code() == absl::StatusCode::kCancelled) return status;
    return absl::UnavailableError(
        absl::StrCat("replication: connect to ", address, ": ",
                     status.ok() ? std::strerror(errno) : std::string(status.message())));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

absl::StatusOr<int> AcceptTcp(int listen_fd, const StopSignal& stop, std::string* peer) {
  for (;;) {
    if (absl::Status s = Wait(listen_fd, POLLIN, absl::InfiniteDuration(), stop); !s.ok()) {
      return s;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)) continue;
    if (fd < 0) return absl::UnavailableError(absl::StrCat("accept: ", std::strerror(errno)));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *peer = Describe(reinterpret_cast<const sockaddr*>(&ss));
    return fd;
  }
}

absl::StatusOr<int> ListenTcp(absl::string_view flag, absl::string_view address,
                              std::string* bound) {
  std::string host;
  uint16_t port = 0;
  if (absl::Status s = SplitAddress(address, &host, &port); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", s.message()));
  }
  absl::StatusOr<addrinfo*> res = Resolve(host, port, true);
  if (!res.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", res.status().message()));
  }
  const int fd = ::socket((*res)->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = fd >= 0 && ::bind(fd, (*res)->ai_addr, (*res)->ai_addrlen) == 0 &&
                  ::listen(fd, 64) == 0;
  ::freeaddrinfo(*res);
  if (!ok) {
    const std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(absl::StrCat("--", flag, "=", address, ": ", err));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound = Describe(reinterpret_cast<const sockaddr*>(&ss));
  return fd;
}

}  // namespace attrib::replication
