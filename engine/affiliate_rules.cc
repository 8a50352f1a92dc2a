// engine/affiliate_rules.cc: the affiliate directory's rules (see the header).
#include "engine/affiliate_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace attrib::engine {

bool SharesEmail(absl::Span<const std::string> customer_emails,
                 absl::Span<const std::string> affiliate_emails) {
  // At most 8 x 8 comparisons: a nested loop beats any index here.
  for (const std::string& c : customer_emails) {
    if (std::find(affiliate_emails.begin(), affiliate_emails.end(), c) !=
        affiliate_emails.end()) {
      return true;
    }
  }
  return false;
}

AffiliateStanding StandingOf(const Affiliate* registered,
                             absl::Span<const std::string> customer_emails,
                             const ShopSettings& settings) {
  if (registered == nullptr) {
    return settings.require_registered_affiliates ? AffiliateStanding::kNotRegistered
                                                  : AffiliateStanding::kCreditable;
  }
  if (registered->status == AffiliateStatus::kDisabled) return AffiliateStanding::kDisabled;
  if (settings.block_self_referrals && SharesEmail(customer_emails, registered->emails)) {
    return AffiliateStanding::kSelf;
  }
  return AffiliateStanding::kCreditable;
}

absl::Status ConnectAllowed(AffiliateStanding standing, ShopId shop, AffiliateId affiliate,
                            absl::string_view canonical_email) {
  switch (standing) {
    case AffiliateStanding::kCreditable:
      return absl::OkStatus();
    case AffiliateStanding::kDisabled:
      return absl::FailedPreconditionError(absl::StrCat(
          "affiliate_disabled: affiliate ", affiliate, " of shop ", shop,
          " is disabled (put it with status active to connect customers to it)"));
    case AffiliateStanding::kNotRegistered:
      return absl::FailedPreconditionError(absl::StrCat(
          "affiliate_not_registered: affiliate ", affiliate, " is not in shop ", shop,
          "'s affiliate directory, which the shop requires (require_registered_affiliates)"
          "; put the affiliate first"));
    case AffiliateStanding::kSelf:
      return absl::FailedPreconditionError(absl::StrCat(
          "self_referral: ", canonical_email, " is an email of affiliate ", affiliate,
          " in shop ", shop, " (block_self_referrals is on)"));
  }
  return absl::InternalError("affiliate standing: unknown value");
}

}  // namespace attrib::engine
