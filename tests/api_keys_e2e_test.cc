// tests/api_keys_e2e_test.cc: API keys with scopes against a real attribd, on both
// protocols: a shop key sees other shops as not found, a read-only key gets 403 /
// permission_denied on writes, stats needs admin, and SIGHUP reloads the key file.
// HTTP responses are checked against http/openapi.json.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/api_keys.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"

namespace attrib::testing {
namespace {

std::string KeyLine(const std::string& name, const std::string& secret,
                    const std::string& scope, const std::string& mode) {
  std::string hex;
  for (uint8_t b : service::Sha256(secret)) {
    hex += "0123456789abcdef"[b >> 4];
    hex += "0123456789abcdef"[b & 15];
  }
  return absl::StrCat(name, " sha256:", hex, " ", scope, " ", mode, "\n");
}

std::string Bearer(const std::string& secret) {
  return absl::StrCat("Authorization: Bearer ", secret, "\r\n");
}

TEST(ApiKeysE2eTest, ScopesOnBothProtocolsAndReloadOnSighup) {
  char keys_path[] = "/tmp/attrib_keys_XXXXXX";
  const int fd = mkstemp(keys_path);
  ASSERT_GE(fd, 0);
  close(fd);
  char record[] = "/tmp/attrib_keys_record_XXXXXX";
  const int rfd = mkstemp(record);
  ASSERT_GE(rfd, 0);
  close(rfd);
  const std::string keys = KeyLine("ops", "admin-secret", "admin", "read-write") +
                           KeyLine("shop7", "shop7-secret", "shop:7", "read-write") +
                           KeyLine("shop7-ro", "ro-secret", "shop:7", "read-only");
  std::ofstream(keys_path) << keys;
  AttribdProcess server({absl::StrCat("--api_keys_file=", keys_path)});
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record);
  const std::string body7 = R"({"email":"a@example.com","affiliate":"1"})";
  ASSERT_EQ(http.Send("POST", "/v1/shops/7/connections", body7, Bearer("admin-secret")).status, 201);
  ASSERT_EQ(http.Send("POST", "/v1/shops/8/connections", body7, Bearer("admin-secret")).status, 201);

  EXPECT_EQ(http.Send("GET", "/v1/shops/7/customers/a%40example.com/connection", "",
                      Bearer("shop7-secret")).status, 200);
  EXPECT_EQ(http.Send("GET", "/v1/shops/8/customers/a%40example.com/connection", "",
                      Bearer("shop7-secret")).status, 404);
  EXPECT_EQ(http.Send("GET", "/v1/shops/9/settings", "", Bearer("shop7-secret")).status, 404);
  EXPECT_EQ(http.Send("GET", "/v1/stats", "", Bearer("shop7-secret")).status, 403);
  EXPECT_EQ(http.Send("GET", "/v1/shops/7/settings", "", Bearer("ro-secret")).status, 200);
  EXPECT_EQ(http.Send("PATCH", "/v1/shops/7/settings", R"({"auto_connect":true})",
                      Bearer("ro-secret")).status, 403);
  EXPECT_EQ(http.Send("GET", "/v1/shops/7/settings", "", Bearer("nope")).status, 401);

  // The native protocol's `auth` takes the same keys and scopes.
  net::ClientOptions shop7;
  shop7.auth_token = "shop7-secret";
  std::unique_ptr<net::Client> native = Dial(server, shop7);
  ASSERT_NE(native, nullptr);
  absl::StatusOr<net::Reply> own = native->Lookup(7, "a@example.com");
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_TRUE(own->get().getLookup().getFound());
  EXPECT_EQ(native->Lookup(8, "a@example.com").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(native->Stats().status().code(), absl::StatusCode::kPermissionDenied);
  net::ClientOptions ro;
  ro.auth_token = "ro-secret";
  std::unique_ptr<net::Client> ro_client = Dial(server, ro);
  ASSERT_NE(ro_client, nullptr);
  EXPECT_EQ(ro_client->Disconnect(7, "a@example.com").status().code(),
            absl::StatusCode::kPermissionDenied);

  // SIGHUP: a new key works without a restart, a removed one stops working.
  std::ofstream(keys_path, std::ios::trunc)
      << KeyLine("ops", "admin-secret", "admin", "read-write")
      << KeyLine("late", "late-secret", "shop:8", "read-only");
  ASSERT_EQ(kill(server.pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = http.Send("GET", "/v1/shops/8/settings", "", Bearer("late-secret")).status;
    if (status == 200) break;
    std::this_thread::yield();
  }
  EXPECT_EQ(status, 200) << server.Stderr();
  EXPECT_EQ(http.Send("GET", "/v1/shops/7/settings", "", Bearer("shop7-secret")).status, 401);

  int node_status = 0;
  const std::string out = CheckAgainstOpenApi(record, &node_status);
  EXPECT_EQ(node_status, 0) << out;
  EXPECT_EQ(server.Stop(), 0);
  std::remove(keys_path);
  std::remove(record);
}

}  // namespace
}  // namespace attrib::testing
