// net/handler_identity.h
//
// The native protocol's customer-identifier operations (issue 12): getCustomer,
// linkIdentifier, unlinkIdentifier, mergeCustomers, the customer directory's
// searchCustomers and putCustomer, the external-id forms of lookup and disconnect,
// and the wire form of an IdentityChange. Codecs only: the
// service applies scope, durability and the engine.
//
// Thread-safety: stateless functions; callable from any thread.
#ifndef ATTRIB_NET_HANDLER_IDENTITY_H_
#define ATTRIB_NET_HANDLER_IDENTITY_H_

#include "engine/engine.h"
#include "net/attrib.capnp.h"
#include "service/service.h"

namespace attrib::net::internal {

// The customer a request names: email and externalId, each only when non-empty.
engine::CustomerRef CustomerRefOf(capnp::Text::Reader email, capnp::Text::Reader external_id);

wire::ErrorCode DoGetCustomer(const service::Service& sv, const service::Call& call,
                              wire::CustomerRequest::Reader r, wire::Response::Builder out);
wire::ErrorCode DoLinkIdentifier(service::Service& sv, service::Call& call,
                                 wire::LinkIdentifierRequest::Reader r,
                                 wire::Response::Builder out);
wire::ErrorCode DoUnlinkIdentifier(service::Service& sv, service::Call& call,
                                   wire::CustomerRequest::Reader r, wire::Response::Builder out);
wire::ErrorCode DoMergeCustomers(service::Service& sv, service::Call& call,
                                 wire::MergeCustomersRequest::Reader r,
                                 wire::Response::Builder out);
// lookup / disconnect with an externalId (the email-only forms keep their paths).
wire::ErrorCode DoLookupCustomer(const service::Service& sv, const service::Call& call,
                                 wire::LookupRequest::Reader r, wire::Response::Builder out);
wire::ErrorCode DoDisconnectCustomer(service::Service& sv, service::Call& call,
                                     wire::LookupRequest::Reader r, wire::Response::Builder out);

// The customer directory (issue 12; service_customers.cc).
wire::ErrorCode DoSearchCustomers(const service::Service& sv, const service::Call& call,
                                  wire::SearchCustomersRequest::Reader r,
                                  wire::Response::Builder out);
wire::ErrorCode DoPutCustomer(service::Service& sv, service::Call& call,
                              wire::PutCustomerRequest::Reader r, wire::Response::Builder out);

void ToWire(const engine::IdentityChange& c, wire::IdentityChange::Builder out);

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_HANDLER_IDENTITY_H_
