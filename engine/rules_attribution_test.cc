// engine/rules_attribution_test.cc
//
// Unit tests of DecideAttribution (engine/rules.h) against SPEC §5: every branch:
// precedence modes, referral, auto-connect and its new-customers-only condition,
// replacing an inactive connection, connections disabled, orders without email.
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
// ------------------------------------------------------------ DecideAttribution

// The fields every decision carries from its order.
void ExpectOrderFields(const AttributionDecision& d, const OrderFacts& o) {
  EXPECT_EQ(d.order_id, o.order_id);
  EXPECT_EQ(d.ordered_at, o.at);
  EXPECT_EQ(d.canonical_email, o.has_email ? o.canonical_email : std::string());
  EXPECT_FALSE(d.reversed);
}

// An outcome that changes no connection.
void ExpectNoConnectionChange(const AttributionOutcome& out) {
  EXPECT_FALSE(out.count_current);
  EXPECT_FALSE(out.new_connection.has_value());
  EXPECT_FALSE(out.decision.counted);
  EXPECT_FALSE(out.decision.connection_created);
  EXPECT_FALSE(out.decision.connection_moved);
  EXPECT_EQ(out.decision.previous_affiliate, 0u);
}

// The connection an order creates for `affiliate` (SPEC §5: source referral, this
// order is its first counted order).
void ExpectReferralConnection(const Connection& c, const OrderFacts& o,
                              AffiliateId affiliate, const std::string& name) {
  EXPECT_EQ(c.shop, o.shop);
  EXPECT_EQ(c.canonical_email, o.canonical_email);
  EXPECT_EQ(c.entered_email, o.entered_email);
  EXPECT_EQ(c.affiliate, affiliate);
  EXPECT_EQ(SourceName(c.source), "referral");
  EXPECT_EQ(c.connected_at, o.at);
  EXPECT_EQ(c.name, name);
  EXPECT_EQ(c.order_count, 1u);
  EXPECT_EQ(c.last_order_at, o.at);
}

TEST(DecideAttributionTest, ActiveConnectionFirstCreditsAndCountsTheConnection) {
  const OrderFacts order = JaneOrder(kT0 + kDay);
  const AttributionOutcome out = DecideAttribution(order, Jane(), Settings());
  const AttributionDecision& d = out.decision;
  ExpectOrderFields(d, order);
  EXPECT_EQ(d.affiliate, kConnected);
  EXPECT_EQ(ReasonName(d.reason), "connected");
  EXPECT_EQ(InactiveReasonName(d.connection_inactive), "active");
  EXPECT_TRUE(d.counted);
  EXPECT_TRUE(out.count_current);
  EXPECT_FALSE(out.new_connection.has_value());
  EXPECT_FALSE(d.connection_created);
  EXPECT_FALSE(d.connection_moved);
  EXPECT_EQ(d.previous_affiliate, 0u);
}

TEST(DecideAttributionTest, ConnectionFirstBeatsAnotherAffiliatesReferral) {
  const OrderFacts order = JaneOrder(kT0 + kDay, kOther);
  const AttributionOutcome out =
      DecideAttribution(order, Jane(), WithPrecedence(Precedence::kConnectionFirst));
  EXPECT_EQ(out.decision.affiliate, kConnected);
  EXPECT_EQ(ReasonName(out.decision.reason), "connected");
  EXPECT_TRUE(out.decision.counted);
  EXPECT_TRUE(out.count_current);
  EXPECT_FALSE(out.new_connection.has_value());
  EXPECT_FALSE(out.decision.connection_moved);
}

TEST(DecideAttributionTest, ReferralOfTheConnectedAffiliateIsAConnectedOrderInEveryMode) {
  for (const Precedence p : {Precedence::kConnectionFirst, Precedence::kReferralFirst,
                             Precedence::kReferralTakesOver}) {
    SCOPED_TRACE(PrecedenceName(p));
    const OrderFacts order = JaneOrder(kT0 + kDay, kConnected);
    const AttributionOutcome out = DecideAttribution(order, Jane(), WithPrecedence(p));
    EXPECT_EQ(out.decision.affiliate, kConnected);
    EXPECT_EQ(ReasonName(out.decision.reason), "connected");
    EXPECT_TRUE(out.decision.counted);
    EXPECT_TRUE(out.count_current);
    EXPECT_FALSE(out.new_connection.has_value());
    EXPECT_FALSE(out.decision.connection_moved);
    EXPECT_FALSE(out.decision.connection_created);
    EXPECT_EQ(out.decision.previous_affiliate, 0u);
  }
}

TEST(DecideAttributionTest, NoReferralIsAConnectedOrderInEveryMode) {
  for (const Precedence p : {Precedence::kConnectionFirst, Precedence::kReferralFirst,
                             Precedence::kReferralTakesOver}) {
    SCOPED_TRACE(PrecedenceName(p));
    const AttributionOutcome out =
        DecideAttribution(JaneOrder(kT0 + kDay), Jane(), WithPrecedence(p));
    EXPECT_EQ(out.decision.affiliate, kConnected);
    EXPECT_EQ(ReasonName(out.decision.reason), "connected");
    EXPECT_TRUE(out.count_current);
    EXPECT_FALSE(out.new_connection.has_value());
  }
}

TEST(DecideAttributionTest, ReferralFirstCreditsTheReferralOnlyForThisOrder) {
  const OrderFacts order = JaneOrder(kT0 + kDay, kOther);
  const AttributionOutcome out =
      DecideAttribution(order, Jane(2, kT0), WithPrecedence(Precedence::kReferralFirst));
  ExpectOrderFields(out.decision, order);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  // The connection was active: it is not reported inactive, just outranked.
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "active");
  // Not counted, and the connection is left as it is.
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, ReferralTakesOverMovesTheConnection) {
  const TimeMs at = kT0 + 10 * kDay;
  const OrderFacts order = JaneOrder(at, kOther);
  const AttributionOutcome out = DecideAttribution(
      order, Jane(5, kT0 + 2 * kDay), WithPrecedence(Precedence::kReferralTakesOver));
  const AttributionDecision& d = out.decision;
  ExpectOrderFields(d, order);
  EXPECT_EQ(d.affiliate, kOther);
  EXPECT_EQ(ReasonName(d.reason), "referral");
  EXPECT_EQ(InactiveReasonName(d.connection_inactive), "active");
  EXPECT_TRUE(d.counted);
  EXPECT_TRUE(d.connection_moved);
  EXPECT_FALSE(d.connection_created);
  EXPECT_EQ(d.previous_affiliate, kConnected);
  // The order counts against the new connection, not the old one.
  EXPECT_FALSE(out.count_current);
  ASSERT_TRUE(out.new_connection.has_value());
  ExpectReferralConnection(*out.new_connection, order, kOther, "Jane Doe");
}

TEST(DecideAttributionTest, NoConnectionWithReferralCreditsTheReferral) {
  const OrderFacts order = JaneOrder(kT0, kOther);
  const AttributionOutcome out = DecideAttribution(order, std::nullopt, Settings());
  ExpectOrderFields(out.decision, order);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "active");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, NoConnectionAndNoReferralIsNone) {
  const OrderFacts order = JaneOrder(kT0);
  for (const ShopSettings& s : {Settings(), AutoConnect()}) {
    const AttributionOutcome out = DecideAttribution(order, std::nullopt, s);
    ExpectOrderFields(out.decision, order);
    EXPECT_EQ(out.decision.affiliate, 0u);
    EXPECT_EQ(ReasonName(out.decision.reason), "none");
    EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "active");
    ExpectNoConnectionChange(out);
  }
}

TEST(DecideAttributionTest, AutoConnectCreatesAReferralConnection) {
  const OrderFacts order = JaneOrder(kT0 + 3 * kDay, kOther);
  const AttributionOutcome out = DecideAttribution(order, std::nullopt, AutoConnect());
  const AttributionDecision& d = out.decision;
  ExpectOrderFields(d, order);
  EXPECT_EQ(d.affiliate, kOther);
  EXPECT_EQ(ReasonName(d.reason), "referral");
  EXPECT_EQ(InactiveReasonName(d.connection_inactive), "active");
  EXPECT_TRUE(d.counted);
  EXPECT_TRUE(d.connection_created);
  EXPECT_FALSE(d.connection_moved);
  EXPECT_EQ(d.previous_affiliate, 0u);
  EXPECT_FALSE(out.count_current);
  ASSERT_TRUE(out.new_connection.has_value());
  ExpectReferralConnection(*out.new_connection, order, kOther, "");
}

TEST(DecideAttributionTest, AutoConnectOffCreatesNothing) {
  ShopSettings s = AutoConnect();
  s.auto_connect = false;
  const AttributionOutcome out = DecideAttribution(JaneOrder(kT0, kOther, true), std::nullopt, s);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, AutoConnectNewCustomersOnly) {
  const ShopSettings s = AutoConnect(/*new_customers_only=*/true);
  struct Case {
    std::optional<bool> customer_is_new;
    bool connects;
  };
  // Unset means "not known to be new": no connection.
  for (const Case& c : {Case{true, true}, Case{false, false}, Case{std::nullopt, false}}) {
    SCOPED_TRACE(c.customer_is_new ? (*c.customer_is_new ? "new" : "not new") : "unset");
    const OrderFacts order = JaneOrder(kT0, kOther, c.customer_is_new);
    const AttributionOutcome out = DecideAttribution(order, std::nullopt, s);
    EXPECT_EQ(out.decision.affiliate, kOther);
    EXPECT_EQ(ReasonName(out.decision.reason), "referral");
    EXPECT_EQ(out.decision.connection_created, c.connects);
    EXPECT_EQ(out.decision.counted, c.connects);
    EXPECT_EQ(out.new_connection.has_value(), c.connects);
    EXPECT_FALSE(out.count_current);
  }
}

TEST(DecideAttributionTest, AutoConnectForEveryoneIgnoresCustomerIsNew) {
  for (const std::optional<bool> is_new :
       {std::optional<bool>(true), std::optional<bool>(false), std::optional<bool>()}) {
    const AttributionOutcome out =
        DecideAttribution(JaneOrder(kT0, kOther, is_new), std::nullopt, AutoConnect());
    EXPECT_TRUE(out.decision.connection_created);
    EXPECT_TRUE(out.new_connection.has_value());
  }
}

TEST(DecideAttributionTest, AutoConnectReplacesAnExpiredConnection) {
  ShopSettings s = AutoConnect();
  s.validity_days = 30;
  const TimeMs at = kT0 + 30 * kDay;  // Exactly when Jane's connection expires.
  const OrderFacts order = JaneOrder(at, kOther);
  const AttributionOutcome out = DecideAttribution(order, Jane(4, kT0 + kDay), s);
  const AttributionDecision& d = out.decision;
  EXPECT_EQ(d.affiliate, kOther);
  EXPECT_EQ(ReasonName(d.reason), "referral");
  EXPECT_EQ(InactiveReasonName(d.connection_inactive), "expired");
  EXPECT_TRUE(d.counted);
  EXPECT_TRUE(d.connection_created);
  EXPECT_FALSE(d.connection_moved);
  EXPECT_EQ(d.previous_affiliate, kConnected);
  EXPECT_FALSE(out.count_current);
  ASSERT_TRUE(out.new_connection.has_value());
  // A fresh connection: counters restart, the customer's name is kept.
  ExpectReferralConnection(*out.new_connection, order, kOther, "Jane Doe");
}

TEST(DecideAttributionTest, AutoConnectReplacesACappedConnection) {
  ShopSettings s = AutoConnect();
  s.validity_max_orders = 2;
  const OrderFacts order = JaneOrder(kT0 + kDay, kOther);
  const AttributionOutcome out = DecideAttribution(order, Jane(2, kT0), s);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "capped");
  EXPECT_TRUE(out.decision.connection_created);
  EXPECT_EQ(out.decision.previous_affiliate, kConnected);
  ASSERT_TRUE(out.new_connection.has_value());
  ExpectReferralConnection(*out.new_connection, order, kOther, "Jane Doe");
}

TEST(DecideAttributionTest, AutoConnectReconnectsTheSameAffiliateAfterExpiry) {
  ShopSettings s = AutoConnect();
  s.validity_days = 30;
  const OrderFacts order = JaneOrder(kT0 + 31 * kDay, kConnected);
  const AttributionOutcome out = DecideAttribution(order, Jane(1, kT0), s);
  EXPECT_EQ(out.decision.affiliate, kConnected);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "expired");
  EXPECT_TRUE(out.decision.connection_created);
  EXPECT_EQ(out.decision.previous_affiliate, kConnected);
  ASSERT_TRUE(out.new_connection.has_value());
  ExpectReferralConnection(*out.new_connection, order, kConnected, "Jane Doe");
}

TEST(DecideAttributionTest, InactiveConnectionWithoutAutoConnectIsReportedNotReplaced) {
  ShopSettings s;
  s.validity_days = 30;
  const OrderFacts order = JaneOrder(kT0 + 30 * kDay, kOther);
  const AttributionOutcome out = DecideAttribution(order, Jane(), s);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "expired");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, InactiveConnectionWithNewCustomersOnlyAndUnknownCustomer) {
  ShopSettings s = AutoConnect(/*new_customers_only=*/true);
  s.validity_max_orders = 1;
  const AttributionOutcome out =
      DecideAttribution(JaneOrder(kT0 + kDay, kOther), Jane(1, kT0), s);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "capped");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, InactiveConnectionAndNoReferralIsNoneWithTheReason) {
  ShopSettings s = AutoConnect();
  s.validity_max_orders = 3;
  const OrderFacts order = JaneOrder(kT0 + kDay);
  const AttributionOutcome out = DecideAttribution(order, Jane(3, kT0), s);
  ExpectOrderFields(out.decision, order);
  EXPECT_EQ(out.decision.affiliate, 0u);
  EXPECT_EQ(ReasonName(out.decision.reason), "none");
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "capped");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, ExpiryBoundaryDecidesTheOrder) {
  const ShopSettings s = ValidDays(30);
  const AttributionOutcome last_ms =
      DecideAttribution(JaneOrder(kT0 + 30 * kDay - 1, kOther), Jane(), s);
  EXPECT_EQ(last_ms.decision.affiliate, kConnected);
  EXPECT_TRUE(last_ms.count_current);
  const AttributionOutcome expired =
      DecideAttribution(JaneOrder(kT0 + 30 * kDay, kOther), Jane(), s);
  EXPECT_EQ(expired.decision.affiliate, kOther);
  EXPECT_EQ(InactiveReasonName(expired.decision.connection_inactive), "expired");
  EXPECT_FALSE(expired.count_current);
}

TEST(DecideAttributionTest, CapBoundaryDecidesTheOrder) {
  const ShopSettings s = MaxOrders(3);
  const AttributionOutcome third =
      DecideAttribution(JaneOrder(kT0 + kDay, kOther), Jane(2, kT0), s);
  EXPECT_EQ(third.decision.affiliate, kConnected);
  EXPECT_TRUE(third.count_current);
  const AttributionOutcome fourth =
      DecideAttribution(JaneOrder(kT0 + kDay, kOther), Jane(3, kT0), s);
  EXPECT_EQ(fourth.decision.affiliate, kOther);
  EXPECT_EQ(InactiveReasonName(fourth.decision.connection_inactive), "capped");
  EXPECT_FALSE(fourth.count_current);
}

TEST(DecideAttributionTest, SlidingConnectionEvaluatedAtTheOrderTime) {
  const ShopSettings s = ValidDays(30, ValidityMode::kSliding);
  const Connection c = Jane(1, kT0 + 20 * kDay);
  EXPECT_EQ(DecideAttribution(JaneOrder(kT0 + 50 * kDay - 1), c, s).decision.affiliate,
            kConnected);
  EXPECT_EQ(InactiveReasonName(
                DecideAttribution(JaneOrder(kT0 + 50 * kDay), c, s).decision.connection_inactive),
            "expired");
}

TEST(DecideAttributionTest, ConnectionsDisabledIgnoresTheConnectedAffiliate) {
  ShopSettings s = AutoConnect();
  s.connections_enabled = false;
  for (const Precedence p : {Precedence::kConnectionFirst, Precedence::kReferralFirst,
                             Precedence::kReferralTakesOver}) {
    SCOPED_TRACE(PrecedenceName(p));
    s.precedence = p;
    // With a referral: the referral is credited, nothing is connected or counted.
    const OrderFacts order = JaneOrder(kT0 + kDay, kOther, true);
    const AttributionOutcome out = DecideAttribution(order, Jane(), s);
    ExpectOrderFields(out.decision, order);
    EXPECT_EQ(out.decision.affiliate, kOther);
    EXPECT_EQ(ReasonName(out.decision.reason), "referral");
    EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "disabled");
    ExpectNoConnectionChange(out);

    // Without a referral: nobody.
    const AttributionOutcome none = DecideAttribution(JaneOrder(kT0 + kDay), Jane(), s);
    EXPECT_EQ(none.decision.affiliate, 0u);
    EXPECT_EQ(ReasonName(none.decision.reason), "none");
    EXPECT_EQ(InactiveReasonName(none.decision.connection_inactive), "disabled");
    ExpectNoConnectionChange(none);

    // The connected affiliate's own referral is a plain referral.
    const AttributionOutcome own =
        DecideAttribution(JaneOrder(kT0 + kDay, kConnected), Jane(), s);
    EXPECT_EQ(own.decision.affiliate, kConnected);
    EXPECT_EQ(ReasonName(own.decision.reason), "referral");
    ExpectNoConnectionChange(own);
  }
}

TEST(DecideAttributionTest, ConnectionsDisabledNeverAutoConnects) {
  ShopSettings s = AutoConnect();
  s.connections_enabled = false;
  const AttributionOutcome out =
      DecideAttribution(JaneOrder(kT0, kOther, true), std::nullopt, s);
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  // No connection existed: nothing to report as inactive.
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "active");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, NoEmailMeansNoConnectionLogic) {
  ShopSettings s = AutoConnect();
  for (const Precedence p : {Precedence::kConnectionFirst, Precedence::kReferralTakesOver}) {
    s.precedence = p;
    const OrderFacts with_referral = AnonymousOrder(kT0, kOther);
    const AttributionOutcome out = DecideAttribution(with_referral, std::nullopt, s);
    ExpectOrderFields(out.decision, with_referral);
    EXPECT_EQ(out.decision.canonical_email, "");
    EXPECT_EQ(out.decision.affiliate, kOther);
    EXPECT_EQ(ReasonName(out.decision.reason), "referral");
    EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "active");
    ExpectNoConnectionChange(out);

    const AttributionOutcome none = DecideAttribution(AnonymousOrder(kT0), std::nullopt, s);
    EXPECT_EQ(none.decision.affiliate, 0u);
    EXPECT_EQ(ReasonName(none.decision.reason), "none");
    ExpectNoConnectionChange(none);
  }
}

TEST(DecideAttributionTest, NoEmailIgnoresAStrayConnectionArgument) {
  // The header says `current` is none for an order without email; a caller passing
  // one anyway must not get it credited or counted.
  const AttributionOutcome out =
      DecideAttribution(AnonymousOrder(kT0, kOther), Jane(), AutoConnect());
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(ReasonName(out.decision.reason), "referral");
  EXPECT_EQ(InactiveReasonName(out.decision.connection_inactive), "active");
  ExpectNoConnectionChange(out);
}

TEST(DecideAttributionTest, IsAPureFunction) {
  ShopSettings s = AutoConnect();
  s.precedence = Precedence::kReferralTakesOver;
  const OrderFacts order = JaneOrder(kT0 + kDay, kOther, true);
  const std::optional<Connection> current = Jane(1, kT0);
  const AttributionOutcome a = DecideAttribution(order, current, s);
  const AttributionOutcome b = DecideAttribution(order, current, s);
  EXPECT_EQ(a.decision, b.decision);
  EXPECT_EQ(a.count_current, b.count_current);
  EXPECT_EQ(a.new_connection, b.new_connection);
  EXPECT_EQ(*current, Jane(1, kT0));
}

}  // namespace
}  // namespace attrib::engine
