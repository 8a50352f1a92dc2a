// service/api_keys_test.cc: the key file, hashing, scopes, replacement.
#include "service/api_keys.h"

#include <string>

#include "gtest/gtest.h"

namespace attrib::service {
namespace {

// printf %s secret | sha256sum
constexpr char kSecretHash[] = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

TEST(ApiKeysTest, Sha256MatchesSha256sum) {
  const std::array<uint8_t, 32> h = Sha256("secret");
  std::string hex;
  for (uint8_t b : h) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  EXPECT_EQ(hex, kSecretHash);
}

TEST(ApiKeysTest, ParsesScopesAndAuthenticatesByHash) {
  const std::string file = std::string("# keys\n") +
                           "ops     sha256:" + kSecretHash + "  admin   read-write\n" +
                           "shop7   sha256:" + std::string(64, 'a') + " shop:7 read-only # x\n";
  absl::StatusOr<std::vector<ApiKey>> keys = ParseApiKeys(file);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_FALSE((*keys)[1].scope.admin);
  EXPECT_EQ((*keys)[1].scope.shop, 7u);
  EXPECT_TRUE((*keys)[1].scope.read_only);
  ApiKeys set(*std::move(keys));
  std::optional<Principal> who = set.Authenticate("secret");
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "ops");
  EXPECT_TRUE(who->scope.admin);
  EXPECT_FALSE(set.Authenticate("Secret").has_value());
  EXPECT_FALSE(set.Authenticate("").has_value());
  // Replacing the keys (the SIGHUP reload) takes effect at once.
  set.Replace({});
  EXPECT_FALSE(set.Authenticate("secret").has_value());
}

TEST(ApiKeysTest, ErrorsNameTheLine) {
  const auto err = [](const std::string& text) {
    return std::string(ParseApiKeys(text).status().message());
  };
  EXPECT_EQ(err("a sha256:00 admin read-write\n"),
            "api_keys_file: line 1: the secret's hash must be sha256: and 64 hex digits");
  EXPECT_EQ(err("\na sha256:" + std::string(64, '0') + " shop:x read-write\n"),
            "api_keys_file: line 2: scope 'shop:x' is not admin or shop:N");
  EXPECT_EQ(err("a sha256:" + std::string(64, '0') + " admin rw\n"),
            "api_keys_file: line 1: 'rw' is not read-write or read-only");
  const std::string line = "a sha256:" + std::string(64, '0') + " admin read-write\n";
  EXPECT_EQ(err(line + line), "api_keys_file: line 2: key name 'a' twice");
  EXPECT_EQ(err("a b c\n"),
            "api_keys_file: line 1: expected NAME sha256:HEX64 admin|shop:N read-write|read-only");
}

}  // namespace
}  // namespace attrib::service
