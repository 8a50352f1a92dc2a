// engine/utf8.cc: strict UTF-8 validation (see the header).
#include "engine/utf8.h"

namespace attrib::engine {

size_t FindInvalidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t len = DecodeUtf8(p + i, n - i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

}  // namespace attrib::engine
