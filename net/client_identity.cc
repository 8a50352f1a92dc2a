// net/client_identity.cc: the typed calls of customer identifiers (issue 12):
// lookup and disconnect by external id, getCustomer, linkIdentifier,
// unlinkIdentifier, mergeCustomers, and the customer directory's searchCustomers
// and putCustomer; see client.h.
//
// Thread-safety: as Client (one thread at a time).
#include "net/client.h"
#include "net/client_request.h"

namespace attrib::net {
namespace {
using internal::BuildAndCall;
using internal::CopyInto;

template <typename Builder>
void FillRef(const engine::CustomerRef& c, Builder b) {
  if (c.email) CopyInto(b.initEmail(c.email->size()), *c.email);
  if (c.external_id) CopyInto(b.initExternalId(c.external_id->size()), *c.external_id);
}

void FillCustomer(uint64_t shop, const engine::CustomerRef& c,
                  wire::CustomerRequest::Builder b) {
  b.setShop(shop);
  FillRef(c, b);
}
}  // namespace

absl::StatusOr<Reply> Client::LookupCustomer(uint64_t shop, const engine::CustomerRef& c,
                                             int64_t at) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::LookupRequest::Builder b = q.initLookup();
    b.setShop(shop);
    FillRef(c, b);
    b.setAt(at);
  });
}

absl::StatusOr<Reply> Client::DisconnectCustomer(uint64_t shop, const engine::CustomerRef& c) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::LookupRequest::Builder b = q.initDisconnect();
    b.setShop(shop);
    FillRef(c, b);
  });
}

absl::StatusOr<Reply> Client::GetCustomer(uint64_t shop, const engine::CustomerRef& c) {
  return BuildAndCall(*this,
                      [&](wire::Request::Builder q) { FillCustomer(shop, c, q.initGetCustomer()); });
}

absl::StatusOr<Reply> Client::LinkIdentifier(uint64_t shop, const engine::CustomerRef& customer,
                                             const engine::CustomerRef& identifier) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::LinkIdentifierRequest::Builder b = q.initLinkIdentifier();
    FillCustomer(shop, customer, b.initCustomer());
    FillRef(identifier, b);
  });
}

absl::StatusOr<Reply> Client::UnlinkIdentifier(uint64_t shop,
                                               const engine::CustomerRef& identifier) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    FillCustomer(shop, identifier, q.initUnlinkIdentifier());
  });
}

absl::StatusOr<Reply> Client::MergeCustomers(const engine::MergeRequest& r) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::MergeCustomersRequest::Builder b = q.initMergeCustomers();
    FillCustomer(r.shop, r.into, b.initInto());
    FillCustomer(r.shop, r.from, b.initFrom());
    using K = wire::MergeCustomersRequest::MergeKeep;
    if (r.keep) {
      b.setKeep(*r.keep == engine::MergeKeep::kInto   ? K::INTO
                : *r.keep == engine::MergeKeep::kFrom ? K::FROM
                                                      : K::EARLIEST);
    }
  });
}

absl::StatusOr<Reply> Client::SearchCustomers(const engine::CustomerQuery& query) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::SearchCustomersRequest::Builder b = q.initSearchCustomers();
    b.setShop(query.shop);
    if (!query.email_prefix.empty()) {
      CopyInto(b.initEmailPrefix(query.email_prefix.size()), query.email_prefix);
    }
    if (!query.name_prefix.empty()) {
      CopyInto(b.initNamePrefix(query.name_prefix.size()), query.name_prefix);
    }
    if (!query.external_id.empty()) {
      CopyInto(b.initExternalId(query.external_id.size()), query.external_id);
    }
    b.setLimit(query.limit);
    if (!query.cursor.empty()) CopyInto(b.initCursor(query.cursor.size()), query.cursor);
  });
}

absl::StatusOr<Reply> Client::PutCustomer(uint64_t shop, const engine::CustomerRef& c,
                                          absl::string_view name) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::PutCustomerRequest::Builder b = q.initPutCustomer();
    FillCustomer(shop, c, b.initCustomer());
    CopyInto(b.initName(name.size()), name);
  });
}

}  // namespace attrib::net
