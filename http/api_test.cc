// http/api_test.cc: the HTTP API codec without sockets: routes, JSON conventions,
// problem documents, scopes, the durability wait it reports, counting.
#include "http/api.h"

#include <map>
#include <string>
#include <utility>

#include "engine/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/api_test_harness.h"
#include "rapidjson/document.h"

namespace attrib::http {
namespace {

using ::testing::HasSubstr;

constexpr engine::TimeMs kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z.

class FakeDurability final : public service::DurabilityHooks {
 public:
  absl::Status CanWrite() override { return can_write; }
  uint64_t LastAssignedSeq() override { return 41; }
  uint64_t DurableSeq() override { return 0; }
  absl::Status can_write = absl::OkStatus();
};

class ApiTest : public ::testing::Test {
 protected:
  ApiResponse Call(absl::string_view method, absl::string_view target, std::string body = "",
                   service::Scope scope = service::Scope::Admin()) {
    return harness_.Call(method, target, std::move(body), scope);
  }
  static rapidjson::Document Json(const ApiResponse& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    EXPECT_FALSE(d.HasParseError()) << r.body;
    return d;
  }
  static std::string S(const rapidjson::Value& v) { return v.GetString(); }

  FakeDurability hooks_;
  ApiHarness harness_{kT0, &hooks_};
};

TEST_F(ApiTest, ConnectThenLookupWithIdsAsStringsAndTimesInBothForms) {
  ApiResponse c = Call("POST", "/v1/shops/42/connections",
                       R"({"email":"Jane@Example.com","affiliate":"7"})");
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.wait_for_seq, 41u);
  rapidjson::Document d = Json(c);
  EXPECT_EQ(S(d["outcome"]), "created");
  EXPECT_EQ(S(d["connection"]["affiliate"]), "7");
  EXPECT_EQ(S(d["connection"]["shop"]), "42");
  EXPECT_EQ(d["connection"]["connected_at"].GetInt64(), kT0);
  EXPECT_EQ(S(d["connection"]["connected_at_rfc3339"]), "2023-11-14T22:13:20.000Z");
  EXPECT_TRUE(d["connection"]["last_order_at_rfc3339"].IsNull());

  ApiResponse l = Call("GET", "/v1/shops/42/customers/jane%40example.com/connection");
  ASSERT_EQ(l.status, 200) << l.body;
  EXPECT_EQ(l.wait_for_seq, 0u);
  d = Json(l);
  EXPECT_TRUE(d["found"].GetBool());
  EXPECT_EQ(S(d["status"]["activity"]), "active");
  // An integer id below 2^53 is accepted too; above it is not.
  EXPECT_EQ(Call("POST", "/v1/shops/42/connections",
                 R"({"email":"b@example.com","affiliate":9})").status, 201);
  ApiResponse big = Call("POST", "/v1/shops/42/connections",
                         R"({"email":"c@example.com","affiliate":9007199254740993})");
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(S(Json(big)["field"]), "affiliate");
}

TEST_F(ApiTest, ProblemsNameTheByteOffsetTheFieldAndTheCurrentAffiliate) {
  ApiResponse bad = Call("POST", "/v1/shops/1/connections", R"({"email": "x@y.com",})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_STREQ(bad.content_type, "application/problem+json");
  rapidjson::Document d = Json(bad);
  EXPECT_THAT(S(d["detail"]), HasSubstr("at byte offset 20: Missing a name"));
  EXPECT_EQ(S(d["code"]), "invalid_argument");
  EXPECT_EQ(d["status"].GetInt(), 400);

  ApiResponse unknown = Call("POST", "/v1/shops/1/connections",
                             R"({"email":"x@y.com","affiliate":"1","afiliate":"2"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(S(Json(unknown)["field"]), "afiliate");

  ApiResponse invalid = Call("POST", "/v1/shops/1/connections",
                             R"({"email":"not an email","affiliate":"1"})");
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  EXPECT_EQ(S(Json(invalid)["field"]), "email");

  ASSERT_EQ(Call("POST", "/v1/shops/1/connections", R"({"email":"x@y.com","affiliate":"1"})")
                .status, 201);
  ApiResponse taken = Call("POST", "/v1/shops/1/connections",
                           R"({"email":"x@y.com","affiliate":"2"})");
  EXPECT_EQ(taken.status, 409);
  d = Json(taken);
  EXPECT_EQ(S(d["code"]), "already_exists");
  EXPECT_EQ(S(d["current_affiliate"]), "1");
  ApiResponse moved = Call("POST", "/v1/shops/1/connections",
                           R"({"email":"x@y.com","affiliate":"2","mode":"reassign"})");
  EXPECT_EQ(moved.status, 200);
  EXPECT_EQ(S(Json(moved)["previous_affiliate"]), "1");

  EXPECT_EQ(Call("GET", "/v1/nothing").status, 404);
  ApiResponse method = Call("PUT", "/v1/shops/1/settings");
  EXPECT_EQ(method.status, 405);
  EXPECT_STREQ(method.allow, "GET, PATCH");
  EXPECT_EQ(S(Json(Call("GET", "/v1/shops/1/connections?limt=5"))["field"]), "limt");
  EXPECT_EQ(Call("GET", "/v1/shops/1/connections?limit=1001").status, 400);
}

TEST_F(ApiTest, ShopScopeAndReadOnly) {
  ASSERT_EQ(Call("POST", "/v1/shops/1/connections", R"({"email":"x@y.com","affiliate":"1"})")
                .status, 201);
  const service::Scope shop2 = service::Scope::Shop(2);
  ApiResponse other = Call("GET", "/v1/shops/1/customers/x%40y.com/connection", "", shop2);
  ApiResponse empty = Call("GET", "/v1/shops/3/customers/x%40y.com/connection", "", shop2);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(empty.status, 404);
  EXPECT_EQ(Call("GET", "/v1/stats", "", shop2).status, 403);
  const service::Scope ro = service::Scope::Shop(1, true);
  EXPECT_EQ(Call("GET", "/v1/shops/1/settings", "", ro).status, 200);
  EXPECT_EQ(Call("PATCH", "/v1/shops/1/settings", R"({"auto_connect":true})", ro).status, 403);
}

TEST_F(ApiTest, OrdersAreIdempotentAndReversible) {
  ASSERT_EQ(Call("POST", "/v1/shops/1/connections", R"({"email":"x@y.com","affiliate":"5"})")
                .status, 201);
  const std::string order = R"({"order_id":"A-1","email":"x@y.com","ordered_at":"2023-11-15T00:00:00Z"})";
  ApiResponse first = Call("POST", "/v1/shops/1/orders", order);
  ASSERT_EQ(first.status, 201) << first.body;
  rapidjson::Document d = Json(first);
  EXPECT_EQ(S(d["decision"]["affiliate"]), "5");
  EXPECT_FALSE(d["duplicate"].GetBool());
  ApiResponse again = Call("POST", "/v1/shops/1/orders", order);
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(Json(again)["duplicate"].GetBool());
  EXPECT_EQ(S(Json(Call("GET", "/v1/shops/1/orders/A-1"))["decision"]["order_id"]), "A-1");
  ApiResponse rev = Call("POST", "/v1/shops/1/orders/A-1/reverse");
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_TRUE(Json(rev)["uncounted"].GetBool());
  EXPECT_EQ(Call("GET", "/v1/shops/1/orders/nope").status, 404);
}

TEST_F(ApiTest, RefusedWritesAre503AndReadyzSaysWhy) {
  hooks_.can_write = absl::UnavailableError("log: disk full");
  ApiResponse w = Call("PATCH", "/v1/shops/1/settings", R"({"validity_days":30})");
  EXPECT_EQ(w.status, 503);
  EXPECT_EQ(w.wait_for_seq, 0u);
  ApiResponse ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("disk full"));
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(ApiTest, BatchCountsSettingsAndStatsCountHttpRequestsPerOperation) {
  ASSERT_EQ(Call("POST", "/v1/shops/1/connections", R"({"email":"x@y.com","affiliate":"5"})")
                .status, 201);
  ApiResponse b = Call("POST", "/v1/shops/1/lookups",
                       R"({"emails":["x@y.com","nobody@y.com","bad"]})");
  ASSERT_EQ(b.status, 200) << b.body;
  rapidjson::Document d = Json(b);
  ASSERT_EQ(d["items"].Size(), 3u);
  EXPECT_TRUE(d["items"][0]["found"].GetBool());
  EXPECT_FALSE(d["items"][1]["found"].GetBool());
  EXPECT_EQ(S(d["items"][2]["error"]["code"]), "invalid_argument");
  d = Json(Call("GET", "/v1/shops/1/counts"));
  EXPECT_EQ(d["connections"].GetUint(), 1u);
  EXPECT_EQ(S(d["by_affiliate"][0]["affiliate"]), "5");
  d = Json(Call("PATCH", "/v1/shops/1/settings", R"({"validity_days":30,"precedence":"referral_first"})"));
  EXPECT_EQ(d["settings"]["validity_days"].GetUint(), 30u);
  EXPECT_EQ(S(d["settings"]["precedence"]), "referral_first");
  d = Json(Call("GET", "/v1/stats"));
  bool counted = false;
  for (const auto& op : d["operations"].GetArray()) {
    if (S(op["operation"]) == "lookupBatch" && S(op["result"]) == "ok") {
      counted = op["count"].GetUint() == 1;
    }
  }
  EXPECT_TRUE(counted) << Call("GET", "/v1/stats").body;
  EXPECT_EQ(Json(Call("GET", "/v1/openapi.json"))["openapi"].GetString(), std::string("3.1.0"));
}

TEST_F(ApiTest, WebhookAndChangeFeedRequestsAreCountedUnderTheirOwnOperations) {
  // Whatever the result (this codec test has no webhook deliverer), each request is
  // counted once under its HTTP-only operation (service/operation.h).
  Call("GET", "/v1/shops/1/webhooks");
  Call("POST", "/v1/shops/1/webhooks", R"({"url":"http://127.0.0.1:9/h"})");
  Call("GET", "/v1/shops/1/webhooks/ep_1");
  Call("PATCH", "/v1/shops/1/webhooks/ep_1", R"({"enabled":false})");
  Call("POST", "/v1/shops/1/webhooks/ep_1/rotate_secret");
  Call("DELETE", "/v1/shops/1/webhooks/ep_1");
  Call("GET", "/v1/changes?from=1");
  rapidjson::Document d = Json(Call("GET", "/v1/stats"));
  std::map<std::string, uint64_t> counts;
  for (const auto& op : d["operations"].GetArray()) counts[S(op["operation"])] += op["count"].GetUint64();
  for (const char* name : {"listWebhooks", "createWebhook", "getWebhook", "updateWebhook",
                           "rotateWebhookSecret", "deleteWebhook", "changes"}) {
    EXPECT_EQ(counts[name], 1u) << name << ": " << Call("GET", "/v1/stats").body;
  }
  EXPECT_EQ(counts["unknown"], 0u);
}

}  // namespace
}  // namespace attrib::http
