// engine/utf8.h
//
// Strict UTF-8 validation (no overlong forms, no surrogates, nothing above
// U+10FFFF), for text the engine stores: customer names, emails as entered.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_UTF8_H_
#define ATTRIB_ENGINE_UTF8_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace attrib::engine {

// Length (2-4) of the well-formed UTF-8 sequence at p (Unicode Table 3-7: no
// overlongs, no surrogates, nothing above U+10FFFF), or 0. Stores the code point.
inline size_t DecodeUtf8(const uint8_t* p, size_t avail, uint32_t* cp) {
  const uint8_t b0 = p[0];
  auto cont = [&](size_t i, uint8_t lo, uint8_t hi) {
    return i < avail && p[i] >= lo && p[i] <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1, 0x80, 0xBF)) return 0;
    *cp = (uint32_t{b0} & 0x1F) << 6 | (p[1] & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;  // E0: no overlongs.
    const uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;  // ED: no surrogates.
    if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF)) return 0;
    *cp = (uint32_t{b0} & 0x0F) << 12 | uint32_t{p[1] & 0x3Fu} << 6 | (p[2] & 0x3F);
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;  // F0: no overlongs.
    const uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;  // F4: nothing above U+10FFFF.
    if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF) || !cont(3, 0x80, 0xBF)) return 0;
    *cp = (uint32_t{b0} & 0x07) << 18 | uint32_t{p[1] & 0x3Fu} << 12 |
          uint32_t{p[2] & 0x3Fu} << 6 | (p[3] & 0x3F);
    return 4;
  }
  return 0;  // Stray continuation byte, C0/C1 overlong lead, or F5..FF.
}


// Returns the byte offset of the first invalid sequence, or `s.size()` when all of
// `s` is valid UTF-8.
size_t FindInvalidUtf8(absl::string_view s);

inline bool IsValidUtf8(absl::string_view s) { return FindInvalidUtf8(s) == s.size(); }

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_UTF8_H_
