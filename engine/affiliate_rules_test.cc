// engine/affiliate_rules_test.cc: the affiliate directory's pure rules (standing of
// an affiliate, the shared-email test) and how DecideAttribution applies them under
// each precedence.
#include "engine/affiliate_rules.h"

#include <string>
#include <vector>

#include "engine/rules.h"
#include "engine/rules_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace rules_testing;  // NOLINT
using ::testing::StartsWith;

Affiliate Entry(std::vector<std::string> emails,
                AffiliateStatus status = AffiliateStatus::kActive) {
  Affiliate a;
  a.shop = kShop;
  a.id = kConnected;
  a.emails = std::move(emails);
  a.status = status;
  return a;
}

TEST(AffiliateRulesTest, SharesEmailComparesEveryCustomerEmailWithEveryAffiliateEmail) {
  const std::vector<std::string> customer = {"a@x.com", "b@x.com"};
  EXPECT_TRUE(SharesEmail(customer, std::vector<std::string>{"c@x.com", "b@x.com"}));
  EXPECT_FALSE(SharesEmail(customer, std::vector<std::string>{"c@x.com"}));
  EXPECT_FALSE(SharesEmail({}, std::vector<std::string>{"a@x.com"}));
}

TEST(AffiliateRulesTest, StandingChecksRegistrationThenStatusThenSelf) {
  const std::vector<std::string> jane = {"jane@example.com"};
  ShopSettings s;
  EXPECT_EQ(StandingOf(nullptr, jane, s), AffiliateStanding::kCreditable);
  s.require_registered_affiliates = true;
  EXPECT_EQ(StandingOf(nullptr, jane, s), AffiliateStanding::kNotRegistered);
  const Affiliate disabled_self = Entry(jane, AffiliateStatus::kDisabled);
  EXPECT_EQ(StandingOf(&disabled_self, jane, s), AffiliateStanding::kDisabled);
  const Affiliate self = Entry(jane);
  EXPECT_EQ(StandingOf(&self, jane, s), AffiliateStanding::kSelf);
  s.block_self_referrals = false;
  EXPECT_EQ(StandingOf(&self, jane, s), AffiliateStanding::kCreditable);
  EXPECT_TRUE(ConnectAllowed(AffiliateStanding::kCreditable, 1, 2, "j@x").ok());
  EXPECT_THAT(std::string(ConnectAllowed(AffiliateStanding::kSelf, 1, 2, "j@x").message()),
              StartsWith("self_referral: j@x is an email of affiliate 2"));
}

TEST(AffiliateRulesTest, ASelfReferredAffiliateIsNeverCreditedWhateverThePrecedence) {
  for (Precedence p : {Precedence::kConnectionFirst, Precedence::kReferralFirst,
                       Precedence::kReferralTakesOver}) {
    ShopSettings s = WithPrecedence(p);
    s.auto_connect = true;
    // The referral is the customer herself; she is connected to kConnected.
    OrderFacts o = JaneOrder(kT0 + kDay, kOther);
    o.referral_standing = AffiliateStanding::kSelf;
    AttributionOutcome out = DecideAttribution(o, Jane(), s);
    if (p == Precedence::kConnectionFirst) {
      EXPECT_EQ(out.decision.affiliate, kConnected);  // She is not the one credited.
      EXPECT_TRUE(out.count_current);
    } else {
      EXPECT_EQ(out.decision.reason, Reason::kSelfReferral) << PrecedenceName(p);
      EXPECT_EQ(out.decision.affiliate, 0u);
      EXPECT_FALSE(out.count_current || out.new_connection.has_value());
      EXPECT_EQ(out.decision.referral_refused, ReferralRefusal::kSelfReferral);
    }
    // No connection: the referral would auto-connect her to herself.
    out = DecideAttribution(o, std::nullopt, s);
    EXPECT_EQ(out.decision.reason, Reason::kSelfReferral);
    EXPECT_FALSE(out.new_connection.has_value());
    EXPECT_FALSE(out.decision.connection_created);
  }
}

TEST(AffiliateRulesTest, ARefusedConnectionFallsThroughToTheReferral) {
  OrderFacts o = JaneOrder(kT0 + kDay, kOther);
  o.connected_standing = AffiliateStanding::kNotRegistered;
  AttributionOutcome out = DecideAttribution(o, Jane(3), AutoConnect());
  EXPECT_EQ(out.decision.affiliate, kOther);
  EXPECT_EQ(out.decision.connection_inactive, InactiveReason::kAffiliateNotRegistered);
  EXPECT_EQ(out.decision.refused_affiliate, kConnected);
  // Auto-connect replaces a connection that no longer counts: order number 1.
  ASSERT_TRUE(out.new_connection.has_value());
  EXPECT_EQ(out.decision.order_number_in_connection, 1u);
  // Counted against the current connection: its count plus one.
  out = DecideAttribution(JaneOrder(kT0 + kDay), Jane(3), Settings());
  EXPECT_EQ(out.decision.order_number_in_connection, 4u);
}

}  // namespace
}  // namespace attrib::engine
