// persistence/mutation_codec_identity_test.cc: the log records of customer
// identifiers (issue 12, tags 10-13: LinkIdentifier, UnlinkIdentifier,
// MergeCustomers, PutSettings v3): round trips (samples and randomized), pinned
// bytes, the old settings tag while the identity settings are at their defaults,
// descriptions, and field errors.
//
// Randomized tests use a fixed seed, overridable with ATTRIB_TEST_SEED, and print it.
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

namespace attrib::persistence {
namespace {

using engine::Mutation;
using ::testing::HasSubstr;
using codec_testing::Encode;
using codec_testing::ExpectRoundTrip;

const std::string kExt = std::string("\x01") + "cus_1";

engine::Connection Lost() {
  engine::Connection c;
  c.shop = 3;
  c.canonical_email = "bob@example.com";
  c.entered_email = "Bob@example.com";
  c.affiliate = 7;
  c.connected_at = 1'700'000'000'000;
  c.order_count = 2;
  c.last_order_at = 1'700'000'100'000;
  return c;
}

TEST(MutationCodecIdentityTest, RecordsRoundTripAndPinTheirBytes) {
  const Mutation link{0, engine::LinkIdentifier{3, "a@b", kExt, engine::IdentityCause::kOrder, "o1"}};
  // tag 10, made_at 0, shop 3, "a@b", "\x01cus_1", cause order, "o1".
  EXPECT_EQ(absl::BytesToHexString(Encode(link)), "0a00030361406206016375735f3101026f31");
  ExpectRoundTrip(link);
  const Mutation unlink{5, engine::UnlinkIdentifier{3, "a@b", kExt}};
  EXPECT_EQ(absl::BytesToHexString(Encode(unlink)), "0b0a030361406206016375735f31");
  ExpectRoundTrip(unlink);
  engine::MergeCustomers m{3, kExt, "bob@example.com", Lost(), true,
                           engine::MergeConflictRule::kKeepExternalId,
                           engine::IdentityCause::kManual, ""};
  ExpectRoundTrip(Mutation{9, m});
  m.lost_connection.reset();
  m.conflict = false;
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{9, m})[0]), 12);
  ExpectRoundTrip(Mutation{9, m});
}

TEST(MutationCodecIdentityTest, SettingsKeepTheOldTagAtTheIdentityDefaults) {
  engine::PutSettings p{3, engine::ShopSettings{}};
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{0, p})[0]), 3);
  p.settings.block_self_referrals = false;
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{0, p})[0]), 8);
  p.settings.merge_conflict = engine::MergeConflictRule::kRefuse;
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{0, p})[0]), 13);
  ExpectRoundTrip(Mutation{0, p});
  p.settings.auto_link_identifiers = false;
  p.settings.block_self_referrals = true;
  ExpectRoundTrip(Mutation{0, p});
  EXPECT_THAT(DescribeMutation(Mutation{0, p}),
              HasSubstr("auto_link_identifiers=false merge_conflict=refuse"));
}

TEST(MutationCodecIdentityTest, Descriptions) {
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::LinkIdentifier{3, "a@b", kExt,
                                                                 engine::IdentityCause::kOrder,
                                                                 "o1"}}),
            "link shop 3 external_id:cus_1 -> customer a@b (order \"o1\")");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::UnlinkIdentifier{3, "a@b", "c@d"}}),
            "unlink shop 3 c@d from customer a@b");
  const engine::MergeCustomers m{3, kExt, "bob@example.com", Lost(), true,
                                 engine::MergeConflictRule::kKeepEarliest,
                                 engine::IdentityCause::kManual, ""};
  EXPECT_EQ(DescribeMutation(Mutation{0, m}),
            "merge shop 3 customer bob@example.com into customer external_id:cus_1 (manual; "
            "both connected, merge_conflict=keep_earliest; lost connection to affiliate 7, "
            "connected 2023-11-14T22:13:20Z, 2 orders, last 2023-11-14T22:15:00Z)");
}

TEST(MutationCodecIdentityTest, ErrorsNameTheField) {
  std::string bytes = Encode(Mutation{0, engine::LinkIdentifier{3, "a@b", kExt,
                                                                engine::IdentityCause::kOrder,
                                                                "o1"}});
  bytes[bytes.size() - 4] = 9;  // The cause.
  EXPECT_THAT(DecodeMutation(bytes).status().message(),
              HasSubstr("LinkIdentifier.cause: value 9 out of range 0..2"));
  std::string merge = Encode(Mutation{0, engine::MergeCustomers{3, "a", "b", std::nullopt}});
  merge[merge.size() - 4] = 2;  // The flags.
  EXPECT_THAT(DecodeMutation(merge).status().message(),
              HasSubstr("MergeCustomers.flags: unknown bits 0x02"));
  EXPECT_THAT(DecodeMutation(Encode(Mutation{0, engine::UnlinkIdentifier{3, "a", "b"}}) + "x")
                  .status()
                  .message(),
              HasSubstr("trailing bytes"));
}

TEST(MutationCodecIdentityTest, RandomRecordsRoundTrip) {
  const char* env = std::getenv("ATTRIB_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 1212;
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (ATTRIB_TEST_SEED)"));
  std::mt19937_64 rng(seed);
  const auto pick = [&](uint64_t n) { return rng() % n; };
  const auto key = [&] {
    return pick(2) ? absl::StrCat("c", pick(1000), "@x.com")
                   : absl::StrCat("\x01", std::string(pick(64) + 1, 'a' + pick(26)));
  };
  for (int i = 0; i < 2000; ++i) {
    Mutation m;
    m.made_at = static_cast<int64_t>(rng());
    switch (pick(4)) {
      case 0:
        m.op = engine::LinkIdentifier{rng(), key(), key(),
                                      static_cast<engine::IdentityCause>(pick(3)),
                                      pick(2) ? "" : absl::StrCat("o", pick(100))};
        break;
      case 1:
        m.op = engine::UnlinkIdentifier{rng(), key(), key()};
        break;
      case 2: {
        engine::MergeCustomers op{rng(), key(), key()};
        if (pick(2)) op.lost_connection = Lost();
        op.conflict = pick(2) == 0;
        op.rule = static_cast<engine::MergeConflictRule>(pick(4));
        op.cause = static_cast<engine::IdentityCause>(pick(3));
        m.op = op;
        break;
      }
      default: {
        engine::PutSettings p{rng(), engine::ShopSettings{}};
        p.settings.auto_link_identifiers = pick(2) == 0;
        p.settings.merge_conflict = static_cast<engine::MergeConflictRule>(pick(4));
        p.settings.block_self_referrals = pick(2) == 0;
        m.op = p;
      }
    }
    ExpectRoundTrip(m);
  }
}

}  // namespace
}  // namespace attrib::persistence
