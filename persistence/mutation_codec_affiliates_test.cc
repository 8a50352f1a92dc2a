// persistence/mutation_codec_affiliates_test.cc: the log records issue 12 added
// (tags 6-9: PutAffiliate, RemoveConnection with a cause, PutSettings v2,
// RecordOrder v2): round trips (samples and randomized), the choice of the old tag
// whenever the value fits it (so older binaries read logs that do not use the new
// features), the order number derived from a tag 4 record, pinned bytes, and field
// errors.
//
// Randomized tests use a fixed seed, overridable with ATTRIB_TEST_SEED, and print it.
//
// Thread-safety: single-threaded tests.
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/mutation_codec.h"
#include "persistence/mutation_codec_test_util.h"

namespace attrib::engine {
// For gtest failure messages (as in mutation_codec_test.cc).
void PrintTo(const Mutation& m, std::ostream* os) { *os << persistence::DescribeMutation(m); }
}  // namespace attrib::engine

namespace attrib::persistence {
namespace {

using engine::AttributionDecision;
using engine::Mutation;
using ::testing::HasSubstr;

using codec_testing::Encode;
using codec_testing::ExpectRoundTrip;

uint8_t TagOfEncoding(const Mutation& m) { return static_cast<uint8_t>(Encode(m)[0]); }

engine::Affiliate Ann() {
  engine::Affiliate a;
  a.shop = 1;
  a.id = 300;
  a.name = "Ann";
  a.emails = {"a@b"};
  a.status = engine::AffiliateStatus::kDisabled;
  a.created_at = 1;
  return a;
}

TEST(MutationCodecAffiliatesTest, NewRecordsRoundTripAndPinTheirBytes) {
  // tag 6, made_at 0, shop 1, id 300 (ac 02), "Ann", disabled, created_at 1 (zigzag
  // 2), 1 email "a@b", created.
  const Mutation put{0, engine::PutAffiliate{Ann(), true}};
  EXPECT_EQ(absl::BytesToHexString(Encode(put)), "060001ac0203416e6e0102010361406201");
  ExpectRoundTrip(put);
  engine::Affiliate many = Ann();
  many.emails.assign(engine::kMaxAffiliateEmails, std::string(kMaxCodecStringBytes, 'e'));
  many.name = "";
  ExpectRoundTrip(Mutation{-5, engine::PutAffiliate{many, false}});
  // tag 7: tag 2's body, then cause 1 and became_affiliate 9.
  const Mutation removed{
      -1, engine::RemoveConnection{1, "a@b", 300, engine::RemoveCause::kCustomerBecameAffiliate, 9}};
  EXPECT_EQ(absl::BytesToHexString(Encode(removed)), "07010103614062ac020109");
  ExpectRoundTrip(removed);
  // tag 8: tag 3's body, then flags 0b01 (registered required, self-referrals allowed)
  // and disconnect.
  engine::ShopSettings s;
  s.require_registered_affiliates = true;
  s.block_self_referrals = false;
  s.on_customer_becomes_affiliate = engine::CustomerBecomesAffiliate::kDisconnect;
  EXPECT_EQ(absl::BytesToHexString(Encode(Mutation{1, engine::PutSettings{7, s}})),
            "08020701000000000101");
  ExpectRoundTrip(Mutation{1, engine::PutSettings{7, s}});
  // tag 9: the new reasons and fields.
  engine::RecordOrder order;
  order.shop = 3;
  order.decision.order_id = "o";
  order.decision.reason = engine::Reason::kSelfReferral;
  order.decision.connection_inactive = engine::InactiveReason::kAffiliateNotRegistered;
  order.decision.referral_refused = engine::ReferralRefusal::kSelfReferral;
  order.decision.refused_affiliate = 77;
  EXPECT_EQ(TagOfEncoding(Mutation{0, order}), 9);
  ExpectRoundTrip(Mutation{0, order});
}

TEST(MutationCodecAffiliatesTest, OldTagsAreWrittenWhileTheNewFeaturesAreUnused) {
  EXPECT_EQ(TagOfEncoding(Mutation{0, engine::RemoveConnection{1, "a@b", 2}}), 2);
  EXPECT_EQ(TagOfEncoding(Mutation{0, engine::PutSettings{1, engine::ShopSettings{}}}), 3);
  // A counted order whose number is the connection's count after it: tag 4, and the
  // decoder derives the number.
  engine::RecordOrder op;
  op.shop = 1;
  op.decision.order_id = "o";
  op.decision.affiliate = 7;
  op.decision.reason = engine::Reason::kConnected;
  op.decision.counted = true;
  op.decision.order_number_in_connection = 5;
  op.counters = engine::OrderCounters{5, 10};
  EXPECT_EQ(TagOfEncoding(Mutation{0, op}), 4);
  ExpectRoundTrip(Mutation{0, op});
  engine::RecordOrder created = op;
  created.counters.reset();
  created.new_connection = engine::Connection{};
  created.new_connection->order_count = 1;
  created.decision.order_number_in_connection = 1;
  EXPECT_EQ(TagOfEncoding(Mutation{0, created}), 4);
  ExpectRoundTrip(Mutation{0, created});
  // A number that is not the derived one needs tag 9.
  op.decision.order_number_in_connection = 4;
  EXPECT_EQ(TagOfEncoding(Mutation{0, op}), 9);
  ExpectRoundTrip(Mutation{0, op});
}

TEST(MutationCodecAffiliatesTest, NewFieldsAreCheckedLikeTheOldOnes) {
  std::string bytes = Encode(Mutation{0, engine::PutAffiliate{Ann(), true}});
  std::string bad = bytes;
  bad[9] = 2;  // status
  EXPECT_THAT(std::string(DecodeMutation(bad).status().message()),
              HasSubstr("PutAffiliate.status: value 2 out of range 0..1"));
  bad = bytes;
  bad[11] = 9;  // email count
  EXPECT_THAT(std::string(DecodeMutation(bad).status().message()),
              HasSubstr("PutAffiliate.email_count: value 9 over 8"));
  bad = bytes;
  bad.back() = 2;
  EXPECT_THAT(std::string(DecodeMutation(bad).status().message()),
              HasSubstr("PutAffiliate.flags: unknown bits 0x02"));
  // Tag 4 still refuses the reasons only tag 9 may carry.
  engine::RecordOrder op;
  op.decision.reason = engine::Reason::kSelfReferral;
  bytes = Encode(Mutation{0, op});
  bytes[0] = 4;
  EXPECT_FALSE(DecodeMutation(bytes).ok());
  for (size_t n = 0; n < Encode(Mutation{0, engine::PutAffiliate{Ann(), true}}).size(); ++n) {
    EXPECT_FALSE(DecodeMutation(Encode(Mutation{0, engine::PutAffiliate{Ann(), true}})
                                    .substr(0, n)).ok()) << n;
  }
}

TEST(MutationCodecAffiliatesTest, RandomizedRoundTripOfTheNewFields) {
  const char* env = std::getenv("ATTRIB_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 20261201;
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with ATTRIB_TEST_SEED=", seed, ")"));
  std::mt19937_64 rng(seed);
  auto u64 = [&] { return rng() % 3 == 0 ? rng() : rng() % 300; };
  auto str = [&] {
    std::string s(rng() % 4 == 0 ? kMaxCodecStringBytes : rng() % 20, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    Mutation m;
    m.made_at = static_cast<int64_t>(rng());
    switch (rng() % 4) {
      case 0: {
        engine::Affiliate a{u64(), u64(), str(), {}, static_cast<engine::AffiliateStatus>(rng() % 2),
                            static_cast<int64_t>(rng())};
        for (uint64_t n = rng() % 9; n > 0; --n) a.emails.push_back(str());
        m.op = engine::PutAffiliate{a, rng() % 2 == 0};
        break;
      }
      case 1:
        m.op = engine::RemoveConnection{u64(), str(), u64(),
                                        static_cast<engine::RemoveCause>(rng() % 2), u64()};
        break;
      case 2: {
        engine::ShopSettings s;
        s.require_registered_affiliates = rng() % 2 == 0;
        s.block_self_referrals = rng() % 2 == 0;
        s.on_customer_becomes_affiliate = static_cast<engine::CustomerBecomesAffiliate>(rng() % 2);
        s.validity_days = static_cast<uint32_t>(u64());
        m.op = engine::PutSettings{u64(), s};
        break;
      }
      default: {
        engine::RecordOrder op;
        op.shop = u64();
        AttributionDecision& d = op.decision;
        d.order_id = str();
        d.affiliate = u64();
        d.reason = static_cast<engine::Reason>(rng() % 4);
        d.connection_inactive = static_cast<engine::InactiveReason>(rng() % 6);
        d.counted = rng() % 2 == 0;
        d.referral_refused = static_cast<engine::ReferralRefusal>(rng() % 4);
        d.refused_affiliate = rng() % 2 ? 0 : u64();
        d.order_number_in_connection = static_cast<uint32_t>(rng() % 5);
        if (rng() % 2) op.counters = engine::OrderCounters{static_cast<uint32_t>(rng() % 5), 1};
        m.op = op;
        break;
      }
    }
    ExpectRoundTrip(m);
    if (HasFailure()) return;
  }
}

TEST(MutationCodecAffiliatesTest, DescribeNamesTheAffiliateChanges) {
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::PutAffiliate{Ann(), true}}),
            "affiliate created shop 1 affiliate 300 \"Ann\" (disabled, emails a@b, created "
            "1970-01-01T00:00:00.001Z)");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::RemoveConnection{
                                             1, "a@b", 7,
                                             engine::RemoveCause::kCustomerBecameAffiliate, 9}}),
            "disconnect shop 1 a@b (was affiliate 7; the customer became affiliate 9, "
            "on_customer_becomes_affiliate=disconnect)");
  engine::RecordOrder op;
  op.shop = 1;
  op.decision.order_id = "o";
  op.decision.reason = engine::Reason::kSelfReferral;
  op.decision.refused_affiliate = 7;
  op.decision.referral_refused = engine::ReferralRefusal::kSelfReferral;
  EXPECT_THAT(DescribeMutation(Mutation{0, op}), HasSubstr("self_referral of affiliate 7"));
}

}  // namespace
}  // namespace attrib::persistence
