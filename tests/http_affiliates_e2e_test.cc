// tests/http_affiliates_e2e_test.cc: the affiliate directory over the HTTP API and
// /v1/whoami against a real attribd: create, replace, get, disable, search (name
// prefix, email, status, cursor paging) with connected-customer counts, the errors
// (409 email of another affiliate, 422 bad email, 404, 405), and a shop key's view.
// Every response is checked against http/openapi.json (tests/http/check_responses.mjs).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "service/api_keys.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"

namespace attrib::testing {
namespace {

std::string TempPath(const char* prefix) {
  std::string tmpl = absl::StrCat("/tmp/", prefix, "_XXXXXX");
  const int fd = mkstemp(tmpl.data());
  if (fd >= 0) close(fd);
  return tmpl;
}

std::string Hex(absl::string_view secret) {
  std::string hex;
  for (uint8_t b : service::Sha256(secret)) {
    hex += "0123456789abcdef"[b >> 4];
    hex += "0123456789abcdef"[b & 15];
  }
  return hex;
}

class HttpAffiliatesE2eTest : public ::testing::Test {
 protected:
  void ExpectResponsesMatchOpenApi() { record_.ExpectMatchOpenApi(); }
  RecordedExchanges record_;
};

TEST_F(HttpAffiliatesE2eTest, DirectoryResourcesMatchTheDocument) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  ASSERT_FALSE(server.http_address().empty()) << server.banner();
  HttpClient http(server.http_address(), record_.path());
  const std::string aff = "/v1/shops/5/affiliates";

  HttpReply r = http.Send("PUT", aff + "/10", R"({"name":"Alice Adams","emails":["Alice@Example.com"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = Json(r);
  EXPECT_TRUE(d["created"].GetBool());
  EXPECT_EQ(std::string(d["affiliate"]["id"].GetString()), "10");
  EXPECT_EQ(std::string(d["affiliate"]["emails"][0].GetString()), "alice@example.com");
  EXPECT_EQ(std::string(d["affiliate"]["status"].GetString()), "active");
  r = http.Send("PUT", aff + "/10", R"({"name":"Alice A. Adams","emails":["alice@example.com"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Json(r)["created"].GetBool());
  ASSERT_EQ(http.Send("PUT", aff + "/11", R"({"name":"Bob Brown"})").status, 201);
  ASSERT_EQ(http.Send("PUT", aff + "/12", R"({"name":"alfred"})").status, 201);
  // Another affiliate's email; a bad email; a wrong type; an unknown field.
  r = http.Send("PUT", aff + "/13", R"({"name":"Eve","emails":["alice@example.com"]})");
  EXPECT_EQ(r.status, 409) << r.body;
  r = http.Send("PUT", aff + "/13", R"({"name":"Eve","emails":["not an email"]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(std::string(Json(r)["field"].GetString()).rfind("emails", 0), 0u) << r.body;
  EXPECT_EQ(http.Send("PUT", aff + "/13", R"({"name":7})").status, 400);
  EXPECT_EQ(http.Send("PUT", aff + "/13", R"({"nmae":"x"})").status, 400);
  EXPECT_EQ(http.Send("PUT", aff + "/13", R"({"status":"paused"})").status, 400);
  EXPECT_EQ(http.Send("DELETE", aff + "/10").status, 405);
  EXPECT_EQ(http.Send("GET", aff + "/13").status, 404);

  // Counts: two customers of 10, one of 11.
  for (const char* body : {R"({"email":"c1@example.com","affiliate":"10"})",
                           R"({"email":"c2@example.com","affiliate":"10"})",
                           R"({"email":"c3@example.com","affiliate":"11"})"}) {
    ASSERT_EQ(http.Send("POST", "/v1/shops/5/connections", body).status, 201);
  }
  r = http.Send("GET", aff + "/10");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["connections"].GetUint64(), 2u);

  // Search: by name prefix (case-insensitive, by name), by email, by status.
  r = http.Send("GET", aff + "?name_prefix=AL");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r);
  ASSERT_EQ(d["items"].Size(), 2u);
  EXPECT_EQ(std::string(d["items"][0]["id"].GetString()), "12");  // "alfred"
  EXPECT_EQ(std::string(d["items"][1]["id"].GetString()), "10");  // "alice a. adams"
  r = http.Send("GET", aff + "?email=ALICE%40example.com");
  d = Json(r);
  ASSERT_EQ(d["items"].Size(), 1u);
  EXPECT_EQ(d["items"][0]["connections"].GetUint64(), 2u);

  r = http.Send("POST", aff + "/11/disable");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(Json(r)["affiliate"]["status"].GetString()), "disabled");
  EXPECT_EQ(http.Send("POST", aff + "/99/disable").status, 404);
  EXPECT_EQ(http.Send("GET", aff + "/11/disable").status, 405);
  r = http.Send("GET", aff + "?status=disabled");
  d = Json(r);
  ASSERT_EQ(d["items"].Size(), 1u);
  EXPECT_EQ(std::string(d["items"][0]["id"].GetString()), "11");
  EXPECT_EQ(d["items"][0]["connections"].GetUint64(), 1u);
  // A disabled affiliate gets no new customers (the error names the affiliate).
  r = http.Send("POST", "/v1/shops/5/connections", R"({"email":"c4@example.com","affiliate":"11"})");
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_EQ(http.Send("GET", aff + "?limit=0").status, 400);
  EXPECT_EQ(http.Send("GET", aff + "?nope=1").status, 400);

  // Cursor paging over 25 entries, 10 at a time: every id once.
  for (int i = 100; i < 122; ++i) {
    ASSERT_EQ(http.Send("PUT", absl::StrCat(aff, "/", i), R"({"name":"p"})").status, 201);
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    r = http.Send("GET", absl::StrCat(aff, "?limit=10", cursor.empty() ? "" : "&cursor=", cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    d = Json(r);
    for (const auto& item : d["items"].GetArray()) seen.insert(item["id"].GetString());
    cursor = d["next_cursor"].IsNull() ? "" : d["next_cursor"].GetString();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 3);

  r = http.Send("GET", "/v1/whoami");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r)["admin"].GetBool());

  // The directory's rules are settings of the HTTP API too.
  r = http.Send("PATCH", "/v1/shops/5/settings",
                R"({"block_self_referrals":false,"on_customer_becomes_affiliate":"disconnect",)"
                R"("require_registered_affiliates":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r);
  EXPECT_FALSE(d["settings"]["block_self_referrals"].GetBool());
  EXPECT_TRUE(d["settings"]["require_registered_affiliates"].GetBool());
  EXPECT_EQ(std::string(d["settings"]["on_customer_becomes_affiliate"].GetString()), "disconnect");
  EXPECT_EQ(http.Send("PATCH", "/v1/shops/5/settings",
                      R"({"on_customer_becomes_affiliate":"explode"})").status, 400);
  // An unregistered affiliate is refused now.
  r = http.Send("POST", "/v1/shops/5/connections", R"({"email":"c9@example.com","affiliate":"555"})");
  EXPECT_GE(r.status, 400) << r.body;
  ExpectResponsesMatchOpenApi();
}

TEST_F(HttpAffiliatesE2eTest, AShopKeySeesItsShopOnlyAndWhoamiSaysWhich) {
  const std::string keys = TempPath("attrib_aff_keys");
  std::ofstream(keys) << "ops sha256:" << Hex("admin-secret") << " admin read-write\n"
                      << "s7 sha256:" << Hex("shop7-secret") << " shop:7 read-write\n";
  AttribdProcess server({absl::StrCat("--api_keys_file=", keys)});
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_.path());
  const std::string admin = "Authorization: Bearer admin-secret\r\n";
  const std::string shop7 = "Authorization: Bearer shop7-secret\r\n";
  ASSERT_EQ(http.Send("PUT", "/v1/shops/8/affiliates/1", R"({"name":"Other"})", admin).status, 201);
  ASSERT_EQ(http.Send("PUT", "/v1/shops/7/affiliates/1", R"({"name":"Mine"})", shop7).status, 201);
  EXPECT_EQ(http.Send("GET", "/v1/shops/8/affiliates/1", "", shop7).status, 404);
  EXPECT_EQ(http.Send("GET", "/v1/shops/8/affiliates", "", shop7).status, 404);
  EXPECT_EQ(http.Send("GET", "/v1/shops/7/affiliates", "", "").status, 401);
  HttpReply r = http.Send("GET", "/v1/whoami", "", shop7);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  EXPECT_FALSE(d["admin"].GetBool());
  EXPECT_EQ(std::string(d["shop"].GetString()), "7");
  EXPECT_FALSE(d["read_only"].GetBool());
  EXPECT_EQ(http.Send("GET", "/v1/whoami", "", "Authorization: Bearer wrong\r\n").status, 401);
  std::remove(keys.c_str());
  ExpectResponsesMatchOpenApi();
}

// The decisions the affiliate directory's rules make, over HTTP and valid against the
// document (its enums lacked self_referral and affiliate_disabled until they were
// checked here): an affiliate's own order is a self-referral; a customer connected
// to a disabled affiliate is not credited to it, and its connection's status says
// affiliate_disabled.
TEST_F(HttpAffiliatesE2eTest, SelfReferralAndDisabledAffiliateDecisionsMatchTheDocument) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_.path());
  const std::string shop = "/v1/shops/6";
  ASSERT_EQ(http.Send("PUT", shop + "/affiliates/10", R"({"name":"Alice","emails":["alice@example.com"]})")
                .status, 201);
  HttpReply r = http.Send("POST", shop + "/orders",
                          R"({"order_id":"s1","email":"alice@example.com","referral_affiliate":"10"})");
  ASSERT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = Json(r);
  EXPECT_EQ(std::string(d["decision"]["reason"].GetString()), "self_referral");
  EXPECT_EQ(std::string(d["decision"]["refused_affiliate"].GetString()), "10");
  ASSERT_EQ(http.Send("PUT", shop + "/affiliates/11", R"({"name":"Bob"})").status, 201);
  ASSERT_EQ(http.Send("POST", shop + "/connections", R"({"email":"c@example.com","affiliate":"11"})")
                .status, 201);
  ASSERT_EQ(http.Send("POST", shop + "/affiliates/11/disable").status, 200);
  r = http.Send("POST", shop + "/orders", R"({"order_id":"s2","email":"c@example.com"})");
  ASSERT_EQ(r.status, 201) << r.body;
  d = Json(r);
  EXPECT_EQ(std::string(d["decision"]["connection_activity"].GetString()), "affiliate_disabled");
  EXPECT_EQ(std::string(d["decision"]["affiliate"].GetString()), "0");
  // The customer's connection and the list say so too (they said "active").
  r = http.Send("GET", shop + "/customers/c@example.com/connection");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(Json(r)["status"]["activity"].GetString()), "affiliate_disabled");
  r = http.Send("GET", shop + "/connections?affiliate=11");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r);
  ASSERT_TRUE(d.HasMember("items") && d["items"].IsArray() && d["items"].Size() == 1) << r.body;
  EXPECT_EQ(std::string(d["items"][0]["status"]["activity"].GetString()), "affiliate_disabled");
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

}  // namespace
}  // namespace attrib::testing
