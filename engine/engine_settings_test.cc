// engine/engine_settings_test.cc
//
// Shop settings (SPEC §4) through the Engine: settings that apply to existing
// connections, partial patches and their validation, auto-connect, the precedence
// modes, and the validation of order inputs.
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


// ------------------------------------------------------------ Settings

TEST_P(EngineOrdersTest, ValidityDaysSetAfterConnectingApplies) {
  Connect(kJane, kA);  // kT0.
  clock_.Set(kT0 + 10 * kDay);
  EXPECT_TRUE(Lookup().status.active());

  ShopSettingsPatch p;
  p.validity_days = 5;
  Update(p);
  LookupResult l = Lookup();
  EXPECT_EQ(Inactive(l.status), "expired");
  EXPECT_EQ(l.status.expires_at, kT0 + 5 * kDay);
  const AttributeResult r = Attribute(Order("o1", kJane, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(InactiveReasonName(r.decision.connection_inactive), "expired");

  // Lengthened again: active again, the stored connection never changed.
  p.validity_days = 30;
  Update(p);
  EXPECT_TRUE(Lookup().status.active());
  EXPECT_EQ(Attribute(Order("o2", kJane, kB)).decision.affiliate, kA);
}

TEST_P(EngineOrdersTest, MaxOrdersSetAfterOrdersApplies) {
  Connect(kJane, kA);
  Attribute(Order("o1"));
  Attribute(Order("o2"));
  ShopSettingsPatch p;
  p.validity_max_orders = 2;
  Update(p);
  EXPECT_EQ(Inactive(Lookup().status), "capped");
  EXPECT_EQ(Attribute(Order("o3", kJane, kB)).decision.affiliate, kB);
  p.validity_max_orders = 3;
  Update(p);
  EXPECT_EQ(Lookup().status.orders_remaining, 1u);
  EXPECT_EQ(Attribute(Order("o4", kJane, kB)).decision.affiliate, kA);
}

TEST_P(EngineOrdersTest, ConnectionsDisabledIgnoresConnectionsAndAutoConnects) {
  Connect(kJane, kA);
  ShopSettingsPatch p;
  p.connections_enabled = false;
  p.auto_connect = true;
  Update(p);
  EXPECT_EQ(Inactive(Lookup().status), "disabled");

  const AttributeResult with_referral = Attribute(Order("o1", kJane, kB));
  EXPECT_EQ(with_referral.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(with_referral.decision.reason), "referral");
  EXPECT_EQ(InactiveReasonName(with_referral.decision.connection_inactive), "disabled");
  EXPECT_FALSE(with_referral.decision.counted);
  EXPECT_FALSE(with_referral.decision.connection_created);

  const AttributeResult none = Attribute(Order("o2"));
  EXPECT_EQ(none.decision.affiliate, 0u);
  EXPECT_EQ(ReasonName(none.decision.reason), "none");
  EXPECT_EQ(InactiveReasonName(none.decision.connection_inactive), "disabled");

  AttributeRequest newcomer = Order("o3", "new@example.com", kB);
  newcomer.customer_is_new = true;
  EXPECT_FALSE(Attribute(newcomer).decision.connection_created);
  EXPECT_FALSE(Lookup("new@example.com").found);

  const LookupResult l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kA);
  EXPECT_EQ(l.connection.order_count, 0u);

  // Enabled again: the connection counts again.
  p = ShopSettingsPatch{};
  p.connections_enabled = true;
  Update(p);
  EXPECT_EQ(Attribute(Order("o4", kJane, kB)).decision.affiliate, kA);
}

TEST_P(EngineOrdersTest, UpdateSettingsAppliesPartialPatches) {
  EXPECT_EQ(OK(engine_.GetSettings(kShop)), ShopSettings{});

  ShopSettingsPatch p1;
  p1.auto_connect = true;
  ShopSettings expected;
  expected.auto_connect = true;
  EXPECT_EQ(Update(p1), expected);

  ShopSettingsPatch p2;
  p2.validity_days = 30;
  p2.validity_mode = ValidityMode::kSliding;
  expected.validity_days = 30;
  expected.validity_mode = ValidityMode::kSliding;
  EXPECT_EQ(Update(p2), expected);

  ShopSettingsPatch p3;
  p3.validity_max_orders = 4;
  p3.precedence = Precedence::kReferralFirst;
  p3.auto_connect_new_customers_only = true;
  p3.connections_enabled = false;
  expected.validity_max_orders = 4;
  expected.precedence = Precedence::kReferralFirst;
  expected.auto_connect_new_customers_only = true;
  expected.connections_enabled = false;
  EXPECT_EQ(Update(p3), expected);

  // An empty patch changes nothing.
  EXPECT_EQ(Update(ShopSettingsPatch{}), expected);
  // Setting a field to its default value is a change, not "unset".
  ShopSettingsPatch p4;
  p4.validity_days = 0;
  p4.auto_connect = false;
  expected.validity_days = 0;
  expected.auto_connect = false;
  EXPECT_EQ(Update(p4), expected);
  EXPECT_EQ(OK(engine_.GetSettings(kShop)), expected);

  // Other shops keep the defaults.
  EXPECT_EQ(OK(engine_.GetSettings(kOtherShop)), ShopSettings{});
}

TEST_P(EngineOrdersTest, UpdateSettingsValidatesItsInput) {
  ShopSettingsPatch ok;
  ok.validity_days = kMaxValidityDays;
  EXPECT_EQ(Update(ok).validity_days, kMaxValidityDays);

  ShopSettingsPatch bad;
  bad.validity_days = kMaxValidityDays + 1;
  bad.auto_connect = true;
  const absl::StatusOr<ShopSettings> r = engine_.UpdateSettings(kShop, bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("validity_days"));
  // Rejected as a whole: auto_connect was not applied either.
  ShopSettings expected;
  expected.validity_days = kMaxValidityDays;
  EXPECT_EQ(OK(engine_.GetSettings(kShop)), expected);

  const absl::StatusOr<ShopSettings> no_shop = engine_.UpdateSettings(0, ok);
  EXPECT_EQ(no_shop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_shop.status().message()), StartsWith("shop"));
  EXPECT_EQ(engine_.GetSettings(0).status().code(), absl::StatusCode::kInvalidArgument);
}

// ------------------------------------------------------------ Auto-connect

TEST_P(EngineOrdersTest, AutoConnectCreatesAReferralConnection) {
  ShopSettingsPatch p;
  p.auto_connect = true;
  Update(p);
  clock_.Set(kT0 + kDay);
  const AttributeResult r = Attribute(Order("o1", "  Bob@Example.com ", kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(r.decision.reason), "referral");
  EXPECT_TRUE(r.decision.counted);
  EXPECT_TRUE(r.decision.connection_created);
  EXPECT_FALSE(r.decision.connection_moved);
  EXPECT_EQ(r.decision.previous_affiliate, 0u);

  const LookupResult l = Lookup("bob@example.com");
  ASSERT_TRUE(l.found);
  EXPECT_EQ(l.connection.affiliate, kB);
  EXPECT_EQ(SourceName(l.connection.source), "referral");
  EXPECT_EQ(l.connection.connected_at, kT0 + kDay);
  EXPECT_EQ(l.connection.entered_email, "Bob@Example.com");
  EXPECT_EQ(l.connection.canonical_email, "bob@example.com");
  EXPECT_EQ(l.connection.order_count, 1u);  // This order is its first.
  EXPECT_EQ(l.connection.last_order_at, kT0 + kDay);
  EXPECT_EQ(OK(engine_.CountAffiliate(kShop, kB)), 1u);

  // The next order, with no referral or another one, goes to the new connection.
  clock_.Set(kT0 + 2 * kDay);
  const AttributeResult next = Attribute(Order("o2", "bob@example.com", kC));
  EXPECT_EQ(next.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(next.decision.reason), "connected");
  EXPECT_FALSE(next.decision.connection_created);
  EXPECT_EQ(Lookup("bob@example.com").connection.order_count, 2u);

  // Auto-connect off: referrals are credited but nobody is connected.
  p.auto_connect = false;
  Update(p);
  EXPECT_EQ(Attribute(Order("o3", "carol@example.com", kB)).decision.affiliate, kB);
  EXPECT_FALSE(Lookup("carol@example.com").found);
}

TEST_P(EngineOrdersTest, AutoConnectNewCustomersOnly) {
  ShopSettingsPatch p;
  p.auto_connect = true;
  p.auto_connect_new_customers_only = true;
  // Without the customer directory an order that does not say is not new (with it,
  // engine_customers_test.cc: the directory decides).
  p.customer_directory = false;
  Update(p);

  AttributeRequest unknown = Order("o1", "unknown@example.com", kB);
  EXPECT_FALSE(Attribute(unknown).decision.connection_created);
  EXPECT_FALSE(Lookup("unknown@example.com").found);

  AttributeRequest returning = Order("o2", "returning@example.com", kB);
  returning.customer_is_new = false;
  EXPECT_FALSE(Attribute(returning).decision.connection_created);
  EXPECT_FALSE(Lookup("returning@example.com").found);

  AttributeRequest fresh = Order("o3", "new@example.com", kB);
  fresh.customer_is_new = true;
  EXPECT_TRUE(Attribute(fresh).decision.connection_created);
  EXPECT_EQ(Lookup("new@example.com").connection.affiliate, kB);
}

TEST_P(EngineOrdersTest, AutoConnectReplacesAnExpiredConnection) {
  ShopSettingsPatch p;
  p.auto_connect = true;
  p.validity_days = 30;
  Update(p);
  Connect(kJane, kA, "Jane Doe");
  clock_.Set(kT0 + 30 * kDay);
  const AttributeResult r = Attribute(Order("o1", kJane, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(InactiveReasonName(r.decision.connection_inactive), "expired");
  EXPECT_TRUE(r.decision.connection_created);
  EXPECT_EQ(r.decision.previous_affiliate, kA);
  const LookupResult l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kB);
  EXPECT_EQ(SourceName(l.connection.source), "referral");
  EXPECT_EQ(l.connection.connected_at, kT0 + 30 * kDay);
  EXPECT_EQ(l.connection.name, "Jane Doe");
  EXPECT_EQ(l.connection.order_count, 1u);
  EXPECT_TRUE(l.status.active());
  EXPECT_EQ(OK(engine_.CountAffiliate(kShop, kA)), 0u);
}

// ------------------------------------------------------------ Precedence

TEST_P(EngineOrdersTest, ReferralFirstCreditsTheReferralAndLeavesTheConnection) {
  ShopSettingsPatch p;
  p.precedence = Precedence::kReferralFirst;
  Update(p);
  Connect(kJane, kA);
  const AttributeResult r = Attribute(Order("o1", kJane, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(r.decision.reason), "referral");
  EXPECT_FALSE(r.decision.counted);
  EXPECT_FALSE(r.decision.connection_moved);
  const LookupResult l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kA);
  EXPECT_EQ(l.connection.order_count, 0u);
  EXPECT_EQ(Attribute(Order("o2")).decision.affiliate, kA);
  EXPECT_EQ(Lookup().connection.order_count, 1u);
}

TEST_P(EngineOrdersTest, ReferralTakesOverMovesTheConnection) {
  ShopSettingsPatch p;
  p.precedence = Precedence::kReferralTakesOver;
  Update(p);
  Connect(kJane, kA, "Jane Doe");
  clock_.Set(kT0 + kDay);
  Attribute(Order("o1"));
  Attribute(Order("o2", kJane, kA));  // The connected affiliate's own link.
  ASSERT_EQ(Lookup().connection.order_count, 2u);

  clock_.Set(kT0 + 5 * kDay);
  const AttributeResult r = Attribute(Order("o3", kJane, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(ReasonName(r.decision.reason), "referral");
  EXPECT_TRUE(r.decision.counted);
  EXPECT_TRUE(r.decision.connection_moved);
  EXPECT_FALSE(r.decision.connection_created);
  EXPECT_EQ(r.decision.previous_affiliate, kA);

  const LookupResult l = Lookup();
  EXPECT_EQ(l.connection.affiliate, kB);
  EXPECT_EQ(SourceName(l.connection.source), "referral");
  EXPECT_EQ(l.connection.connected_at, kT0 + 5 * kDay);
  EXPECT_EQ(l.connection.order_count, 1u);
  EXPECT_EQ(l.connection.last_order_at, kT0 + 5 * kDay);
  EXPECT_EQ(l.connection.name, "Jane Doe");
  EXPECT_EQ(OK(engine_.CountAffiliate(kShop, kA)), 0u);
  EXPECT_EQ(OK(engine_.CountAffiliate(kShop, kB)), 1u);

  // The next order without a referral belongs to the new affiliate.
  EXPECT_EQ(Attribute(Order("o4")).decision.affiliate, kB);
}

// ------------------------------------------------------------ Validation

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith(field + ":")) << s;
}

TEST_P(EngineOrdersTest, InvalidAttributeInputsNameTheField) {
  AttributeRequest r = Order("o1");
  r.shop = 0;
  ExpectInvalid(engine_.Attribute(r).status(), "shop");

  ExpectInvalid(engine_.Attribute(Order("")).status(), "order_id");
  ExpectInvalid(engine_.Attribute(Order(std::string(kMaxOrderIdBytes + 1, 'x'))).status(),
                "order_id");
  ExpectInvalid(engine_.Attribute(Order("bad\nid")).status(), "order_id");
  ExpectInvalid(engine_.Attribute(Order("bad\xff")).status(), "order_id");

  ExpectInvalid(engine_.Attribute(Order("o1", kJane, AffiliateId{0})).status(),
                "referral_affiliate");
  ExpectInvalid(engine_.Attribute(Order("o1", "not-an-email")).status(), "email");
  ExpectInvalid(engine_.Attribute(Order("o1", "")).status(), "email");
  ExpectInvalid(engine_.Attribute(Order("o1", kJane, std::nullopt, -1)).status(),
                "ordered_at");
  ExpectInvalid(engine_.Attribute(Order("o1", kJane, std::nullopt, kMaxTimeMs + 1)).status(),
                "ordered_at");

  // Nothing was remembered: o1 is new.
  EXPECT_EQ(engine_.Stats().remembered_orders, 0u);
  EXPECT_FALSE(Attribute(Order("o1")).duplicate);

  // The limits themselves are accepted.
  EXPECT_FALSE(Attribute(Order(std::string(kMaxOrderIdBytes, 'x'))).duplicate);
  EXPECT_FALSE(Attribute(Order("t0", kJane, std::nullopt, 0)).duplicate);
  EXPECT_FALSE(Attribute(Order("tmax", kJane, std::nullopt, kMaxTimeMs)).duplicate);
}

TEST_P(EngineOrdersTest, InvalidReverseAndExplainInputsNameTheField) {
  ExpectInvalid(engine_.Reverse(0, "o1").status(), "shop");
  ExpectInvalid(engine_.Reverse(kShop, "").status(), "order_id");
  ExpectInvalid(engine_.Reverse(kShop, std::string(kMaxOrderIdBytes + 1, 'x')).status(),
                "order_id");
  ExpectInvalid(engine_.Explain(0, "o1").status(), "shop");
  ExpectInvalid(engine_.Explain(kShop, "").status(), "order_id");
}


}  // namespace
}  // namespace attrib::engine
