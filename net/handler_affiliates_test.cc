// net/handler_affiliates_test.cc: the affiliate directory over the wire (put, get,
// disable, search; the new settings and decision fields), and old clients: Request
// frames encoded with the schema as it was before these fields existed
// (net/testdata/schema_v1_*.bin, made with `capnp encode` from the .txt beside each)
// get the answers they got then.
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "net/handler_test_util.h"

namespace attrib::net {
namespace {

using testing_util::HandlerTest;
using testing_util::kA;
using testing_util::kB;
using testing_util::kShop;
using testing_util::Reply;
using testing_util::Str;

class HandlerAffiliatesTest : public HandlerTest {
 protected:
  Reply Put(uint64_t id, const std::string& name, std::vector<std::string> emails,
            bool disabled = false) {
    return Send([&](wire::Request::Builder r) {
      auto p = r.initPutAffiliate();
      p.setShop(kShop);
      p.setId(id);
      p.setName(name);
      auto list = p.initEmails(emails.size());
      for (size_t i = 0; i < emails.size(); ++i) list.set(i, emails[i]);
      if (disabled) p.getStatus().setSet(wire::AffiliateStatus::DISABLED);
    });
  }
  Reply OldFrame(const std::string& name) {
    std::ifstream in(absl::StrCat(ATTRIB_SOURCE_DIR, "/net/testdata/schema_v1_", name, ".bin"),
                     std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_GT(bytes.size(), 16u) << name;
    kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
    memcpy(words.begin(), bytes.data(), words.size() * sizeof(capnp::word));
    return SendFrame(words.asPtr());  // The stream framing, segment table included.
  }
};

TEST_F(HandlerAffiliatesTest, PutGetDisableAndSearch) {
  Reply put = Put(kA, "Ann", {"Ann@Example.com", "ann+x@gmail.com"});
  ASSERT_EQ(put->which(), wire::Response::AFFILIATE) << Str(put->getError().getMessage());
  EXPECT_TRUE(put->getAffiliate().getCreated());
  auto a = put->getAffiliate().getAffiliate();
  EXPECT_EQ(a.getId(), kA);
  ASSERT_EQ(a.getEmails().size(), 2u);
  EXPECT_EQ(Str(a.getEmails()[0]), "ann@example.com");
  EXPECT_EQ(Str(a.getEmails()[1]), "ann@gmail.com");
  EXPECT_EQ(a.getCreatedAt(), testing_util::kT0);
  ASSERT_EQ(Connect("c@example.com", kA)->which(), wire::Response::CONNECT);

  Reply got = Send([](wire::Request::Builder r) {
    auto g = r.initGetAffiliate();
    g.setShop(kShop);
    g.setId(kA);
  });
  ASSERT_EQ(got->which(), wire::Response::AFFILIATE);
  EXPECT_EQ(got->getAffiliate().getAffiliate().getConnections(), 1u);
  EXPECT_EQ(Str(got->getAffiliate().getAffiliate().getName()), "Ann");

  Reply off = Send([](wire::Request::Builder r) {
    auto d = r.initDisableAffiliate();
    d.setShop(kShop);
    d.setId(kA);
  });
  ASSERT_EQ(off->which(), wire::Response::AFFILIATE);
  EXPECT_EQ(off->getAffiliate().getAffiliate().getStatus(), wire::AffiliateStatus::DISABLED);
  ExpectError(Connect("d@example.com", kA), wire::ErrorCode::FAILED_PRECONDITION,
              "affiliate_disabled: ");

  ASSERT_EQ(Put(kB, "annabel", {})->which(), wire::Response::AFFILIATE);
  Reply found = Send([](wire::Request::Builder r) {
    auto s = r.initSearchAffiliates();
    s.setShop(kShop);
    s.setNamePrefix("AN");
    s.setLimit(1);
  });
  ASSERT_EQ(found->which(), wire::Response::AFFILIATE_LIST) << Str(found->getError().getMessage());
  ASSERT_EQ(found->getAffiliateList().getItems().size(), 1u);
  EXPECT_EQ(found->getAffiliateList().getItems()[0].getId(), kA);  // "ann" < "annabel".
  const std::string cursor = Str(found->getAffiliateList().getNextCursor());
  Reply next = Send([&](wire::Request::Builder r) {
    auto s = r.initSearchAffiliates();
    s.setShop(kShop);
    s.setNamePrefix("an");
    s.getStatus().setOnly(wire::AffiliateStatus::ACTIVE);
    s.setCursor(cursor);
  });
  ASSERT_EQ(next->which(), wire::Response::AFFILIATE_LIST);
  ASSERT_EQ(next->getAffiliateList().getItems().size(), 1u);
  EXPECT_EQ(next->getAffiliateList().getItems()[0].getId(), kB);
  EXPECT_EQ(Str(next->getAffiliateList().getNextCursor()), "");
  ExpectError(Put(kA, "x", {"bad@@x"}), wire::ErrorCode::INVALID_ARGUMENT, "emails[0]: ");
  EXPECT_EQ(Counted("putAffiliate", "ok"), 2u);
  EXPECT_EQ(Counted("searchAffiliates", "ok"), 2u);
}

TEST_F(HandlerAffiliatesTest, SelfReferralAndTheOrderNumberReachTheWire) {
  ASSERT_EQ(Put(kA, "Jane", {"jane@example.com"})->which(), wire::Response::AFFILIATE);
  Reply self = Attribute("o1", "Jane@Example.com", kA);
  ASSERT_EQ(self->which(), wire::Response::ATTRIBUTE);
  EXPECT_EQ(self->getAttribute().getDecision().getReason(), wire::Reason::SELF_REFERRAL);
  EXPECT_EQ(self->getAttribute().getDecision().getReferralRefused(),
            wire::ReferralRefusal::SELF_REFERRAL);
  EXPECT_EQ(self->getAttribute().getDecision().getRefusedAffiliate(), kA);
  ExpectError(Connect("jane@example.com", kA), wire::ErrorCode::FAILED_PRECONDITION,
              "self_referral: ");
  ASSERT_EQ(Connect("bob@example.com", kA)->which(), wire::Response::CONNECT);
  EXPECT_EQ(Attribute("o2", "bob@example.com")->getAttribute().getDecision()
                .getOrderNumberInConnection(), 1u);
  EXPECT_EQ(Attribute("o3", "bob@example.com")->getAttribute().getDecision()
                .getOrderNumberInConnection(), 2u);
  // Settings: the new fields read and patched.
  Reply settings = Send([](wire::Request::Builder r) {
    auto p = r.initPutSettings();
    p.setShop(kShop);
    p.getPatch().getOnCustomerBecomesAffiliate().setSet(
        wire::CustomerBecomesAffiliate::DISCONNECT);
    p.getPatch().getBlockSelfReferrals().setSet(false);
  });
  ASSERT_EQ(settings->which(), wire::Response::SETTINGS);
  EXPECT_FALSE(settings->getSettings().getBlockSelfReferrals());
  EXPECT_FALSE(settings->getSettings().getRequireRegisteredAffiliates());
  EXPECT_EQ(settings->getSettings().getOnCustomerBecomesAffiliate(),
            wire::CustomerBecomesAffiliate::DISCONNECT);
  Reply removed = Put(kB, "Bob", {"bob@example.com"});
  ASSERT_EQ(removed->which(), wire::Response::AFFILIATE);
  ASSERT_EQ(removed->getAffiliate().getRemovedConnections().size(), 1u);
  EXPECT_EQ(removed->getAffiliate().getRemovedConnections()[0].getAffiliate(), kA);
}

TEST_F(HandlerAffiliatesTest, RequestsOfThePreviousSchemaGetTheSameAnswers) {
  // put_settings: shop 5, autoConnect set true, precedence set referralFirst.
  Reply settings = OldFrame("put_settings");
  ASSERT_EQ(settings->which(), wire::Response::SETTINGS) << Str(settings->getError().getMessage());
  EXPECT_EQ(settings->getId(), 103u);
  EXPECT_TRUE(settings->getSettings().getAutoConnect());
  EXPECT_EQ(settings->getSettings().getPrecedence(), wire::Precedence::REFERRAL_FIRST);
  EXPECT_TRUE(settings->getSettings().getConnectionsEnabled());
  // The fields it did not know stayed at their defaults.
  EXPECT_TRUE(engine_.GetSettings(5)->block_self_referrals);
  EXPECT_FALSE(engine_.GetSettings(5)->require_registered_affiliates);
  // connect: shop 5, Jane.Doe@example.com -> 7, manual, name Jane.
  Reply connect = OldFrame("connect");
  ASSERT_EQ(connect->which(), wire::Response::CONNECT) << Str(connect->getError().getMessage());
  EXPECT_EQ(connect->getId(), 101u);
  EXPECT_EQ(connect->getConnect().getOutcome(), wire::ConnectResult::Outcome::CREATED);
  EXPECT_EQ(Str(connect->getConnect().getConnection().getCanonicalEmail()), "jane.doe@example.com");
  EXPECT_EQ(connect->getConnect().getConnection().getSource(), wire::Source::MANUAL);
  // attribute: referral 9 under referral_first wins this order, not counted.
  Reply order = OldFrame("attribute");
  ASSERT_EQ(order->which(), wire::Response::ATTRIBUTE) << Str(order->getError().getMessage());
  const auto d = order->getAttribute().getDecision();
  EXPECT_EQ(d.getAffiliate(), 9u);
  EXPECT_EQ(d.getReason(), wire::Reason::REFERRAL);
  EXPECT_FALSE(d.getCounted());
  EXPECT_EQ(d.getOrderedAt(), 1'700'000'000'000);
  Reply explain = OldFrame("explain");
  ASSERT_EQ(explain->which(), wire::Response::EXPLAIN);
  EXPECT_EQ(explain->getExplain().getAffiliate(), 9u);
  EXPECT_EQ(Str(explain->getExplain().getOrderId()), "o-1");
}

}  // namespace
}  // namespace attrib::net
