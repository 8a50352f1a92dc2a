// net/handler_affiliates.h
//
// The affiliate directory's operations of the request handler (putAffiliate,
// getAffiliate, disableAffiliate, searchAffiliates): wire request -> service call
// (scope, durability, the engine) -> wire result. Internal to attrib_handler
// (handler.cc dispatches to these).
//
// Thread-safety: pure functions of the service (thread-safe) and the messages.
#ifndef ATTRIB_NET_HANDLER_AFFILIATES_H_
#define ATTRIB_NET_HANDLER_AFFILIATES_H_

#include "engine/engine.h"
#include "net/attrib.capnp.h"
#include "service/service.h"

namespace attrib::net::internal {

wire::ErrorCode DoPutAffiliate(service::Service& sv, service::Call& call,
                               wire::PutAffiliateRequest::Reader r, wire::Response::Builder out);
wire::ErrorCode DoGetAffiliate(const service::Service& sv, const service::Call& call,
                               wire::AffiliateRef::Reader r, wire::Response::Builder out);
wire::ErrorCode DoDisableAffiliate(service::Service& sv, service::Call& call,
                                   wire::AffiliateRef::Reader r, wire::Response::Builder out);
wire::ErrorCode DoSearchAffiliates(const service::Service& sv, const service::Call& call,
                                   wire::SearchAffiliatesRequest::Reader r,
                                   wire::Response::Builder out);

// Engine -> wire, shared with tests.
void ToWire(const engine::Affiliate& a, uint64_t connections, wire::Affiliate::Builder out);

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_HANDLER_AFFILIATES_H_
