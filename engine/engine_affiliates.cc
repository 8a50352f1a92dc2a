// engine/engine_affiliates.cc: the Engine's affiliate directory operations (see
// engine.h): validation, the directory change and its mutation, and the
// on_customer_becomes_affiliate disconnects. The rules are in affiliate_rules.h.
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/affiliate_rules.h"
#include "engine/engine.h"
#include "engine/validation.h"

namespace attrib::engine {
namespace {

// Canonical, distinct emails in the order given (a repeat of an earlier one, as
// canonicalized, is dropped). Each rejection names emails[i] and the rule.
absl::StatusOr<std::vector<std::string>> CanonicalEmails(
    const std::vector<std::string>& emails, EmailPolicy policy) {
  if (emails.size() > kMaxAffiliateEmails) {
    return absl::InvalidArgumentError(absl::StrCat("emails: ", emails.size(),
                                                   " given, the limit is ",
                                                   kMaxAffiliateEmails));
  }
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < emails.size(); ++i) {
    absl::StatusOr<CanonicalEmail> c = Canonicalize(emails[i], policy);
    if (!c.ok()) {  // "email: <rule>" -> "emails[i]: <rule>".
      absl::string_view rule = c.status().message();
      absl::ConsumePrefix(&rule, "email: ");
      return absl::Status(c.status().code(), absl::StrCat("emails[", i, "]: ", rule));
    }
    if (seen.insert(c->canonical).second) out.push_back(std::move(c->canonical));
  }
  return out;
}

absl::Status AffiliateNotFound(ShopId shop, AffiliateId id) {
  return absl::NotFoundError(absl::StrCat("not_found: affiliate ", id,
                                          " is not in shop ", shop,
                                          "'s affiliate directory"));
}

}  // namespace

AffiliateStanding Engine::Standing(ShopId shop, AffiliateId affiliate,
                                   absl::Span<const std::string> customer_emails,
                                   const ShopSettings& settings) const {
  // The hot path of a store without a directory: no lock.
  if (affiliates_.empty()) return StandingOf(nullptr, customer_emails, settings);
  AffiliateStanding standing = AffiliateStanding::kCreditable;
  affiliates_.With(shop, affiliate, [&](const Affiliate* a) {
    standing = StandingOf(a, customer_emails, settings);
  });
  return standing;
}

void Engine::JudgeByDirectory(ShopId shop, AffiliateId affiliate, const ShopSettings& settings,
                              ConnectionStatus* status) const {
  if (!status->active()) return;
  if (affiliates_.empty() && !settings.require_registered_affiliates) return;
  switch (Standing(shop, affiliate, {}, settings)) {
    case AffiliateStanding::kDisabled:
      status->inactive = InactiveReason::kAffiliateDisabled;
      break;
    case AffiliateStanding::kNotRegistered:
      status->inactive = InactiveReason::kAffiliateNotRegistered;
      break;
    case AffiliateStanding::kCreditable:
    case AffiliateStanding::kSelf:  // Not judged without the customer's emails.
      break;
  }
}

absl::StatusOr<PutAffiliateResult> Engine::PutAffiliate(const PutAffiliateRequest& req) {
  if (absl::Status s = ValidateId("shop", req.shop); !s.ok()) return s;
  if (absl::Status s = ValidateId("id", req.id); !s.ok()) return s;
  if (absl::Status s = ValidateText("name", req.name, kMaxNameBytes, true); !s.ok()) return s;
  if (req.created_at) {
    if (absl::Status s = ValidateTime("created_at", *req.created_at); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<std::string>> emails = CanonicalEmails(req.emails, email_policy());
  if (!emails.ok()) return emails.status();
  const TimeMs now = clock_->NowMs();
  PutAffiliateResult result;
  absl::StatusOr<Affiliate> stored = affiliates_.Put(
      req.shop, req.id,
      [&](const Affiliate* current) -> absl::StatusOr<Affiliate> {
        Affiliate a;
        a.shop = req.shop;
        a.id = req.id;
        a.name = req.name;
        a.emails = *emails;
        a.status = req.status.value_or(current ? current->status : AffiliateStatus::kActive);
        a.created_at = current ? current->created_at : req.created_at.value_or(now);
        return a;
      },
      [&](const Affiliate& a, bool created) {
        result.created = created;
        Emit(Mutation{now, engine::PutAffiliate{a, created}});
      });
  if (!stored.ok()) return stored.status();
  result.affiliate = *std::move(stored);
  if (settings_.Get(req.shop).on_customer_becomes_affiliate ==
      CustomerBecomesAffiliate::kDisconnect) {
    result.removed_connections = DisconnectCustomersOf(result.affiliate, now);
  }
  return result;
}

std::vector<Connection> Engine::DisconnectCustomersOf(const Affiliate& a, TimeMs now) {
  // After the directory's lock is released (lock order): each email's connection is
  // judged under its own shard lock, so a connection made meanwhile is seen.
  std::vector<Connection> removed;
  for (const std::string& email : a.emails) {
    store_.Mutate(a.shop, email, [&](KeyEditor& editor) {
      const std::optional<Connection>& current = editor.current();
      if (!current || current->affiliate == a.id) return;
      removed.push_back(*current);
      editor.Erase();
      RemoveConnection op{a.shop, email, current->affiliate,
                          RemoveCause::kCustomerBecameAffiliate, a.id};
      Emit(Mutation{now, std::move(op)});
      // The customer directory keeps the customer the connection remembered.
      SeeCustomer(a.shop, email, removed.back().name, std::nullopt, now, settings_.Get(a.shop));
    });
  }
  return removed;
}

absl::StatusOr<PutAffiliateResult> Engine::SetAffiliateStatus(ShopId shop, AffiliateId id,
                                                              AffiliateStatus status) {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (absl::Status s = ValidateId("id", id); !s.ok()) return s;
  const TimeMs now = clock_->NowMs();
  PutAffiliateResult result;
  absl::StatusOr<Affiliate> stored = affiliates_.Put(
      shop, id,
      [&](const Affiliate* current) -> absl::StatusOr<Affiliate> {
        if (current == nullptr) return AffiliateNotFound(shop, id);
        Affiliate a = *current;
        a.status = status;
        return a;
      },
      [&](const Affiliate& a, bool) { Emit(Mutation{now, engine::PutAffiliate{a, false}}); });
  if (!stored.ok()) return stored.status();
  result.affiliate = *std::move(stored);
  return result;
}

absl::StatusOr<AffiliateInfo> Engine::GetAffiliate(ShopId shop, AffiliateId id) const {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (absl::Status s = ValidateId("id", id); !s.ok()) return s;
  std::optional<Affiliate> a = affiliates_.Get(shop, id);
  if (!a) return AffiliateNotFound(shop, id);
  return AffiliateInfo{*std::move(a), store_.CountAffiliate(shop, id)};
}

absl::StatusOr<AffiliatePage> Engine::SearchAffiliates(const AffiliateQuery& query) const {
  if (absl::Status s = ValidateId("shop", query.shop); !s.ok()) return s;
  if (query.limit > kMaxAffiliatePage) {
    return absl::InvalidArgumentError(absl::StrCat("limit: ", query.limit,
                                                   " is over the limit ", kMaxAffiliatePage));
  }
  if (absl::Status s = ValidateText("name_prefix", query.name_prefix, kMaxNameBytes, true);
      !s.ok()) {
    return s;
  }
  AffiliateQuery q = query;
  if (!q.email.empty()) {
    absl::StatusOr<CanonicalEmail> c = Canonicalize(q.email, email_policy());
    if (!c.ok()) return c.status();  // Names the field: "email: ...".
    q.email = std::move(c->canonical);
  }
  absl::StatusOr<AffiliateSearchPage> found = affiliates_.Search(q);
  if (!found.ok()) return found.status();
  AffiliatePage page;
  page.next_cursor = std::move(found->next_cursor);
  page.items.reserve(found->items.size());
  for (Affiliate& a : found->items) {
    const uint64_t n = store_.CountAffiliate(a.shop, a.id);
    page.items.push_back(AffiliateInfo{std::move(a), n});
  }
  return page;
}

}  // namespace attrib::engine
