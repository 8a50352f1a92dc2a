// tools/cli_values.cc: command-line value parsers and printers (see the header).
#include "tools/cli_values.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/types.h"

namespace attrib::tools {

absl::StatusOr<uint64_t> ParseId(absl::string_view what, absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  uint64_t value = 0;
  if (trimmed.empty() || !std::all_of(trimmed.begin(), trimmed.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(trimmed, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' is not a number (expected an id > 0)"));
  }
  if (value == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": must be > 0"));
  return value;
}

absl::StatusOr<int64_t> ParseTimeMs(absl::string_view what, absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  int64_t ms = 0;
  if (!trimmed.empty() && std::all_of(trimmed.begin(), trimmed.end(), absl::ascii_isdigit)) {
    if (!absl::SimpleAtoi(trimmed, &ms)) ms = -1;
  } else {
    const std::string input(trimmed);
    absl::Time time;
    std::string error;
    // RFC 3339 ("Z" or an offset, optional fraction), or a bare date (midnight UTC).
    if (!absl::ParseTime(absl::RFC3339_full, input, &time, &error) &&
        !absl::ParseTime("%Y-%m-%d", input, absl::UTCTimeZone(), &time, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": '", text,
          "' is neither milliseconds since the epoch nor a time like "
          "2024-01-31T12:00:00Z"));
    }
    ms = absl::ToUnixMillis(time);
  }
  if (ms < 1 || ms > engine::kMaxTimeMs) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' is out of range (1 .. ", engine::kMaxTimeMs,
                     " ms since the epoch)"));
  }
  return ms;
}

absl::StatusOr<int64_t> ParseOptionalTimeMs(absl::string_view what, absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) return 0;
  return ParseTimeMs(what, text);
}

std::string IsoTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(code));
}

}  // namespace attrib::tools
