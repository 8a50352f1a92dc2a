// engine/engine_identity_test.cc: customer identifiers (issue 12): external ids,
// several emails, links, unlinks, merges and their rules, and the mutations they log.
#include <string>
#include <variant>

#include "engine/engine_test_base.h"
#include "engine/replay_test_util.h"

namespace attrib::engine {
namespace {

using namespace testing_base;  // NOLINT
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EngineIdentityTest : public EngineTestBase, public ::testing::Test {
 protected:
  EngineIdentityTest() : EngineTestBase(16, 365 * kDay, &sink_) {}

  static CustomerRef ByEmail(std::string e) { return CustomerRef{std::move(e), std::nullopt}; }
  static CustomerRef ByExt(std::string x) { return CustomerRef{std::nullopt, std::move(x)}; }
  ConnectResult ConnectExt(const std::string& ext, AffiliateId a,
                           std::optional<std::string> email = std::nullopt) {
    ConnectRequest r;
    r.shop = kShop;
    r.email = email.value_or("");
    r.external_id = ext;
    r.affiliate = a;
    return OK(engine_.Connect(r));
  }
  AttributeResult OrderBoth(const std::string& id, const std::string& email,
                            const std::string& ext) {
    AttributeRequest r = Order(id, email);
    r.external_id = ext;
    return Attribute(r);
  }
  // The log replayed into a fresh engine gives the live state.
  void ExpectReplayEquivalent() {
    FakeClock other(1);
    Engine replayed(Options(16, 365 * kDay, &other, nullptr));
    for (const Mutation& m : sink_.Take()) ASSERT_TRUE(replayed.Apply(m).ok());
    EXPECT_TRUE(replay_testing::Dump(replayed) == replay_testing::Dump(engine_));
    uint64_t customers = 0;
    EXPECT_TRUE(engine_.CheckIdentities(&customers).ok());
    EXPECT_EQ(customers, engine_.identity().customers_with_aliases());
  }

  replay_testing::RecordingSink sink_;
};

TEST(ExternalIdKeyTest, EveryRejectionNamesTheRule) {
  EXPECT_EQ(*ExternalIdKey("  cus_123 "), std::string("\x01") + "cus_123");
  EXPECT_EQ(*ExternalIdKey("Ünïcode-ID"), std::string("\x01") + "Ünïcode-ID");
  EXPECT_THAT(ExternalIdKey("   ").status().message(), HasSubstr("empty after trimming"));
  EXPECT_THAT(ExternalIdKey(std::string(65, 'x')).status().message(),
              HasSubstr("65 bytes, over the limit of 64"));
  EXPECT_TRUE(ExternalIdKey(std::string(64, 'x')).ok());
  EXPECT_THAT(ExternalIdKey("a\x07" "b").status().message(),
              HasSubstr("control character U+0007 at byte 1"));
  EXPECT_THAT(ExternalIdKey("a\xc2\x85" "b").status().message(),
              HasSubstr("control character U+0085"));
  EXPECT_THAT(ExternalIdKey("a\xff").status().message(), HasSubstr("not valid UTF-8 at byte 1"));
  EXPECT_NE(*ExternalIdKey("Abc"), *ExternalIdKey("abc"));  // Case-sensitive.
}

TEST_F(EngineIdentityTest, ExternalIdOnlyCustomerConnectsLooksUpAndOrders) {
  const ConnectResult c = ConnectExt("cus_1", kA);
  EXPECT_EQ(c.connection.canonical_email, std::string("\x01") + "cus_1");
  const LookupResult l = OK(engine_.LookupCustomer(kShop, ByExt("cus_1")));
  ASSERT_TRUE(l.found);
  EXPECT_EQ(l.connection.affiliate, kA);
  AttributeRequest r = Order("o1", std::nullopt);
  r.external_id = "cus_1";
  const AttributeResult a = Attribute(r);
  EXPECT_EQ(a.decision.affiliate, kA);
  EXPECT_TRUE(a.decision.counted);
  // No email was involved: the email key space is untouched.
  EXPECT_FALSE(Lookup("cus_1@example.com").found);
  EXPECT_TRUE(OK(engine_.Disconnect(kShop, ByExt("cus_1"))).removed.affiliate == kA);
  EXPECT_FALSE(OK(engine_.LookupCustomer(kShop, ByExt("cus_1"))).found);
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, OrderWithBothLinksTheUnknownOneAndAnyIdentifierFindsTheCustomer) {
  Connect(kJane, kA);
  const AttributeResult a = OrderBoth("o1", kJane, "cus_9");
  EXPECT_TRUE(a.identity.linked);
  EXPECT_EQ(a.identity.linked_identifier, std::string("\x01") + "cus_9");
  EXPECT_EQ(a.decision.affiliate, kA);
  // The external id alone now finds Jane's connection, and the same counters.
  AttributeRequest r = Order("o2", std::nullopt);
  r.external_id = "cus_9";
  EXPECT_EQ(Attribute(r).decision.order_number_in_connection, 2u);
  const CustomerInfo info = OK(engine_.GetCustomer(kShop, ByExt("cus_9")));
  EXPECT_EQ(info.primary, kJaneCanonical);
  EXPECT_THAT(info.emails, ElementsAre(kJaneCanonical));
  EXPECT_EQ(info.external_id, "cus_9");
  ASSERT_TRUE(info.connection.has_value());
  EXPECT_EQ(info.connection->order_count, 2u);
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, AutoLinkOffLinksNothing) {
  ShopSettingsPatch p;
  p.auto_link_identifiers = false;
  Update(p);
  Connect(kJane, kA);
  EXPECT_FALSE(OrderBoth("o1", kJane, "cus_9").identity.linked);
  EXPECT_FALSE(OK(engine_.LookupCustomer(kShop, ByExt("cus_9"))).found);
}

TEST_F(EngineIdentityTest, ASecondEmailFindsTheConnectionEverywhere) {
  Connect(kJane, kA);
  OK(engine_.LinkIdentifier(kShop, ByEmail(kJane), ByEmail("jane.new@example.org")));
  EXPECT_EQ(Lookup("Jane.New@example.org").connection.affiliate, kA);
  const std::vector<absl::string_view> batch = {"jane.new@example.org", "nobody@x.com", kJane};
  const std::vector<BatchLookupItem> items = OK(engine_.LookupBatch(kShop, batch));
  EXPECT_TRUE(items[0].result.found);
  EXPECT_FALSE(items[1].result.found);
  EXPECT_TRUE(items[2].result.found);
  // Connecting by the alias changes the customer's one connection.
  EXPECT_EQ(Connect("jane.new@example.org", kB, std::nullopt, ConnectMode::kReassign).outcome,
            ConnectResult::Outcome::kReplaced);
  EXPECT_EQ(Lookup().connection.affiliate, kB);
  EXPECT_EQ(OK(engine_.CountShop(kShop)), 1u);
  // Self-referral sees every email of the customer.
  PutAffiliateRequest aff;
  aff.shop = kShop;
  aff.id = kB;  // Jane's affiliate has Jane's second email: a self-referral.
  aff.emails = {"jane.new@example.org"};
  OK(engine_.PutAffiliate(aff));
  const AttributeResult a = Attribute(Order("o1", kJane));
  EXPECT_EQ(a.decision.reason, Reason::kSelfReferral);
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, LinkRulesAndLimits) {
  Connect(kJane, kA);
  Connect("bob@example.com", kB);
  // An identifier that names a customer already is not linked: merge instead.
  EXPECT_THAT(engine_.LinkIdentifier(kShop, ByEmail(kJane), ByEmail("bob@example.com"))
                  .status()
                  .message(),
              HasSubstr("identifier_in_use"));
  for (int i = 1; i < 8; ++i) {
    OK(engine_.LinkIdentifier(kShop, ByEmail(kJane),
                              ByEmail(absl::StrCat("jane", i, "@example.com"))));
  }
  EXPECT_THAT(engine_.LinkIdentifier(kShop, ByEmail(kJane), ByEmail("jane8@example.com"))
                  .status()
                  .message(),
              HasSubstr("over the limit of 8"));
  OK(engine_.LinkIdentifier(kShop, ByEmail(kJane), ByExt("cus_1")));
  EXPECT_THAT(
      engine_.LinkIdentifier(kShop, ByEmail(kJane), ByExt("cus_2")).status().message(),
      HasSubstr("at most one per customer"));
  // Unlink: never the primary, never the last.
  EXPECT_THAT(engine_.UnlinkIdentifier(kShop, ByEmail(kJane)).status().message(),
              HasSubstr("unlink_primary"));
  EXPECT_THAT(engine_.UnlinkIdentifier(kShop, ByEmail("bob@example.com")).status().message(),
              HasSubstr("last_identifier"));
  const CustomerInfo after = OK(engine_.UnlinkIdentifier(kShop, ByExt("cus_1")));
  EXPECT_EQ(after.external_id, "");
  EXPECT_EQ(after.emails.size(), 8u);
  EXPECT_FALSE(OK(engine_.LookupCustomer(kShop, ByExt("cus_1"))).found);
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, MergeKeepsTheOnlyActiveConnection) {
  ConnectExt("cus_1", kA);  // A guest by external id...
  clock_.Advance(kDay);
  const AttributeResult a = OrderBoth("o1", "guest@example.com", "cus_1");
  // ...the email was unknown: linked, no merge.
  EXPECT_TRUE(a.identity.linked);
  EXPECT_EQ(a.decision.affiliate, kA);
  // Another customer by email only, no connection, known by an alias.
  Attribute(Order("o2", "other@example.com"));
  OK(engine_.LinkIdentifier(kShop, ByEmail("other@example.com"), ByEmail("o2@example.com")));
  const AttributeResult m = OrderBoth("o3", "other@example.com", "cus_1");
  ASSERT_TRUE(m.identity.merge.has_value());
  EXPECT_FALSE(m.identity.merge->conflict);
  EXPECT_EQ(m.identity.merge->survivor, std::string("\x01") + "cus_1");
  EXPECT_FALSE(m.identity.merge->lost_connection.has_value());
  EXPECT_EQ(m.decision.affiliate, kA);
  EXPECT_EQ(Lookup("o2@example.com").connection.affiliate, kA);
  const CustomerInfo info = OK(engine_.GetCustomer(kShop, ByEmail("other@example.com")));
  EXPECT_THAT(info.emails, ElementsAre("guest@example.com", "other@example.com",
                                       "o2@example.com"));
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, MergeConflictRules) {
  struct Case {
    MergeConflictRule rule;
    AffiliateId kept;  // 0: refused.
  };
  for (const Case& c : {Case{MergeConflictRule::kKeepEarliest, kB},
                        Case{MergeConflictRule::kKeepEmail, kA},
                        Case{MergeConflictRule::kKeepExternalId, kB},
                        Case{MergeConflictRule::kRefuse, 0}}) {
    SCOPED_TRACE(MergeConflictRuleName(c.rule));
    const ShopId shop = 100 + static_cast<ShopId>(c.rule);
    ShopSettingsPatch p;
    p.merge_conflict = c.rule;
    OK(engine_.UpdateSettings(shop, p));
    ConnectRequest ext;
    ext.shop = shop;
    ext.external_id = "cus_1";
    ext.affiliate = kB;
    OK(engine_.Connect(ext));  // Earlier.
    clock_.Advance(1000);
    ConnectRequest mail;
    mail.shop = shop;
    mail.email = kJane;
    mail.affiliate = kA;
    OK(engine_.Connect(mail));
    AttributeRequest r = Order("o1", kJane);
    r.shop = shop;
    r.external_id = "cus_1";
    const AttributeResult a = OK(engine_.Attribute(r));
    if (c.kept == 0) {
      EXPECT_FALSE(a.identity.merge.has_value());
      EXPECT_THAT(a.identity.not_joined, HasSubstr("merge_conflict=refuse"));
      EXPECT_EQ(a.decision.affiliate, kA);  // The email's customer.
      EXPECT_EQ(OK(engine_.CountShop(shop)), 2u);
      continue;
    }
    ASSERT_TRUE(a.identity.merge.has_value());
    EXPECT_TRUE(a.identity.merge->conflict);
    ASSERT_TRUE(a.identity.merge->lost_connection.has_value());
    EXPECT_NE(a.identity.merge->lost_connection->affiliate, c.kept);
    EXPECT_EQ(a.decision.affiliate, c.kept);
    EXPECT_EQ(OK(engine_.CountShop(shop)), 1u);
    EXPECT_EQ(OK(engine_.LookupCustomer(shop, ByExt("cus_1"))).connection.affiliate, c.kept);
    EXPECT_EQ(OK(engine_.Lookup(shop, kJane)).connection.affiliate, c.kept);
  }
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, ManualMergeAndReverseAfterMerge) {
  Connect(kJane, kA);
  Attribute(Order("o1", kJane));
  clock_.Advance(1000);
  Connect("bob@example.com", kB);
  MergeRequest m;
  m.shop = kShop;
  m.into = ByEmail("bob@example.com");
  m.from = ByEmail(kJane);
  ShopSettingsPatch p;
  p.merge_conflict = MergeConflictRule::kRefuse;
  Update(p);
  EXPECT_THAT(engine_.MergeCustomers(m).status().message(), HasSubstr("give keep"));
  m.keep = MergeKeep::kInto;
  const IdentityChange r = OK(engine_.MergeCustomers(m));
  ASSERT_TRUE(r.merge.has_value());
  EXPECT_EQ(r.merge->survivor, "bob@example.com");
  EXPECT_EQ(r.merge->lost_connection->affiliate, kA);
  // Jane's order counted against the lost connection: nothing to un-count now.
  EXPECT_FALSE(OK(engine_.Reverse(kShop, "o1")).uncounted);
  // Merging again is a no-op.
  EXPECT_FALSE(OK(engine_.MergeCustomers(m)).merge.has_value());
  m.from = ByEmail("nobody@example.com");
  EXPECT_EQ(engine_.MergeCustomers(m).status().code(), absl::StatusCode::kNotFound);
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, ReverseFindsTheConnectionMergedIntoAnotherKey) {
  ConnectExt("cus_1", kA);
  AttributeRequest r = Order("o1", std::nullopt);
  r.external_id = "cus_1";
  Attribute(r);
  // Jane (no connection, but known by an alias) merges into cus_1's customer.
  OK(engine_.LinkIdentifier(kShop, ByEmail(kJane), ByEmail("j2@example.com")));
  OrderBoth("o2", kJane, "cus_1");
  EXPECT_EQ(OK(engine_.LookupCustomer(kShop, ByExt("cus_1"))).connection.order_count, 2u);
  EXPECT_TRUE(OK(engine_.Reverse(kShop, "o2")).uncounted);
  EXPECT_EQ(Lookup("j2@example.com").connection.order_count, 1u);
  ExpectReplayEquivalent();
}

TEST_F(EngineIdentityTest, MutationsLogged) {
  Connect(kJane, kA);
  OrderBoth("o1", kJane, "cus_1");
  std::vector<Mutation> log = sink_.Take();
  // The customer directory's entries are engine_customers_test.cc's concern.
  std::erase_if(log, [](const Mutation& m) {
    return std::holds_alternative<engine::PutCustomerEntry>(m.op);
  });
  ASSERT_EQ(log.size(), 3u);
  const auto* link = std::get_if<engine::LinkIdentifier>(&log[1].op);
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->primary, kJaneCanonical);
  EXPECT_EQ(link->cause, IdentityCause::kOrder);
  EXPECT_EQ(link->order_id, "o1");
  EXPECT_TRUE(std::holds_alternative<RecordOrder>(log[2].op));
}

}  // namespace
}  // namespace attrib::engine
