// webhooks/signature.h
//
// Webhook signatures as the Standard Webhooks convention specifies them
// (standardwebhooks.com; also Svix's and Dub's), so receivers can verify them with
// any of that convention's libraries or ~20 lines of node:crypto (README):
//
//   headers   webhook-id: <event id>   webhook-timestamp: <unix seconds>
//             webhook-signature: v1,<base64 HMAC-SHA256> [v1,<...> ...]
//   signed    "<webhook-id>.<webhook-timestamp>.<body bytes>"
//   secret    "whsec_" + base64 of the key bytes (24 random bytes here)
//
// During a secret rotation the old and the new secret are both valid for a while:
// SignatureHeader() then signs with every secret given, space-separated, and a
// receiver accepts the message if any signature matches a secret it knows.
//
// HMAC-SHA256 and the random bytes come from OpenSSL; base64 from Abseil. Verify()
// compares in constant time (CRYPTO_memcmp) and checks the timestamp's age, as the
// convention asks, against replays.
//
// Thread-safety: pure functions (GenerateSecret reads OpenSSL's thread-safe RNG).
#ifndef ATTRIB_WEBHOOKS_SIGNATURE_H_
#define ATTRIB_WEBHOOKS_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace attrib::webhooks {

inline constexpr absl::string_view kSecretPrefix = "whsec_";

// A new endpoint secret: "whsec_" + base64 of 24 random bytes.
absl::StatusOr<std::string> GenerateSecret();

// "v1,<base64>" for one secret. InvalidArgument when the secret is not "whsec_" +
// base64 (naming what is wrong).
absl::StatusOr<std::string> Sign(absl::string_view secret, absl::string_view message_id,
                                 int64_t timestamp_seconds, absl::string_view body);

// The webhook-signature header value: one "v1,<base64>" per secret, space-separated.
absl::StatusOr<std::string> SignatureHeader(absl::Span<const std::string> secrets,
                                            absl::string_view message_id,
                                            int64_t timestamp_seconds,
                                            absl::string_view body);

// What a receiver does: OK when some v1 signature of `signature_header` matches one
// of `secrets` and the timestamp is within `tolerance` of `now`; else
// PermissionDenied saying which check failed.
absl::Status Verify(absl::Span<const std::string> secrets, absl::string_view message_id,
                    absl::string_view timestamp_header, absl::string_view signature_header,
                    absl::string_view body, absl::Time now,
                    absl::Duration tolerance = absl::Minutes(5));

}  // namespace attrib::webhooks

#endif  // ATTRIB_WEBHOOKS_SIGNATURE_H_
