// tests/admin_page_test.cc: the admin page (/admin/, http/admin/) against a real
// attribd with API keys: how its files are served (no key needed, Content-Type,
// caching with ETag and 304, the Content-Security-Policy, /admin -> /admin/, 404,
// 405), and the page itself in headless Chromium (tests/http/admin_browser_test.mjs,
// puppeteer-core): sign-in, shop scope, connections, settings, orders, affiliates,
// keyboard use, phone width, no console errors. ATTRIB_SCREENSHOTS=DIR makes the
// browser test write the README's screenshots there (tools/admin_screenshots.sh).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/api_keys.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"

namespace attrib::testing {
namespace {

using ::testing::HasSubstr;

std::string KeyLine(const std::string& name, const std::string& secret, const std::string& scope) {
  std::string hex;
  for (uint8_t b : service::Sha256(secret)) {
    hex += "0123456789abcdef"[b >> 4];
    hex += "0123456789abcdef"[b & 15];
  }
  return absl::StrCat(name, " sha256:", hex, " ", scope, " read-write\n");
}

// attribd with an admin key and a shop-7 key.
class AdminPageTest : public ::testing::Test {
 protected:
  AdminPageTest() {
    char tmpl[] = "/tmp/attrib_admin_keys_XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    keys_ = tmpl;
    std::ofstream(keys_) << KeyLine("ops", "admin-secret", "admin")
                         << KeyLine("shop7", "shop7-secret", "shop:7");
  }
  ~AdminPageTest() override { std::remove(keys_.c_str()); }
  std::string keys_;
};

TEST_F(AdminPageTest, FilesAreServedWithTypesCachingAndPolicy) {
  AttribdProcess server({absl::StrCat("--api_keys_file=", keys_)});
  ASSERT_TRUE(server.ok());
  EXPECT_THAT(server.banner(), HasSubstr(absl::StrCat("admin page http://", server.http_address(),
                                                      "/admin/")));
  HttpClient http(server.http_address());
  HttpReply r = http.Send("GET", "/admin/");  // No key: the page holds no data.
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("<script type=\"module\" src=\"js/app.js\"></script>"));
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  EXPECT_THAT(r.Header("content-security-policy"), HasSubstr("script-src 'self'"));
  EXPECT_THAT(r.Header("content-security-policy"), HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  const std::string etag = r.Header("etag");
  ASSERT_FALSE(etag.empty());
  // Unchanged: 304, no body.
  r = http.Send("GET", "/admin/index.html", "", absl::StrCat("If-None-Match: ", etag, "\r\n"));
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  r = http.Send("GET", "/admin/js/app.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/javascript; charset=utf-8");
  r = http.Send("GET", "/admin/admin.css");
  EXPECT_EQ(r.Header("content-type"), "text/css; charset=utf-8");
  // No external resource anywhere: no CDN, no font service.
  for (const char* file : {"/admin/", "/admin/admin.css", "/admin/js/app.js"}) {
    r = http.Send("GET", file);
    EXPECT_FALSE(absl::StrContains(r.body, "https://")) << file;
    EXPECT_FALSE(absl::StrContains(r.body, "@import")) << file;
  }
  r = http.Send("GET", "/admin");
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(r.Header("location"), "/admin/");
  EXPECT_EQ(http.Send("GET", "/admin/nope.js").status, 404);
  EXPECT_EQ(http.Send("GET", "/admin/../v1/stats").status, 404);
  r = http.Send("POST", "/admin/", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET, HEAD");
  // The API itself still needs a key; API responses are never cached.
  r = http.Send("GET", "/v1/shops/7/connections");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("cache-control"), "no-store");
}

TEST_F(AdminPageTest, ThePageInHeadlessChromium) {
  const char* chromium = std::getenv("CHROMIUM");
  const std::string browser = chromium != nullptr ? chromium : "/usr/bin/chromium";
  ASSERT_EQ(access(browser.c_str(), X_OK), 0)
      << browser << " is missing: tools/test.sh installs Debian's chromium (tools/install_deps.sh)";
  AttribdProcess server({absl::StrCat("--api_keys_file=", keys_)});
  ASSERT_TRUE(server.ok());
  int status = 0;
  const std::string out =
      RunCommand(absl::StrCat("node ", ATTRIB_SOURCE_DIR, "/tests/http/admin_browser_test.mjs ",
                              server.http_address(), " admin-secret shop7-secret 2>&1"),
                 &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, HasSubstr("checks ok")) << out;
}

}  // namespace
}  // namespace attrib::testing
