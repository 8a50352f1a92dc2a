// tools/attribctl_output_test.cc: JSON escaping and building, time formatting and
// the argument parsers of attribctl (no server needed).
#include <cmath>
#include <random>
#include <string>

#include "absl/strings/cord.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tools/attribctl_common.h"
#include "tools/attribctl_output.h"

namespace attrib::tools {
namespace {

using ::testing::HasSubstr;

TEST(JsonStringTest, Escapes) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  // RapidJSON's escapes: \u00XX with upper-case hex; DEL needs none in JSON.
  EXPECT_EQ(JsonString(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001F\x7f\"");
  EXPECT_EQ(JsonString(std::string("nul\0", 4)), "\"nul\\u0000\"");
}

TEST(JsonStringTest, Utf8PassesInvalidBytesAreReplaced) {
  EXPECT_EQ(JsonString("Zoë bücher 😀"), "\"Zoë bücher 😀\"");
  EXPECT_EQ(JsonString("a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");   // U+FFFD
  EXPECT_EQ(JsonString("\xc3"), "\"\xef\xbf\xbd\"");            // Truncated sequence.
  EXPECT_EQ(JsonString("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // Surrogate.
}

TEST(JsonObjectTest, Builds) {
  EXPECT_EQ(JsonObject().Done(), "{}");
  EXPECT_EQ(JsonObject()
                .Str("s", "x\"y")
                .Int("i", -5)
                .Uint("u", 18446744073709551615ull)
                .Bool("b", false)
                .Raw("o", JsonObject().Bool("t", true).Done())
                .Done(),
            "{\"s\":\"x\\\"y\",\"i\":-5,\"u\":18446744073709551615,\"b\":false,"
            "\"o\":{\"t\":true}}");
}

TEST(JsonObjectTest, DoublesAreShortestAndNonFiniteIsNull) {
  EXPECT_EQ(JsonObject().Double("a", 0.25).Double("b", 1e-7).Done(), "{\"a\":0.25,\"b\":1e-7}");
  EXPECT_EQ(JsonObject().Double("n", std::nan("")).Done(), "{\"n\":null}");
}

TEST(JsonStringTest, EveryByteStringIsValidJsonThatParsesBack) {
  // Seeded: a failure names the seed and the input.
  const uint32_t seed = 20261202;
  std::mt19937 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    std::string text(rng() % 12, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    const std::string json = JsonString(text);
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
    ASSERT_FALSE(d.HasParseError()) << "seed " << seed << " i " << i << ": " << json;
    ASSERT_TRUE(d.IsString());
    // Valid input comes back unchanged.
    if (json.find("\xEF\xBF\xBD") == std::string::npos) {
      ASSERT_EQ(std::string(d.GetString(), d.GetStringLength()), text) << "seed " << seed;
    }
  }
}

TEST(ErrorJsonTest, CarriesCodeAndCurrentAffiliate) {
  absl::Status s = absl::AlreadyExistsError("already_connected: x");
  s.SetPayload(engine::kCurrentAffiliatePayload, absl::Cord("42"));
  EXPECT_EQ(ErrorJson(s),
            "{\"code\":\"already_exists\",\"message\":\"already_connected: x\","
            "\"current_affiliate\":42}");
  EXPECT_EQ(ErrorJson(absl::NotFoundError("not_found: y")),
            "{\"code\":\"not_found\",\"message\":\"not_found: y\"}");
}

TEST(IsoTimeTest, Formats) {
  EXPECT_EQ(IsoTime(1706702400000), "2024-01-31T12:00:00Z");
  EXPECT_EQ(IsoTime(1706702400250), "2024-01-31T12:00:00.25Z");
}

TEST(ParseTimeMsTest, MillisecondsAndRfc3339) {
  EXPECT_EQ(*ParseTimeMs("t", "1706702400000"), 1706702400000);
  EXPECT_EQ(*ParseTimeMs("t", "2024-01-31T12:00:00Z"), 1706702400000);
  EXPECT_EQ(*ParseTimeMs("t", " 2024-01-31T12:00:00.5Z "), 1706702400500);
  EXPECT_EQ(*ParseTimeMs("t", "2024-01-31T13:00:00+01:00"), 1706702400000);
  EXPECT_EQ(*ParseTimeMs("t", "2024-01-31"), 1706659200000);
  for (const char* bad : {"", "yesterday", "2024-13-01T00:00:00Z", "0", "-5",
                          "1e12", "99999999999999999999"}) {
    absl::StatusOr<int64_t> t = ParseTimeMs("connected_at", bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_THAT(t.status().message(), HasSubstr("connected_at: ")) << bad;
  }
  EXPECT_EQ(*ParseOptionalTimeMs("t", ""), 0);
  EXPECT_EQ(*ParseOptionalTimeMs("t", "5"), 5);
}

TEST(ParseIdTest, PositiveDecimal) {
  EXPECT_EQ(*ParseId("affiliate_id", "42"), 42u);
  EXPECT_EQ(*ParseId("affiliate_id", " 7 "), 7u);
  EXPECT_EQ(*ParseId("affiliate_id", "18446744073709551615"), 18446744073709551615ull);
  for (const char* bad : {"", "0", "-1", "abc", "4x", "18446744073709551616", "1.5"}) {
    absl::StatusOr<uint64_t> id = ParseId("affiliate_id", bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_THAT(id.status().message(), HasSubstr("affiliate_id: ")) << bad;
  }
}

TEST(ExitCodeTest, ConnectionErrorsAreThree) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), kExitFailed);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("disk full")), kExitFailed);
  absl::Status lost = absl::UnavailableError("server closed the connection");
  lost.SetPayload(net::kConnectionErrorPayload, absl::Cord("1"));
  EXPECT_EQ(ExitCodeFor(lost), kExitUnreachable);
}

}  // namespace
}  // namespace attrib::tools
