// engine/utf8.h
//
// Strict UTF-8 validation (no overlong forms, no surrogates, nothing above
// U+10FFFF), for text the engine stores: customer names, emails as entered.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_UTF8_H_
#define ATTRIB_ENGINE_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace attrib::engine {

// Returns the byte offset of the first invalid sequence, or `s.size()` when all of
// `s` is valid UTF-8.
size_t FindInvalidUtf8(absl::string_view s);

inline bool IsValidUtf8(absl::string_view s) { return FindInvalidUtf8(s) == s.size(); }

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_UTF8_H_
