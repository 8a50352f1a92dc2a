// engine/engine_orders_test.cc
//
// Engine order operations (SPEC §5) end to end: Attribute and its counting,
// idempotency per (shop, order id), ordered_at for late webhooks, sliding validity,
// caps freed by reversals, Reverse and Explain.
//
// Thread-safety: single-threaded tests.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine_test_base.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace testing_base;  // NOLINT: the shared test fixture.
using ::testing::StartsWith;

INSTANTIATE_TEST_SUITE_P(Shards, EngineOrdersTest,
                         ::testing::Values(4u, EngineOptions{}.shard_count), ShardName);


// ------------------------------------------------------------ Attribute

TEST_P(EngineOrdersTest, AttributeCreditsAndCountsTheConnectedAffiliate) {
  Connect(kJane, kA);
  clock_.Set(kT0 + kDay);
  const AttributeResult r = Attribute(Order("o1"));
  EXPECT_FALSE(r.duplicate);
  const AttributionDecision& d = r.decision;
  EXPECT_EQ(d.order_id, "o1");
  EXPECT_EQ(d.ordered_at, kT0 + kDay);  // Default: now.
  EXPECT_EQ(d.affiliate, kA);
  EXPECT_EQ(ReasonName(d.reason), "connected");
  EXPECT_EQ(InactiveReasonName(d.connection_inactive), "active");
  EXPECT_TRUE(d.counted);
  EXPECT_FALSE(d.connection_created);
  EXPECT_FALSE(d.connection_moved);
  EXPECT_EQ(d.previous_affiliate, 0u);
  EXPECT_EQ(d.canonical_email, kJaneCanonical);
  EXPECT_FALSE(d.reversed);

  LookupResult l = Lookup();
  ASSERT_TRUE(l.found);
  EXPECT_EQ(l.connection.order_count, 1u);
  EXPECT_EQ(l.connection.last_order_at, kT0 + kDay);
  EXPECT_TRUE(l.status.active());

  // Another spelling of the same customer counts against the same connection.
  clock_.Set(kT0 + 2 * kDay);
  EXPECT_EQ(Attribute(Order("o2", "  JANE@example.COM ")).decision.affiliate, kA);
  l = Lookup();
  EXPECT_EQ(l.connection.order_count, 2u);
  EXPECT_EQ(l.connection.last_order_at, kT0 + 2 * kDay);
  EXPECT_EQ(OK(engine_.Explain(kShop, "o1")), d);
}

TEST_P(EngineOrdersTest, OrderWithoutEmailTouchesNoConnection) {
  ShopSettingsPatch p;
  p.auto_connect = true;
  Update(p);
  Connect(kJane, kA);
  const AttributeResult r = Attribute(Order("anon", std::nullopt, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(r.decision.reason), "referral");
  EXPECT_FALSE(r.decision.counted);
  EXPECT_FALSE(r.decision.connection_created);
  EXPECT_EQ(r.decision.canonical_email, "");
  const AttributeResult none = Attribute(Order("anon2", std::nullopt));
  EXPECT_EQ(none.decision.affiliate, 0u);
  EXPECT_EQ(ReasonName(none.decision.reason), "none");
  EXPECT_EQ(Lookup().connection.order_count, 0u);
  EXPECT_EQ(OK(engine_.CountShop(kShop)), 1u);
}

TEST_P(EngineOrdersTest, NoConnectionAndNoReferralIsNone) {
  const AttributeResult r = Attribute(Order("o1"));
  EXPECT_EQ(r.decision.affiliate, 0u);
  EXPECT_EQ(ReasonName(r.decision.reason), "none");
  EXPECT_FALSE(r.decision.counted);
  EXPECT_FALSE(Lookup().found);
}

// ------------------------------------------------------------ Idempotency

TEST_P(EngineOrdersTest, RepeatedOrderIdReturnsTheFirstDecisionAndChangesNothing) {
  Connect(kJane, kA);
  clock_.Set(kT0 + kDay);
  const AttributeResult first = Attribute(Order("o1", kJane, kB));
  ASSERT_EQ(first.decision.affiliate, kA);
  const LookupResult before = Lookup();
  ASSERT_EQ(before.connection.order_count, 1u);

  // Everything that could change the decision changes: time, settings, referral,
  // email, ordered_at.
  clock_.Set(kT0 + 3 * kDay);
  ShopSettingsPatch p;
  p.precedence = Precedence::kReferralTakesOver;
  p.auto_connect = true;
  Update(p);
  AttributeRequest again = Order("o1", "someone.else@example.com", kC, kT0 + 2 * kDay);
  again.customer_is_new = true;
  const AttributeResult second = Attribute(again);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.decision, first.decision);

  // Same email and a referral that would now take over: still the first decision.
  const AttributeResult third = Attribute(Order("o1", kJane, kB));
  EXPECT_TRUE(third.duplicate);
  EXPECT_EQ(third.decision, first.decision);

  const LookupResult after = Lookup();
  EXPECT_EQ(after.connection, before.connection);
  EXPECT_FALSE(Lookup("someone.else@example.com").found);
  EXPECT_EQ(OK(engine_.Explain(kShop, "o1")), first.decision);
  EXPECT_EQ(engine_.Stats().remembered_orders, 1u);
  EXPECT_EQ(OK(engine_.CountShop(kShop)), 1u);
}

TEST_P(EngineOrdersTest, OrderIdsAreRememberedPerShop) {
  Connect(kJane, kA);
  Attribute(Order("o1"));
  AttributeRequest other = Order("o1", kJane, kB);
  other.shop = kOtherShop;
  const AttributeResult r = Attribute(other);
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.decision.affiliate, kB);  // kOtherShop has no connection for Jane.
  EXPECT_EQ(Lookup().connection.order_count, 1u);
  EXPECT_EQ(OK(engine_.Explain(kOtherShop, "o1")).affiliate, kB);
  EXPECT_EQ(OK(engine_.Explain(kShop, "o1")).affiliate, kA);
}

// ------------------------------------------------------------ ordered_at

TEST_P(EngineOrdersTest, OrderedAtOverridesTheClockForLateWebhooks) {
  ShopSettingsPatch p;
  p.validity_days = 30;
  Update(p);
  Connect(kJane, kA);  // connected_at = kT0.
  clock_.Set(kT0 + 40 * kDay);
  EXPECT_EQ(Inactive(Lookup().status), "expired");

  // Placed while the connection was active, delivered after it expired.
  const AttributeResult late = Attribute(Order("late", kJane, kB, kT0 + 10 * kDay));
  EXPECT_EQ(late.decision.ordered_at, kT0 + 10 * kDay);
  EXPECT_EQ(late.decision.affiliate, kA);
  EXPECT_EQ(ReasonName(late.decision.reason), "connected");
  EXPECT_TRUE(late.decision.counted);

  // The last instant of the window and the first instant after it.
  EXPECT_EQ(Attribute(Order("edge", kJane, kB, kT0 + 30 * kDay - 1)).decision.affiliate, kA);
  const AttributeResult after = Attribute(Order("after", kJane, kB, kT0 + 30 * kDay));
  EXPECT_EQ(after.decision.affiliate, kB);
  EXPECT_EQ(InactiveReasonName(after.decision.connection_inactive), "expired");

  // Without ordered_at: evaluated now, when it is expired.
  const AttributeResult now = Attribute(Order("now", kJane, kB));
  EXPECT_EQ(now.decision.ordered_at, kT0 + 40 * kDay);
  EXPECT_EQ(now.decision.affiliate, kB);
  EXPECT_EQ(InactiveReasonName(now.decision.connection_inactive), "expired");

  const LookupResult l = Lookup();
  EXPECT_EQ(l.connection.order_count, 2u);
  EXPECT_EQ(l.connection.last_order_at, kT0 + 30 * kDay - 1);
}

TEST_P(EngineOrdersTest, SlidingWindowIsExtendedByOrders) {
  ShopSettingsPatch p;
  p.validity_days = 30;
  p.validity_mode = ValidityMode::kSliding;
  Update(p);
  Connect(kJane, kA);  // kT0.
  EXPECT_EQ(Lookup(kJane, kT0 + 30 * kDay).status.expires_at, kT0 + 30 * kDay);

  clock_.Set(kT0 + 20 * kDay);
  EXPECT_EQ(Attribute(Order("o1")).decision.affiliate, kA);
  LookupResult l = Lookup(kJane, kT0 + 45 * kDay);
  EXPECT_TRUE(l.status.active());  // A fixed window would have expired at +30d.
  EXPECT_EQ(l.status.expires_at, kT0 + 50 * kDay);
  EXPECT_EQ(Inactive(Lookup(kJane, kT0 + 50 * kDay).status), "expired");

  clock_.Set(kT0 + 45 * kDay);
  EXPECT_EQ(Attribute(Order("o2", kJane, kB)).decision.affiliate, kA);
  EXPECT_TRUE(Lookup(kJane, kT0 + 75 * kDay - 1).status.active());
  EXPECT_EQ(Inactive(Lookup(kJane, kT0 + 75 * kDay).status), "expired");

  // A late webhook does not move the anchor back.
  EXPECT_EQ(Attribute(Order("late", kJane, kB, kT0 + 21 * kDay)).decision.affiliate, kA);
  l = Lookup();
  EXPECT_EQ(l.connection.order_count, 3u);
  EXPECT_EQ(l.connection.last_order_at, kT0 + 45 * kDay);
  EXPECT_EQ(l.status.expires_at, kT0 + 75 * kDay);

  // Switching the shop to fixed validity applies at once.
  ShopSettingsPatch fixed;
  fixed.validity_mode = ValidityMode::kFixed;
  Update(fixed);
  EXPECT_EQ(Inactive(Lookup().status), "expired");
  EXPECT_EQ(Lookup().status.expires_at, kT0 + 30 * kDay);
}

TEST_P(EngineOrdersTest, SlidingConnectionExpiresWithoutOrders) {
  ShopSettingsPatch p;
  p.validity_days = 30;
  p.validity_mode = ValidityMode::kSliding;
  Update(p);
  Connect(kJane, kA);
  clock_.Set(kT0 + 20 * kDay);
  Attribute(Order("o1"));
  clock_.Set(kT0 + 50 * kDay);  // 30 days after the last order.
  const AttributeResult r = Attribute(Order("o2", kJane, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(InactiveReasonName(r.decision.connection_inactive), "expired");
  EXPECT_EQ(Lookup().connection.order_count, 1u);
}

// ------------------------------------------------------------ Caps and Reverse

TEST_P(EngineOrdersTest, CappedConnectionIsFreedByAReversal) {
  ShopSettingsPatch p;
  p.validity_max_orders = 1;
  Update(p);
  Connect(kJane, kA);

  clock_.Set(kT0 + kDay);
  const AttributeResult o1 = Attribute(Order("o1", kJane, kB));
  EXPECT_EQ(o1.decision.affiliate, kA);
  EXPECT_TRUE(o1.decision.counted);
  LookupResult l = Lookup();
  EXPECT_EQ(Inactive(l.status), "capped");
  EXPECT_EQ(l.status.orders_remaining, 0u);

  clock_.Set(kT0 + 2 * kDay);
  const AttributeResult o2 = Attribute(Order("o2", kJane, kB));
  EXPECT_EQ(o2.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(o2.decision.reason), "referral");
  EXPECT_EQ(InactiveReasonName(o2.decision.connection_inactive), "capped");
  EXPECT_FALSE(o2.decision.counted);
  EXPECT_EQ(Lookup().connection.order_count, 1u);

  const ReverseResult rev = OK(engine_.Reverse(kShop, "o1"));
  EXPECT_TRUE(rev.uncounted);
  EXPECT_FALSE(rev.already_reversed);
  EXPECT_TRUE(rev.decision.reversed);
  l = Lookup();
  EXPECT_TRUE(l.status.active());
  EXPECT_EQ(l.connection.order_count, 0u);
  EXPECT_EQ(l.connection.last_order_at, 0);  // Restored: o1 was its only order.
  EXPECT_EQ(l.status.orders_remaining, 1u);

  clock_.Set(kT0 + 3 * kDay);
  const AttributeResult o3 = Attribute(Order("o3", kJane, kB));
  EXPECT_EQ(o3.decision.affiliate, kA);
  EXPECT_EQ(ReasonName(o3.decision.reason), "connected");
  EXPECT_EQ(Inactive(Lookup().status), "capped");
}

TEST_P(EngineOrdersTest, ReverseIsIdempotent) {
  Connect(kJane, kA);
  Attribute(Order("o1"));
  Attribute(Order("o2"));
  ASSERT_EQ(Lookup().connection.order_count, 2u);

  const ReverseResult first = OK(engine_.Reverse(kShop, "o1"));
  EXPECT_TRUE(first.uncounted);
  EXPECT_FALSE(first.already_reversed);
  EXPECT_EQ(Lookup().connection.order_count, 1u);

  const ReverseResult second = OK(engine_.Reverse(kShop, "o1"));
  EXPECT_TRUE(second.already_reversed);
  EXPECT_FALSE(second.uncounted);
  EXPECT_EQ(second.decision, first.decision);
  EXPECT_EQ(Lookup().connection.order_count, 1u);

  // A reversed order id is still remembered: attributing it again is a duplicate.
  const AttributeResult again = Attribute(Order("o1"));
  EXPECT_TRUE(again.duplicate);
  EXPECT_TRUE(again.decision.reversed);
  EXPECT_EQ(Lookup().connection.order_count, 1u);
}

TEST_P(EngineOrdersTest, ReverseOfAnUnknownOrderIsNotFound) {
  const absl::StatusOr<ReverseResult> r = engine_.Reverse(kShop, "never-seen");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("not_found"));
  // The same order id of another shop does not count.
  Attribute(Order("o1"));
  EXPECT_EQ(engine_.Reverse(kOtherShop, "o1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_.Explain(kShop, "never-seen").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(EngineOrdersTest, ReverseOfAnUncountedOrderOnlyMarksIt) {
  Connect(kJane, kA);
  Attribute(Order("counted"));
  ShopSettingsPatch p;
  p.precedence = Precedence::kReferralFirst;
  Update(p);
  const AttributeResult r = Attribute(Order("referral", kJane, kB));
  ASSERT_EQ(r.decision.affiliate, kB);
  ASSERT_FALSE(r.decision.counted);

  const ReverseResult rev = OK(engine_.Reverse(kShop, "referral"));
  EXPECT_FALSE(rev.uncounted);
  EXPECT_TRUE(rev.decision.reversed);
  EXPECT_EQ(Lookup().connection.order_count, 1u);

  Attribute(Order("anon", std::nullopt, kB));
  const ReverseResult anon = OK(engine_.Reverse(kShop, "anon"));
  EXPECT_FALSE(anon.uncounted);
  EXPECT_TRUE(anon.decision.reversed);
}

TEST_P(EngineOrdersTest, ReverseAfterReassignDoesNotUncountTheNewConnection) {
  Connect(kJane, kA);
  clock_.Set(kT0 + kDay);
  Attribute(Order("o1"));
  clock_.Set(kT0 + 2 * kDay);
  const ConnectResult moved = Connect(kJane, kB, std::nullopt, ConnectMode::kReassign);
  EXPECT_EQ(moved.previous_affiliate, kA);
  clock_.Set(kT0 + 3 * kDay);
  EXPECT_EQ(Attribute(Order("o2")).decision.affiliate, kB);

  const ReverseResult rev = OK(engine_.Reverse(kShop, "o1"));
  EXPECT_FALSE(rev.uncounted);
  EXPECT_TRUE(rev.decision.reversed);
  const LookupResult l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kB);
  EXPECT_EQ(l.connection.order_count, 1u);
  EXPECT_EQ(l.connection.last_order_at, kT0 + 3 * kDay);
  EXPECT_TRUE(OK(engine_.Explain(kShop, "o1")).reversed);
}

TEST_P(EngineOrdersTest, ReverseAfterReconnectingTheSameAffiliateDoesNotUncount) {
  Connect(kJane, kA);
  clock_.Set(kT0 + kDay);
  Attribute(Order("o1"));
  OK(engine_.Disconnect(kShop, kJane));
  clock_.Set(kT0 + 2 * kDay);
  Connect(kJane, kA);  // A new connection to the same affiliate.
  Attribute(Order("o2"));
  const ReverseResult rev = OK(engine_.Reverse(kShop, "o1"));
  EXPECT_FALSE(rev.uncounted);
  EXPECT_EQ(Lookup().connection.order_count, 1u);
}

TEST_P(EngineOrdersTest, ReverseAfterTakeoverDoesNotUncountTheNewConnection) {
  ShopSettingsPatch p;
  p.precedence = Precedence::kReferralTakesOver;
  Update(p);
  Connect(kJane, kA);
  clock_.Set(kT0 + kDay);
  EXPECT_EQ(Attribute(Order("o1")).decision.affiliate, kA);
  clock_.Set(kT0 + 2 * kDay);
  EXPECT_TRUE(Attribute(Order("o2", kJane, kB)).decision.connection_moved);

  EXPECT_FALSE(OK(engine_.Reverse(kShop, "o1")).uncounted);
  LookupResult l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kB);
  EXPECT_EQ(l.connection.order_count, 1u);

  // Reversing the order that moved the connection un-counts it from the new one.
  EXPECT_TRUE(OK(engine_.Reverse(kShop, "o2")).uncounted);
  l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kB);
  EXPECT_EQ(l.connection.order_count, 0u);
}

// ------------------------------------------------------------ Explain

TEST_P(EngineOrdersTest, ExplainReturnsTheRecordedDecision) {
  ShopSettingsPatch p;
  p.validity_days = 10;
  Update(p);
  Connect(kJane, kA);
  clock_.Set(kT0 + 20 * kDay);
  const AttributeResult r = Attribute(Order("o1", kJane, kB));
  ASSERT_EQ(InactiveReasonName(r.decision.connection_inactive), "expired");
  EXPECT_EQ(OK(engine_.Explain(kShop, "o1")), r.decision);

  // Later settings changes do not rewrite history.
  ShopSettingsPatch forever;
  forever.validity_days = 0;
  Update(forever);
  EXPECT_EQ(OK(engine_.Explain(kShop, "o1")), r.decision);

  OK(engine_.Reverse(kShop, "o1"));
  AttributionDecision expected = r.decision;
  expected.reversed = true;
  EXPECT_EQ(OK(engine_.Explain(kShop, "o1")), expected);
}


}  // namespace
}  // namespace attrib::engine
