// engine/rules_test.cc
//
// Unit tests of EvaluateConnection (engine/rules.h) against SPEC §4-§5: expiry at the
// exact boundary instant, fixed vs sliding anchor, the order cap, disabled, which
// reason wins, expires_at and orders_remaining. DecideAttribution is tested in
// rules_attribution_test.cc. Enums are compared through their names so that failures
// print readable values.
//
// Thread-safety: single-threaded tests of pure functions.
#include <cstdint>
#include <optional>
#include <string>

#include "engine/rules.h"
#include "engine/rules_test_util.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace rules_testing;  // NOLINT: shared builders.
// ------------------------------------------------------------ EvaluateConnection

TEST(EvaluateConnectionTest, NoLimitsIsActiveForeverWithUnlimitedOrders) {
  for (const TimeMs at : {TimeMs{0}, kT0, kT0 + 100'000 * kDay, kMaxTimeMs}) {
    const ConnectionStatus s = EvaluateConnection(kT0, 0, 1'000'000, Settings(), at);
    EXPECT_TRUE(s.active()) << at;
    EXPECT_EQ(Inactive(s), "active");
    EXPECT_EQ(s.expires_at, 0);
    EXPECT_EQ(s.orders_remaining, 0u);
  }
}

TEST(EvaluateConnectionTest, FixedExpiryAtTheExactBoundaryInstant) {
  const ShopSettings settings = ValidDays(30);
  const TimeMs edge = kT0 + 30 * kDay;
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, settings, kT0)), "active");
  const ConnectionStatus before = EvaluateConnection(kT0, 0, 0, settings, edge - 1);
  EXPECT_EQ(Inactive(before), "active");
  EXPECT_EQ(before.expires_at, edge);
  const ConnectionStatus at_edge = EvaluateConnection(kT0, 0, 0, settings, edge);
  EXPECT_EQ(Inactive(at_edge), "expired");
  EXPECT_EQ(at_edge.expires_at, edge);
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, settings, edge + 1)), "expired");
}

TEST(EvaluateConnectionTest, OneDayValidityBoundary) {
  const ShopSettings settings = ValidDays(1);
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, settings, kT0 + kDay - 1)), "active");
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, settings, kT0 + kDay)), "expired");
}

TEST(EvaluateConnectionTest, FixedIgnoresTheLastOrder) {
  const ShopSettings settings = ValidDays(30, ValidityMode::kFixed);
  const TimeMs last_order = kT0 + 29 * kDay;
  const ConnectionStatus s = EvaluateConnection(kT0, last_order, 3, settings, kT0 + 30 * kDay);
  EXPECT_EQ(Inactive(s), "expired");
  EXPECT_EQ(s.expires_at, kT0 + 30 * kDay);
}

TEST(EvaluateConnectionTest, SlidingAnchorsOnTheLastOrder) {
  const ShopSettings settings = ValidDays(30, ValidityMode::kSliding);
  const TimeMs last_order = kT0 + 20 * kDay;
  const TimeMs edge = last_order + 30 * kDay;
  const ConnectionStatus before = EvaluateConnection(kT0, last_order, 1, settings, edge - 1);
  EXPECT_EQ(Inactive(before), "active");
  EXPECT_EQ(before.expires_at, edge);
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, last_order, 1, settings, edge)), "expired");
  // The same connection under fixed validity expired long before.
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, last_order, 1, ValidDays(30), edge - 1)),
            "expired");
}

TEST(EvaluateConnectionTest, SlidingWithoutOrdersAnchorsOnConnectedAt) {
  const ShopSettings settings = ValidDays(30, ValidityMode::kSliding);
  const ConnectionStatus s = EvaluateConnection(kT0, 0, 0, settings, kT0 + 30 * kDay - 1);
  EXPECT_EQ(Inactive(s), "active");
  EXPECT_EQ(s.expires_at, kT0 + 30 * kDay);
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, settings, kT0 + 30 * kDay)), "expired");
}

TEST(EvaluateConnectionTest, SlidingUsesTheLaterOfConnectedAtAndLastOrder) {
  // A last order older than the connection (e.g. counted by a connection that was
  // since replaced, or a late webhook) does not move the anchor back.
  const ShopSettings settings = ValidDays(30, ValidityMode::kSliding);
  const ConnectionStatus s = EvaluateConnection(kT0, kT0 - 10 * kDay, 1, settings, kT0);
  EXPECT_EQ(s.expires_at, kT0 + 30 * kDay);
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, kT0 - 10 * kDay, 1, settings,
                                        kT0 + 30 * kDay - 1)),
            "active");
}

TEST(EvaluateConnectionTest, MaxOrdersCapsExactlyAtTheCount) {
  const ShopSettings settings = MaxOrders(3);
  struct Case {
    uint32_t count;
    const char* inactive;
    uint32_t remaining;
  };
  for (const Case& c : {Case{0, "active", 3}, Case{1, "active", 2}, Case{2, "active", 1},
                        Case{3, "capped", 0}, Case{4, "capped", 0}}) {
    const ConnectionStatus s = EvaluateConnection(kT0, kT0, c.count, settings, kT0 + kDay);
    EXPECT_EQ(Inactive(s), c.inactive) << "order_count " << c.count;
    EXPECT_EQ(s.orders_remaining, c.remaining) << "order_count " << c.count;
    EXPECT_EQ(s.expires_at, 0) << "order_count " << c.count;
  }
}

TEST(EvaluateConnectionTest, MaxOrdersOfOne) {
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, MaxOrders(1), kT0)), "active");
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, kT0, 1, MaxOrders(1), kT0)), "capped");
}

TEST(EvaluateConnectionTest, DisabledIsInactiveEvenWithoutLimits) {
  ShopSettings settings;
  settings.connections_enabled = false;
  const ConnectionStatus s = EvaluateConnection(kT0, 0, 0, settings, kT0);
  EXPECT_FALSE(s.active());
  EXPECT_EQ(Inactive(s), "disabled");
}

TEST(EvaluateConnectionTest, ReasonPrecedenceDisabledThenExpiredThenCapped) {
  ShopSettings settings;
  settings.validity_days = 10;
  settings.validity_max_orders = 2;
  const TimeMs expired_at = kT0 + 10 * kDay;
  const TimeMs active_at = kT0 + 10 * kDay - 1;

  // Expired and capped: expired.
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 2, settings, expired_at)), "expired");
  // Capped only.
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 2, settings, active_at)), "capped");
  // Expired only.
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 1, settings, expired_at)), "expired");
  // Neither.
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 1, settings, active_at)), "active");

  settings.connections_enabled = false;
  // Disabled beats everything.
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 2, settings, expired_at)), "disabled");
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 2, settings, active_at)), "disabled");
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 1, settings, expired_at)), "disabled");
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 1, settings, active_at)), "disabled");
}

TEST(EvaluateConnectionTest, ExpiresAtAndOrdersRemainingAreReportedWhateverTheReason) {
  ShopSettings settings;
  settings.validity_days = 10;
  settings.validity_max_orders = 5;
  const ConnectionStatus active = EvaluateConnection(kT0, 0, 2, settings, kT0 + kDay);
  EXPECT_EQ(Inactive(active), "active");
  EXPECT_EQ(active.expires_at, kT0 + 10 * kDay);
  EXPECT_EQ(active.orders_remaining, 3u);

  const ConnectionStatus expired = EvaluateConnection(kT0, 0, 2, settings, kT0 + 11 * kDay);
  EXPECT_EQ(Inactive(expired), "expired");
  EXPECT_EQ(expired.expires_at, kT0 + 10 * kDay);
  EXPECT_EQ(expired.orders_remaining, 3u);

  settings.connections_enabled = false;
  const ConnectionStatus disabled = EvaluateConnection(kT0, 0, 2, settings, kT0 + kDay);
  EXPECT_EQ(Inactive(disabled), "disabled");
  EXPECT_EQ(disabled.expires_at, kT0 + 10 * kDay);
  EXPECT_EQ(disabled.orders_remaining, 3u);
}

TEST(EvaluateConnectionTest, LongestValidityDoesNotOverflow) {
  const ShopSettings settings = ValidDays(kMaxValidityDays);
  const TimeMs edge = kT0 + TimeMs{kMaxValidityDays} * kDay;
  const ConnectionStatus s = EvaluateConnection(kT0, 0, 0, settings, edge - 1);
  EXPECT_EQ(Inactive(s), "active");
  EXPECT_EQ(s.expires_at, edge);
  EXPECT_EQ(Inactive(EvaluateConnection(kT0, 0, 0, settings, edge)), "expired");
  // The latest storable connection time with the longest validity.
  const ConnectionStatus late = EvaluateConnection(kMaxTimeMs, 0, 0, settings, kMaxTimeMs);
  EXPECT_EQ(Inactive(late), "active");
  EXPECT_EQ(late.expires_at, kMaxTimeMs + TimeMs{kMaxValidityDays} * kDay);
}

TEST(EvaluateConnectionTest, ConnectionOverloadUsesItsCounters) {
  ShopSettings settings = ValidDays(30, ValidityMode::kSliding);
  settings.validity_max_orders = 4;
  const Connection c = Jane(/*order_count=*/3, /*last_order_at=*/kT0 + 5 * kDay);
  const ConnectionStatus a = EvaluateConnection(c, settings, kT0 + 6 * kDay);
  const ConnectionStatus b =
      EvaluateConnection(c.connected_at, c.last_order_at, c.order_count, settings,
                         kT0 + 6 * kDay);
  EXPECT_EQ(a.inactive, b.inactive);
  EXPECT_EQ(a.expires_at, kT0 + 35 * kDay);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.orders_remaining, 1u);
  EXPECT_EQ(a.orders_remaining, b.orders_remaining);
}


}  // namespace
}  // namespace attrib::engine
