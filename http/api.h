// http/api.h
//
// The HTTP/JSON API's codec: one decoded HTTP request (method, target, body) in, one
// response (status, content type, body, the sequence number it must wait for) out,
// through the service layer (service/service.h), which applies the scope, the
// durability rules, counting and latency as it does for the native protocol. No
// sockets here: http/http_server.cc reads and writes the bytes, holds a write's
// response until the log is durable up to wait_for_seq, and checks Host and auth.
//
// Resources (README "HTTP API", http/openapi.json):
//   POST   /v1/shops/{shop}/connections                 connect (mode if_absent|reassign)
//   GET    /v1/shops/{shop}/connections                 list (filters, cursor, limit)
//   GET    /v1/shops/{shop}/customers/{email}/connection lookup (?at=)
//   DELETE /v1/shops/{shop}/customers/{email}/connection disconnect
//   POST   /v1/shops/{shop}/lookups                     batch lookup
//   POST   /v1/shops/{shop}/orders                      attribute
//   GET    /v1/shops/{shop}/orders/{order_id}           explain
//   POST   /v1/shops/{shop}/orders/{order_id}/reverse   reverse
//   GET    /v1/shops/{shop}/settings, PATCH same        settings
//   GET    /v1/shops/{shop}/counts                      counts (?affiliate=)
//   PUT    /v1/shops/{shop}/affiliates/{id}, GET same   affiliate directory entry
//   POST   /v1/shops/{shop}/affiliates/{id}/disable     disable an affiliate
//   GET    /v1/shops/{shop}/affiliates                  search (name_prefix, email, ..)
//   GET    /v1/whoami                                   the key's own scope
//   POST, GET /v1/shops/{shop}/webhooks; GET, PATCH, DELETE .../webhooks/{id};
//   POST .../webhooks/{id}/rotate_secret                 webhook endpoints (api_webhooks.cc)
//   GET    /v1/changes?from=SEQ                           the change feed (JSON lines)
//   GET    /v1/stats, /healthz, /readyz, /v1/openapi.json
// Errors are RFC 9457 problem documents (application/problem+json): type, title,
// status, detail, plus `code` (attrib's error code name), `field` (invalid
// arguments) and `current_affiliate` (already_connected). A body that is not JSON,
// a wrong type or an unknown field is 400; a well-formed request the engine rejects
// (a bad email, a setting out of range) is 422.
//
// Thread-safety: Handle() may be called from any thread, concurrently.
#ifndef ATTRIB_HTTP_API_H_
#define ATTRIB_HTTP_API_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/service.h"

namespace attrib::http {

struct ApiRequest {
  absl::string_view method;        // "GET", "POST", ...
  absl::string_view target;        // "/v1/shops/1/connections?limit=10"
  absl::string_view content_type;  // The Content-Type header ("" if none).
  std::string* body = nullptr;     // Parsed in place (modified). Never null.
  service::Scope scope;            // Who asks (the server authenticated them).
};

struct ApiResponse {
  int status = 200;
  const char* content_type = "application/json";
  std::string body;
  // A write: the response may leave only once the log is durable up to here.
  uint64_t wait_for_seq = 0;
  const char* allow = nullptr;  // For 405: the methods the resource has.
};

// A problem document for `status` (its code picks the HTTP status unless
// `http_status` is given) into `out`.
void Problem(const absl::Status& status, ApiResponse* out, int http_status = 0);

// The HTTP status an error code maps to (README "HTTP API").
int HttpStatusOf(absl::StatusCode code);

class Api {
 public:
  // `service` must outlive the Api.
  explicit Api(service::Service* service) : service_(service) {}

  void Handle(const ApiRequest& request, ApiResponse* response);

 private:
  service::Service* const service_;
};

// The OpenAPI 3.1 document (http/openapi.json, embedded at build time).
absl::string_view OpenApiDocument();

}  // namespace attrib::http

#endif  // ATTRIB_HTTP_API_H_
