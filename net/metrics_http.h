// net/metrics_http.h
//
// The metrics endpoint: a small HTTP/1.1 server (Boost.Beast) that answers
// GET /metrics (and HEAD) with 200 and the text the collector returns, as
// `text/plain; version=0.0.4` (the Prometheus text format, common/metrics_text.h).
// Any other path: 404; any other method: 405 (with Allow). Keep-alive is honoured.
// Errors that end the connection: 431 (header over max_request_header_bytes), 413 (a
// body), 400 (not HTTP/1.x), 503 (over max_connections), each with
// "Connection: close", then a lingering close (net/lingering_close.h, bounded by
// options.linger) so that request bytes still arriving do not reset the connection
// before the client has read the response; a response to "Connection: close" ends
// the same way.
//
// It runs on its own thread and io_context, apart from the request-serving threads,
// so a scrape never delays a lookup beyond the collector's own reads (a few relaxed
// loads per counter and a short lock per store shard). Limits (MetricsHttpOptions,
// set by attribd's --metrics_* flags): a request's header is bounded and a body is
// refused; a connection that sends no complete request within the read timeout is
// closed; at most max_connections scrape connections at once, lingering ones
// included (more get 503; beyond another max_connections of those, they are closed
// at once), so a misbehaving scraper cannot grow memory or starve the thread.
//
// The collector runs on the metrics thread, one scrape at a time.
//
// Boost.Asio/Beast stay inside metrics_http.cc.
//
// Thread-safety: Start() once; bound_address() and Shutdown() from any thread
// (Shutdown is idempotent and joins the thread; also run by the destructor).
#ifndef ATTRIB_NET_METRICS_HTTP_H_
#define ATTRIB_NET_METRICS_HTTP_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/linger_options.h"

namespace attrib::net {

struct MetricsHttpOptions {
  // A scrape request is a request line and a few headers; bounds what one connection
  // can make the server buffer.
  size_t max_request_header_bytes = 8 << 10;
  // A complete request must arrive within this time (also the keep-alive idle
  // limit), so silent connections do not hold one of the few slots.
  absl::Duration read_timeout = absl::Seconds(10);
  // Scrapers are a handful of monitoring agents; more connections are closed on
  // accept so that a flood cannot exhaust descriptors or memory.
  size_t max_connections = 8;
  LingerOptions linger;  // The close after a final response.
};

class MetricsHttpServer {
 public:
  // `listen`: host:port or [v6]:port (net/server.h ParseHostPort); port 0 = any free.
  // `collect` returns the body of a /metrics reply.
  MetricsHttpServer(std::string listen, std::function<std::string()> collect,
                    MetricsHttpOptions options = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds, listens and starts the thread.
  absl::Status Start();
  // "127.0.0.1:40123", after Start().
  std::string bound_address() const;
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attrib::net

#endif  // ATTRIB_NET_METRICS_HTTP_H_
