// tools/cli_values.h
//
// What the command-line tools (attribctl, attrib-restore) share about values on a
// command line and in their output: the exit codes, parsers whose errors name the
// argument, and the RFC 3339 form of a time. No network, no files.
//
// Exit codes (scripts rely on them; each tool documents them in its usage text):
//   0  ok
//   1  the operation ran and found a problem: the server answered with an error,
//      rows of an import were rejected, a data directory failed to verify, ...
//   2  usage error: unknown subcommand or flag, missing or malformed argument
// (attribctl adds 3: the server could not be reached; attribctl_common.h.)
//
// Thread-safety: pure functions and constants.
#ifndef ATTRIB_TOOLS_CLI_VALUES_H_
#define ATTRIB_TOOLS_CLI_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Parsers whose errors name the argument: "--shop: 'x' is not a number".
absl::StatusOr<uint64_t> ParseId(absl::string_view what, absl::string_view text);
// Milliseconds since the epoch ("1706702400000") or an ISO-8601 / RFC 3339 time
// ("2024-01-31T12:00:00Z", "2024-01-31T12:00:00.250+01:00", or a date "2024-01-31",
// midnight UTC). Result in [1, engine::kMaxTimeMs].
absl::StatusOr<int64_t> ParseTimeMs(absl::string_view what, absl::string_view text);
// "" -> 0 (not given, the server uses now), else ParseTimeMs.
absl::StatusOr<int64_t> ParseOptionalTimeMs(absl::string_view what, absl::string_view text);

// "2024-01-31T12:00:00Z" (fraction only when not whole seconds).
std::string IsoTime(int64_t ms);

// "not_found", "already_exists", ...: the snake_case name of an absl status code,
// as scripts see it in JSON output.
std::string CodeName(absl::StatusCode code);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_CLI_VALUES_H_
