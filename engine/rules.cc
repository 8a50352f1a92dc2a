// engine/rules.cc: the connection and attribution rules (see rules.h).
#include "engine/rules.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace attrib::engine {

ConnectionStatus EvaluateConnection(TimeMs connected_at, TimeMs last_order_at,
                                    uint32_t order_count, const ShopSettings& settings,
                                    TimeMs at) {
  ConnectionStatus st;
  if (settings.validity_days > 0) {
    const TimeMs anchor = settings.validity_mode == ValidityMode::kSliding
                              ? std::max(connected_at, last_order_at)
                              : connected_at;
    st.expires_at = anchor + TimeMs{settings.validity_days} * kMsPerDay;
  }
  if (settings.validity_max_orders > 0) {
    st.orders_remaining = order_count >= settings.validity_max_orders
                              ? 0
                              : settings.validity_max_orders - order_count;
  }
  if (!settings.connections_enabled) {
    st.inactive = InactiveReason::kDisabled;
  } else if (settings.validity_days > 0 && at >= st.expires_at) {
    st.inactive = InactiveReason::kExpired;
  } else if (settings.validity_max_orders > 0 &&
             order_count >= settings.validity_max_orders) {
    st.inactive = InactiveReason::kCapped;
  }
  return st;
}

namespace {

// The connection an order creates for its referral affiliate: this order is its
// first counted order. The customer's name survives a replaced connection.
Connection ReferralConnection(const OrderFacts& order, AffiliateId affiliate,
                              const std::optional<Connection>& replaced) {
  Connection c;
  c.shop = order.shop;
  c.canonical_email = order.canonical_email;
  c.entered_email = order.entered_email;
  c.affiliate = affiliate;
  c.source = Source::kReferral;
  c.connected_at = order.at;
  if (replaced) c.name = replaced->name;
  c.order_count = 1;
  c.last_order_at = order.at;
  return c;
}

}  // namespace

namespace {

bool Refused(AffiliateStanding s) {
  return s == AffiliateStanding::kDisabled || s == AffiliateStanding::kNotRegistered;
}

// SPEC §5 with the directory's refusals (disabled, unregistered) already applied.
AttributionOutcome DecideWithoutSelfCheck(const OrderFacts& order,
                                          const std::optional<Connection>& current,
                                          const ShopSettings& settings);

}  // namespace

AttributionOutcome DecideAttribution(const OrderFacts& order,
                                     const std::optional<Connection>& current,
                                     const ShopSettings& settings) {
  OrderFacts facts = order;
  ReferralRefusal referral_refused = ReferralRefusal::kNone;
  AffiliateId refused = 0;
  if (facts.referral != 0 && Refused(facts.referral_standing)) {
    referral_refused = facts.referral_standing == AffiliateStanding::kDisabled
                           ? ReferralRefusal::kAffiliateDisabled
                           : ReferralRefusal::kAffiliateNotRegistered;
    refused = facts.referral;
    facts.referral = 0;
  }
  AttributionOutcome out = DecideWithoutSelfCheck(facts, current, settings);
  AttributionDecision& d = out.decision;
  const bool by_connection = out.count_current || (d.reason == Reason::kConnected);
  const bool self = d.affiliate != 0 &&
                    ((by_connection && facts.connected_standing == AffiliateStanding::kSelf) ||
                     (!by_connection && d.affiliate == facts.referral &&
                      facts.referral_standing == AffiliateStanding::kSelf));
  if (self) {
    AttributionDecision blocked;
    blocked.order_id = d.order_id;
    blocked.ordered_at = d.ordered_at;
    blocked.canonical_email = d.canonical_email;
    blocked.connection_inactive = d.connection_inactive;
    blocked.reason = Reason::kSelfReferral;
    blocked.refused_affiliate = d.affiliate;
    if (!by_connection) referral_refused = ReferralRefusal::kSelfReferral;
    out = AttributionOutcome{};
    out.decision = std::move(blocked);
  } else if (refused != 0 && d.refused_affiliate == 0) {
    d.refused_affiliate = refused;
  }
  out.decision.referral_refused = referral_refused;
  if (out.count_current && current) {
    out.decision.order_number_in_connection =
        current->order_count == UINT32_MAX ? UINT32_MAX : current->order_count + 1;
  } else if (out.new_connection) {
    out.decision.order_number_in_connection = out.new_connection->order_count;
  }
  return out;
}

namespace {

AttributionOutcome DecideWithoutSelfCheck(const OrderFacts& order,
                                          const std::optional<Connection>& current,
                                          const ShopSettings& settings) {
  AttributionOutcome out;
  AttributionDecision& d = out.decision;
  d.order_id = order.order_id;
  d.ordered_at = order.at;
  d.canonical_email = order.has_email ? order.canonical_email : std::string();

  // connections_enabled false: a connection never counts (kDisabled) and none is
  // made.
  const bool have_connection = order.has_email && current.has_value();
  ConnectionStatus status;
  if (have_connection) status = EvaluateConnection(*current, settings, order.at);
  if (have_connection && status.active() && Refused(order.connected_standing)) {
    status.inactive = order.connected_standing == AffiliateStanding::kDisabled
                          ? InactiveReason::kAffiliateDisabled
                          : InactiveReason::kAffiliateNotRegistered;
    d.refused_affiliate = current->affiliate;
  }
  const bool active = have_connection && status.active();

  if (active) {
    const bool other_referral = order.referral != 0 && order.referral != current->affiliate;
    if (other_referral && settings.precedence == Precedence::kReferralFirst) {
      // The link/coupon wins this order only; the connection is untouched.
      d.affiliate = order.referral;
      d.reason = Reason::kReferral;
      return out;
    }
    if (other_referral && settings.precedence == Precedence::kReferralTakesOver) {
      d.affiliate = order.referral;
      d.reason = Reason::kReferral;
      d.counted = true;
      d.connection_moved = true;
      d.previous_affiliate = current->affiliate;
      out.new_connection = ReferralConnection(order, order.referral, current);
      return out;
    }
    d.affiliate = current->affiliate;
    d.reason = Reason::kConnected;
    d.counted = true;
    out.count_current = true;
    return out;
  }

  // No connection that counts. Say why an existing one did not.
  if (have_connection) d.connection_inactive = status.inactive;
  if (order.referral == 0) return out;  // Reason kNone.
  d.affiliate = order.referral;
  d.reason = Reason::kReferral;
  const bool may_auto_connect =
      order.has_email && settings.connections_enabled && settings.auto_connect &&
      (!settings.auto_connect_new_customers_only || order.customer_is_new == true);
  if (may_auto_connect) {
    d.counted = true;
    d.connection_created = true;
    if (current) d.previous_affiliate = current->affiliate;
    out.new_connection = ReferralConnection(order, order.referral, current);
  }
  return out;
}

}  // namespace

}  // namespace attrib::engine
