// tools/attribctl_common.h
//
// What every attribctl subcommand shares: the exit codes, the parsed command line
// (CtlOptions, filled once by main from the flags), argument parsers that give
// usage-level errors, and opening a Client to the server.
//
// Exit codes (documented in the usage text; scripts rely on them):
//   0  ok
//   1  the server answered with an error (not_found, already_connected, an invalid
//      email...), or some rows of an import were rejected
//   2  usage error: unknown subcommand or flag, missing or malformed argument
//   3  the server could not be reached, or the connection was lost or broken
//
// Thread-safety: a single-threaded program; these are plain values and functions.
#ifndef ATTRIB_TOOLS_ATTRIBCTL_COMMON_H_
#define ATTRIB_TOOLS_ATTRIBCTL_COMMON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/client.h"
#include "tools/cli_values.h"

namespace attrib::tools {

namespace wire = ::attrib::net::wire;

// kExitOk, kExitFailed, kExitUsage: tools/cli_values.h.
inline constexpr int kExitUnreachable = 3;

inline constexpr absl::string_view kDefaultServer = "127.0.0.1:7411";

// The command line after flag parsing. Strings left empty mean "not given"; each
// subcommand applies its own default (e.g. --source is `manual` for connect,
// `import` for import, any for list).
struct CtlOptions {
  std::vector<std::string> args;  // Positional arguments after the subcommand name.

  // Connection.
  std::string server{kDefaultServer};
  std::string token;  // The content of --token-file, trailing newline trimmed.
  absl::Duration timeout = absl::Seconds(30);
  bool tls = false;    // --tls, or implied by --tls_ca.
  std::string tls_ca;  // PEM CA bundle; empty: the system's default CAs.
  bool json = false;

  // Operation arguments.
  uint64_t shop = 0;                  // 0: not given.
  std::optional<uint64_t> affiliate;  // --affiliate.
  std::string source;
  std::string mode;
  std::optional<std::string> name;    // Given, even empty.
  std::string connected_at;
  std::string at;
  std::string email;                  // attribute --email.
  uint64_t referral = 0;              // attribute --referral.
  std::string customer_is_new;        // attribute --new: yes | no | "".
  std::string ordered_at;
  std::string prefix;
  std::string cursor;
  uint32_t limit = 0;
  bool all = false;
  uint32_t pipeline = 256;
  std::string email_policy;
  std::string status;                 // affiliate: active | disabled | "".
  std::string external_id;            // connect/disconnect/lookup/attribute (issue 12).
  std::string keep;                   // customer merge: into | from | earliest | "".
  bool force = false;                 // promote --force.
  uint64_t min_seq = 0;               // Reads: Request.minSeq (issue 16).
};

// Prints "attribctl: <message>" and the usage text on stderr; returns kExitUsage.
// Defined in attribctl.cc, next to the subcommand table it prints.
int UsageError(absl::string_view message);

// ParseId, ParseTimeMs, ParseOptionalTimeMs, CodeName: tools/cli_values.h.

// --shop is required by most subcommands: its value, or a usage error (returned as
// an InvalidArgument status; callers turn it into UsageError()).
absl::StatusOr<uint64_t> RequireShop(const CtlOptions& options);

// Connects (and authenticates) to options.server.
absl::StatusOr<std::unique_ptr<net::Client>> OpenClient(const CtlOptions& options);

// The exit code for a failed request: kExitUnreachable for a connection error,
// kExitFailed for an error the server answered.
int ExitCodeFor(const absl::Status& status);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBCTL_COMMON_H_
