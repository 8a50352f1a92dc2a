// service/api_keys.h
//
// API keys with scopes, for both front ends (the native `auth`, HTTP's
// `Authorization: Bearer`): each key has a name, a secret stored only as its SHA-256
// (OpenSSL), and a scope (service/scope.h). A presented secret is hashed and compared
// with every key's hash in constant time, all keys compared, so neither the time nor
// the order of keys tells anything about the secrets.
//
// The key file (--api_keys_file), one key per line; `#` starts a comment:
//   NAME  sha256:HEX64  admin|shop:N  read-write|read-only
// e.g. `checkout-7  sha256:9f86d0...  shop:7  read-write`. The hash of a secret is
// `printf %s SECRET | sha256sum`. Names are unique; errors name the line.
// --auth_token_file is one admin read-write key named "auth_token_file".
//
// Thread-safety: Authenticate() from any thread, concurrently with Replace() (the
// SIGHUP reload); the key list is swapped under a mutex.
#ifndef ATTRIB_SERVICE_API_KEYS_H_
#define ATTRIB_SERVICE_API_KEYS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/scope.h"

namespace attrib::service {

struct ApiKey {
  std::string name;
  std::array<uint8_t, 32> sha256{};
  Scope scope;
};

// SHA-256 of `secret`.
std::array<uint8_t, 32> Sha256(absl::string_view secret);

// Parses a key file's text.
absl::StatusOr<std::vector<ApiKey>> ParseApiKeys(absl::string_view text);

// What a presented secret authenticates as.
struct Principal {
  std::string name;
  Scope scope;
};

class ApiKeys {
 public:
  ApiKeys() = default;
  explicit ApiKeys(std::vector<ApiKey> keys) { Replace(std::move(keys)); }
  ApiKeys(const ApiKeys&) = delete;
  ApiKeys& operator=(const ApiKeys&) = delete;

  void Replace(std::vector<ApiKey> keys);
  size_t size() const;
  // The key whose secret this is, or nullopt.
  std::optional<Principal> Authenticate(absl::string_view secret) const;

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<ApiKey>> keys_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const std::vector<ApiKey>>();
};

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_API_KEYS_H_
