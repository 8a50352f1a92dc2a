// engine/canonical_email_simd.cc
//
// The fast path of CanonicalizeInto() (see canonical_email_internal.h). A trimmed
// address of at most 64 bytes made only of letters, digits and . + - _ @ (nearly
// every real address) is classified 16 bytes at a time with SSE2 into bit masks,
// one bit per byte (SSSE3), so every SPEC §2 rule that applies to such an address becomes
// a few mask operations instead of a branch per byte; the ASCII letters are
// lowercased with one add per 16 bytes. Anything else, valid or not, returns false
// and goes to the general path, which owns every error message.
//
// Why the rules reduce to masks here: with n <= 64, the local part (<= 62 bytes),
// the domain and every label are under their limits, and the character set leaves
// only the '@' count, empty parts, dot placement, hyphens at label ends, and '+'
// or '_' in the domain to check.
//
// Thread-safety: a pure function; callable from any thread.
#include <cstring>

#include "engine/canonical_email_internal.h"

#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

namespace attrib::engine::email_internal {

#ifdef __SSSE3__  // The build enables SSE4.2 (CMakeLists.txt); SSSE3 is the minimum.

namespace {

// Shuffle indexes for Load16's tail: 16 unused entries, 0..15, then 16 x 0x80
// (pshufb writes 0 for an index with the top bit set).
constexpr int8_t kTailShuffle[48] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128};

// src[start, start + 16), reading only inside src[0, len) (len >= 16, start <
// len): bytes at or past len read as 0. The tail is the last 16 bytes of src
// shuffled down, not a copy through memory, which would stall the load on
// store forwarding.
inline __m128i Load16(const char* src, size_t len, size_t start) {
  if (start + 16 <= len) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + start));
  const size_t left = len - start;  // 1..15
  const __m128i tail = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + len - 16));
  const __m128i shuffle =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTailShuffle + 32 - left));
  return _mm_shuffle_epi8(tail, shuffle);
}

// Bytes 'A'-'Z' of v set to all ones (signed compares: bytes >= 0x80 are negative).
inline __m128i UpperMask(__m128i v) {
  return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
                       _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
}

inline __m128i Lowercase(__m128i v) {
  return _mm_add_epi8(v, _mm_and_si128(UpperMask(v), _mm_set1_epi8(0x20)));
}

// Bits [0, i) for i in [0, 64].
inline uint64_t BitsBelow(size_t i) {
  return i >= 64 ? ~uint64_t{0} : (uint64_t{1} << i) - 1;
}

inline uint64_t Bit(size_t i) { return uint64_t{1} << i; }

inline uint64_t MaskOf(__m128i bytes_cmp, size_t chunk) {
  return uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(bytes_cmp))} << (16 * chunk);
}

}  // namespace

bool CanonicalizeShortAscii(const char* s, size_t n, EmailPolicy policy,
                            CanonicalBuffer* out) {
  static_assert(kShortAddressBytes == 64, "one bit per byte in a uint64_t");
  // Whole chunks are stored: up to 64 bytes, and for a moved domain up to 16 past
  // its end, which is at most byte 63.
  static_assert(sizeof(out->data) >= kShortAddressBytes + 16, "chunks are stored whole");
  if (n < 3 || n > kShortAddressBytes) return false;  // "a@b" is the shortest.
  // Short inputs are padded to 16 bytes, for Load16; a 0 byte is in no class.
  alignas(16) char padded[16] = {};
  const char* src = s;
  size_t src_len = n;
  if (n < 16) {
    memcpy(padded, s, n);
    src = padded;
    src_len = 16;
  }

  uint64_t at = 0, dot = 0, plus = 0, hyphen = 0, underscore = 0, plain = 0;
  const size_t chunks = (n + 15) / 16;
  for (size_t k = 0; k < chunks; ++k) {
    const __m128i v = Load16(src, src_len, 16 * k);
    // Signed compares: bytes >= 0x80 are negative, so in no range below.
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));  // 'A'-'Z' -> 'a'-'z'
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                        _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    const __m128i is_at = _mm_cmpeq_epi8(v, _mm_set1_epi8('@'));
    const __m128i is_dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    const __m128i is_plus = _mm_cmpeq_epi8(v, _mm_set1_epi8('+'));
    const __m128i is_hyphen = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    const __m128i is_underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    const __m128i any = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(letter, digit), _mm_or_si128(is_at, is_dot)),
        _mm_or_si128(_mm_or_si128(is_plus, is_hyphen), is_underscore));
    at |= MaskOf(is_at, k);
    dot |= MaskOf(is_dot, k);
    plus |= MaskOf(is_plus, k);
    hyphen |= MaskOf(is_hyphen, k);
    underscore |= MaskOf(is_underscore, k);
    plain |= MaskOf(any, k);
    // Lowercased straight into the output: the local part is in place.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out->data + 16 * k), Lowercase(v));
  }

  const uint64_t valid = BitsBelow(n);
  if ((plain & valid) != valid) return false;  // Another character.
  if (at == 0 || (at & (at - 1)) != 0) return false;  // Not exactly one '@'.
  const size_t a = static_cast<size_t>(__builtin_ctzll(at));
  const size_t end = (dot & Bit(n - 1)) ? n - 1 : n;  // Drop one trailing dot.
  if (a == 0 || end <= a + 1) return false;  // Empty local part or domain.

  const uint64_t local = BitsBelow(a);
  const uint64_t local_dots = dot & local;
  // Dot-atom: no leading, trailing or consecutive dots.
  if (local_dots & (Bit(0) | Bit(a - 1) | (local_dots >> 1))) return false;

  const uint64_t domain = BitsBelow(end) & ~BitsBelow(a + 1);
  if ((plus | underscore) & domain) return false;
  const uint64_t domain_dots = dot & domain;
  const uint64_t label_first = ((domain_dots << 1) | Bit(a + 1)) & domain;
  const uint64_t label_last = ((domain_dots >> 1) | Bit(end - 1)) & domain;
  // A dot at a label's first or last byte is an empty label.
  if ((domain_dots | hyphen) & (label_first | label_last)) return false;

  // Valid. Now SPEC §2 steps 6-7. The rules are read from the input, not from
  // the bytes just stored (store forwarding again).
  char* d = out->data;
  size_t domain_len = end - a - 1;
  const DomainRules rules = RulesOf(s + a + 1, domain_len);
  const Provider provider = policy == EmailPolicy::kProvider ? rules.provider : Provider::kNone;
  size_t o = a;  // Canonical local part length.
  const uint64_t local_plus = plus & local;
  if (provider != Provider::kNone && local_plus != 0) {
    // The tag goes when something remains before the '+' that is a local part on
    // its own: not a trailing dot, unless gmail drops the dots anyway.
    const size_t p = static_cast<size_t>(__builtin_ctzll(local_plus));
    if (p > 0 && (provider == Provider::kGmail || !(dot & Bit(p - 1)))) o = p;
  }
  if (provider == Provider::kGmail && local_dots != 0) {
    size_t w = 0;
    for (size_t i = 0; i < o; ++i) {
      d[w] = d[i];
      w += d[i] != '.';
    }
    o = w;
  }
  if (rules.googlemail) {
    memcpy(d + o + 1, "gmail.com", 9);
    domain_len = 9;
  } else if (o != a) {
    // Lowercased again from the input, 16 bytes at a time (reading the input,
    // so the overlap with what was stored above does not matter); the stores may
    // run up to 15 bytes past the domain, inside `data`.
    for (size_t i = 0; i < domain_len; i += 16) {
      const __m128i v = Load16(src, src_len, a + 1 + i);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + o + 1 + i), Lowercase(v));
    }
  }
  d[o] = '@';
  out->size = static_cast<uint8_t>(o + 1 + domain_len);
  return true;
}

#else  // !__SSSE3__

bool CanonicalizeShortAscii(const char*, size_t, EmailPolicy, CanonicalBuffer*) {
  return false;  // The general path handles everything.
}

#endif  // __SSSE3__

}  // namespace attrib::engine::email_internal
