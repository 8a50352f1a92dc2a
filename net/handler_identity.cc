// net/handler_identity.cc: the customer-identifier operations (see
// handler_identity.h). Every read of the request happens before the service is
// called, as in handler.cc.
#include "net/handler_identity.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "engine/identity_index.h"
#include "net/handler_convert.h"

namespace attrib::net::internal {
namespace {

using Out = wire::Response::Builder;
constexpr wire::ErrorCode kOk = wire::ErrorCode::OK;

void CustomerToWire(const engine::CustomerInfo& c, wire::Customer::Builder out) {
  out.setShop(c.shop);
  auto emails = out.initEmails(c.emails.size());
  for (size_t i = 0; i < c.emails.size(); ++i) {
    CopyText(c.emails[i], emails.init(i, c.emails[i].size()));
  }
  if (!c.external_id.empty()) CopyText(c.external_id, out.initExternalId(c.external_id.size()));
  out.setConnected(c.connection.has_value());
  if (c.connection) net::ToWire(*c.connection, out.initConnection());
}

void RecordToWire(const engine::CustomerRecord& r, wire::Customer::Builder out) {
  CustomerToWire(r.customer, out);
  out.setInDirectory(r.directory.has_value());
  if (!r.directory) return;
  const engine::CustomerEntry& e = *r.directory;
  if (!e.name.empty()) CopyText(e.name, out.initName(e.name.size()));
  out.setFirstOrderAt(e.first_order_at);
  out.setLastOrderAt(e.last_order_at);
  out.setOrdersSeen(e.orders_seen);
}

template <typename Init>
void SetKey(const std::string& key, Init init) {
  const std::string text = engine::DescribeIdentifierKey(key);
  CopyText(text, init(text.size()));
}

}  // namespace

engine::CustomerRef CustomerRefOf(capnp::Text::Reader email, capnp::Text::Reader external_id) {
  engine::CustomerRef ref;
  if (email.size() > 0) ref.email = std::string(View(email));
  if (external_id.size() > 0) ref.external_id = std::string(View(external_id));
  return ref;
}

void ToWire(const engine::IdentityChange& c, wire::IdentityChange::Builder out) {
  out.setLinked(c.linked);
  if (c.linked) {
    SetKey(c.linked_identifier,
           [&](size_t n) { return out.initLinkedIdentifier(n); });
  }
  if (!c.not_joined.empty()) CopyText(c.not_joined, out.initNotJoined(c.not_joined.size()));
  if (!c.merge) return;
  out.setMerged(true);
  const engine::MergeReport& m = *c.merge;
  wire::Merge::Builder w = out.initMerge();
  SetKey(m.survivor, [&](size_t n) { return w.initSurvivor(n); });
  SetKey(m.loser, [&](size_t n) { return w.initLoser(n); });
  auto moved = w.initMoved(m.moved.size());
  for (size_t i = 0; i < m.moved.size(); ++i) {
    const std::string text = engine::DescribeIdentifierKey(m.moved[i]);
    CopyText(text, moved.init(i, text.size()));
  }
  w.setConflict(m.conflict);
  w.setRule(static_cast<wire::MergeConflict>(static_cast<uint16_t>(m.rule)));
  w.setHasLostConnection(m.lost_connection.has_value());
  if (m.lost_connection) net::ToWire(*m.lost_connection, w.initLostConnection());
}

wire::ErrorCode DoGetCustomer(const service::Service& sv, const service::Call& call,
                              wire::CustomerRequest::Reader r, Out out) {
  // With the directory record (a customer only in the directory is found too).
  absl::StatusOr<engine::CustomerRecord> c =
      sv.GetCustomerRecord(call, r.getShop(), CustomerRefOf(r.getEmail(), r.getExternalId()));
  if (!c.ok()) return Fail(c.status(), out);
  RecordToWire(*c, out.initCustomer());
  return kOk;
}

wire::ErrorCode DoSearchCustomers(const service::Service& sv, const service::Call& call,
                                  wire::SearchCustomersRequest::Reader r, Out out) {
  engine::CustomerQuery q;
  q.shop = r.getShop();
  q.email_prefix = std::string(View(r.getEmailPrefix()));
  q.name_prefix = std::string(View(r.getNamePrefix()));
  q.external_id = std::string(View(r.getExternalId()));
  q.limit = r.getLimit() == 0 ? 50 : r.getLimit();
  q.cursor = std::string(View(r.getCursor()));
  absl::StatusOr<engine::CustomerPage> page = sv.SearchCustomers(call, q);
  if (!page.ok()) return Fail(page.status(), out);
  wire::CustomerList::Builder w = out.initCustomerList();
  auto items = w.initItems(page->items.size());
  for (size_t i = 0; i < page->items.size(); ++i) RecordToWire(page->items[i], items[i]);
  if (!page->next_cursor.empty()) {
    CopyText(page->next_cursor, w.initNextCursor(page->next_cursor.size()));
  }
  return kOk;
}

wire::ErrorCode DoPutCustomer(service::Service& sv, service::Call& call,
                              wire::PutCustomerRequest::Reader r, Out out) {
  const wire::CustomerRequest::Reader c = r.getCustomer();
  absl::StatusOr<engine::CustomerRecord> rec = sv.PutCustomerName(
      call, c.getShop(), CustomerRefOf(c.getEmail(), c.getExternalId()), View(r.getName()));
  if (!rec.ok()) return Fail(rec.status(), out);
  RecordToWire(*rec, out.initCustomer());
  return kOk;
}

wire::ErrorCode DoLinkIdentifier(service::Service& sv, service::Call& call,
                                 wire::LinkIdentifierRequest::Reader r, Out out) {
  const wire::CustomerRequest::Reader c = r.getCustomer();
  absl::StatusOr<engine::CustomerInfo> info =
      sv.LinkIdentifier(call, c.getShop(), CustomerRefOf(c.getEmail(), c.getExternalId()),
                        CustomerRefOf(r.getEmail(), r.getExternalId()));
  if (!info.ok()) return Fail(info.status(), out);
  CustomerToWire(*info, out.initCustomer());
  return kOk;
}

wire::ErrorCode DoUnlinkIdentifier(service::Service& sv, service::Call& call,
                                   wire::CustomerRequest::Reader r, Out out) {
  absl::StatusOr<engine::CustomerInfo> info =
      sv.UnlinkIdentifier(call, r.getShop(), CustomerRefOf(r.getEmail(), r.getExternalId()));
  if (!info.ok()) return Fail(info.status(), out);
  CustomerToWire(*info, out.initCustomer());
  return kOk;
}

wire::ErrorCode DoMergeCustomers(service::Service& sv, service::Call& call,
                                 wire::MergeCustomersRequest::Reader r, Out out) {
  engine::MergeRequest req;
  const wire::CustomerRequest::Reader into = r.getInto();
  const wire::CustomerRequest::Reader from = r.getFrom();
  req.shop = into.getShop();
  req.into = CustomerRefOf(into.getEmail(), into.getExternalId());
  req.from = CustomerRefOf(from.getEmail(), from.getExternalId());
  using K = wire::MergeCustomersRequest::MergeKeep;
  switch (r.getKeep()) {
    case K::SHOP_RULE: break;
    case K::INTO: req.keep = engine::MergeKeep::kInto; break;
    case K::FROM: req.keep = engine::MergeKeep::kFrom; break;
    case K::EARLIEST: req.keep = engine::MergeKeep::kEarliest; break;
    default:
      return Fail(absl::InvalidArgumentError(absl::StrCat(
                      "keep: unknown value ", static_cast<uint16_t>(r.getKeep()),
                      " (this server knows 0..3)")),
                  out);
  }
  absl::StatusOr<engine::IdentityChange> change = sv.MergeCustomers(call, req);
  if (!change.ok()) return Fail(change.status(), out);
  ToWire(*change, out.initMerge());
  return kOk;
}

wire::ErrorCode DoLookupCustomer(const service::Service& sv, const service::Call& call,
                                 wire::LookupRequest::Reader r, Out out) {
  absl::StatusOr<engine::LookupResult> result =
      sv.LookupCustomer(call, r.getShop(), CustomerRefOf(r.getEmail(), r.getExternalId()),
                        OptionalTime(r.getAt()));
  if (!result.ok()) return Fail(result.status(), out);
  net::ToWire(*result, out.initLookup());
  return kOk;
}

wire::ErrorCode DoDisconnectCustomer(service::Service& sv, service::Call& call,
                                     wire::LookupRequest::Reader r, Out out) {
  absl::StatusOr<engine::DisconnectResult> result = sv.DisconnectCustomer(
      call, r.getShop(), CustomerRefOf(r.getEmail(), r.getExternalId()));
  if (!result.ok()) return Fail(result.status(), out);
  net::ToWire(result->removed, out.initDisconnect());
  return kOk;
}

}  // namespace attrib::net::internal
