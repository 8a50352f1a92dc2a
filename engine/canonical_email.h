// engine/canonical_email.h
//
// Canonical form of a customer's email address: the key of the connection store
// (SPEC §2). Canonicalization is a pure function of (input, policy); every rejected
// input gets an InvalidArgument status whose message starts with "email: " and names
// the rule that failed with its numbers ("email: local part is 71 bytes, the limit
// is 64").
//
// Thread-safety: every function here is pure and may be called from any thread.
//
// Performance: CanonicalizeInto() does not allocate on success; ASCII input never
// reaches libidn2 (only a domain with non-ASCII bytes does). The store calls it on
// every lookup, so keep it a single pass over the bytes.
#ifndef ATTRIB_ENGINE_CANONICAL_EMAIL_H_
#define ATTRIB_ENGINE_CANONICAL_EMAIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::engine {

// Server-wide canonicalization policy (SPEC §2 step 7). The numeric values are
// persisted (data directory, log records): never renumber.
enum class EmailPolicy : uint8_t {
  // Steps 1-7: googlemail -> gmail, gmail dots removed, +tag removed at the
  // providers that ignore it.
  kProvider = 1,
  // Steps 1-6 only.
  kStandard = 2,
};

// "provider" / "standard".
absl::string_view EmailPolicyName(EmailPolicy policy);
// Inverse of EmailPolicyName(); InvalidArgument naming the accepted values otherwise.
absl::StatusOr<EmailPolicy> ParseEmailPolicy(absl::string_view name);

// Length limits of SPEC §2 step 3, in bytes after trimming.
inline constexpr size_t kMaxLocalPartBytes = 64;
inline constexpr size_t kMaxDomainBytes = 253;
inline constexpr size_t kMaxLabelBytes = 63;
inline constexpr size_t kMaxEmailBytes = 254;

// Fixed-capacity output of CanonicalizeInto(). A canonical address is never longer
// than kMaxEmailBytes (the IDNA A-label form is checked against the same limits).
struct CanonicalBuffer {
  char data[kMaxEmailBytes];
  uint8_t size = 0;
  absl::string_view view() const { return absl::string_view(data, size); }
};

// Canonicalizes `input` into `out`. When `entered` is not null it receives the
// trimmed input (a view into `input`): the "email as entered" that is kept for
// display and export. On error `out` is unspecified.
absl::Status CanonicalizeInto(absl::string_view input, EmailPolicy policy,
                              CanonicalBuffer* out,
                              absl::string_view* entered = nullptr);

// The canonical key and the email as entered (trimmed), as owned strings.
struct CanonicalEmail {
  std::string canonical;
  std::string entered;
};

// Convenience wrapper around CanonicalizeInto().
absl::StatusOr<CanonicalEmail> Canonicalize(absl::string_view input,
                                            EmailPolicy policy);

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_CANONICAL_EMAIL_H_
