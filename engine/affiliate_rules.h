// engine/affiliate_rules.h
//
// The affiliate directory's rules (issue 12) as pure functions: whether an affiliate
// may be credited or connected for a customer, and the one comparison of a
// customer's emails with an affiliate's that self-referral protection rests on.
// The engine looks the affiliate up, calls these, and hands the standing to
// DecideAttribution (rules.h) or refuses a connect; nothing here reads state.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_AFFILIATE_RULES_H_
#define ATTRIB_ENGINE_AFFILIATE_RULES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/types.h"

namespace attrib::engine {

// What the directory says about crediting an affiliate for one customer.
enum class AffiliateStanding : uint8_t {
  kCreditable = 0,     // Credit and connect as usual.
  kDisabled = 1,       // In the directory, status disabled.
  kNotRegistered = 2,  // Not in the directory, and the shop requires it.
  kSelf = 3,           // The customer is the affiliate (block_self_referrals).
};

// Whether a customer and an affiliate share an email. `customer_emails` are all of
// the customer's canonical emails (one today; a customer with several emails passes
// them all), `affiliate_emails` the directory entry's. Both canonical, so equality
// is the comparison.
bool SharesEmail(absl::Span<const std::string> customer_emails,
                 absl::Span<const std::string> affiliate_emails);

// The standing of an affiliate: `registered` is its directory entry, null when it
// has none. Checked in this order: not registered (only with
// require_registered_affiliates), disabled, self (only with block_self_referrals and
// a customer email). An unregistered affiliate cannot be a self-referral: attrib
// knows no emails of it.
AffiliateStanding StandingOf(const Affiliate* registered,
                             absl::Span<const std::string> customer_emails,
                             const ShopSettings& settings);

// A manual/API connect to an affiliate of this standing: OK when creditable, else
// FailedPrecondition whose message starts with the code (affiliate_disabled,
// affiliate_not_registered, self_referral) and says what to change.
absl::Status ConnectAllowed(AffiliateStanding standing, ShopId shop, AffiliateId affiliate,
                            absl::string_view canonical_email);

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_AFFILIATE_RULES_H_
