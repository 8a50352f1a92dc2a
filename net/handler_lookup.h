// net/handler_lookup.h
//
// PRIVATE to the request handler (net/handler*.cc): the lookup operations, whose
// replies are written straight from the store (Service::LookupEach), and the
// look-ahead that prepares pipelined lookups (RequestHandler::PrepareFrames).
//
// Thread-safety: as RequestHandler: any thread, concurrently.
#ifndef ATTRIB_NET_HANDLER_LOOKUP_H_
#define ATTRIB_NET_HANDLER_LOOKUP_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "net/attrib.capnp.h"
#include "service/service.h"

namespace attrib::net::internal {

// One lookup; `key`, when not null, was prepared for this shop and email.
wire::ErrorCode DoLookup(const service::Service& sv, const service::Call& call,
                         uint64_t shop, absl::string_view email, int64_t at,
                         const engine::Engine::PreparedKey* key, wire::Response::Builder out);
wire::ErrorCode DoLookupBatch(const service::Service& sv, const service::Call& call,
                              wire::LookupBatchRequest::Reader r, wire::Response::Builder out);

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_HANDLER_LOOKUP_H_
