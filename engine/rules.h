// engine/rules.h
//
// The connection and attribution rules of SPEC §3-§5 as pure functions of (current
// state, shop settings, time, request). They decide; they never change state. The
// engine runs them under the key's lock and applies what they return, so a rule
// change is a change here and nowhere else.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_RULES_H_
#define ATTRIB_ENGINE_RULES_H_

#include <optional>
#include <string>

#include "engine/affiliate_rules.h"
#include "engine/types.h"

namespace attrib::engine {

// Whether a connection with these counters counts at time `at` under `settings`.
//
// - connections_enabled false: kDisabled.
// - validity_days > 0: the connection expires at anchor + validity_days, where the
//   anchor is connected_at (fixed) or the later of connected_at and the last counted
//   order (sliding). At exactly that instant it is expired (the window is
//   [anchor, anchor + days) ).
// - validity_max_orders > 0: capped once order_count reaches it.
// When several apply, the first in this list is reported.
ConnectionStatus EvaluateConnection(TimeMs connected_at, TimeMs last_order_at,
                                    uint32_t order_count, const ShopSettings& settings,
                                    TimeMs at);
inline ConnectionStatus EvaluateConnection(const Connection& c,
                                           const ShopSettings& settings, TimeMs at) {
  return EvaluateConnection(c.connected_at, c.last_order_at, c.order_count, settings, at);
}

// One order as the rules see it: everything already validated and canonicalized.
struct OrderFacts {
  ShopId shop = 0;
  std::string order_id;
  TimeMs at = 0;  // ordered_at when given, else now.
  bool has_email = false;
  std::string canonical_email;
  std::string entered_email;
  AffiliateId referral = 0;  // 0: the order carried no link/coupon.
  std::optional<bool> customer_is_new;
  // The affiliate directory's word (affiliate_rules.h) on the current connection's
  // affiliate and on the referral affiliate, for this customer.
  AffiliateStanding connected_standing = AffiliateStanding::kCreditable;
  AffiliateStanding referral_standing = AffiliateStanding::kCreditable;
};

// What an order does: the decision to record, and the change to the customer's
// connection (at most one of: count the order against the current connection, or
// store a new connection).
struct AttributionOutcome {
  AttributionDecision decision;
  bool count_current = false;
  std::optional<Connection> new_connection;
};

// SPEC §5. `current` is the customer's connection (none when the order has no
// email). The directory's standings (issue 12) apply first:
// - a connection whose affiliate is disabled (or unregistered under
//   require_registered_affiliates) does not count (connection_inactive says why,
//   refused_affiliate names it) and the referral/none path applies;
// - a disabled/unregistered referral affiliate is as if the order had none
//   (referral_refused says why);
// - if the affiliate the rules then credit (by connection, referral or
//   auto-connect) is the customer (kSelf), nothing is credited, counted or
//   connected: reason kSelfReferral, refused_affiliate names it.
// A counted order carries its number within the connection (1 = first).
AttributionOutcome DecideAttribution(const OrderFacts& order,
                                     const std::optional<Connection>& current,
                                     const ShopSettings& settings);

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_RULES_H_
