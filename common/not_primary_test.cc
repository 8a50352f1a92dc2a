// common/not_primary_test.cc: the not_primary payload round-trips; other statuses
// have none.
#include "common/not_primary.h"

#include "gtest/gtest.h"

namespace attrib {
namespace {

TEST(NotPrimaryTest, RoundTrips) {
  const absl::Status s =
      NotPrimaryError("not_primary: a replica", {"127.0.0.1:7411", "127.0.0.1:7412"});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "not_primary: a replica");
  const std::optional<PrimaryAddresses> p = GetNotPrimary(s);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->native, "127.0.0.1:7411");
  EXPECT_EQ(p->http, "127.0.0.1:7412");
}

TEST(NotPrimaryTest, UnknownAddressesStayEmpty) {
  const std::optional<PrimaryAddresses> p = GetNotPrimary(NotPrimaryError("x", {}));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->native, "");
  EXPECT_EQ(p->http, "");
}

TEST(NotPrimaryTest, OtherStatusesAreNotNotPrimary) {
  EXPECT_FALSE(GetNotPrimary(absl::UnavailableError("disk full")).has_value());
  EXPECT_FALSE(GetNotPrimary(absl::OkStatus()).has_value());
  absl::Status wrong_code = absl::InternalError("x");
  wrong_code.SetPayload(kNotPrimaryPayload, absl::Cord("a\nb"));
  EXPECT_FALSE(GetNotPrimary(wrong_code).has_value());
}

}  // namespace
}  // namespace attrib
