// net/client_affiliates.cc: the typed calls of the affiliate directory (putAffiliate,
// getAffiliate, disableAffiliate, searchAffiliates); see client.h.
//
// Thread-safety: as Client (one thread at a time).
#include <cstring>

#include "net/client.h"
#include "net/client_request.h"

namespace attrib::net {
using internal::BuildAndCall;
using internal::CopyInto;


absl::StatusOr<Reply> Client::PutAffiliate(const engine::PutAffiliateRequest& r) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::PutAffiliateRequest::Builder b = q.initPutAffiliate();
    b.setShop(r.shop);
    b.setId(r.id);
    CopyInto(b.initName(r.name.size()), r.name);
    auto emails = b.initEmails(r.emails.size());
    for (size_t i = 0; i < r.emails.size(); ++i) {
      CopyInto(emails.init(i, r.emails[i].size()), r.emails[i]);
    }
    if (r.status) {
      b.getStatus().setSet(static_cast<wire::AffiliateStatus>(static_cast<uint16_t>(*r.status)));
    }
    b.setCreatedAt(r.created_at.value_or(0));
  });
}

absl::StatusOr<Reply> Client::GetAffiliate(uint64_t shop, uint64_t id) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::AffiliateRef::Builder b = q.initGetAffiliate();
    b.setShop(shop);
    b.setId(id);
  });
}

absl::StatusOr<Reply> Client::DisableAffiliate(uint64_t shop, uint64_t id) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::AffiliateRef::Builder b = q.initDisableAffiliate();
    b.setShop(shop);
    b.setId(id);
  });
}

absl::StatusOr<Reply> Client::SearchAffiliates(const engine::AffiliateQuery& query) {
  return BuildAndCall(*this, [&](wire::Request::Builder q) {
    wire::SearchAffiliatesRequest::Builder b = q.initSearchAffiliates();
    b.setShop(query.shop);
    CopyInto(b.initNamePrefix(query.name_prefix.size()), query.name_prefix);
    CopyInto(b.initEmail(query.email.size()), query.email);
    b.setId(query.id);
    if (query.status) {
      b.getStatus().setOnly(
          static_cast<wire::AffiliateStatus>(static_cast<uint16_t>(*query.status)));
    }
    CopyInto(b.initCursor(query.cursor.size()), query.cursor);
    b.setLimit(query.limit);
  });
}

}  // namespace attrib::net
