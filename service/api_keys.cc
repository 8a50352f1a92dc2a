// service/api_keys.cc: the key file and constant-time authentication (see api_keys.h).
#include "service/api_keys.h"

#include <openssl/sha.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace attrib::service {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::array<uint8_t, 32> Sha256(absl::string_view secret) {
  std::array<uint8_t, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out.data());
  return out;
}

absl::StatusOr<std::vector<ApiKey>> ParseApiKeys(absl::string_view text) {
  std::vector<ApiKey> keys;
  absl::flat_hash_set<std::string> names;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t\r"),
                                                      absl::SkipEmpty());
    if (f.empty()) continue;
    const auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("api_keys_file: line ", line_no, ": ", why));
    };
    if (f.size() != 4) return bad("expected NAME sha256:HEX64 admin|shop:N read-write|read-only");
    ApiKey key;
    key.name = std::string(f[0]);
    if (!names.insert(key.name).second) return bad(absl::StrCat("key name '", key.name, "' twice"));
    if (!absl::StartsWith(f[1], "sha256:") || f[1].size() != 7 + 64) {
      return bad("the secret's hash must be sha256: and 64 hex digits");
    }
    for (size_t i = 0; i < 32; ++i) {
      const int hi = Hex(f[1][7 + 2 * i]), lo = Hex(f[1][8 + 2 * i]);
      if (hi < 0 || lo < 0) return bad("the secret's hash must be sha256: and 64 hex digits");
      key.sha256[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    if (f[2] == "admin") {
      key.scope.admin = true;
    } else if (absl::StartsWith(f[2], "shop:") && absl::SimpleAtoi(f[2].substr(5), &key.scope.shop)) {
      key.scope.admin = false;
    } else {
      return bad(absl::StrCat("scope '", f[2], "' is not admin or shop:N"));
    }
    if (f[3] == "read-only") {
      key.scope.read_only = true;
    } else if (f[3] != "read-write") {
      return bad(absl::StrCat("'", f[3], "' is not read-write or read-only"));
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

void ApiKeys::Replace(std::vector<ApiKey> keys) {
  auto next = std::make_shared<const std::vector<ApiKey>>(std::move(keys));
  absl::MutexLock lock(&mu_);
  keys_ = std::move(next);
}

size_t ApiKeys::size() const {
  absl::MutexLock lock(&mu_);
  return keys_->size();
}

std::optional<Principal> ApiKeys::Authenticate(absl::string_view secret) const {
  std::shared_ptr<const std::vector<ApiKey>> keys;
  {
    absl::MutexLock lock(&mu_);
    keys = keys_;
  }
  const std::array<uint8_t, 32> given = Sha256(secret);
  const ApiKey* match = nullptr;
  for (const ApiKey& key : *keys) {
    // Every key is compared whole; which one matched is chosen without a branch on
    // the secret's bytes.
    const bool same = ConstantTimeEquals(
        absl::string_view(reinterpret_cast<const char*>(given.data()), given.size()),
        absl::string_view(reinterpret_cast<const char*>(key.sha256.data()), key.sha256.size()));
    if (same && match == nullptr) match = &key;
  }
  if (match == nullptr) return std::nullopt;
  return Principal{match->name, match->scope};
}

}  // namespace attrib::service
