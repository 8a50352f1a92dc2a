// common/status_code_name.h
//
// The snake_case name of an absl::StatusCode ("not_found"), as the metrics, the
// `stats` reply, attribctl --json and the HTTP API's problem `code` spell it. One
// table for every layer (the wire's ErrorCode mirrors absl::StatusCode one to one).
//
// Thread-safety: pure function.
#ifndef ATTRIB_COMMON_STATUS_CODE_NAME_H_
#define ATTRIB_COMMON_STATUS_CODE_NAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace attrib {

// The codes 0 (ok) .. 16 (unauthenticated).
inline constexpr int kStatusCodeCount = 17;

// A code outside 0..16 is "unknown_code".
absl::string_view StatusCodeName(absl::StatusCode code);

}  // namespace attrib

#endif  // ATTRIB_COMMON_STATUS_CODE_NAME_H_
