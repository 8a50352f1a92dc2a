// common/status_code_name.cc: see the header.
#include "common/status_code_name.h"

namespace attrib {

absl::string_view StatusCodeName(absl::StatusCode code) {
  static constexpr absl::string_view kNames[] = {
      "ok",          "cancelled",         "unknown",        "invalid_argument",
      "deadline_exceeded", "not_found",   "already_exists", "permission_denied",
      "resource_exhausted", "failed_precondition", "aborted", "out_of_range",
      "unimplemented", "internal",        "unavailable",    "data_loss",
      "unauthenticated",
  };
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kStatusCodeCount);
  static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) + 1 == kStatusCodeCount);
  const int v = static_cast<int>(code);
  if (v < 0 || v >= kStatusCodeCount) return "unknown_code";
  return kNames[v];
}

}  // namespace attrib
