// net/listen_socket.cc: see listen_socket.h.
#include "net/listen_socket.h"

#include "absl/strings/str_cat.h"
#include "net/server.h"

namespace attrib::net::internal {

absl::StatusOr<std::string> OpenListenSocket(absl::string_view flag, absl::string_view listen,
                                             boost::asio::ip::tcp::acceptor* acceptor) {
  namespace asio = boost::asio;
  absl::StatusOr<HostPort> hp = ParseHostPort(listen);
  if (!hp.ok()) {
    if (flag == "listen") return hp.status();
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", hp.status().message()));
  }
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(hp->host), hp->port);
  boost::system::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(flag, " on ", listen, ": ", ec.message()));
  const asio::ip::tcp::endpoint local = acceptor->local_endpoint();
  return local.address().is_v6()
             ? absl::StrCat("[", local.address().to_string(), "]:", local.port())
             : absl::StrCat(local.address().to_string(), ":", local.port());
}

}  // namespace attrib::net::internal
