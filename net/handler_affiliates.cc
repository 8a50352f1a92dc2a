// net/handler_affiliates.cc: the affiliate directory's operations (see
// handler_affiliates.h). Every read of the request happens before the engine is
// called, as in handler.cc.
#include "net/handler_affiliates.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "net/handler_convert.h"

namespace attrib::net::internal {
namespace {

using Out = wire::Response::Builder;
constexpr wire::ErrorCode kOk = wire::ErrorCode::OK;

absl::StatusOr<engine::AffiliateStatus> StatusFromWire(wire::AffiliateStatus v,
                                                       absl::string_view field) {
  if (static_cast<uint16_t>(v) > static_cast<uint16_t>(engine::AffiliateStatus::kDisabled)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ",
                                                   static_cast<uint16_t>(v),
                                                   " (this server knows 0..1)"));
  }
  return static_cast<engine::AffiliateStatus>(static_cast<uint16_t>(v));
}

// A {keep|any, set|only: AffiliateStatus} union: nullopt for the first member, the
// status for the second, an error naming the field for a member this server does not
// know or a value out of range.
template <typename Union>
absl::StatusOr<std::optional<engine::AffiliateStatus>> StatusUnion(Union u, bool given,
                                                                   bool omitted,
                                                                   wire::AffiliateStatus value) {
  if (omitted) return std::optional<engine::AffiliateStatus>();
  if (!given) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status: unknown union member ", static_cast<uint16_t>(u.which())));
  }
  absl::StatusOr<engine::AffiliateStatus> s = StatusFromWire(value, "status");
  if (!s.ok()) return s.status();
  return std::optional<engine::AffiliateStatus>(*s);
}

void ResultToWire(const engine::PutAffiliateResult& r, uint64_t connections, Out out) {
  wire::AffiliateResult::Builder w = out.initAffiliate();
  ToWire(r.affiliate, connections, w.initAffiliate());
  w.setCreated(r.created);
  if (r.removed_connections.empty()) return;
  auto removed = w.initRemovedConnections(r.removed_connections.size());
  for (size_t i = 0; i < r.removed_connections.size(); ++i) {
    net::ToWire(r.removed_connections[i], removed[i]);
  }
}

}  // namespace

void ToWire(const engine::Affiliate& a, uint64_t connections, wire::Affiliate::Builder out) {
  out.setShop(a.shop);
  out.setId(a.id);
  if (!a.name.empty()) CopyText(a.name, out.initName(a.name.size()));
  auto emails = out.initEmails(a.emails.size());
  for (size_t i = 0; i < a.emails.size(); ++i) {
    CopyText(a.emails[i], emails.init(i, a.emails[i].size()));
  }
  out.setStatus(static_cast<wire::AffiliateStatus>(static_cast<uint16_t>(a.status)));
  out.setCreatedAt(a.created_at);
  out.setConnections(connections);
}

wire::ErrorCode DoPutAffiliate(service::Service& sv, service::Call& call,
                               wire::PutAffiliateRequest::Reader r, Out out) {
  engine::PutAffiliateRequest req;
  req.shop = r.getShop();
  req.id = r.getId();
  const absl::string_view name = View(r.getName());
  req.name.assign(name.data(), name.size());
  const auto emails = r.getEmails();
  if (emails.size() > engine::kMaxAffiliateEmails) {  // Before copying any.
    return Fail(absl::InvalidArgumentError(absl::StrCat("emails: ", emails.size(),
                                                        " given, the limit is ",
                                                        engine::kMaxAffiliateEmails)),
                out);
  }
  for (const capnp::Text::Reader email : emails) req.emails.emplace_back(View(email));
  const auto status = r.getStatus();
  absl::StatusOr<std::optional<engine::AffiliateStatus>> s = StatusUnion(
      status, status.isSet(), status.isKeep(),
      status.isSet() ? status.getSet() : wire::AffiliateStatus::ACTIVE);
  if (!s.ok()) return Fail(s.status(), out);
  req.status = *s;
  req.created_at = OptionalTime(r.getCreatedAt());
  uint64_t connections = 0;
  absl::StatusOr<engine::PutAffiliateResult> result = sv.PutAffiliate(call, req, &connections);
  if (!result.ok()) return Fail(result.status(), out);
  ResultToWire(*result, connections, out);
  return kOk;
}

wire::ErrorCode DoGetAffiliate(const service::Service& sv, const service::Call& call,
                               wire::AffiliateRef::Reader r, Out out) {
  absl::StatusOr<engine::AffiliateInfo> info = sv.GetAffiliate(call, r.getShop(), r.getId());
  if (!info.ok()) return Fail(info.status(), out);
  ToWire(info->affiliate, info->connections, out.initAffiliate().initAffiliate());
  return kOk;
}

wire::ErrorCode DoDisableAffiliate(service::Service& sv, service::Call& call,
                                   wire::AffiliateRef::Reader r, Out out) {
  uint64_t connections = 0;
  absl::StatusOr<engine::PutAffiliateResult> result = sv.SetAffiliateStatus(
      call, r.getShop(), r.getId(), engine::AffiliateStatus::kDisabled, &connections);
  if (!result.ok()) return Fail(result.status(), out);
  ResultToWire(*result, connections, out);
  return kOk;
}

wire::ErrorCode DoSearchAffiliates(const service::Service& sv, const service::Call& call,
                                   wire::SearchAffiliatesRequest::Reader r, Out out) {
  engine::AffiliateQuery q;
  q.shop = r.getShop();
  q.name_prefix = std::string(View(r.getNamePrefix()));
  q.email = std::string(View(r.getEmail()));
  q.id = r.getId();
  const auto status = r.getStatus();
  absl::StatusOr<std::optional<engine::AffiliateStatus>> s = StatusUnion(
      status, status.isOnly(), status.isAny(),
      status.isOnly() ? status.getOnly() : wire::AffiliateStatus::ACTIVE);
  if (!s.ok()) return Fail(s.status(), out);
  q.status = *s;
  q.cursor = std::string(View(r.getCursor()));
  q.limit = r.getLimit();
  absl::StatusOr<engine::AffiliatePage> page = sv.SearchAffiliates(call, q);
  if (!page.ok()) return Fail(page.status(), out);
  wire::AffiliateList::Builder w = out.initAffiliateList();
  auto items = w.initItems(page->items.size());
  for (size_t i = 0; i < page->items.size(); ++i) {
    ToWire(page->items[i].affiliate, page->items[i].connections, items[i]);
  }
  if (!page->next_cursor.empty()) {
    CopyText(page->next_cursor, w.initNextCursor(page->next_cursor.size()));
  }
  return kOk;
}

}  // namespace attrib::net::internal
