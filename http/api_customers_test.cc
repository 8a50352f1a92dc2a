// http/api_customers_test.cc: the customer and identifier resources of the HTTP API
// codec without sockets (api_customers.cc): a customer by email or external id,
// link, unlink, merge with the merge_conflict report, connect / lookup / disconnect
// / attribute by external id, the problem documents' code, field and reason.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/api.h"
#include "http/api_test_harness.h"
#include "rapidjson/document.h"

namespace attrib::http {
namespace {

using ::testing::HasSubstr;

constexpr engine::TimeMs kT0 = 1'700'000'000'000;

class CustomersApiTest : public ::testing::Test {
 protected:
  // The response, its body parsed into `doc`.
  ApiResponse Call(absl::string_view method, absl::string_view target, std::string body = "",
                   service::Scope scope = service::Scope::Admin()) {
    ApiResponse out = harness_.Call(method, target, std::move(body), scope);
    doc.Parse(out.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << out.body;
    return out;
  }
  // The string at doc[a][b][c] ("null" for null).
  std::string S(const char* a, const char* b = nullptr, const char* c = nullptr) {
    const rapidjson::Value* v = &doc[a];
    if (b != nullptr) v = &(*v)[b];
    if (c != nullptr) v = &(*v)[c];
    return v->IsString() ? v->GetString() : v->IsNull() ? "null" : "?";
  }

  ApiHarness harness_{kT0, nullptr};
  rapidjson::Document doc;
};

TEST_F(CustomersApiTest, ACustomerByExternalIdGainsAnEmailAndAnyIdentifierFindsIt) {
  ApiResponse r = Call("POST", "/v1/shops/1/connections",
                       R"({"external_id":"cus_1","affiliate":"7"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(S("connection", "external_id"), "cus_1");
  EXPECT_EQ(S("connection", "canonical_email"), "");
  r = Call("POST", "/v1/shops/1/customers/external_id:cus_1/identifiers",
           R"({"email":"Jane@Example.com"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(S("customer", "primary"), "external_id:cus_1");
  EXPECT_EQ(std::string(doc["customer"]["emails"][0].GetString()), "jane@example.com");
  EXPECT_EQ(S("customer", "external_id"), "cus_1");
  EXPECT_EQ(S("customer", "connection", "affiliate"), "7");

  for (const char* who : {"jane%40example.com", "external_id:cus_1", "external_id%3Acus_1"}) {
    r = Call("GET", absl::StrCat("/v1/shops/1/customers/", who));
    ASSERT_EQ(r.status, 200) << who << " " << r.body;
    EXPECT_EQ(S("customer", "external_id"), "cus_1");
    r = Call("GET", absl::StrCat("/v1/shops/1/customers/", who, "/connection"));
    ASSERT_EQ(r.status, 200) << who << " " << r.body;
    EXPECT_TRUE(doc["found"].GetBool());
    EXPECT_EQ(S("connection", "affiliate"), "7");
  }
  // An order by email only is the external id's customer's.
  r = Call("POST", "/v1/shops/1/orders", R"({"order_id":"o1","email":"jane@example.com"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(S("decision", "affiliate"), "7");

  // Linking it again is a no-op; another customer's identifier: identifier_in_use;
  // both at once; a bad external id.
  r = Call("POST", "/v1/shops/1/customers/external_id:cus_1/identifiers",
           R"({"email":"jane@example.com"})");
  EXPECT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(Call("POST", "/v1/shops/1/connections", R"({"email":"bob@example.com","affiliate":"8"})")
                .status, 201);
  r = Call("POST", "/v1/shops/1/customers/external_id:cus_1/identifiers",
           R"({"email":"Bob@example.com"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(S("code"), "already_exists");
  EXPECT_EQ(S("reason"), "identifier_in_use");
  r = Call("POST", "/v1/shops/1/customers/external_id:cus_1/identifiers",
           R"({"email":"a@example.com","external_id":"x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(S("field"), "external_id");
  r = Call("POST", "/v1/shops/1/customers/external_id:cus_1/identifiers", R"({"emial":"a@b.c"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(S("field"), "emial");
  r = Call("GET", "/v1/shops/1/customers/external_id:cus%091");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(S("field"), "external_id");
  EXPECT_THAT(S("detail"), HasSubstr("control character"));
  EXPECT_EQ(Call("GET", "/v1/shops/1/customers/nobody%40example.com").status, 404);
  r = Call("PUT", "/v1/shops/1/customers/jane%40example.com");
  EXPECT_EQ(r.status, 405);
  EXPECT_STREQ(r.allow, "GET, PATCH");

  // Unlink: never the primary key; never another customer's identifier.
  r = Call("DELETE", "/v1/shops/1/customers/jane%40example.com/identifiers/external_id:cus_1");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(S("reason"), "unlink_primary");
  r = Call("DELETE", "/v1/shops/1/customers/external_id:cus_1/identifiers/bob%40example.com");
  EXPECT_EQ(r.status, 404) << r.body;
  r = Call("DELETE", "/v1/shops/1/customers/external_id:cus_1/identifiers/Jane%40Example.com");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(S("unlinked"), "Jane@Example.com");
  EXPECT_EQ(doc["customer"]["emails"].Size(), 0u);
  r = Call("GET", "/v1/shops/1/customers/jane%40example.com/connection");
  EXPECT_FALSE(doc["found"].GetBool()) << r.body;

  // Disconnect by external id.
  r = Call("DELETE", "/v1/shops/1/customers/external_id:cus_1/connection");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(S("disconnected", "external_id"), "cus_1");
  r = Call("GET", "/v1/shops/1/customers/external_id:cus_1/connection");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(doc["found"].GetBool());
  EXPECT_EQ(S("external_id"), "cus_1");
}

TEST_F(CustomersApiTest, MergesReportTheConflictAndFollowTheRuleOrTheRequest) {
  ASSERT_EQ(Call("POST", "/v1/shops/2/connections",
                 R"({"email":"a@example.com","affiliate":"1","connected_at":1600000000000})")
                .status, 201);
  ASSERT_EQ(Call("POST", "/v1/shops/2/connections",
                 R"({"external_id":"cus_2","affiliate":"2","connected_at":1650000000000})")
                .status, 201);
  ASSERT_EQ(Call("POST", "/v1/shops/2/connections",
                 R"({"email":"c@example.com","affiliate":"3","connected_at":1690000000000})")
                .status, 201);
  // merge_conflict = refuse: a 409 naming the rule.
  ApiResponse r = Call("PATCH", "/v1/shops/2/settings", R"({"merge_conflict":"refuse"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(S("settings", "merge_conflict"), "refuse");
  EXPECT_TRUE(doc["settings"]["auto_link_identifiers"].GetBool());
  r = Call("POST", "/v1/shops/2/customers/a%40example.com/merge",
           R"({"from":{"external_id":"cus_2"}})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(S("code"), "failed_precondition");
  EXPECT_EQ(S("reason"), "merge_conflict");
  EXPECT_EQ(Call("PATCH", "/v1/shops/2/settings", R"({"merge_conflict":"coin"})").status, 400);

  // keep=from overrides the rule: the external id's customer survives.
  r = Call("POST", "/v1/shops/2/customers/a%40example.com/merge",
           R"({"from":{"external_id":"cus_2"},"keep":"from"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(doc["identity"]["merged"].GetBool());
  EXPECT_EQ(S("identity", "merge", "survivor"), "external_id:cus_2");
  EXPECT_EQ(S("identity", "merge", "loser"), "a@example.com");
  EXPECT_TRUE(doc["identity"]["merge"]["conflict"].GetBool());
  EXPECT_EQ(S("identity", "merge", "rule"), "keep_external_id");
  EXPECT_EQ(std::string(doc["identity"]["merge"]["lost_connection"]["affiliate"].GetString()), "1");
  EXPECT_EQ(std::string(doc["identity"]["merge"]["kept_connection"]["affiliate"].GetString()), "2");
  EXPECT_EQ(S("customer", "connection", "affiliate"), "2");
  EXPECT_EQ(std::string(doc["customer"]["emails"][0].GetString()), "a@example.com");

  // The shop rule keep_earliest: cus_2's connection (2022) beats c's (2023).
  ASSERT_EQ(Call("PATCH", "/v1/shops/2/settings", R"({"merge_conflict":"keep_earliest"})").status,
            200);
  r = Call("POST", "/v1/shops/2/customers/c%40example.com/merge",
           R"({"from":{"email":"A@Example.com"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(S("identity", "merge", "survivor"), "external_id:cus_2");
  EXPECT_EQ(S("identity", "merge", "rule"), "keep_earliest");
  EXPECT_EQ(std::string(doc["identity"]["merge"]["lost_connection"]["affiliate"].GetString()), "3");
  EXPECT_EQ(doc["customer"]["emails"].Size(), 2u);

  // Bad requests: no from, a bad keep, a bad member of from; unknown customers.
  EXPECT_EQ(Call("POST", "/v1/shops/2/customers/c%40example.com/merge", "{}").status, 400);
  EXPECT_EQ(S("field"), "from");
  EXPECT_EQ(Call("POST", "/v1/shops/2/customers/c%40example.com/merge",
                 R"({"from":{"email":"x@example.com"},"keep":"both"})").status, 400);
  EXPECT_EQ(S("field"), "keep");
  EXPECT_EQ(Call("POST", "/v1/shops/2/customers/c%40example.com/merge",
                 R"({"from":{"mail":"x@example.com"}})").status, 400);
  EXPECT_EQ(S("field"), "from.mail");
  EXPECT_EQ(Call("POST", "/v1/shops/2/customers/c%40example.com/merge",
                 R"({"from":{"email":"nobody@example.com"}})").status, 404);
  EXPECT_EQ(Call("GET", "/v1/shops/2/customers/c%40example.com/merge").status, 405);
}

TEST_F(CustomersApiTest, AnOrderWithBothIdentifiersLinksThemAndSaysSo) {
  ASSERT_EQ(Call("POST", "/v1/shops/3/connections", R"({"external_id":"cus_9","affiliate":"4"})")
                .status, 201);
  ApiResponse r = Call("POST", "/v1/shops/3/orders",
                       R"({"order_id":"o1","email":"J@Example.com","external_id":"cus_9"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(S("decision", "affiliate"), "4");
  EXPECT_TRUE(doc["identity"]["linked"].GetBool());
  EXPECT_EQ(S("identity", "linked_identifier"), "j@example.com");
  // By external id alone; the decision names the external id, not a raw key.
  r = Call("POST", "/v1/shops/3/orders", R"({"order_id":"o2","external_id":"cus_9"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(S("decision", "affiliate"), "4");
  EXPECT_FALSE(doc.HasMember("identity"));
  // Connect with both: the email joins the external id's customer.
  r = Call("POST", "/v1/shops/3/connections",
           R"({"email":"k@example.com","external_id":"cus_10","affiliate":"5"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(doc["identity"]["linked"].GetBool());
  EXPECT_EQ(Call("GET", "/v1/shops/3/customers/external_id:cus_10").status, 200);
  EXPECT_EQ(S("customer", "connection", "affiliate"), "5");
  r = Call("POST", "/v1/shops/3/connections", R"({"affiliate":"5"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(S("field"), "email");
}

TEST_F(CustomersApiTest, ShopScopeAndReadOnlyKeys) {
  ASSERT_EQ(Call("POST", "/v1/shops/1/connections", R"({"external_id":"cus_1","affiliate":"7"})")
                .status, 201);
  EXPECT_EQ(Call("GET", "/v1/shops/1/customers/external_id:cus_1", "", service::Scope::Shop(2))
                .status, 404);
  const service::Scope ro = service::Scope::Shop(1, true);
  EXPECT_EQ(Call("GET", "/v1/shops/1/customers/external_id:cus_1", "", ro).status, 200);
  EXPECT_EQ(Call("POST", "/v1/shops/1/customers/external_id:cus_1/identifiers",
                 R"({"email":"x@example.com"})", ro).status, 403);
  EXPECT_EQ(Call("POST", "/v1/shops/1/customers/external_id:cus_1/merge",
                 R"({"from":{"email":"x@example.com"}})", ro).status, 403);
}

}  // namespace
}  // namespace attrib::http
