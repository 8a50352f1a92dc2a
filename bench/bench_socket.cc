// bench/bench_socket.cc: loopback-only address resolution and connecting (see the
// header).
//
// Thread-safety: as the header.
#include "bench/bench_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "net/client.h"

namespace attrib::bench {
namespace {

bool IsLoopback(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
  }
  return false;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text,
              sizeof(text));
  } else if (address->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

}  // namespace

absl::StatusOr<LoopbackAddress> ResolveLoopback(absl::string_view host_port) {
  absl::StatusOr<net::HostPort> hp = net::SplitHostPort(host_port);
  if (!hp.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", hp.status().message()));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(hp->host.c_str(), hp->port.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--server: cannot resolve '", hp->host, "': ",
        rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)));
  }
  std::string others;
  LoopbackAddress found;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (IsLoopback(ai->ai_addr)) {
      std::memcpy(&found.address, ai->ai_addr, ai->ai_addrlen);
      found.length = ai->ai_addrlen;
      break;
    }
    absl::StrAppend(&others, others.empty() ? "" : ", ", AddressText(ai->ai_addr));
  }
  ::freeaddrinfo(result);
  if (found.length == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--server: '", host_port, "' resolves to ", others,
        ", not a loopback address; attrib-bench only talks to servers on this machine "
        "(127.0.0.0/8 or ::1)"));
  }
  found.text = std::string(host_port);
  return found;
}

absl::StatusOr<int> ConnectLoopback(const LoopbackAddress& address, absl::Duration timeout) {
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&address.address);
  const int fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  auto fail = [&](absl::string_view why) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect to ", address.text, ": ", why));
  };
  if (::connect(fd, sa, address.length) != 0) {
    if (errno != EINPROGRESS) return fail(std::strerror(errno));
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (ready == 0) return fail("no answer within the timeout");
    if (ready < 0) return fail(std::strerror(errno));
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return fail(std::strerror(err));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace attrib::bench
