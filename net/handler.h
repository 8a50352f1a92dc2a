// net/handler.h
//
// The native protocol's codec: decodes a request frame (net/attrib.capnp), runs it
// through the service layer (service/service.h: scopes, the durability rules,
// counting and latency) and encodes the result. It knows neither sockets nor files;
// the server hands it one complete frame at a time.
//
// Errors: an engine absl::Status becomes Error{code, message} with the same code
// (ErrorCode mirrors absl::StatusCode); an already_connected error also carries
// currentAffiliate. A frame that is not a valid Request (a Cap'n Proto exception while
// reading it) gets an invalidArgument reply ("request: not a valid Request message:
// ...") with the request's id if it could be read, else 0, and the session is marked
// to be closed. A Request union member this server does not know (a newer client)
// gets unimplemented and the connection stays open.
//
// Auth: with keys configured (HandlerOptions::api_keys, or auth_token as one admin
// key), the first request of a connection must be `auth` with a key's secret
// (service/api_keys.h: hashed, compared in constant time); the connection then acts
// with that key's scope. Anything else gets `unauthenticated` and the session is
// marked to be closed.
//
// Thread-safety: HandleFrame() may be called from any thread, concurrently; a Session
// belongs to one connection and is only touched by the thread serving it.
#ifndef ATTRIB_NET_HANDLER_H_
#define ATTRIB_NET_HANDLER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "capnp/message.h"
#include "common/histogram.h"
#include "engine/engine.h"
#include "kj/array.h"
#include "net/attrib.capnp.h"
#include "net/wire_codes.h"
#include "service/api_keys.h"
#include "service/service.h"

namespace attrib::net {

// Per-connection state.
struct Session {
  bool authenticated = false;
  bool close_after_reply = false;  // Set by the handler: reply, then close.
  // Set by the handler for write requests: the reply may leave only once the log is
  // durable up to this sequence number (0: no wait).
  uint64_t wait_for_seq = 0;
  // Who the connection acts for (service/scope.h): every shop, read-write, until
  // API keys with scopes exist.
  service::Scope scope;
};

// The service layer's types, under the names the server and attribd know.
using DurabilityHooks = service::DurabilityHooks;
using ServerFacts = service::ServerFacts;
using OperationCount = service::OperationCount;
using OperationLatency = service::OperationLatency;

struct HandlerOptions {
  std::string auth_token;                        // One admin key (tests); see api_keys.
  // The keys `auth` accepts (service/api_keys.h), each giving the connection its
  // scope; must outlive the handler. Null (and no auth_token): no authentication.
  const service::ApiKeys* api_keys = nullptr;
  // For the service the handler makes (the engine constructor); a handler over a
  // shared service (the service constructor) uses the service's own.
  std::function<ServerFacts()> server_facts;     // May be empty.
  std::function<absl::Status()> snapshot;        // Empty: `snapshot` is unimplemented.
  DurabilityHooks* durability = nullptr;         // Null: in memory only.
};

class RequestHandler {
 public:
  // `engine` must outlive the handler, which makes its own service over it.
  RequestHandler(engine::Engine* engine, HandlerOptions options);
  // Over a service shared with other front ends (the HTTP API), which must outlive
  // the handler; only options.auth_token and options.api_keys are used.
  RequestHandler(service::Service* service, HandlerOptions options);
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  // A frame looked at ahead of its execution (PrepareFrames).
  struct PreparedFrame {
    bool lookup = false;  // A valid lookup request, decoded: the fields below.
    uint64_t id = 0;
    int64_t at = 0;
    absl::string_view email;  // Points into the frame.
    engine::Engine::PreparedKey key;
  };
  // A hint for pipelined requests: decodes the lookups among `frames` (complete
  // frames about to be handled in this order) and prefetches where their keys live
  // (and those of connects), all keys first, then their records, so the cache misses
  // of many requests overlap.
  // Executes nothing, sees no data, never throws. prepared.size() >= frames.size().
  void PrepareFrames(absl::Span<const kj::ArrayPtr<const capnp::word>> frames,
                     absl::Span<PreparedFrame> prepared) const;

  // Decodes one complete request frame (word-aligned, within the frame limits) and
  // builds its Response into `response` (a fresh builder). Never throws. `prepared`,
  // when given, is PrepareFrames' result for this same frame (still in place): a
  // prepared lookup is then not decoded again.
  void HandleFrame(kj::ArrayPtr<const capnp::word> frame, Session* session,
                   capnp::MessageBuilder* response,
                   const PreparedFrame* prepared = nullptr);

  // Builds an error Response (for frames the server could not even decode).
  static void BuildError(uint64_t id, wire::ErrorCode code, absl::string_view message,
                         capnp::MessageBuilder* response);

  // Requests handled so far, by operation and result (non-zero counts only).
  std::vector<OperationCount> OperationCounts() const;

  // Execution time per operation (net/request_latency.h says what is measured):
  // every operation of the schema, plus "undecodable"/"unknown" once seen.
  std::vector<OperationLatency> OperationLatencies() const;

  // counts_ rows: 0 = a frame that was not a valid Request, 1..19 = the Request
  // union's members in schema order (which() + 1), 20 = a member this server does not
  // know (a newer client).
  static constexpr size_t kOperationSlots = service::kOperationCount;
  static constexpr size_t kCodeSlots = kStatusCodeCount;  // wire::ErrorCode ok..unauthenticated.

  service::Service& service() const { return *service_; }

 private:
  // Runs one decoded request through the service, building its result (or error)
  // into `out`, whose id is already set. Returns the code counted for it.
  wire::ErrorCode Dispatch(wire::Request::Reader request, Session* session,
                           service::Call& call, wire::Response::Builder out);
  wire::ErrorCode Authenticate(wire::AuthRequest::Reader request, Session* session,
                               wire::Response::Builder out);
  void InitKeys();

  std::unique_ptr<service::Service> owned_service_;  // The engine constructor's.
  std::unique_ptr<service::ApiKeys> owned_keys_;     // From options.auth_token.
  service::Service* const service_;
  const HandlerOptions options_;
  const service::ApiKeys* keys_ = nullptr;  // Null: no authentication.
};


}  // namespace attrib::net

#endif  // ATTRIB_NET_HANDLER_H_
