// net/listen_socket.h
//
// PRIVATE to net/ (server.cc, metrics_http.cc): opens a listening TCP socket on a
// "host:port" address. Includes <boost/asio.hpp>, so no public header may include it.
//
// Thread-safety: a free function; the acceptor is the caller's.
#ifndef ATTRIB_NET_LISTEN_SOCKET_H_
#define ATTRIB_NET_LISTEN_SOCKET_H_

#include <utility>  // Before asio (g++ 12 + C++20).

#include <string>

#include <boost/asio.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::net::internal {

// Opens `acceptor` (not yet open), binds it to `listen` (ParseHostPort's syntax; port
// 0: any free port) with SO_REUSEADDR and listens. Returns the address actually bound
// ("127.0.0.1:40123", "[::1]:40123"). Errors name `flag` (e.g. "listen").
absl::StatusOr<std::string> OpenListenSocket(absl::string_view flag, absl::string_view listen,
                                             boost::asio::ip::tcp::acceptor* acceptor);

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_LISTEN_SOCKET_H_
