// net/wire_codes.cc: wire error codes <-> absl::StatusCode (see the header).
#include "net/wire_codes.h"

#include <cstdint>

#include "common/status_code_name.h"

namespace attrib::net {
namespace {

template <typename E>
constexpr uint16_t U(E e) {
  return static_cast<uint16_t>(e);
}

#define ATTRIB_SAME_VALUE(engine_value, wire_value) \
  static_assert(U(engine_value) == U(wire_value), #engine_value " != " #wire_value)
ATTRIB_SAME_VALUE(absl::StatusCode::kOk, wire::ErrorCode::OK);
ATTRIB_SAME_VALUE(absl::StatusCode::kCancelled, wire::ErrorCode::CANCELLED);
ATTRIB_SAME_VALUE(absl::StatusCode::kUnknown, wire::ErrorCode::UNKNOWN);
ATTRIB_SAME_VALUE(absl::StatusCode::kInvalidArgument, wire::ErrorCode::INVALID_ARGUMENT);
ATTRIB_SAME_VALUE(absl::StatusCode::kDeadlineExceeded, wire::ErrorCode::DEADLINE_EXCEEDED);
ATTRIB_SAME_VALUE(absl::StatusCode::kNotFound, wire::ErrorCode::NOT_FOUND);
ATTRIB_SAME_VALUE(absl::StatusCode::kAlreadyExists, wire::ErrorCode::ALREADY_EXISTS);
ATTRIB_SAME_VALUE(absl::StatusCode::kPermissionDenied, wire::ErrorCode::PERMISSION_DENIED);
ATTRIB_SAME_VALUE(absl::StatusCode::kResourceExhausted, wire::ErrorCode::RESOURCE_EXHAUSTED);
ATTRIB_SAME_VALUE(absl::StatusCode::kFailedPrecondition,
                  wire::ErrorCode::FAILED_PRECONDITION);
ATTRIB_SAME_VALUE(absl::StatusCode::kAborted, wire::ErrorCode::ABORTED);
ATTRIB_SAME_VALUE(absl::StatusCode::kOutOfRange, wire::ErrorCode::OUT_OF_RANGE);
ATTRIB_SAME_VALUE(absl::StatusCode::kUnimplemented, wire::ErrorCode::UNIMPLEMENTED);
ATTRIB_SAME_VALUE(absl::StatusCode::kInternal, wire::ErrorCode::INTERNAL);
ATTRIB_SAME_VALUE(absl::StatusCode::kUnavailable, wire::ErrorCode::UNAVAILABLE);
ATTRIB_SAME_VALUE(absl::StatusCode::kDataLoss, wire::ErrorCode::DATA_LOSS);
ATTRIB_SAME_VALUE(absl::StatusCode::kUnauthenticated, wire::ErrorCode::UNAUTHENTICATED);

#undef ATTRIB_SAME_VALUE

constexpr uint16_t kLastWireCode = U(wire::ErrorCode::UNAUTHENTICATED);

}  // namespace

wire::ErrorCode ToWireCode(absl::StatusCode code) {
  const int v = static_cast<int>(code);
  if (v < 0 || v > kLastWireCode) return wire::ErrorCode::UNKNOWN;
  return static_cast<wire::ErrorCode>(v);
}

absl::StatusCode FromWireCode(wire::ErrorCode code) {
  // Issue 16: inside attrib a not_primary error is unavailable with a payload
  // (common/not_primary.h).
  if (code == wire::ErrorCode::NOT_PRIMARY) return absl::StatusCode::kUnavailable;
  if (U(code) > kLastWireCode) return absl::StatusCode::kUnknown;
  return static_cast<absl::StatusCode>(U(code));
}

absl::string_view WireCodeName(wire::ErrorCode code) {
  if (code == wire::ErrorCode::NOT_PRIMARY) return "not_primary";
  if (U(code) > kLastWireCode) return "unknown_code";
  return StatusCodeName(static_cast<absl::StatusCode>(U(code)));
}

}  // namespace attrib::net
