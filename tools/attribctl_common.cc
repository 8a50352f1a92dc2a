// tools/attribctl_common.cc: argument parsers and client setup shared by the
// attribctl subcommands (see the header).
#include "tools/attribctl_common.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

absl::StatusOr<uint64_t> RequireShop(const CtlOptions& options) {
  if (options.shop == 0) return absl::InvalidArgumentError("--shop=N is required (N > 0)");
  return options.shop;
}

absl::StatusOr<std::unique_ptr<net::Client>> OpenClient(const CtlOptions& options) {
  net::ClientOptions client_options;
  client_options.timeout = options.timeout;
  client_options.auth_token = options.token;
  return net::Client::Connect(options.server, client_options);
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return net::IsConnectionError(status) ? kExitUnreachable : kExitFailed;
}

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(code));
}

}  // namespace attrib::tools
