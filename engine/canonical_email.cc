// engine/canonical_email.cc
//
// SPEC §2 canonicalization: the public functions and the general path.
// CanonicalizeInto() trims, then tries the SIMD fast path (canonical_email_simd.cc,
// short plain-ASCII addresses: nearly all of them) and otherwise runs the general
// path here, which takes any input and owns every error message. The general path
// walks the local part once and the domain once, writing straight into the
// caller's buffer: no allocation for ASCII input. Only a domain with non-ASCII
// bytes goes through libidn2 (which allocates).
//
// Thread-safety: pure functions over their arguments; callable from any thread.
//
// Decisions that SPEC §2 leaves open (documented in README.md):
//  * Local part characters: RFC 5322 `atext` (letters, digits and
//    ! # $ % & ' * + - / = ? ^ _ ` { | } ~), dots, and any valid non-ASCII UTF-8.
//    Rejected: whitespace, controls, '"' (quoted parts), and the RFC specials
//    ( ) , : ; < > [ ] \ . Dots follow RFC 5322 dot-atom: no leading or trailing dot
//    and no "..", so every canonical local part is itself a valid dot-atom.
//  * "Whitespace or control" also covers non-ASCII ones: C1 controls
//    (U+0080-U+009F), Unicode White_Space (U+00A0, U+1680, U+2000-U+200A, U+2028,
//    U+2029, U+202F, U+205F, U+3000) and the invisible U+200B and U+FEFF (BOM);
//    copy-pasted addresses carry them and they would silently split a customer
//    into two keys.
//  * The single trailing dot of the domain is dropped before every length check:
//    the 253-byte domain limit and the 254-byte address limit do not count it
//    (DNS's 253 is the name without the root dot).
//  * Lengths are bytes of the trimmed input (UTF-8 for non-ASCII parts, as SPEC
//    §2 says); an internationalized domain is checked again in A-label form,
//    labels, domain and whole address (entered local part + '@' + A-label).
//  * A +tag is removed only when what remains before the '+' is a non-empty valid
//    local part: "+x@outlook.com" and "a.+x@outlook.com" keep their tag (removing
//    it would leave "" or "a.", which are not addresses). This keeps
//    Canonicalize(Canonicalize(x)) == Canonicalize(x).
//  * "byte N" in messages is the 0-based offset in the input as given (before
//    trimming).
#include "engine/canonical_email.h"

#include <idn2.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "engine/canonical_email_internal.h"
#include "engine/utf8.h"

namespace attrib::engine {
namespace email_internal {
namespace {

// Byte classes for the ASCII half of the table; non-ASCII bytes have class 0 and
// are handled by the UTF-8 decoder.
enum : uint8_t {
  kLocalChar = 1,    // atext or '.': may appear in a local part.
  kDomainChar = 2,   // letter, digit or '-': may appear in a domain label.
  kLocalSpecial = 4, // '.' or '+': the local-part walk looks closer.
  kSpaceOrCtl = 8,   // whitespace or control.
};

constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kSpaceOrCtl;
  t[' '] = kSpaceOrCtl;
  t[0x7f] = kSpaceOrCtl;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLocalChar | kDomainChar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kLocalChar | kDomainChar;
  for (int c = '0'; c <= '9'; ++c) t[c] = kLocalChar | kDomainChar;
  t['-'] = kLocalChar | kDomainChar;
  for (char c : std::string_view("!#$%&'*/=?^_`{|}~")) t[static_cast<uint8_t>(c)] = kLocalChar;
  t['.'] = kLocalChar | kLocalSpecial;
  t['+'] = kLocalChar | kLocalSpecial;
  return t;
}();

constexpr std::array<char, 256> kLower = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return t;
}();

inline uint8_t Byte(char c) { return static_cast<uint8_t>(c); }

inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

inline bool IsUnicodeSpaceOrCtl(uint32_t cp) {
  if (cp <= 0xA0) return true;                    // C1 controls, NBSP.
  if (cp >= 0x2000 && cp <= 0x200B) return true;     // En quad .. zero-width space.
  return cp == 0x1680 || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

absl::Status SpaceOrCtlError(size_t offset, uint32_t cp) {
  char hex[16];
  snprintf(hex, sizeof(hex), "U+%04X", cp);
  return Invalid(absl::StrCat("email: whitespace or control character at byte ",
                              offset, " (", hex, ")"));
}

absl::Status Utf8Error(size_t offset) {
  return Invalid(absl::StrCat("email: not valid UTF-8 at byte ", offset));
}

// Validates one non-ASCII sequence at s[i] (of n bytes); returns its length, or 0
// with *error set.
inline size_t CheckNonAscii(const char* s, size_t i, size_t n, size_t base,
                            absl::Status* error) {
  uint32_t cp = 0;
  const size_t len = DecodeUtf8(reinterpret_cast<const uint8_t*>(s + i), n - i, &cp);
  if (len == 0) {
    *error = Utf8Error(base + i);
  } else if (IsUnicodeSpaceOrCtl(cp)) {
    *error = SpaceOrCtlError(base + i, cp);
    return 0;
  }
  return len;
}

// A label for an error message: long ones are cut (at a character boundary).
std::string QuoteLabel(absl::string_view label) {
  constexpr size_t kShown = 20;
  if (label.size() <= kShown) return absl::StrCat("'", label, "'");
  size_t cut = kShown;
  while (cut > 0 && (Byte(label[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("'", label.substr(0, cut), "...'");
}

// Out of line: only rejected labels build a message.
[[gnu::noinline]] absl::Status LabelError(absl::string_view label) {
  if (label.empty()) return Invalid("email: empty domain label");
  if (label.size() > kMaxLabelBytes) {
    return Invalid(absl::StrCat("email: domain label ", QuoteLabel(label), " is ",
                                label.size(), " bytes, the limit is ", kMaxLabelBytes));
  }
  const char* where = label.front() == '-' ? " starts with a hyphen" : " ends with a hyphen";
  return Invalid(absl::StrCat("email: domain label ", QuoteLabel(label), where));
}

// Length 1..63, no hyphen at either end.
inline bool LabelOk(const char* label, size_t len) {
  return len - 1 < kMaxLabelBytes && label[0] != '-' && label[len - 1] != '-';
}

// Validates domain d (n bytes, starting at byte `base` of the input; trailing dot
// already dropped, n <= kMaxDomainBytes) and writes it lowercased to out. Sets
// *non_ascii when it holds non-ASCII bytes (which are checked as UTF-8).
absl::Status ScanDomain(const char* d, size_t n, size_t base, char* out,
                        bool* non_ascii) {
  size_t label_start = 0;
  size_t i = 0;
  while (i < n) {
    const char c = d[i];
    const uint8_t cls = kByteClass[Byte(c)];
    if (cls & kDomainChar) {
      out[i++] = kLower[Byte(c)];
    } else if (c == '.') {
      if (!LabelOk(d + label_start, i - label_start)) {
        return LabelError(absl::string_view(d + label_start, i - label_start));
      }
      out[i++] = '.';
      label_start = i;
    } else if (Byte(c) >= 0x80) {
      absl::Status error;
      const size_t len = CheckNonAscii(d, i, n, base, &error);
      if (len == 0) return error;
      memcpy(out + i, d + i, len);
      i += len;
      *non_ascii = true;
    } else if (cls & kSpaceOrCtl) {
      return SpaceOrCtlError(base + i, Byte(c));
    } else if (c == '@') {  // The local part ends at the first '@'.
      return Invalid("email: more than one '@'");
    } else {
      return Invalid(absl::StrCat("email: invalid character '", absl::string_view(&c, 1),
                                  "' in domain"));
    }
  }
  if (!LabelOk(d + label_start, n - label_start)) {
    return LabelError(absl::string_view(d + label_start, n - label_start));
  }
  return absl::OkStatus();
}

// Replaces the lowercased UTF-8 domain in buf (len bytes, buf has room for
// kMaxDomainBytes + 1) by its validated A-label form.
absl::Status ToALabel(char* buf, size_t* len) {
  buf[*len] = '\0';
  const uint8_t* in = reinterpret_cast<const uint8_t*>(buf);
  uint8_t* ascii = nullptr;
  int rc = idn2_lookup_u8(in, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    // As curl and wget do: names valid only under IDNA2003 rules (e.g. symbols)
    // still resolve under transitional processing.
    const int first_rc = rc;
    rc = idn2_lookup_u8(in, &ascii, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    if (rc != IDN2_OK) {
      // libidn2 stops before it knows the length: name the limit at least.
      std::string limit;
      if (first_rc == IDN2_PUNYCODE_BIG_OUTPUT || first_rc == IDN2_TOO_BIG_LABEL) {
        limit = absl::StrCat(" (a label in A-label form is limited to ", kMaxLabelBytes,
                             " bytes)");
      } else if (first_rc == IDN2_TOO_BIG_DOMAIN) {
        limit = absl::StrCat(" (a domain in A-label form is limited to ", kMaxDomainBytes,
                             " bytes)");
      }
      return Invalid(absl::StrCat("email: domain is not a valid internationalized name: ",
                                  idn2_strerror(first_rc), limit));
    }
  }
  // libidn2's output is ASCII, but its TR46 mapping can still produce characters
  // we reject (fullwidth '!' becomes '!'), a trailing dot (from U+3002) or a
  // longer name, so it goes through the same checks as an ASCII domain. Copy it
  // first: buf is the output of the scan.
  char copy[kMaxDomainBytes + 1];
  size_t n = strlen(reinterpret_cast<char*>(ascii));
  if (n > 0 && ascii[n - 1] == '.') --n;
  const bool fits = n <= kMaxDomainBytes;
  if (fits) memcpy(copy, ascii, n);
  idn2_free(ascii);
  if (n == 0) return Invalid("email: empty domain");
  if (!fits) {
    return Invalid(absl::StrCat("email: domain is ", n, " bytes in A-label form, the limit is ",
                                kMaxDomainBytes));
  }
  bool non_ascii = false;
  absl::Status s = ScanDomain(copy, n, 0, buf, &non_ascii);
  if (s.ok() && non_ascii) s = Invalid("email: domain is not ASCII after IDNA");
  *len = n;
  return s;
}

// Validates local part s[0, n) (n in [1, kMaxLocalPartBytes]) and writes its
// canonical form to out; returns its length via *out_len.
absl::Status ScanLocal(const char* s, size_t n, size_t base, Provider provider,
                       char* out, size_t* out_len) {
  constexpr size_t kNoPlus = ~size_t{0};
  size_t o = 0;
  size_t plus_at = kNoPlus;  // Output offset of the first '+'.
  const bool drop_dots = provider == Provider::kGmail;
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    const uint8_t cls = kByteClass[Byte(c)];
    if ((cls & (kLocalChar | kLocalSpecial)) == kLocalChar) {
      out[o++] = kLower[Byte(c)];
      ++i;
    } else if (c == '.') {
      if (i == 0) return Invalid("email: local part starts with a dot");
      if (i + 1 == n) return Invalid("email: local part ends with a dot");
      if (s[i + 1] == '.') {
        return Invalid(absl::StrCat("email: two consecutive dots in the local part at byte ",
                                    base + i));
      }
      if (!drop_dots) out[o++] = '.';
      ++i;
    } else if (c == '+') {
      if (plus_at == kNoPlus) plus_at = o;
      out[o++] = '+';
      ++i;
    } else if (Byte(c) >= 0x80) {
      absl::Status error;
      const size_t len = CheckNonAscii(s, i, n, base, &error);
      if (len == 0) return error;
      memcpy(out + o, s + i, len);
      o += len;
      i += len;
    } else if (cls & kSpaceOrCtl) {
      return SpaceOrCtlError(base + i, Byte(c));
    } else if (c == '"') {
      return Invalid("email: quoted local parts are not supported");
    } else {
      return Invalid(absl::StrCat("email: invalid character '", absl::string_view(&c, 1),
                                  "' in local part"));
    }
  }
  if (provider != Provider::kNone && plus_at != kNoPlus && plus_at > 0 &&
      out[plus_at - 1] != '.') {
    o = plus_at;
  }
  *out_len = o;
  return absl::OkStatus();
}

}  // namespace

absl::Status CanonicalizeGeneral(const char* s, size_t n, size_t begin, EmailPolicy policy,
                                 CanonicalBuffer* out) {
  if (n == 0) return Invalid("email: empty address");

  // Before the '@' count: a quoted local part may contain '@'.
  if (s[0] == '"') return Invalid("email: quoted local parts are not supported");
  // A second '@' is reported by the domain scan.
  const char* at = static_cast<const char*>(memchr(s, '@', n));
  if (at == nullptr) return Invalid("email: missing '@'");
  const size_t local_len = at - s;
  const char* domain = at + 1;
  size_t domain_len = n - local_len - 1;
  if (local_len == 0) return Invalid("email: empty local part");
  if (domain_len == 0) return Invalid("email: empty domain");
  if (domain[0] == '[') return Invalid("email: domain literals are not supported");

  // Lengths before any per-byte work: they bound it.
  if (local_len > kMaxLocalPartBytes) {
    return Invalid(absl::StrCat("email: local part is ", local_len,
                                " bytes, the limit is ", kMaxLocalPartBytes));
  }
  if (domain[domain_len - 1] == '.') --domain_len;
  if (domain_len == 0) return Invalid("email: empty domain");
  if (domain_len > kMaxDomainBytes) {
    return Invalid(absl::StrCat("email: domain is ", domain_len, " bytes, the limit is ",
                                kMaxDomainBytes));
  }
  if (local_len + 1 + domain_len > kMaxEmailBytes) {
    return Invalid(absl::StrCat("email: address is ", local_len + 1 + domain_len,
                                " bytes, the limit is ", kMaxEmailBytes));
  }

  // The local part is written first, straight into `out`, so the provider is
  // decided from the raw domain. The domain then goes right after it: no copy.
  DomainRules rules = RulesOf(domain, domain_len);
  Provider provider = policy == EmailPolicy::kProvider ? rules.provider : Provider::kNone;
  size_t o = 0;
  absl::Status status = ScanLocal(s, local_len, begin, provider, out->data, &o);
  if (!status.ok()) return status;
  // Fits: o <= local_len and local_len + 1 + domain_len <= kMaxEmailBytes.
  char* dom = out->data + o + 1;
  bool non_ascii = false;
  status = ScanDomain(domain, domain_len, begin + local_len + 1, dom, &non_ascii);
  if (!status.ok()) return status;
  size_t dom_len = domain_len;
  if (ABSL_PREDICT_FALSE(non_ascii)) {
    char idn[kMaxDomainBytes + 1];  // +1: libidn2 wants a NUL-terminated name.
    memcpy(idn, dom, dom_len);
    status = ToALabel(idn, &dom_len);
    if (!status.ok()) return status;
    if (local_len + 1 + dom_len > kMaxEmailBytes) {
      return Invalid(absl::StrCat("email: address is ", local_len + 1 + dom_len,
                                  " bytes with the domain in A-label form, the limit is ",
                                  kMaxEmailBytes));
    }
    // TR46 mapping can turn a non-ASCII name into a provider's (fullwidth letters).
    rules = RulesOf(idn, dom_len);
    const Provider idn_provider =
        policy == EmailPolicy::kProvider ? rules.provider : Provider::kNone;
    if (idn_provider != provider) {
      status = ScanLocal(s, local_len, begin, idn_provider, out->data, &o);
      if (!status.ok()) return status;
    }
    dom = out->data + o + 1;
    memcpy(dom, idn, dom_len);
  }
  if (rules.googlemail) {
    memcpy(dom, "gmail.com", 9);
    dom_len = 9;
  }
  out->data[o] = '@';
  out->size = static_cast<uint8_t>(o + 1 + dom_len);
  return absl::OkStatus();
}

}  // namespace email_internal

absl::string_view EmailPolicyName(EmailPolicy policy) {
  switch (policy) {
    case EmailPolicy::kProvider: return "provider";
    case EmailPolicy::kStandard: return "standard";
  }
  return "unknown";
}

absl::StatusOr<EmailPolicy> ParseEmailPolicy(absl::string_view name) {
  if (name == "provider") return EmailPolicy::kProvider;
  if (name == "standard") return EmailPolicy::kStandard;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown email policy '", name, "'; the policies are 'provider' and 'standard'"));
}

absl::Status CanonicalizeInto(absl::string_view input, EmailPolicy policy,
                              CanonicalBuffer* out, absl::string_view* entered) {
  size_t begin = 0;
  size_t end = input.size();
  while (begin < end && email_internal::IsAsciiSpace(input[begin])) ++begin;
  while (end > begin && email_internal::IsAsciiSpace(input[end - 1])) --end;
  const char* s = input.data() + begin;
  const size_t n = end - begin;
  if (entered != nullptr) *entered = absl::string_view(s, n);
  if (email_internal::CanonicalizeShortAscii(s, n, policy, out)) return absl::OkStatus();
  return email_internal::CanonicalizeGeneral(s, n, begin, policy, out);
}

absl::StatusOr<CanonicalEmail> Canonicalize(absl::string_view input,
                                            EmailPolicy policy) {
  CanonicalBuffer buffer;
  absl::string_view entered;
  absl::Status status = CanonicalizeInto(input, policy, &buffer, &entered);
  if (!status.ok()) return status;
  return CanonicalEmail{std::string(buffer.view()), std::string(entered)};
}

}  // namespace attrib::engine
