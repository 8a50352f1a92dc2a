// webhooks/signature.cc: Standard Webhooks signatures with OpenSSL (see the header).
#include "webhooks/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace attrib::webhooks {
namespace {

absl::StatusOr<std::string> SecretKey(absl::string_view secret) {
  if (!absl::StartsWith(secret, kSecretPrefix)) {
    return absl::InvalidArgumentError("secret: must start with whsec_");
  }
  std::string key;
  if (!absl::Base64Unescape(secret.substr(kSecretPrefix.size()), &key) || key.empty()) {
    return absl::InvalidArgumentError("secret: the part after whsec_ is not base64");
  }
  return key;
}

// The raw HMAC-SHA256 of the signed content.
std::string Mac(absl::string_view key, absl::string_view message_id, int64_t timestamp,
                absl::string_view body) {
  const std::string content = absl::StrCat(message_id, ".", timestamp, ".", body);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace

absl::StatusOr<std::string> GenerateSecret() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("secret: the random number generator failed");
  }
  return absl::StrCat(kSecretPrefix,
                      absl::Base64Escape(absl::string_view(
                          reinterpret_cast<const char*>(bytes), sizeof bytes)));
}

absl::StatusOr<std::string> Sign(absl::string_view secret, absl::string_view message_id,
                                 int64_t timestamp_seconds, absl::string_view body) {
  absl::StatusOr<std::string> key = SecretKey(secret);
  if (!key.ok()) return key.status();
  return absl::StrCat("v1,", absl::Base64Escape(Mac(*key, message_id, timestamp_seconds, body)));
}

absl::StatusOr<std::string> SignatureHeader(absl::Span<const std::string> secrets,
                                            absl::string_view message_id,
                                            int64_t timestamp_seconds,
                                            absl::string_view body) {
  if (secrets.empty()) return absl::InvalidArgumentError("secret: none given");
  std::string header;
  for (const std::string& secret : secrets) {
    absl::StatusOr<std::string> one = Sign(secret, message_id, timestamp_seconds, body);
    if (!one.ok()) return one.status();
    absl::StrAppend(&header, header.empty() ? "" : " ", *one);
  }
  return header;
}

absl::Status Verify(absl::Span<const std::string> secrets, absl::string_view message_id,
                    absl::string_view timestamp_header, absl::string_view signature_header,
                    absl::string_view body, absl::Time now, absl::Duration tolerance) {
  int64_t timestamp = 0;
  if (!absl::SimpleAtoi(timestamp_header, &timestamp)) {
    return absl::PermissionDeniedError("webhook-timestamp: not a number of seconds");
  }
  if (absl::AbsDuration(now - absl::FromUnixSeconds(timestamp)) > tolerance) {
    return absl::PermissionDeniedError("webhook-timestamp: too far from now");
  }
  for (const std::string& secret : secrets) {
    absl::StatusOr<std::string> key = SecretKey(secret);
    if (!key.ok()) return key.status();
    const std::string expected = Mac(*key, message_id, timestamp, body);
    for (absl::string_view sig : absl::StrSplit(signature_header, ' ', absl::SkipEmpty())) {
      if (!absl::ConsumePrefix(&sig, "v1,")) continue;  // Other schemes: not ours.
      std::string given;
      if (!absl::Base64Unescape(sig, &given) || given.size() != expected.size()) continue;
      if (CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0) {
        return absl::OkStatus();
      }
    }
  }
  return absl::PermissionDeniedError("webhook-signature: no signature matches");
}

}  // namespace attrib::webhooks
