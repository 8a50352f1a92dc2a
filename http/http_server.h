// http/http_server.h
//
// The HTTP/1.1 listener of the JSON API (Boost.Beast): keep-alive connections, each
// request decoded and answered by http::Api over the shared service layer.
//
// Per request, before the API sees it:
//  - Host must name this server (against DNS rebinding: a browser page of another
//    origin cannot reach the API through a name that resolves to loopback): the
//    bound address, localhost / 127.0.0.1 / [::1] with the bound port, or one of
//    allowed_hosts; else 421. No Host: 400.
//  - Auth: with api_keys set, every request but the probes (/healthz, /readyz) and
//    /v1/openapi.json needs `Authorization: Bearer <secret>` of a key (hashed,
//    constant-time compare), else 401; it acts with that key's scope (a shop key
//    sees other shops as not found; a read-only key gets 403 on writes). Never a
//    cookie.
//  - A body is accepted only as application/json (415 otherwise).
//  - CORS: none (no Access-Control-* headers, preflights get 405) unless cors_origin
//    names an origin; then requests from exactly that Origin get
//    Access-Control-Allow-Origin and preflights (OPTIONS) are answered.
// Limits (HttpServerOptions, attribd's --http_* flags): header bytes (431), body
// bytes (413), time to send a whole request (the keep-alive idle limit as well; the
// connection is closed), connections (over the limit: a 503 and close).
//
// Durability: a write's response (ApiResponse::wait_for_seq) is parked, not
// blocking the thread, until NotifyDurable() reports that sequence number durable;
// the connection reads nothing more meanwhile (HTTP/1.1 answers in order).
//
// Threads: one I/O thread runs every connection (the API's work per request is a
// few microseconds; the native protocol is the high-rate path).
//
// Thread-safety: Start() once; NotifyDurable(), bound_address() and Shutdown() from
// any thread (Shutdown is idempotent and joins; also run by the destructor).
#ifndef ATTRIB_HTTP_HTTP_SERVER_H_
#define ATTRIB_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/linger_options.h"
#include "service/api_keys.h"
#include "service/service.h"

namespace attrib::http {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:7412";  // host:port; port 0 = any free.
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 1 << 20;
  absl::Duration request_timeout = absl::Seconds(10);
  size_t max_connections = 1024;
  // The API keys (service/api_keys.h; must outlive the server). Null: no
  // authentication, every request acts as admin read-write.
  const service::ApiKeys* api_keys = nullptr;
  std::string cors_origin;                 // Empty: no CORS.
  std::vector<std::string> allowed_hosts;  // Host values accepted besides the defaults.
  // After a response that ends the connection (an error such as 413, 431, 400, a 503
  // over max_connections, or "Connection: close"), the close lingers
  // (net/lingering_close.h), so the response reaches a client that is still sending.
  net::LingerOptions linger;
  size_t max_refused_lingering = 64;  // Refused (503) connections lingering at once.
};

class HttpServer {
 public:
  // `service` must outlive the server.
  HttpServer(service::Service* service, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  absl::Status Start();
  std::string bound_address() const;  // "127.0.0.1:40123", after Start().
  // The log is durable up to `seq` (any thread, any order: the largest counts; may
  // come before Start()).
  void NotifyDurable(uint64_t seq);
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attrib::http

#endif  // ATTRIB_HTTP_HTTP_SERVER_H_
