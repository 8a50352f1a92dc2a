// tests/http_customers_e2e_test.cc: customers and identifiers over the HTTP API
// against a real attribd (issue 12): connect by external id, link an email, look up
// and attribute by either, unlink, a merge with its merge_conflict report, the
// problems (409 identifier_in_use / unlink_primary / merge_conflict, 422 a bad
// external id, 404, 405), and the state after a SIGKILL and restart. Every response
// is checked against http/openapi.json (tests/http/check_responses.mjs). Then the
// customer directory: search, names, the decision's directory fields.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"

namespace attrib::testing {
namespace {

std::string Str(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : "(not a string)"; }

class HttpCustomersE2eTest : public ::testing::Test {
 protected:
  HttpCustomersE2eTest() {
    char tmpl[] = "/tmp/attrib_http_customers_XXXXXX";
    data_dir_ = mkdtemp(tmpl);
  }
  ~HttpCustomersE2eTest() override { std::filesystem::remove_all(data_dir_); }
  std::string data_dir_;
  RecordedExchanges record_;
};

TEST_F(HttpCustomersE2eTest, IdentifiersAndMergesMatchTheDocumentAndSurviveARestart) {
  const std::string shop = "/v1/shops/3";
  {
    AttribdProcess server({absl::StrCat("--data_dir=", data_dir_)});
    ASSERT_TRUE(server.ok());
    HttpClient http(server.http_address(), record_.path());

    HttpReply r = http.Send("POST", shop + "/connections",
                            R"({"external_id":"cus_1","affiliate":"7","connected_at":1600000000000})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Str(Json(r)["connection"]["external_id"]), "cus_1");
    r = http.Send("POST", shop + "/customers/external_id:cus_1/identifiers",
                  R"({"email":"Jane@Example.com"})");
    ASSERT_EQ(r.status, 201) << r.body;
    r = http.Send("POST", shop + "/customers/external_id:cus_1/identifiers",
                  R"({"email":"jane.work@example.org"})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Json(r)["customer"]["emails"].Size(), 2u);
    r = http.Send("GET", shop + "/customers/jane%40example.com");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Str(Json(r)["customer"]["external_id"]), "cus_1");
    r = http.Send("GET", shop + "/customers/jane.work%40example.org/connection");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Str(Json(r)["connection"]["affiliate"]), "7");
    r = http.Send("GET", shop + "/customers/external_id:cus_1/connection");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(Json(r)["found"].GetBool());

    // An order with a new email and the known external id links the email.
    r = http.Send("POST", shop + "/orders",
                  R"({"order_id":"o1","email":"jane3@example.net","external_id":"cus_1"})");
    ASSERT_EQ(r.status, 201) << r.body;
    rapidjson::Document d = Json(r);
    EXPECT_EQ(Str(d["decision"]["affiliate"]), "7");
    EXPECT_TRUE(d["identity"]["linked"].GetBool());

    // The problems.
    ASSERT_EQ(http.Send("POST", shop + "/connections",
                        R"({"email":"bob@example.com","affiliate":"9"})").status, 201);
    r = http.Send("POST", shop + "/customers/external_id:cus_1/identifiers",
                  R"({"email":"bob@example.com"})");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(Str(Json(r)["reason"]), "identifier_in_use");
    r = http.Send("DELETE", shop + "/customers/jane%40example.com/identifiers/external_id:cus_1");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(Str(Json(r)["reason"]), "unlink_primary");
    r = http.Send("POST", shop + "/customers/external_id:cus_1/identifiers",
                  R"({"external_id":"bad\tid"})");
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(Str(Json(r)["field"]), "external_id");
    EXPECT_EQ(http.Send("GET", shop + "/customers/nobody%40example.com").status, 404);
    EXPECT_EQ(http.Send("PUT", shop + "/customers/jane%40example.com").status, 405);
    EXPECT_EQ(http.Send("POST", shop + "/customers/jane%40example.com/identifiers",
                        R"({"email":7})").status, 400);

    // Unlink the third email: it becomes its own customer, without connection.
    r = http.Send("DELETE", shop + "/customers/external_id:cus_1/identifiers/jane3%40example.net");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Json(r)["customer"]["emails"].Size(), 2u);
    r = http.Send("GET", shop + "/customers/jane3%40example.net/connection");
    EXPECT_FALSE(Json(r)["found"].GetBool()) << r.body;

    // A merge of two connected customers: refused by the rule, then keep=into.
    ASSERT_EQ(http.Send("PATCH", shop + "/settings", R"({"merge_conflict":"refuse"})").status, 200);
    r = http.Send("POST", shop + "/customers/external_id:cus_1/merge",
                  R"({"from":{"email":"bob@example.com"}})");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(Str(Json(r)["reason"]), "merge_conflict");
    r = http.Send("POST", shop + "/customers/external_id:cus_1/merge",
                  R"({"from":{"email":"bob@example.com"},"keep":"into"})");
    ASSERT_EQ(r.status, 200) << r.body;
    d = Json(r);
    EXPECT_EQ(Str(d["identity"]["merge"]["survivor"]), "external_id:cus_1");
    EXPECT_TRUE(d["identity"]["merge"]["conflict"].GetBool());
    EXPECT_EQ(Str(d["identity"]["merge"]["lost_connection"]["affiliate"]), "9");
    EXPECT_EQ(d["customer"]["emails"].Size(), 3u);
    r = http.Send("GET", shop + "/settings");
    EXPECT_EQ(Str(Json(r)["settings"]["merge_conflict"]), "refuse");
    server.Kill();
  }
  // Every acknowledged change is in the log: the same customer after a crash.
  AttribdProcess again({absl::StrCat("--data_dir=", data_dir_)});
  ASSERT_TRUE(again.ok());
  HttpClient http(again.http_address(), record_.path());
  HttpReply r = http.Send("GET", shop + "/customers/bob%40example.com");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  EXPECT_EQ(Str(d["customer"]["primary"]), "external_id:cus_1");
  EXPECT_EQ(d["customer"]["emails"].Size(), 3u);
  EXPECT_EQ(Str(d["customer"]["connection"]["affiliate"]), "7");
  r = http.Send("DELETE", shop + "/customers/external_id:cus_1/connection");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(Json(r)["disconnected"]["external_id"]), "cus_1");
  record_.ExpectMatchOpenApi();
}

// The customer directory over HTTP: a customer seen only through orders (no
// connection) is remembered with its name; the decision says the directory decided
// "new" and numbers the customer's orders; search by name and email prefix, paged;
// PATCH the name; a shop with customer_directory off refuses the PATCH (409); all of
// it after a SIGKILL and restart too.
TEST_F(HttpCustomersE2eTest, TheCustomerDirectoryMatchesTheDocumentAndSurvivesARestart) {
  const std::string shop = "/v1/shops/4";
  {
    AttribdProcess server({absl::StrCat("--data_dir=", data_dir_)});
    ASSERT_TRUE(server.ok());
    HttpClient http(server.http_address(), record_.path());
    HttpReply r = http.Send("POST", shop + "/orders",
                            R"({"order_id":"d1","email":"Dana@Example.com","name":"Dana Scully"})");
    ASSERT_EQ(r.status, 201) << r.body;
    rapidjson::Document d = Json(r);
    EXPECT_EQ(Str(d["decision"]["new_customer_source"]), "directory");
    EXPECT_EQ(d["decision"]["order_number_for_customer"].GetUint(), 1u);
    r = http.Send("POST", shop + "/orders", R"({"order_id":"d2","email":"dana@example.com"})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Json(r)["decision"]["order_number_for_customer"].GetUint(), 2u);
    r = http.Send("POST", shop + "/orders",
                  R"({"order_id":"d3","email":"dana@example.com","customer_is_new":true})");
    EXPECT_EQ(Str(Json(r)["decision"]["new_customer_source"]), "request");
    ASSERT_EQ(http.Send("POST", shop + "/orders",
                        R"({"order_id":"f1","email":"fox@example.com","name":"Fox Mulder"})").status,
              201);
    r = http.Send("GET", shop + "/customers/dana%40example.com");
    ASSERT_EQ(r.status, 200) << r.body;
    d = Json(r);
    EXPECT_EQ(Str(d["customer"]["directory"]["name"]), "Dana Scully");
    EXPECT_EQ(d["customer"]["directory"]["orders_seen"].GetUint(), 3u);
    EXPECT_TRUE(d["customer"]["connection"].IsNull());
    r = http.Send("GET", shop + "/customers?name_prefix=fox");
    ASSERT_EQ(r.status, 200) << r.body;
    d = Json(r);
    ASSERT_EQ(d["items"].Size(), 1u) << r.body;
    EXPECT_EQ(Str(d["items"][0]["emails"][0]), "fox@example.com");
    r = http.Send("GET", shop + "/customers?limit=1");
    ASSERT_EQ(r.status, 200) << r.body;
    d = Json(r);
    ASSERT_EQ(d["items"].Size(), 1u);
    ASSERT_TRUE(d["next_cursor"].IsString()) << r.body;
    const std::string first = Str(d["items"][0]["primary"]);
    r = http.Send("GET", shop + "/customers?limit=1&cursor=" + Str(d["next_cursor"]));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(Str(Json(r)["items"][0]["primary"]), first);
    r = http.Send("PATCH", shop + "/customers/dana%40example.com", R"({"name":"Dana S."})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Str(Json(r)["customer"]["directory"]["name"]), "Dana S.");
    // The problems: two filters, a limit out of range, an unknown field.
    EXPECT_EQ(http.Send("GET", shop + "/customers?name_prefix=a&email_prefix=b").status, 422);
    EXPECT_EQ(http.Send("GET", shop + "/customers?limit=501").status, 400);
    EXPECT_EQ(http.Send("PATCH", shop + "/customers/dana%40example.com", R"({"nom":"x"})").status,
              400);
    r = http.Send("PATCH", "/v1/shops/5/settings", R"({"customer_directory":false})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(Json(r)["settings"]["customer_directory"].GetBool());
    r = http.Send("PATCH", "/v1/shops/5/customers/zed%40example.com", R"({"name":"Zed"})");
    EXPECT_EQ(r.status, 409) << r.body;
    server.Kill();
  }
  AttribdProcess again({absl::StrCat("--data_dir=", data_dir_)});
  ASSERT_TRUE(again.ok());
  HttpClient http(again.http_address(), record_.path());
  HttpReply r = http.Send("GET", shop + "/customers?email_prefix=DAN");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  ASSERT_EQ(d["items"].Size(), 1u) << r.body;
  EXPECT_EQ(Str(d["items"][0]["directory"]["name"]), "Dana S.");
  EXPECT_EQ(d["items"][0]["directory"]["orders_seen"].GetUint(), 3u);
  record_.ExpectMatchOpenApi();
}

}  // namespace
}  // namespace attrib::testing
