// tests/http_e2e_test.cc: the HTTP/JSON API end to end against a real attribd: every
// resource over one keep-alive connection, the browser-safety rules, auth, limits,
// durability across a SIGKILL, and one service under both protocols. Every response
// is recorded and checked against http/openapi.json by tests/http/check_responses.mjs
// (Node, ajv; tools/test.sh installs the packages).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"

namespace attrib::testing {
namespace {

using ::testing::HasSubstr;

class HttpE2eTest : public ::testing::Test {
 protected:
  void ExpectResponsesMatchOpenApi() { record_.ExpectMatchOpenApi(); }
  RecordedExchanges record_;
};

TEST_F(HttpE2eTest, EveryResourceOverOneKeepAliveConnectionMatchesTheDocument) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  ASSERT_FALSE(server.http_address().empty()) << server.banner();
  HttpClient http(server.http_address(), record_.path());
  const std::string shop = "/v1/shops/42";

  HttpReply r = http.Send("POST", shop + "/connections",
                          R"({"email":"Jane.Doe@Example.com","affiliate":"7","name":"Jane"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(std::string(Json(r)["connection"]["affiliate"].GetString()), "7");
  r = http.Send("POST", shop + "/connections", R"({"email":"jane.doe@example.com","affiliate":8})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_EQ(std::string(Json(r)["current_affiliate"].GetString()), "7");
  EXPECT_EQ(http.Send("POST", shop + "/connections",
                      R"({"email":"bob@example.com","affiliate":8,"source":"manual"})").status, 201);
  r = http.Send("POST", shop + "/connections",
                R"({"email":"bob@example.com","affiliate":9,"mode":"reassign"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::string(Json(r)["outcome"].GetString()), "replaced");

  r = http.Send("GET", shop + "/customers/jane.doe%40example.com/connection");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r)["found"].GetBool());
  r = http.Send("GET", shop + "/customers/nobody%40example.com/connection?at=2030-01-01T00:00:00Z");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(Json(r)["found"].GetBool());
  EXPECT_EQ(http.Send("GET", shop + "/customers/not-an-email/connection").status, 422);
  EXPECT_EQ(http.Send("HEAD", shop + "/customers/jane.doe%40example.com/connection").status, 200);

  r = http.Send("GET", shop + "/connections?limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  ASSERT_EQ(d["items"].Size(), 1u);
  ASSERT_TRUE(d["next_cursor"].IsString());
  r = http.Send("GET", absl::StrCat(shop, "/connections?limit=1&cursor=", d["next_cursor"].GetString()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r)["next_cursor"].IsNull());
  EXPECT_EQ(Json(http.Send("GET", shop + "/connections?affiliate=9&source=api"))["items"].Size(), 1u);
  EXPECT_EQ(http.Send("GET", shop + "/connections?limit=5000").status, 400);

  r = http.Send("POST", shop + "/lookups", R"({"emails":["bob@example.com","x@example.com","bad"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["items"].Size(), 3u);

  const std::string order = R"({"order_id":"A-1","email":"jane.doe@example.com"})";
  EXPECT_EQ(http.Send("POST", shop + "/orders", order).status, 201);
  r = http.Send("POST", shop + "/orders", order);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(Json(r)["duplicate"].GetBool());
  EXPECT_EQ(http.Send("GET", shop + "/orders/A-1").status, 200);
  EXPECT_EQ(http.Send("GET", shop + "/orders/none").status, 404);
  r = http.Send("POST", shop + "/orders/A-1/reverse");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r)["uncounted"].GetBool());

  EXPECT_EQ(http.Send("GET", shop + "/settings").status, 200);
  r = http.Send("PATCH", shop + "/settings", R"({"validity_days":30,"validity_mode":"sliding"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["settings"]["validity_days"].GetUint(), 30u);
  EXPECT_EQ(http.Send("PATCH", shop + "/settings", R"({"validity_days":99999})").status, 422);
  EXPECT_EQ(http.Send("PATCH", shop + "/settings", R"({"validity_days":30)").status, 400);
  EXPECT_EQ(http.Send("PATCH", shop + "/settings", R"({"validty_days":30})").status, 400);
  // The 400s above closed nothing a client needs: a malformed body is read whole.
  ASSERT_EQ(http.Send("GET", shop + "/counts").status, 200);
  EXPECT_EQ(Json(http.Send("GET", shop + "/counts?affiliate=9"))["connections"].GetUint(), 1u);

  EXPECT_EQ(http.Send("DELETE", shop + "/customers/bob%40example.com/connection").status, 200);
  EXPECT_EQ(http.Send("DELETE", shop + "/customers/bob%40example.com/connection").status, 404);
  EXPECT_EQ(http.Send("PUT", shop + "/settings").status, 405);
  EXPECT_EQ(http.Send("GET", "/v1/elsewhere").status, 404);

  r = http.Send("GET", "/v1/stats");
  ASSERT_EQ(r.status, 200);
  EXPECT_GT(Json(r)["operations"].Size(), 5u);
  EXPECT_EQ(http.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(http.Send("GET", "/readyz").status, 200);
  r = http.Send("GET", "/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(std::string(Json(r)["openapi"].GetString()), "3.1.0");
  ExpectResponsesMatchOpenApi();

  // One service under both front ends: the native `stats` counts the HTTP requests.
  std::unique_ptr<net::Client> native = Dial(server);
  ASSERT_NE(native, nullptr);
  absl::StatusOr<net::Reply> stats = native->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  uint64_t http_batches = 0;
  for (const auto op : stats->get().getStats().getOperations()) {
    if (op.getOperation() == "lookupBatch" && op.getResult() == "ok") {
      http_batches = op.getCount();
    }
  }
  EXPECT_EQ(http_batches, 1u);
}

TEST_F(HttpE2eTest, HostAuthCorsMediaTypeAndLimits) {
  char tmpl[] = "/tmp/attrib_http_token_XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "s3cret\n", 7), 7);
  close(fd);
  AttribdProcess server({absl::StrCat("--auth_token_file=", tmpl),
                         "--http_cors_origin=https://admin.example", "--http_max_body_bytes=2048",
                         "--http_max_header_bytes=2048"});
  ASSERT_TRUE(server.ok());
  const std::string auth = "Authorization: Bearer s3cret\r\n";
  {
    HttpClient http(server.http_address(), record_.path());
    HttpReply r = http.Send("GET", "/v1/shops/1/settings");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
    EXPECT_EQ(http.Send("GET", "/v1/shops/1/settings", "", "Authorization: Bearer wrong\r\n").status,
              401);
    EXPECT_EQ(http.Send("GET", "/v1/shops/1/settings", "", auth).status, 200);
    EXPECT_EQ(http.Send("GET", "/healthz").status, 200);  // Probes need no key.
    // DNS rebinding: a name that is not this server's.
    r = http.Send("GET", "/v1/shops/1/settings", "", auth + "Host: evil.example:7412\r\n");
    EXPECT_EQ(r.status, 421);
    EXPECT_EQ(http.Send("GET", "/v1/shops/1/settings", "",
                        absl::StrCat(auth, "Host: localhost:",
                                     server.http_address().substr(server.http_address().rfind(':') + 1),
                                     "\r\n")).status,
              200);
    // CORS only for the named origin.
    r = http.Send("GET", "/v1/shops/1/settings", "", auth + "Origin: https://admin.example\r\n");
    EXPECT_EQ(r.Header("access-control-allow-origin"), "https://admin.example");
    r = http.Send("GET", "/v1/shops/1/settings", "", auth + "Origin: https://other.example\r\n");
    EXPECT_EQ(r.Header("access-control-allow-origin"), "");
    r = http.Send("PATCH", "/v1/shops/1/settings", R"({"auto_connect":true})",
                  auth + "Content-Type: text/plain\r\n");
    EXPECT_EQ(r.status, 415);
    ExpectResponsesMatchOpenApi();
  }
  {
    HttpClient http(server.http_address());
    HttpReply r = http.Send("POST", "/v1/shops/1/lookups",
                            absl::StrCat(R"({"emails":[")", std::string(4000, 'a'), "\"]}"), auth);
    EXPECT_EQ(r.status, 413);
  }
  {
    HttpClient http(server.http_address());
    HttpReply r = http.Send("GET", "/v1/shops/1/settings", "",
                            absl::StrCat(auth, "X-Padding: ", std::string(4000, 'p'), "\r\n"));
    EXPECT_EQ(r.status, 431);
  }
  std::remove(tmpl);
}

TEST_F(HttpE2eTest, AWriteAnsweredOverHttpSurvivesSigkill) {
  char dir[] = "/tmp/attrib_http_data_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string data = absl::StrCat("--data_dir=", dir);
  {
    AttribdProcess server({data, "--fsync=always"});
    ASSERT_TRUE(server.ok());
    HttpClient http(server.http_address());
    ASSERT_EQ(http.Send("POST", "/v1/shops/5/connections",
                        R"({"email":"kept@example.com","affiliate":"3"})").status,
              201);
    server.Kill();
  }
  AttribdProcess again({data});
  ASSERT_TRUE(again.ok());
  HttpClient http(again.http_address());
  HttpReply r = http.Send("GET", "/v1/shops/5/customers/kept%40example.com/connection");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Json(r)["found"].GetBool()) << r.body;
  again.Stop();
  int rm_status = 0;
  RunCommand(absl::StrCat("rm -rf ", dir), &rm_status);
}

}  // namespace
}  // namespace attrib::testing
