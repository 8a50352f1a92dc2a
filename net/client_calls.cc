// net/client_calls.cc: the typed calls of Client (one request each) and the request
// builders shared with pipelining callers; the connection itself is in client.cc.
//
// Thread-safety: as Client (one thread at a time).
#include <cstring>

#include "net/client.h"
#include "net/client_request.h"

namespace attrib::net {
using internal::BuildAndCall;
using internal::CopyInto;


// ------------------------------------------------------------ Request builders

void Client::FillConnect(const engine::ConnectRequest& r, wire::ConnectRequest::Builder b) {
  b.setShop(r.shop);
  CopyInto(b.initEmail(r.email.size()), r.email);
  b.setAffiliate(r.affiliate);
  b.setSource(static_cast<wire::Source>(r.source));
  b.setMode(static_cast<wire::ConnectMode>(r.mode));
  b.setConnectedAt(r.connected_at.value_or(0));
  if (r.name.has_value()) CopyInto(b.initName(r.name->size()), *r.name);
  if (r.external_id) CopyInto(b.initExternalId(r.external_id->size()), *r.external_id);
}

void Client::FillAttribute(const engine::AttributeRequest& r,
                           wire::AttributeRequest::Builder b) {
  b.setShop(r.shop);
  CopyInto(b.initOrderId(r.order_id.size()), r.order_id);
  if (r.email.has_value()) CopyInto(b.initEmail(r.email->size()), *r.email);
  b.setReferralAffiliate(r.referral_affiliate.value_or(0));
  b.setCustomerIsNew(!r.customer_is_new.has_value() ? wire::Tristate::UNKNOWN
                     : *r.customer_is_new           ? wire::Tristate::YES
                                                    : wire::Tristate::NO);
  b.setOrderedAt(r.ordered_at.value_or(0));
  if (r.external_id) CopyInto(b.initExternalId(r.external_id->size()), *r.external_id);
  if (r.name && !r.name->empty()) CopyInto(b.initName(r.name->size()), *r.name);
}

// ------------------------------------------------------------- Typed calls

absl::StatusOr<Reply> Client::Connect(const engine::ConnectRequest& r) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) { FillConnect(r, q.initConnect()); });
}

absl::StatusOr<Reply> Client::Disconnect(uint64_t shop, absl::string_view email) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::LookupRequest::Builder b = q.initDisconnect();
    b.setShop(shop);
    CopyInto(b.initEmail(email.size()), email);
  });
}

absl::StatusOr<Reply> Client::Lookup(uint64_t shop, absl::string_view email, int64_t at) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::LookupRequest::Builder b = q.initLookup();
    b.setShop(shop);
    CopyInto(b.initEmail(email.size()), email);
    b.setAt(at);
  });
}

absl::StatusOr<Reply> Client::LookupBatch(uint64_t shop, absl::Span<const std::string> emails,
                                          int64_t at) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::LookupBatchRequest::Builder b = q.initLookupBatch();
    b.setShop(shop);
    capnp::List<capnp::Text>::Builder list = b.initEmails(static_cast<uint>(emails.size()));
    for (size_t i = 0; i < emails.size(); ++i) {
      CopyInto(list.init(static_cast<uint>(i), static_cast<uint>(emails[i].size())),
               emails[i]);
    }
    b.setAt(at);
  });
}

absl::StatusOr<Reply> Client::List(const engine::ListRequest& r) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::ListRequest::Builder b = q.initList();
    b.setShop(r.shop);
    b.setAffiliate(r.affiliate.value_or(0));
    CopyInto(b.initEmailPrefix(r.email_prefix.size()), r.email_prefix);
    if (r.source.has_value()) {
      b.getSource().setOnly(static_cast<wire::Source>(*r.source));
    } else {
      b.getSource().setAny();
    }
    CopyInto(b.initCursor(r.cursor.size()), r.cursor);
    b.setLimit(r.limit);
    b.setAt(r.at.value_or(0));
  });
}

absl::StatusOr<Reply> Client::Count(uint64_t shop, uint64_t affiliate) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::CountRequest::Builder b = q.initCount();
    b.setShop(shop);
    b.setAffiliate(affiliate);
  });
}

absl::StatusOr<Reply> Client::GetSettings(uint64_t shop) {
  return BuildAndCall(*this,
                      [&](wire::Request::Builder q) { q.initGetSettings().setShop(shop); });
}

absl::StatusOr<Reply> Client::PutSettings(uint64_t shop,
                                          const engine::ShopSettingsPatch& patch) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::PutSettingsRequest::Builder b = q.initPutSettings();
    b.setShop(shop);
    wire::SettingsPatch::Builder p = b.initPatch();
    if (patch.connections_enabled) p.getConnectionsEnabled().setSet(*patch.connections_enabled);
    if (patch.auto_connect) p.getAutoConnect().setSet(*patch.auto_connect);
    if (patch.auto_connect_new_customers_only) {
      p.getAutoConnectNewCustomersOnly().setSet(*patch.auto_connect_new_customers_only);
    }
    if (patch.validity_days) p.getValidityDays().setSet(*patch.validity_days);
    if (patch.validity_mode) {
      p.getValidityMode().setSet(static_cast<wire::ValidityMode>(*patch.validity_mode));
    }
    if (patch.validity_max_orders) p.getValidityMaxOrders().setSet(*patch.validity_max_orders);
    if (patch.precedence) {
      p.getPrecedence().setSet(static_cast<wire::Precedence>(*patch.precedence));
    }
    if (patch.require_registered_affiliates) {
      p.getRequireRegisteredAffiliates().setSet(*patch.require_registered_affiliates);
    }
    if (patch.block_self_referrals) p.getBlockSelfReferrals().setSet(*patch.block_self_referrals);
    if (patch.on_customer_becomes_affiliate) {
      p.getOnCustomerBecomesAffiliate().setSet(static_cast<wire::CustomerBecomesAffiliate>(
          static_cast<uint16_t>(*patch.on_customer_becomes_affiliate)));
    }
    if (patch.auto_link_identifiers) {
      p.getAutoLinkIdentifiers().setSet(*patch.auto_link_identifiers);
    }
    if (patch.merge_conflict) {
      p.getMergeConflict().setSet(
          static_cast<wire::MergeConflict>(static_cast<uint16_t>(*patch.merge_conflict)));
    }
    if (patch.customer_directory) p.getCustomerDirectory().setSet(*patch.customer_directory);
  });
}

absl::StatusOr<Reply> Client::Attribute(const engine::AttributeRequest& r) {
  return BuildAndCall(*this,
                      [&](wire::Request::Builder q) { FillAttribute(r, q.initAttribute()); });
}

absl::StatusOr<Reply> Client::Reverse(uint64_t shop, absl::string_view order_id) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::OrderRef::Builder b = q.initReverse();
    b.setShop(shop);
    CopyInto(b.initOrderId(order_id.size()), order_id);
  });
}

absl::StatusOr<Reply> Client::Explain(uint64_t shop, absl::string_view order_id) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::OrderRef::Builder b = q.initExplain();
    b.setShop(shop);
    CopyInto(b.initOrderId(order_id.size()), order_id);
  });
}

absl::StatusOr<Reply> Client::Stats() {
  return BuildAndCall(*this, [](wire::Request::Builder q) { q.setStats(); });
}

absl::StatusOr<Reply> Client::Snapshot() {
  return BuildAndCall(*this, [](wire::Request::Builder q) { q.setSnapshot(); });
}

absl::StatusOr<Reply> Client::Ping() {
  return BuildAndCall(*this, [](wire::Request::Builder q) { q.setPing(); });
}

absl::StatusOr<Reply> Client::Auth(absl::string_view token) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    CopyInto(q.initAuth().initToken(token.size()), token);
  });
}

absl::StatusOr<Reply> Client::Promote(bool force) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) { q.initPromote().setForce(force); });
}

}  // namespace attrib::net
