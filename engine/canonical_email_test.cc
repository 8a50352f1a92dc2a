// engine/canonical_email_test.cc
//
// Tests of engine/canonical_email.cc against SPEC §2: the examples, every limit at
// and one past its boundary, IDN, UTF-8 validation, the provider rules, the error
// messages and idempotence; and that the SIMD fast path (canonical_email_simd.cc)
// accepts exactly the short plain-ASCII addresses the general path accepts, with
// the same result.
//
// Thread-safety: single-threaded tests of pure functions.
#include "engine/canonical_email.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/canonical_email_internal.h"

namespace attrib::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The canonical form, or "ERROR: <message>" so that failures print both.
std::string Canon(const std::string& input, EmailPolicy policy = EmailPolicy::kProvider) {
  absl::StatusOr<CanonicalEmail> result = Canonicalize(input, policy);
  if (!result.ok()) {
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    return "ERROR: " + std::string(result.status().message());
  }
  return result->canonical;
}

// The error message; the empty string when the input is accepted.
std::string Error(const std::string& input, EmailPolicy policy = EmailPolicy::kProvider) {
  absl::StatusOr<CanonicalEmail> result = Canonicalize(input, policy);
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), StartsWith("email: "));
  return std::string(result.status().message());
}

// A domain of exactly `bytes` bytes made of labels of at most 63 bytes.
std::string DomainOfLength(size_t bytes) {
  std::string domain;
  while (domain.size() < bytes) {
    if (!domain.empty()) domain += '.';
    const size_t label = std::min<size_t>(63, bytes - domain.size());
    domain += std::string(label == 0 ? 1 : label, 'd');
  }
  return domain;
}

TEST(CanonicalEmailTest, SpecExamples) {
  EXPECT_EQ(Canon(" Jane.Doe+promo@GoogleMail.com "), "janedoe@gmail.com");
  EXPECT_EQ(Canon("Jane.Doe+promo@example.com"), "jane.doe+promo@example.com");
  EXPECT_EQ(Canon("a@b"), "a@b");
  EXPECT_EQ(Error("jane@@x.com"), "email: more than one '@'");
  EXPECT_EQ(Error("@x.com"), "email: empty local part");
  EXPECT_EQ(Error("jane@"), "email: empty domain");
  EXPECT_EQ(Error("\"j d\"@x.com"), "email: quoted local parts are not supported");
  EXPECT_EQ(Error("jane@-x.com"), "email: domain label '-x' starts with a hyphen");
  EXPECT_EQ(Error(std::string(65, 'a') + "@x.com"),
            "email: local part is 65 bytes, the limit is 64");
}

TEST(CanonicalEmailTest, StructuralErrors) {
  EXPECT_EQ(Error(""), "email: empty address");
  EXPECT_EQ(Error(" \t\r\n"), "email: empty address");
  EXPECT_EQ(Error("jane.example.com"), "email: missing '@'");
  EXPECT_EQ(Error("a@b@c"), "email: more than one '@'");
  EXPECT_EQ(Error("\"a@b\"@x.com"), "email: quoted local parts are not supported");
  EXPECT_EQ(Error("a\"b@x.com"), "email: quoted local parts are not supported");
  EXPECT_EQ(Error("jane@[1.2.3.4]"), "email: domain literals are not supported");
  EXPECT_EQ(Error("jane@[IPv6:::1]"), "email: domain literals are not supported");
  EXPECT_EQ(Error("jane@."), "email: empty domain");
}

TEST(CanonicalEmailTest, EnteredIsTheTrimmedInput) {
  const std::string input = " \t Jane.Doe+promo@GoogleMail.com \r\n";
  CanonicalBuffer buffer;
  absl::string_view entered;
  ASSERT_TRUE(CanonicalizeInto(input, EmailPolicy::kProvider, &buffer, &entered).ok());
  EXPECT_EQ(entered, "Jane.Doe+promo@GoogleMail.com");
  EXPECT_EQ(entered.data(), input.data() + 3);  // A view into the input.
  absl::StatusOr<CanonicalEmail> owned = Canonicalize(input, EmailPolicy::kProvider);
  ASSERT_TRUE(owned.ok());
  EXPECT_EQ(owned->entered, "Jane.Doe+promo@GoogleMail.com");
  EXPECT_EQ(owned->canonical, "janedoe@gmail.com");
  // The entered form keeps a trailing dot; the canonical form does not.
  owned = Canonicalize("a@Example.COM.", EmailPolicy::kProvider);
  ASSERT_TRUE(owned.ok());
  EXPECT_EQ(owned->entered, "a@Example.COM.");
  EXPECT_EQ(owned->canonical, "a@example.com");
}

TEST(CanonicalEmailTest, LocalPartLength) {
  EXPECT_EQ(Canon(std::string(64, 'A') + "@x.com"), std::string(64, 'a') + "@x.com");
  EXPECT_EQ(Error(std::string(65, 'a') + "@x.com"),
            "email: local part is 65 bytes, the limit is 64");
  // Bytes, not characters: 32 two-byte characters fit, 33 do not.
  std::string u32;
  for (int i = 0; i < 32; ++i) u32 += "\xC3\xA9";  // é
  EXPECT_EQ(Canon(u32 + "@x.com"), u32 + "@x.com");
  EXPECT_EQ(Error(u32 + "\xC3\xA9@x.com"), "email: local part is 66 bytes, the limit is 64");
}

TEST(CanonicalEmailTest, LabelLength) {
  const std::string l63(63, 'l');
  EXPECT_EQ(Canon("a@" + l63 + ".com"), "a@" + l63 + ".com");
  const std::string error = Error("a@" + std::string(64, 'l') + ".com");
  EXPECT_EQ(error, "email: domain label 'llllllllllllllllllll...' is 64 bytes, the limit is 63");
  EXPECT_EQ(Error("a@com." + std::string(64, 'x')),
            "email: domain label 'xxxxxxxxxxxxxxxxxxxx...' is 64 bytes, the limit is 63");
}

TEST(CanonicalEmailTest, DomainAndWholeLength) {
  // With a 1-byte local part the whole address reaches 254 at a 252-byte domain.
  EXPECT_EQ(Canon("a@" + DomainOfLength(252)), "a@" + DomainOfLength(252));
  EXPECT_EQ(Error("a@" + DomainOfLength(253)),
            "email: address is 255 bytes, the limit is 254");
  EXPECT_EQ(Error("a@" + DomainOfLength(254)), "email: domain is 254 bytes, the limit is 253");
  // The whole address at and past 254 with a long local part.
  const std::string local(64, 'a');
  EXPECT_EQ(Canon(local + "@" + DomainOfLength(189)), local + "@" + DomainOfLength(189));
  EXPECT_EQ(Error(local + "@" + DomainOfLength(190)),
            "email: address is 255 bytes, the limit is 254");
  // The trailing dot is not counted: 255 bytes entered, 254 canonical.
  EXPECT_EQ(Canon(local + "@" + DomainOfLength(189) + "."), local + "@" + DomainOfLength(189));
  EXPECT_EQ(Canon("a@" + DomainOfLength(252) + "."), "a@" + DomainOfLength(252));
}

TEST(CanonicalEmailTest, TrailingDotAndEmptyLabels) {
  EXPECT_EQ(Canon("a@x.com."), "a@x.com");
  EXPECT_EQ(Error("a@x.com.."), "email: empty domain label");
  EXPECT_EQ(Error("a@x..com"), "email: empty domain label");
  EXPECT_EQ(Error("a@.x.com"), "email: empty domain label");
  EXPECT_EQ(Error("a@.."), "email: empty domain label");
}

TEST(CanonicalEmailTest, DomainCharacters) {
  EXPECT_EQ(Canon("a@X-1.Example.COM"), "a@x-1.example.com");
  EXPECT_EQ(Canon("a@1.2.3.4"), "a@1.2.3.4");
  EXPECT_EQ(Canon("a@xn--bcher-kva.de"), "a@xn--bcher-kva.de");
  EXPECT_EQ(Error("a@x-.com"), "email: domain label 'x-' ends with a hyphen");
  EXPECT_EQ(Error("a@x.-com"), "email: domain label '-com' starts with a hyphen");
  EXPECT_EQ(Error("a@x!.com"), "email: invalid character '!' in domain");
  EXPECT_EQ(Error("a@x_y.com"), "email: invalid character '_' in domain");
  EXPECT_EQ(Error("a@x+y.com"), "email: invalid character '+' in domain");
  EXPECT_EQ(Error("a@x.com]"), "email: invalid character ']' in domain");
}

TEST(CanonicalEmailTest, LocalPartCharacters) {
  const std::string atext = "az09!#$%&'*-/=?^_`{|}~";
  EXPECT_EQ(Canon(atext + "@x.com"), atext + "@x.com");
  EXPECT_EQ(Canon("J\xC3\x9Crgen@x.com"), "j\xC3\x9Crgen@x.com");  // Ü kept as is.
  for (char c : std::string("(),:;<>[]\\")) {
    EXPECT_EQ(Error(std::string("a") + c + "b@x.com"),
              std::string("email: invalid character '") + c + "' in local part");
  }
  EXPECT_EQ(Error(".a@x.com"), "email: local part starts with a dot");
  EXPECT_EQ(Error("a.@x.com"), "email: local part ends with a dot");
  EXPECT_EQ(Error("a..b@x.com"), "email: two consecutive dots in the local part at byte 1");
}

TEST(CanonicalEmailTest, WhitespaceAndControlCharacters) {
  EXPECT_EQ(Error("ja ne@x.com"), "email: whitespace or control character at byte 2 (U+0020)");
  EXPECT_EQ(Error("  ja\tne@x.com"),
            "email: whitespace or control character at byte 4 (U+0009)");
  EXPECT_EQ(Error("jane@x\x01.com"),
            "email: whitespace or control character at byte 6 (U+0001)");
  EXPECT_EQ(Error("jane@x.com\x7f"),
            "email: whitespace or control character at byte 10 (U+007F)");
  EXPECT_EQ(Error(std::string("ja\0ne@x.com", 11)),
            "email: whitespace or control character at byte 2 (U+0000)");
  EXPECT_EQ(Error("jane\xC2\xA0@x.com"),
            "email: whitespace or control character at byte 4 (U+00A0)");
  EXPECT_EQ(Error("\xEF\xBB\xBFjane@x.com"),
            "email: whitespace or control character at byte 0 (U+FEFF)");
  EXPECT_EQ(Error("jane@x\xE3\x80\x80y.com"),
            "email: whitespace or control character at byte 6 (U+3000)");
  EXPECT_EQ(Error("jane\xC2\x85@x.com"),
            "email: whitespace or control character at byte 4 (U+0085)");
}

TEST(CanonicalEmailTest, InvalidUtf8) {
  EXPECT_EQ(Error("j\xC0\xAF@x.com"), "email: not valid UTF-8 at byte 1");          // Overlong.
  EXPECT_EQ(Error("j\xE0\x80\xAF@x.com"), "email: not valid UTF-8 at byte 1");      // Overlong.
  EXPECT_EQ(Error("j\xF0\x80\x80\xAF@x.com"), "email: not valid UTF-8 at byte 1");  // Overlong.
  EXPECT_EQ(Error("j\xED\xA0\x80@x.com"), "email: not valid UTF-8 at byte 1");      // Surrogate.
  EXPECT_EQ(Error("j\xF4\x90\x80\x80@x.com"), "email: not valid UTF-8 at byte 1");  // > U+10FFFF.
  EXPECT_EQ(Error("j\xF5\x80\x80\x80@x.com"), "email: not valid UTF-8 at byte 1");
  EXPECT_EQ(Error("j\x80@x.com"), "email: not valid UTF-8 at byte 1");  // Stray continuation.
  EXPECT_EQ(Error("j\xC3@x.com"), "email: not valid UTF-8 at byte 1");  // Truncated.
  EXPECT_EQ(Error("j\xE2\x82@x.com"), "email: not valid UTF-8 at byte 1");
  EXPECT_EQ(Error(" jane@x\xC3"), "email: not valid UTF-8 at byte 7");  // Truncated at the end.
  EXPECT_EQ(Error("jane@b\xFC" "cher.de"), "email: not valid UTF-8 at byte 6");  // Latin-1.
  // The largest code points of each length are fine.
  EXPECT_EQ(Canon("\xDF\xBF\xEF\xBF\xBD\xF4\x8F\xBF\xBF@x.com"),
            "\xDF\xBF\xEF\xBF\xBD\xF4\x8F\xBF\xBF@x.com");
}

TEST(CanonicalEmailTest, InternationalizedDomains) {
  EXPECT_EQ(Canon("user@b\xC3\xBC" "cher.de"), "user@xn--bcher-kva.de");
  EXPECT_EQ(Canon("user@b\xC3\xBC" "cher.de"), Canon("user@xn--bcher-kva.de"));
  EXPECT_EQ(Canon("USER@B\xC3\x9C" "CHER.DE"), "user@xn--bcher-kva.de");  // BÜCHER.DE
  EXPECT_EQ(Canon("user@b\xC3\xBC" "cher.de."), "user@xn--bcher-kva.de");
  // NFC: u + combining diaeresis is ü.
  EXPECT_EQ(Canon("user@bu\xCC\x88" "cher.de"), "user@xn--bcher-kva.de");
  // Fullwidth "gmail.com" maps to gmail.com, and the gmail rules apply.
  EXPECT_EQ(Canon("j.d+x@\xEF\xBD\x87mail.com"), "jd@gmail.com");
  // A label rule is checked on the input too.
  EXPECT_EQ(Error("user@b\xC3\xBC" "cher-.de"),
            "email: domain label 'b\xC3\xBC" "cher-' ends with a hyphen");
  // An unassigned code point (U+0378) is refused by libidn2.
  EXPECT_THAT(Error("user@\xCD\xB8.com"),
              StartsWith("email: domain is not a valid internationalized name: "));
}

TEST(CanonicalEmailTest, InternationalizedDomainLengthInALabelForm) {
  // 21 three-byte characters: a 63-byte label on input; its A-label is longer.
  std::string label;
  for (int i = 0; i < 21; ++i) label += "\xE4\xB8\x80";  // 一
  absl::StatusOr<CanonicalEmail> result = Canonicalize("a@" + label + ".cn", EmailPolicy::kProvider);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->canonical, StartsWith("a@xn--"));
  // A label that fits as UTF-8 (62 bytes) but not as an A-label (68 bytes).
  const std::string accented = std::string(50, 'a') +
      "\xC3\xA9\xC3\xBC\xC3\xB6\xC3\xA4\xC3\xB1\xC3\xA7";  // éüöäñç
  EXPECT_EQ(Error("a@" + accented + ".de"),
            "email: domain is not a valid internationalized name: punycode encoded data will "
            "be too large (a label in A-label form is limited to 63 bytes)");
  // The whole address is checked again with the A-label domain.
  const std::string local(64, 'a');
  std::string domain = DomainOfLength(180) + ".b\xC3\xBC" "cher";  // 188 bytes, 194 as A-label.
  EXPECT_EQ(Error(local + "@" + domain),
            "email: address is 259 bytes with the domain in A-label form, the limit is 254");
}

TEST(CanonicalEmailTest, GmailRules) {
  EXPECT_EQ(Canon("J.a.n.e@gmail.com"), "jane@gmail.com");
  EXPECT_EQ(Canon("jane+news.letter@gmail.com"), "jane@gmail.com");
  EXPECT_EQ(Canon("jane+a+b@gmail.com"), "jane@gmail.com");
  EXPECT_EQ(Canon("jane.+x@gmail.com"), "jane@gmail.com");
  EXPECT_EQ(Canon("Jane.Doe@googlemail.com"), "janedoe@gmail.com");
  // Nothing before the '+': the tag is the address.
  EXPECT_EQ(Canon("+x@gmail.com"), "+x@gmail.com");
  EXPECT_EQ(Canon("+@gmail.com"), "+@gmail.com");
  EXPECT_EQ(Canon("+x.y@gmail.com"), "+xy@gmail.com");
  EXPECT_EQ(Canon("a+@gmail.com"), "a@gmail.com");
  // Only the exact domain: no subdomains, no look-alikes.
  EXPECT_EQ(Canon("j.d+x@mail.gmail.com"), "j.d+x@mail.gmail.com");
  EXPECT_EQ(Canon("j.d+x@gmail.co"), "j.d+x@gmail.co");
  EXPECT_EQ(Canon("j.d+x@gmail.com."), "jd@gmail.com");
}

TEST(CanonicalEmailTest, EveryTagProvider) {
  for (const char* domain : {"outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com",
                             "fastmail.com", "protonmail.com", "proton.me"}) {
    SCOPED_TRACE(domain);
    const std::string d = domain;
    EXPECT_EQ(Canon("Jane.Doe+promo@" + d), "jane.doe@" + d);
    EXPECT_EQ(Canon("Jane.Doe+promo@" + absl::AsciiStrToUpper(d)), "jane.doe@" + d);
    EXPECT_EQ(Canon("a+@" + d), "a@" + d);
    EXPECT_EQ(Canon("+x@" + d), "+x@" + d);
    EXPECT_EQ(Canon("+@" + d), "+@" + d);
    // Removing the tag would leave "a.", not a local part: it stays.
    EXPECT_EQ(Canon("a.+x@" + d), "a.+x@" + d);
  }
  for (const char* domain : {"yahoo.com", "example.com", "me.co", "outlook.co", "proton.mail"}) {
    EXPECT_EQ(Canon(std::string("Jane.Doe+promo@") + domain),
              std::string("jane.doe+promo@") + domain);
  }
}

TEST(CanonicalEmailTest, StandardPolicy) {
  const EmailPolicy standard = EmailPolicy::kStandard;
  EXPECT_EQ(Canon(" Jane.Doe+promo@GoogleMail.com ", standard), "jane.doe+promo@gmail.com");
  EXPECT_EQ(Canon("Jane.Doe+promo@outlook.com", standard), "jane.doe+promo@outlook.com");
  EXPECT_EQ(Canon("user@B\xC3\x9C" "CHER.de", standard), "user@xn--bcher-kva.de");
  EXPECT_EQ(Error("a..b@gmail.com", standard),
            "email: two consecutive dots in the local part at byte 1");
}

TEST(CanonicalEmailTest, PolicyNames) {
  for (EmailPolicy policy : {EmailPolicy::kProvider, EmailPolicy::kStandard}) {
    absl::StatusOr<EmailPolicy> parsed = ParseEmailPolicy(EmailPolicyName(policy));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_EQ(EmailPolicyName(EmailPolicy::kProvider), "provider");
  EXPECT_EQ(EmailPolicyName(EmailPolicy::kStandard), "standard");
  absl::StatusOr<EmailPolicy> bad = ParseEmailPolicy("Provider");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'provider' and 'standard'"));
}

TEST(CanonicalEmailTest, CanonicalizeIntoMatchesCanonicalize) {
  for (const char* input : {" Jane.Doe+promo@GoogleMail.com ", "a@b", "user@b\xC3\xBC" "cher.de",
                            "jane@@x.com", "x+y@outlook.com."}) {
    for (EmailPolicy policy : {EmailPolicy::kProvider, EmailPolicy::kStandard}) {
      CanonicalBuffer buffer;
      absl::string_view entered;
      const absl::Status status = CanonicalizeInto(input, policy, &buffer, &entered);
      const absl::StatusOr<CanonicalEmail> owned = Canonicalize(input, policy);
      ASSERT_EQ(status, owned.status()) << input;
      if (!status.ok()) continue;
      EXPECT_EQ(buffer.view(), owned->canonical);
      EXPECT_EQ(entered, owned->entered);
    }
  }
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Random addresses near the interesting cases: dots, tags, case, non-ASCII, the
// provider domains, trailing dots.
std::string GeneratedInput(uint64_t* rng) {
  static const std::vector<std::string> kLocalPieces = {
      "a", "B", "jane", "DOE", ".", ".", "+", "+", "-", "_", "9", "\xC3\xA9", "\xC3\x89", "!", "~"};
  static const std::vector<std::string> kDomains = {
      "gmail.com", "GoogleMail.com", "outlook.com", "Hotmail.COM", "live.com", "icloud.com",
      "me.com", "fastmail.com", "protonmail.com", "proton.me", "example.com", "b",
      "b\xC3\xBC" "cher.de", "B\xC3\x9C" "CHER.DE", "xn--bcher-kva.de", "x-y.example.org",
      "\xEF\xBD\x87mail.com"};
  std::string local;
  const int pieces = 1 + SplitMix64(rng) % 6;
  for (int i = 0; i < pieces; ++i) local += kLocalPieces[SplitMix64(rng) % kLocalPieces.size()];
  std::string email = local + "@" + kDomains[SplitMix64(rng) % kDomains.size()];
  if (SplitMix64(rng) % 8 == 0) email += ".";
  if (SplitMix64(rng) % 8 == 0) email = "  " + email + "\t";
  return email;
}

TEST(CanonicalEmailTest, Idempotent) {
  uint64_t rng = 42;
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string input = GeneratedInput(&rng);
    for (EmailPolicy policy : {EmailPolicy::kProvider, EmailPolicy::kStandard}) {
      absl::StatusOr<CanonicalEmail> once = Canonicalize(input, policy);
      if (!once.ok()) continue;
      ++accepted;
      absl::StatusOr<CanonicalEmail> twice = Canonicalize(once->canonical, policy);
      ASSERT_TRUE(twice.ok()) << input << " -> " << once->canonical << ": " << twice.status();
      EXPECT_EQ(twice->canonical, once->canonical) << input;
    }
  }
  EXPECT_GT(accepted, 10000);  // The generator exercises the accepting paths.
}

// Short addresses over the fast path's alphabet, dense in its edge cases: dots,
// hyphens and '+' next to '@' and to each other, provider domains, trailing dots.
std::string GeneratedPlainInput(uint64_t* rng) {
  static const std::vector<std::string> kLocalPieces = {
      "a", "B", "x9", "Jane", ".", ".", "+", "+", "-", "_", "0"};
  static const std::vector<std::string> kDomainPieces = {
      "gmail.com", "GoogleMail.COM", "outlook.com", "Me.com", "proton.me", "x", "Y", "-",
      ".", ".", "y-z", "+", "_", "@", "9"};
  std::string email;
  const int local_pieces = SplitMix64(rng) % 5;
  for (int i = 0; i < local_pieces; ++i) email += kLocalPieces[SplitMix64(rng) % kLocalPieces.size()];
  email += '@';
  const int domain_pieces = SplitMix64(rng) % 4;
  for (int i = 0; i < domain_pieces; ++i) email += kDomainPieces[SplitMix64(rng) % kDomainPieces.size()];
  if (SplitMix64(rng) % 6 == 0) email += '.';
  if (SplitMix64(rng) % 50 == 0) email = std::string(40, 'l') + email;  // Near 64 bytes.
  return email;
}

TEST(CanonicalEmailTest, FastPathAgreesWithGeneralPath) {
  uint64_t rng = 7;
  int fast_accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string input = i == 0 ? "Jane.Doe+promo@GoogleMail.com" : GeneratedPlainInput(&rng);
    for (EmailPolicy policy : {EmailPolicy::kProvider, EmailPolicy::kStandard}) {
      CanonicalBuffer fast;
      CanonicalBuffer general;
      const bool fast_ok =
          email_internal::CanonicalizeShortAscii(input.data(), input.size(), policy, &fast);
      const absl::Status status = email_internal::CanonicalizeGeneral(
          input.data(), input.size(), 0, policy, &general);
      if (input.size() <= email_internal::kShortAddressBytes) {
        ASSERT_EQ(fast_ok, status.ok()) << input << ": " << status;
      } else {
        ASSERT_FALSE(fast_ok) << input;
      }
      if (!fast_ok) continue;
      ++fast_accepted;
      ASSERT_EQ(fast.view(), general.view()) << input;
    }
  }
  EXPECT_GT(fast_accepted, 20000);
}

}  // namespace
}  // namespace attrib::engine
