// http/api_internal.h
//
// PRIVATE to the HTTP API codec (http/api*.cc): the decoded request a resource
// handler sees, and the handlers. Each handler decodes (a failure is a 400 problem),
// calls the service, encodes the result, and returns the status code the request is
// counted under.
//
// Thread-safety: as Api: any thread, concurrently.
#ifndef ATTRIB_HTTP_API_INTERNAL_H_
#define ATTRIB_HTTP_API_INTERNAL_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "engine/identity_types.h"
#include "http/api.h"
#include "http/json_out.h"
#include "service/operation.h"
#include "service/service.h"

namespace attrib::http::internal {

struct Ctx {
  service::Service* sv = nullptr;
  service::Call* call = nullptr;
  engine::ShopId shop = 0;
  std::string param;  // The path's {email} or {order_id}, percent-decoded.
  std::string param2;  // A second path parameter (an identifier to unlink).
  std::vector<std::pair<std::string, std::string>> query;  // Decoded, in order.
  std::string* body = nullptr;
  ApiResponse* out = nullptr;

  // The query value of `name` (nullptr: absent).
  const std::string* Query(absl::string_view name) const;
  // InvalidArgument naming the first query parameter not in `allowed`.
  absl::Status OnlyQuery(std::initializer_list<absl::string_view> allowed) const;
  // The `limit` query parameter into *limit when present: InvalidArgument naming it
  // unless it is an integer in [1, max]; *limit is unchanged when it is absent.
  absl::Status QueryLimit(uint32_t max, uint32_t* limit) const;
};

// A 400 problem for a request that could not be decoded; returns its code.
absl::StatusCode BadRequest(const absl::Status& status, ApiResponse* out);
// The error of a service call (its code's HTTP status; InvalidArgument: 422).
absl::StatusCode Failed(const absl::Status& status, ApiResponse* out);

absl::StatusCode Connect(Ctx& c);
absl::StatusCode List(Ctx& c);
absl::StatusCode Lookup(Ctx& c);
absl::StatusCode Disconnect(Ctx& c);
absl::StatusCode LookupBatch(Ctx& c);
absl::StatusCode Counts(Ctx& c);
absl::StatusCode GetSettings(Ctx& c);
absl::StatusCode PatchSettings(Ctx& c);
absl::StatusCode Attribute(Ctx& c);
absl::StatusCode Explain(Ctx& c);
absl::StatusCode Reverse(Ctx& c);
absl::StatusCode Stats(Ctx& c);
// The affiliate directory (api_affiliates.cc); c.param is the path's {id}.
absl::StatusCode PutAffiliate(Ctx& c);
absl::StatusCode GetAffiliate(Ctx& c);
absl::StatusCode DisableAffiliate(Ctx& c);
absl::StatusCode SearchAffiliates(Ctx& c);

// Customers and identifiers (api_customers.cc; issue 12). c.param is the path's
// {customer}: an email, or `external_id:` followed by the external id.
absl::StatusCode GetCustomer(Ctx& c);
absl::StatusCode LinkIdentifier(Ctx& c);
absl::StatusCode UnlinkIdentifier(Ctx& c);  // c.param2: the identifier to unlink.
absl::StatusCode MergeCustomers(Ctx& c);
// The customer directory (api_customer_directory.cc): search, PATCH a name.
absl::StatusCode SearchCustomers(Ctx& c);
absl::StatusCode PatchCustomer(Ctx& c);
// {"shop","primary","emails","external_id","connection"} members (api_customers.cc).
void WriteCustomerMembers(JsonOut& j, const engine::CustomerInfo& c);
// {"customer": {..., "directory": ...}} (api_customer_directory.cc).
void CustomerRecordReply(const engine::CustomerRecord& record, ApiResponse* out);
// The customer a path segment names: "external_id:ID" is an external id, anything
// else an email (the engine validates either).
engine::CustomerRef CustomerOfSegment(absl::string_view segment);
bool IsExternalIdSegment(absl::string_view segment);
// {"linked":..,"merged":..,"merge":{..}} of an operation that joined identifiers.
void WriteIdentityChange(JsonOut& j, const engine::IdentityChange& change);
// Whether `change` did or refused anything worth reporting.
inline bool HasIdentityChange(const engine::IdentityChange& change) {
  return change.linked || change.merge.has_value() || !change.not_joined.empty();
}
// /v1/shops/{shop}/customers/{customer}[/identifiers[/{identifier}]|/merge]: true
// when `seg` is one of them, with *op and *code set (and c.param, c.param2). The
// connection sub-resource (.../connection) is routed by api.cc.
bool RouteCustomers(Ctx& c, absl::string_view method, const std::vector<std::string>& seg,
                    service::Operation* op, absl::StatusCode* code,
                    absl::FunctionRef<absl::StatusCode(const char*)> not_allowed);

// api_webhooks.cc.
absl::StatusCode CreateWebhook(Ctx& c);
absl::StatusCode ListWebhooks(Ctx& c);
absl::StatusCode GetWebhook(Ctx& c);
absl::StatusCode PatchWebhook(Ctx& c);
absl::StatusCode DeleteWebhook(Ctx& c);
absl::StatusCode RotateWebhookSecret(Ctx& c);
absl::StatusCode Changes(Ctx& c);
// /v1/shops/{shop}/webhooks[/{id}[/rotate_secret]] and /v1/changes: true when `seg`
// (the decoded path segments) is one of them, with *code set (and c.shop, c.param).
bool RouteWebhooks(Ctx& c, absl::string_view method, const std::vector<std::string>& seg,
                   service::Operation* op,
                   absl::StatusCode* code);

}  // namespace attrib::http::internal

#endif  // ATTRIB_HTTP_API_INTERNAL_H_
