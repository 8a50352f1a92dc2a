// bench/bench_socket.h
//
// attrib-bench's sockets: it only ever talks to a server on this machine, so the
// address must resolve to loopback (127.0.0.0/8, ::1, or ::ffff:127.x.y.z); anything
// else is refused before a packet is sent. Connections are non-blocking TCP with
// TCP_NODELAY (requests are small; Nagle would add 40 ms stalls to pipelines).
//
// Thread-safety: pure functions (ConnectLoopback blocks the calling thread only).
#ifndef ATTRIB_BENCH_BENCH_SOCKET_H_
#define ATTRIB_BENCH_BENCH_SOCKET_H_

#include <sys/socket.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace attrib::bench {

struct LoopbackAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
  std::string text;  // As given, for messages.
};

// "host:port" or "[v6]:port". InvalidArgument if it does not parse, does not resolve,
// or resolves to no loopback address (the message names the address found).
absl::StatusOr<LoopbackAddress> ResolveLoopback(absl::string_view host_port);

// A connected non-blocking socket with TCP_NODELAY, or Unavailable with the reason.
absl::StatusOr<int> ConnectLoopback(const LoopbackAddress& address, absl::Duration timeout);

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_BENCH_SOCKET_H_
