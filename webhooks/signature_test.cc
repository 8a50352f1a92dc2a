// webhooks/signature_test.cc: Standard Webhooks signatures (webhooks/signature.h):
// the convention's published example, rotation with two secrets, the receiver's
// checks, and the README's node:crypto receiver verifying what attrib signs.
//
// Thread-safety: single-threaded tests.
#include "webhooks/signature.h"

#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace attrib::webhooks {
namespace {

// The example of the Standard Webhooks specification (also checked here with
// Python's hmac): this secret, id, timestamp and body sign to this value.
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr char kBody[] = "{\"test\": 2432232314}";
constexpr char kExpected[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(SignatureTest, MatchesTheConventionsExample) {
  absl::StatusOr<std::string> sig = Sign(kSecret, kId, kTimestamp, kBody);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(*sig, kExpected);
}

TEST(SignatureTest, RotationSignsWithEverySecretAndEitherVerifies) {
  absl::StatusOr<std::string> fresh = GenerateSecret();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->rfind("whsec_", 0), 0u);
  const std::string both[] = {kSecret, *fresh};
  absl::StatusOr<std::string> header = SignatureHeader(both, kId, kTimestamp, kBody);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->rfind(absl::StrCat(kExpected, " v1,"), 0), 0u) << *header;
  const absl::Time now = absl::FromUnixSeconds(kTimestamp + 10);
  for (const std::string& secret : both) {
    const std::string one[] = {secret};
    EXPECT_TRUE(Verify(one, kId, absl::StrCat(kTimestamp), *header, kBody, now).ok());
  }
}

TEST(SignatureTest, TheReceiversChecksFailWithAReason) {
  const std::string secrets[] = {kSecret};
  const absl::Time now = absl::FromUnixSeconds(kTimestamp);
  EXPECT_TRUE(Verify(secrets, kId, "1614265330", kExpected, kBody, now).ok());
  auto denied = [&](absl::Status s, absl::string_view why) {
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
    EXPECT_NE(s.message().find(why), absl::string_view::npos) << s;
  };
  denied(Verify(secrets, kId, "1614265330", kExpected, "{\"test\": 1}", now), "no signature");
  denied(Verify(secrets, "msg_other", "1614265330", kExpected, kBody, now), "no signature");
  denied(Verify(secrets, kId, "1614265330", kExpected, kBody, now + absl::Minutes(6)),
         "too far");
  denied(Verify(secrets, kId, "soon", kExpected, kBody, now), "not a number");
  denied(Verify(secrets, kId, "1614265330", "v2,abc v1,!!", kBody, now), "no signature");
  const std::string bad[] = {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  EXPECT_EQ(Sign(bad[0], kId, kTimestamp, kBody).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The README's ~20-line node:crypto receiver (webhooks/testdata/verify.mjs) accepts
// attrib's signatures and rejects a tampered body.
TEST(SignatureTest, TheNodeReceiverOfTheReadmeVerifiesThem) {
  absl::StatusOr<std::string> secret = GenerateSecret();
  ASSERT_TRUE(secret.ok());
  const std::string body = "{\"id\":\"evt_42\",\"type\":\"connection.created\",\"data\":{}}";
  const std::string secrets[] = {*secret};
  absl::StatusOr<std::string> header = SignatureHeader(secrets, "evt_42", 1764600000, body);
  ASSERT_TRUE(header.ok());
  char tmpl[] = "/tmp/attrib-webhook-body-XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  const auto run = [&](const std::string& content) {
    std::ofstream(tmpl, std::ios::binary) << content;
    const std::string cmd = absl::StrCat("node ", ATTRIB_SOURCE_DIR,
                                         "/webhooks/testdata/verify.mjs '", *secret,
                                         "' evt_42 1764600000 '", *header, "' ", tmpl);
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run(body), 0) << "node (Node.js 20) must be installed";
  EXPECT_EQ(run(body + " "), 1);
  std::remove(tmpl);
}

}  // namespace
}  // namespace attrib::webhooks
