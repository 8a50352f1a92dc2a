// net/wire_codes.h
//
// The wire ErrorCode (net/attrib.capnp) mirrors absl::StatusCode one to one, plus
// notPrimary (17, issue 16: unavailable with a payload inside attrib); these
// convert between them and name a code for people ("not_found"). Shared by the
// handler (server side) and the client library.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_NET_WIRE_CODES_H_
#define ATTRIB_NET_WIRE_CODES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "net/attrib.capnp.h"

namespace attrib::net {

wire::ErrorCode ToWireCode(absl::StatusCode code);
// Codes outside the known range (a newer server) become kUnknown; notPrimary (issue
// 16) becomes kUnavailable (ErrorStatus adds the primary as the payload).
absl::StatusCode FromWireCode(wire::ErrorCode code);
absl::string_view WireCodeName(wire::ErrorCode code);

}  // namespace attrib::net

#endif  // ATTRIB_NET_WIRE_CODES_H_
