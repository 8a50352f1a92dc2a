// engine/engine_affiliates_test.cc: the affiliate directory through the Engine (put,
// get, disable, search with cursors and counts), its rules on connect and on orders
// (disabled, unregistered, self-referral), on_customer_becomes_affiliate, and the
// order's number within its connection.
#include <string>
#include <vector>

#include "engine/engine_test_base.h"
#include "engine/replay_test_util.h"

namespace attrib::engine {
namespace {

using namespace testing_base;  // NOLINT
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EngineAffiliatesTest : public EngineTestBase, public ::testing::Test {
 protected:
  EngineAffiliatesTest() : EngineTestBase(4, 365 * kDay, &sink_) {}

  PutAffiliateResult Put(AffiliateId id, const std::string& name,
                         std::vector<std::string> emails = {},
                         std::optional<AffiliateStatus> status = std::nullopt) {
    PutAffiliateRequest r;
    r.shop = kShop;
    r.id = id;
    r.name = name;
    r.emails = std::move(emails);
    r.status = status;
    return OK(engine_.PutAffiliate(r));
  }
  absl::Status ConnectStatus(const std::string& email, AffiliateId affiliate) {
    ConnectRequest r;
    r.shop = kShop;
    r.email = email;
    r.affiliate = affiliate;
    return engine_.Connect(r).status();
  }
  std::vector<AffiliateId> Ids(const AffiliatePage& page) {
    std::vector<AffiliateId> ids;
    for (const AffiliateInfo& i : page.items) ids.push_back(i.affiliate.id);
    return ids;
  }

  replay_testing::RecordingSink sink_;
};

TEST_F(EngineAffiliatesTest, PutCanonicalizesEmailsAndKeepsCreatedTime) {
  const PutAffiliateResult r = Put(kA, "Ann Lee", {" Ann.Lee+x@GoogleMail.com ", "annlee@gmail.com",
                                                   "ann@example.com"});
  EXPECT_TRUE(r.created);
  EXPECT_THAT(r.affiliate.emails, ElementsAre("annlee@gmail.com", "ann@example.com"));
  EXPECT_EQ(r.affiliate.status, AffiliateStatus::kActive);
  EXPECT_EQ(r.affiliate.created_at, kT0);
  clock_.Advance(kDay);
  const PutAffiliateResult again = Put(kA, "Ann", {"ann@example.com"});
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.affiliate.created_at, kT0);
  EXPECT_EQ(OK(engine_.GetAffiliate(kShop, kA)).affiliate, again.affiliate);
  EXPECT_EQ(engine_.GetAffiliate(kShop, kB).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_.GetAffiliate(kOtherShop, kA).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EngineAffiliatesTest, EveryRejectionNamesItsField) {
  PutAffiliateRequest r;
  r.shop = kShop;
  r.id = kA;
  r.emails = {"a@x.com", "jane@@x.com"};
  EXPECT_THAT(std::string(engine_.PutAffiliate(r).status().message()), StartsWith("emails[1]: "));
  r.emails.assign(9, "a@x.com");
  EXPECT_THAT(std::string(engine_.PutAffiliate(r).status().message()), StartsWith("emails: 9 given"));
  r.emails = {};
  r.name = std::string(129, 'n');
  EXPECT_THAT(std::string(engine_.PutAffiliate(r).status().message()), StartsWith("name: "));
  r.name = "\xff";
  EXPECT_THAT(std::string(engine_.PutAffiliate(r).status().message()), StartsWith("name: "));
  r.name = "ok";
  r.id = 0;
  EXPECT_THAT(std::string(engine_.PutAffiliate(r).status().message()), StartsWith("id: "));
  Put(kA, "Ann", {"ann@example.com"});
  r.id = kB;
  r.emails = {"b@example.com", "ANN@example.com"};
  const absl::Status taken = engine_.PutAffiliate(r).status();
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(taken.message()), HasSubstr("emails[1]: ann@example.com is already an email of "
                                         "affiliate 7"));
  EXPECT_EQ(engine_.SetAffiliateStatus(kShop, kC, AffiliateStatus::kDisabled).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EngineAffiliatesTest, SearchPagesByIdOrByNameWithCounts) {
  for (AffiliateId id = 1; id <= 7; ++id) {
    Put(id, id % 2 ? absl::StrCat("Ann ", 8 - id) : absl::StrCat("bob ", id),
        {absl::StrCat("aff", id, "@example.com")});
  }
  Connect("c1@example.com", 3);
  Connect("c2@example.com", 3);
  ASSERT_TRUE(engine_.SetAffiliateStatus(kShop, 5, AffiliateStatus::kDisabled).ok());
  AffiliateQuery q;
  q.shop = kShop;
  q.limit = 3;
  AffiliatePage page = OK(engine_.SearchAffiliates(q));
  EXPECT_THAT(Ids(page), ElementsAre(1, 2, 3));
  EXPECT_EQ(page.items[2].connections, 2u);
  q.cursor = page.next_cursor;
  page = OK(engine_.SearchAffiliates(q));
  EXPECT_THAT(Ids(page), ElementsAre(4, 5, 6));
  q.cursor = page.next_cursor;
  page = OK(engine_.SearchAffiliates(q));
  EXPECT_THAT(Ids(page), ElementsAre(7));
  EXPECT_EQ(page.next_cursor, "");
  // Name prefix, ASCII case-insensitive, in name order: Ann 1 (7), Ann 3 (5), Ann 5 (3), Ann 7 (1).
  q.cursor = "";
  q.name_prefix = "aNN";
  q.limit = 2;
  page = OK(engine_.SearchAffiliates(q));
  EXPECT_THAT(Ids(page), ElementsAre(7, 5));
  const std::string by_name_cursor = page.next_cursor;
  q.cursor = by_name_cursor;
  EXPECT_THAT(Ids(OK(engine_.SearchAffiliates(q))), ElementsAre(3, 1));
  q.status = AffiliateStatus::kActive;
  q.cursor = "";
  q.limit = 0;
  EXPECT_THAT(Ids(OK(engine_.SearchAffiliates(q))), ElementsAre(7, 3, 1));
  // Email (canonicalized) and id.
  AffiliateQuery e;
  e.shop = kShop;
  e.email = "AFF4@Example.com";
  EXPECT_THAT(Ids(OK(engine_.SearchAffiliates(e))), ElementsAre(4));
  e.email = "";
  e.id = 6;
  EXPECT_THAT(Ids(OK(engine_.SearchAffiliates(e))), ElementsAre(6));
  // A cursor of the other order, garbage, an invalid email, a page too large.
  e.id = 0;
  e.cursor = by_name_cursor;
  EXPECT_THAT(std::string(engine_.SearchAffiliates(e).status().message()), StartsWith("cursor: "));
  e.cursor = "i0";
  EXPECT_THAT(std::string(engine_.SearchAffiliates(e).status().message()), StartsWith("cursor: "));
  e.cursor = "";
  e.email = "no-at-sign";
  EXPECT_THAT(std::string(engine_.SearchAffiliates(e).status().message()), StartsWith("email: "));
  e.email = "";
  e.limit = 1001;
  EXPECT_THAT(std::string(engine_.SearchAffiliates(e).status().message()), StartsWith("limit: "));
}

TEST_F(EngineAffiliatesTest, DisabledAndUnregisteredAffiliatesCannotBeConnected) {
  Put(kA, "Ann", {}, AffiliateStatus::kDisabled);
  const absl::Status disabled = ConnectStatus(kJane, kA);
  EXPECT_EQ(disabled.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(disabled.message()), StartsWith("affiliate_disabled: "));
  Put(kA, "Ann", {}, AffiliateStatus::kActive);  // Enabled again by a put.
  EXPECT_TRUE(ConnectStatus(kJane, kA).ok());
  EXPECT_TRUE(ConnectStatus("other@example.com", kB).ok());  // Unregistered: as before.
  ShopSettingsPatch p;
  p.require_registered_affiliates = true;
  Update(p);
  EXPECT_THAT(std::string(ConnectStatus("third@example.com", kB).message()),
              StartsWith("affiliate_not_registered: "));
}

TEST_F(EngineAffiliatesTest, SelfReferralIsRefusedOnConnectAndNotCreditedOnOrders) {
  Put(kA, "Jane", {kJane});
  EXPECT_THAT(std::string(ConnectStatus(kJane, kA).message()), StartsWith("self_referral: "));
  ShopSettingsPatch p;
  p.auto_connect = true;
  Update(p);
  // A referral by herself: nothing credited, nothing connected.
  AttributeResult r = Attribute(Order("o1", kJane, kA));
  EXPECT_EQ(r.decision.affiliate, 0u);
  EXPECT_EQ(r.decision.reason, Reason::kSelfReferral);
  EXPECT_EQ(r.decision.referral_refused, ReferralRefusal::kSelfReferral);
  EXPECT_EQ(r.decision.refused_affiliate, kA);
  EXPECT_FALSE(r.decision.counted);
  EXPECT_FALSE(Lookup().found);
  // Another customer is credited to her as usual.
  EXPECT_EQ(Attribute(Order("o2", "bob@example.com", kA)).decision.affiliate, kA);
  // A connection to herself made while the protection was off earns nothing once on.
  p = {};
  p.block_self_referrals = false;
  Update(p);
  ASSERT_TRUE(ConnectStatus(kJane, kA).ok());
  p.block_self_referrals = true;
  Update(p);
  r = Attribute(Order("o3", kJane, kB));
  EXPECT_EQ(r.decision.reason, Reason::kSelfReferral);
  EXPECT_EQ(r.decision.affiliate, 0u);
  EXPECT_EQ(r.decision.refused_affiliate, kA);
  EXPECT_EQ(Lookup().connection.order_count, 0u);
}

// Lookups, a customer's connection and list say what attribution would do: an
// otherwise active connection to a disabled (or, under require_registered_affiliates,
// unregistered) affiliate is not active. Before, they said `active` while every order
// of the customer went elsewhere.
TEST_F(EngineAffiliatesTest, LookupsAndListReportADisabledOrUnregisteredAffiliate) {
  constexpr char kJohn[] = "john@example.com";
  constexpr char kJune[] = "june@example.com";
  Connect(kJane, kA);
  Connect(kJohn, kB);
  EXPECT_EQ(Lookup().status.inactive, InactiveReason::kActive);
  Put(kA, "Ann", {}, AffiliateStatus::kDisabled);
  Put(kB, "Bob");
  EXPECT_EQ(Lookup().status.inactive, InactiveReason::kAffiliateDisabled);
  EXPECT_EQ(Lookup(kJohn).status.inactive, InactiveReason::kActive);
  const absl::string_view both[] = {kJane, kJohn};
  const std::vector<BatchLookupItem> batch = OK(engine_.LookupBatch(kShop, both));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].result.status.inactive, InactiveReason::kAffiliateDisabled);
  EXPECT_EQ(batch[1].result.status.inactive, InactiveReason::kActive);
  CustomerRef jane;
  jane.email = kJane;
  EXPECT_EQ(OK(engine_.LookupCustomer(kShop, jane)).status.inactive,
            InactiveReason::kAffiliateDisabled);
  ListRequest list;
  list.shop = kShop;
  ListPage page = OK(engine_.List(list));
  ASSERT_EQ(page.items.size(), 2u);
  for (const ListItem& item : page.items) {
    EXPECT_EQ(item.status.inactive, item.connection.affiliate == kA
                                        ? InactiveReason::kAffiliateDisabled
                                        : InactiveReason::kActive);
  }
  // Enabled again: active again (nothing about the connection changed).
  Put(kA, "Ann", {}, AffiliateStatus::kActive);
  EXPECT_EQ(Lookup().status.inactive, InactiveReason::kActive);
  // An affiliate outside the directory, when the shop requires registration.
  Connect(kJune, kC);
  ShopSettingsPatch p;
  p.require_registered_affiliates = true;
  p.validity_days = 30;
  Update(p);
  EXPECT_EQ(Lookup(kJune).status.inactive, InactiveReason::kAffiliateNotRegistered);
  EXPECT_EQ(Lookup().status.inactive, InactiveReason::kActive);
  // An expired connection stays expired (the connection's own reason comes first).
  clock_.Advance(31 * kDay);
  EXPECT_EQ(Lookup(kJune).status.inactive, InactiveReason::kExpired);
}

TEST_F(EngineAffiliatesTest, OrdersOfADisabledAffiliateTakeTheReferralPath) {
  Connect(kJane, kA);
  Put(kA, "Ann", {}, AffiliateStatus::kDisabled);
  AttributeResult r = Attribute(Order("o1", kJane, kB));
  EXPECT_EQ(r.decision.affiliate, kB);
  EXPECT_EQ(r.decision.reason, Reason::kReferral);
  EXPECT_EQ(r.decision.connection_inactive, InactiveReason::kAffiliateDisabled);
  EXPECT_EQ(r.decision.refused_affiliate, kA);
  r = Attribute(Order("o2", kJane));
  EXPECT_EQ(r.decision.affiliate, 0u);
  EXPECT_EQ(r.decision.reason, Reason::kNone);
  EXPECT_EQ(Lookup().connection.order_count, 0u);
  // A disabled referral is not credited and does not auto-connect.
  ShopSettingsPatch p;
  p.auto_connect = true;
  Update(p);
  Put(kB, "Bob", {}, AffiliateStatus::kDisabled);
  r = Attribute(Order("o3", "new@example.com", kB));
  EXPECT_EQ(r.decision.affiliate, 0u);
  EXPECT_EQ(r.decision.referral_refused, ReferralRefusal::kAffiliateDisabled);
  EXPECT_FALSE(r.decision.connection_created);
  // Unregistered referrals under require_registered_affiliates.
  p = {};
  p.require_registered_affiliates = true;
  Update(p);
  r = Attribute(Order("o4", "new@example.com", kC));
  EXPECT_EQ(r.decision.affiliate, 0u);
  EXPECT_EQ(r.decision.referral_refused, ReferralRefusal::kAffiliateNotRegistered);
  EXPECT_EQ(r.decision.refused_affiliate, kC);
}

TEST_F(EngineAffiliatesTest, ACustomerWhoBecomesAnAffiliateIsDisconnectedWhenTheShopSaysSo) {
  Connect(kJane, kA);
  Connect("bob@example.com", kB);
  Put(kB, "Bob", {"bob@example.com"});  // keep (default): nothing removed.
  EXPECT_TRUE(Lookup().found);
  ShopSettingsPatch p;
  p.on_customer_becomes_affiliate = CustomerBecomesAffiliate::kDisconnect;
  Update(p);
  Put(kB, "Bob", {"bob@example.com"});  // Connected to the same affiliate: kept.
  EXPECT_TRUE(Lookup("bob@example.com").found);
  sink_.Take();
  const PutAffiliateResult r = Put(kC, "Jane", {"JANE@example.com"});
  ASSERT_EQ(r.removed_connections.size(), 1u);
  EXPECT_EQ(r.removed_connections[0].affiliate, kA);
  EXPECT_FALSE(Lookup().found);
  const std::vector<Mutation> log = sink_.Take();
  // The put, the removal, and the customer directory keeping the disconnected
  // customer (customer_directory.h).
  ASSERT_EQ(log.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<engine::PutAffiliate>(log[0].op));
  EXPECT_TRUE(std::holds_alternative<engine::PutCustomerEntry>(log[2].op));
  const auto& removed = std::get<RemoveConnection>(log[1].op);
  EXPECT_EQ(removed.cause, RemoveCause::kCustomerBecameAffiliate);
  EXPECT_EQ(removed.became_affiliate, kC);
  EXPECT_EQ(removed.previous_affiliate, kA);
}

TEST_F(EngineAffiliatesTest, DecisionsCarryTheOrderNumberWithinTheConnection) {
  Connect(kJane, kA);
  EXPECT_EQ(Attribute(Order("o1")).decision.order_number_in_connection, 1u);
  EXPECT_EQ(Attribute(Order("o2")).decision.order_number_in_connection, 2u);
  const AttributeResult dup = Attribute(Order("o1"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.decision.order_number_in_connection, 1u);
  EXPECT_EQ(OK(engine_.Explain(kShop, "o2")).order_number_in_connection, 2u);
  ASSERT_TRUE(engine_.Reverse(kShop, "o2").ok());
  EXPECT_EQ(Attribute(Order("o3")).decision.order_number_in_connection, 2u);
  EXPECT_EQ(Attribute(Order("o4", std::nullopt, kB)).decision.order_number_in_connection, 0u);
  // referral_first: credited to the referral, not counted: 0.
  ShopSettingsPatch p;
  p.precedence = Precedence::kReferralFirst;
  Update(p);
  EXPECT_EQ(Attribute(Order("o5", kJane, kB)).decision.order_number_in_connection, 0u);
  // A connection an order creates: that order is its first.
  p = {};
  p.auto_connect = true;
  Update(p);
  const AttributeResult created = Attribute(Order("o6", "new@example.com", kB));
  EXPECT_TRUE(created.decision.connection_created);
  EXPECT_EQ(created.decision.order_number_in_connection, 1u);
}

}  // namespace
}  // namespace attrib::engine
