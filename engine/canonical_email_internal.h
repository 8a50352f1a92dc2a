// engine/canonical_email_internal.h
//
// Internals of the canonical email (engine/canonical_email.h), shared by its two
// implementation files and its test; no other file should include this.
//
//   canonical_email.cc       the general path: any input, every error message.
//   canonical_email_simd.cc  the fast path: short plain-ASCII addresses, SSE2.
//
// CanonicalizeInto() tries the fast path and falls back to the general path, so
// the fast path never reports an error: it only has to be right about what it
// accepts, and canonical_email_test.cc checks that it agrees with the general path.
//
// Thread-safety: pure functions; callable from any thread.
#ifndef ATTRIB_ENGINE_CANONICAL_EMAIL_INTERNAL_H_
#define ATTRIB_ENGINE_CANONICAL_EMAIL_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "engine/canonical_email.h"

namespace attrib::engine::email_internal {

// The fast path takes trimmed addresses of at most this many bytes.
inline constexpr size_t kShortAddressBytes = 64;

// Canonicalizes the trimmed address s[0, n) into *out and returns true when it is
// at most kShortAddressBytes of letters, digits and . + - _ @ that pass every rule;
// returns false (leaving *out unspecified) for anything else, valid or not.
bool CanonicalizeShortAscii(const char* s, size_t n, EmailPolicy policy,
                            CanonicalBuffer* out);

// Canonicalizes the trimmed address s[0, n), any input. `offset` is the position
// of s in the caller's input, for the byte numbers of error messages.
absl::Status CanonicalizeGeneral(const char* s, size_t n, size_t offset,
                                 EmailPolicy policy, CanonicalBuffer* out);

// What SPEC §2 steps 6-7 do to an address at a domain.
enum class Provider : uint8_t {
  kNone,     // Nothing.
  kGmail,    // Dots and +tag removed.
  kTagOnly,  // +tag removed.
};

struct DomainRules {
  Provider provider = Provider::kNone;
  bool googlemail = false;  // Becomes gmail.com (step 6, both policies).
};

inline uint64_t Load64(const char* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

inline uint32_t Load32(const char* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

// Whether d[0, n) equals `name` (n in [4, 16]; lowercase letters, digits and
// dots) ignoring ASCII case, with two overlapping word compares. Setting bit 5
// maps 'A'-'Z' onto 'a'-'z' and leaves '.', digits and lowercase letters alone;
// the only other bytes it maps onto those are controls, which both paths reject,
// so a false match never reaches a successful result.
inline bool EqualsIgnoringCase(const char* d, size_t n, const char* name) {
  if (n >= 8) {
    constexpr uint64_t kBit5 = 0x2020202020202020ull;
    return (Load64(d) | kBit5) == Load64(name) &&
           (Load64(d + n - 8) | kBit5) == Load64(name + n - 8);
  }
  constexpr uint32_t kBit5 = 0x20202020u;
  return (Load32(d) | kBit5) == Load32(name) &&
         (Load32(d + n - 4) | kBit5) == Load32(name + n - 4);
}

// The rules of domain d[0, n) (any case, no trailing dot): length, then compare.
inline DomainRules RulesOf(const char* d, size_t n) {
  auto is = [&](const char* name) { return EqualsIgnoringCase(d, n, name); };
  constexpr DomainRules kTagOnly{Provider::kTagOnly, false};
  switch (n) {
    case 6: return is("me.com") ? kTagOnly : DomainRules{};
    case 8: return is("live.com") ? kTagOnly : DomainRules{};
    case 9:
      if (is("gmail.com")) return {Provider::kGmail, false};
      return is("proton.me") ? kTagOnly : DomainRules{};
    case 10: return is("icloud.com") ? kTagOnly : DomainRules{};
    case 11: return is("outlook.com") || is("hotmail.com") ? kTagOnly : DomainRules{};
    case 12: return is("fastmail.com") ? kTagOnly : DomainRules{};
    case 14:
      if (is("googlemail.com")) return {Provider::kGmail, true};
      return is("protonmail.com") ? kTagOnly : DomainRules{};
    default: return {};
  }
}

}  // namespace attrib::engine::email_internal

#endif  // ATTRIB_ENGINE_CANONICAL_EMAIL_INTERNAL_H_
