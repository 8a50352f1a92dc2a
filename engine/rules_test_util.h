// engine/rules_test_util.h
//
// Builders shared by the rules tests (rules_test.cc, rules_attribution_test.cc): shop
// settings with one rule switched on, a connection of Jane, orders by Jane or by an
// anonymous customer.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_RULES_TEST_UTIL_H_
#define ATTRIB_ENGINE_RULES_TEST_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "engine/rules.h"

namespace attrib::engine::rules_testing {

constexpr TimeMs kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z.
constexpr TimeMs kDay = kMsPerDay;
constexpr ShopId kShop = 42;
constexpr AffiliateId kConnected = 7;
constexpr AffiliateId kOther = 9;

inline ShopSettings Settings() { return ShopSettings{}; }

inline ShopSettings ValidDays(uint32_t days, ValidityMode mode = ValidityMode::kFixed) {
  ShopSettings s;
  s.validity_days = days;
  s.validity_mode = mode;
  return s;
}

inline ShopSettings MaxOrders(uint32_t max_orders) {
  ShopSettings s;
  s.validity_max_orders = max_orders;
  return s;
}

inline ShopSettings WithPrecedence(Precedence p) {
  ShopSettings s;
  s.precedence = p;
  return s;
}

inline ShopSettings AutoConnect(bool new_customers_only = false) {
  ShopSettings s;
  s.auto_connect = true;
  s.auto_connect_new_customers_only = new_customers_only;
  return s;
}

// A connection of jane@example.com to kConnected, made at kT0.
inline Connection Jane(uint32_t order_count = 0, TimeMs last_order_at = 0) {
  Connection c;
  c.shop = kShop;
  c.canonical_email = "jane@example.com";
  c.entered_email = "Jane@Example.com";
  c.affiliate = kConnected;
  c.source = Source::kManual;
  c.connected_at = kT0;
  c.name = "Jane Doe";
  c.order_count = order_count;
  c.last_order_at = last_order_at;
  return c;
}

// An order by jane@example.com (entered as "JANE@example.com") at `at`.
inline OrderFacts JaneOrder(TimeMs at, AffiliateId referral = 0,
                     std::optional<bool> customer_is_new = std::nullopt) {
  OrderFacts o;
  o.shop = kShop;
  o.order_id = "order-1";
  o.at = at;
  o.has_email = true;
  o.canonical_email = "jane@example.com";
  o.entered_email = "JANE@example.com";
  o.referral = referral;
  o.customer_is_new = customer_is_new;
  return o;
}

inline OrderFacts AnonymousOrder(TimeMs at, AffiliateId referral = 0) {
  OrderFacts o;
  o.shop = kShop;
  o.order_id = "order-anon";
  o.at = at;
  o.referral = referral;
  return o;
}

std::string Inactive(const ConnectionStatus& s) {
  return std::string(InactiveReasonName(s.inactive));
}

}  // namespace attrib::engine::rules_testing

#endif  // ATTRIB_ENGINE_RULES_TEST_UTIL_H_
