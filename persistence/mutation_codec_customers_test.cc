// persistence/mutation_codec_customers_test.cc: the log records of the customer
// directory (issue 12, tags 14-17 and 20: PutCustomerEntry, MergeCustomers v2,
// LinkIdentifier v2, RecordOrder v3, PutSettings v4): round trips, pinned bytes,
// the old tags while the new fields are unused, descriptions, and field errors.
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/mutation_codec.h"
#include "persistence/mutation_codec_test_util.h"

namespace attrib::persistence {
namespace {

using codec_testing::Encode;
using codec_testing::ExpectRoundTrip;
using engine::Mutation;
using ::testing::HasSubstr;

const std::string kExt = std::string("\x01") + "cus_1";

TEST(MutationCodecCustomersTest, PutCustomerEntryRoundTripsAndPinsItsBytes) {
  const Mutation m{0, engine::PutCustomerEntry{3, "a@b", engine::CustomerEntry{"Al", 1, 2, 5}}};
  // tag 14, made_at 0, shop 3, "a@b", "Al", zigzag 1, zigzag 2, 5.
  EXPECT_EQ(absl::BytesToHexString(Encode(m)), "0e00030361406202416c020405");
  ExpectRoundTrip(m);
  ExpectRoundTrip(Mutation{7, engine::PutCustomerEntry{1, kExt, engine::CustomerEntry{}}});
  EXPECT_EQ(DescribeMutation(m),
            "customer directory shop 3 a@b: name \"Al\", 5 orders seen, first "
            "1970-01-01T00:00:00.001Z, last 1970-01-01T00:00:00.002Z");
}

TEST(MutationCodecCustomersTest, MergeAndLinkCarryTheAbsorbedEntryUnderNewTags) {
  engine::MergeCustomers m{3, kExt, "bob@example.com", std::nullopt, false,
                           engine::MergeConflictRule::kKeepEarliest,
                           engine::IdentityCause::kOrder, "o9", {}};
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{1, m})[0]), 12);  // Unused: old tag.
  m.absorbed_entry = engine::CustomerEntry{"Bob", 10, 20, 3};
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{1, m})[0]), 15);
  ExpectRoundTrip(Mutation{1, m});
  EXPECT_THAT(DescribeMutation(Mutation{1, m}), HasSubstr("directory entry now: name \"Bob\""));

  engine::LinkIdentifier l{3, "a@b", kExt, engine::IdentityCause::kConnect, "", {}};
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{1, l})[0]), 10);
  l.absorbed_entry = engine::CustomerEntry{"", 0, 0, 0};
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{1, l})[0]), 16);
  ExpectRoundTrip(Mutation{1, l});
}

TEST(MutationCodecCustomersTest, DecisionFieldsAndTheSettingUseNewTagsOnlyWhenSet) {
  engine::RecordOrder o;
  o.shop = 3;
  o.decision.order_id = "o1";
  o.decision.ordered_at = 5;
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{1, o})[0]), 4);
  o.decision.new_customer_source = engine::NewCustomerSource::kDirectory;
  o.decision.order_number_for_customer = 300;
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{1, o})[0]), 17);
  ExpectRoundTrip(Mutation{1, o});
  o.decision.new_customer_source = engine::NewCustomerSource::kRequest;
  o.decision.order_number_for_customer = 0;
  ExpectRoundTrip(Mutation{1, o});

  engine::PutSettings p{3, engine::ShopSettings{}};
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{0, p})[0]), 3);
  p.settings.customer_directory = false;
  EXPECT_EQ(static_cast<uint8_t>(Encode(Mutation{0, p})[0]), 20);
  ExpectRoundTrip(Mutation{0, p});
  p.settings.merge_conflict = engine::MergeConflictRule::kRefuse;
  ExpectRoundTrip(Mutation{0, p});
  EXPECT_THAT(DescribeMutation(Mutation{0, p}), HasSubstr("customer_directory=false"));
}

TEST(MutationCodecCustomersTest, ErrorsNameTheField) {
  const auto message = [](const std::string& hex) {
    return std::string(DecodeMutation(absl::HexStringToBytes(hex)).status().message());
  };
  // PutCustomerEntry whose orders_seen is over u32.
  EXPECT_EQ(message("0e000303614062000000808080801000"),
            "mutation: PutCustomerEntry.entry.orders_seen: value 4294967296 over 4294967295");
  // RecordOrder v3 with new_customer_source 3.
  const Mutation base{1, [] {
                        engine::RecordOrder o;
                        o.shop = 3;
                        o.decision.order_id = "o1";
                        o.decision.order_number_for_customer = 1;
                        return o;
                      }()};
  std::string bytes = Encode(base);
  ASSERT_EQ(static_cast<uint8_t>(bytes[0]), 17);
  // The source byte follows the v2 decision fields; find it by re-encoding with 2.
  engine::RecordOrder o2 = std::get<engine::RecordOrder>(base.op);
  o2.decision.new_customer_source = engine::NewCustomerSource::kDirectory;
  const std::string with2 = Encode(Mutation{1, o2});
  size_t at = 0;
  while (at < bytes.size() && bytes[at] == with2[at]) ++at;
  ASSERT_LT(at, bytes.size());
  bytes[at] = 3;
  EXPECT_THAT(std::string(DecodeMutation(bytes).status().message()),
              HasSubstr("RecordOrder.decision.new_customer_source"));
  // PutSettings v4 with an unknown directory flag bit.
  engine::PutSettings p{3, engine::ShopSettings{}};
  p.settings.customer_directory = false;
  std::string s = Encode(Mutation{0, p});
  s.back() = 2;
  EXPECT_THAT(std::string(DecodeMutation(s).status().message()),
              HasSubstr("PutSettings.settings.directory_flags"));
}

}  // namespace
}  // namespace attrib::persistence
