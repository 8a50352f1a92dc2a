// common/not_primary.h
//
// The `not_primary` error (issue 16): a write sent to a replica. Inside attrib it
// is an absl::Status of code Unavailable (a replica is, for writes, unavailable)
// carrying the payload kNotPrimaryPayload with the primary's client-facing
// addresses; the front ends turn it into their own form (the native protocol's
// ErrorCode notPrimary with Error.primary, the HTTP API's 421 problem with code
// "not_primary" and a `primary` field), and the client library turns the wire error
// back into this Status. Counters and metrics count it as `unavailable`.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_COMMON_NOT_PRIMARY_H_
#define ATTRIB_COMMON_NOT_PRIMARY_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace attrib {

inline constexpr absl::string_view kNotPrimaryPayload = "attrib/not_primary";

// Where the primary serves clients; either may be empty (not known yet).
struct PrimaryAddresses {
  std::string native;  // Its --listen (the Cap'n Proto protocol), host:port.
  std::string http;    // Its --http_listen, host:port.
};

// Unavailable(message) with the addresses as the payload.
absl::Status NotPrimaryError(absl::string_view message, const PrimaryAddresses& primary);
// The addresses of a not_primary error; nullopt for any other status.
std::optional<PrimaryAddresses> GetNotPrimary(const absl::Status& status);

}  // namespace attrib

#endif  // ATTRIB_COMMON_NOT_PRIMARY_H_
