// net/handler_convert.h
//
// Conversions between the engine's C++ values (engine/types.h, engine/engine.h) and
// the wire schema (net/attrib.capnp), used by the request handler. Internal to
// attrib_handler; the client library has its own (reader -> engine) direction.
//
// Enums: both sides use the same numeric values, checked by static_asserts in the
// .cc. Engine -> wire is a plain cast. Wire -> engine is checked: a newer client may
// send a value this server does not know, which is an invalid_argument naming the
// field, never an out-of-range engine enum.
//
// Texts: engine strings are copied straight into the response message (init + copy,
// no temporary); wire texts are viewed in place (View()), never copied.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_NET_HANDLER_CONVERT_H_
#define ATTRIB_NET_HANDLER_CONVERT_H_

#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "capnp/blob.h"
#include "engine/connection_list.h"
#include "engine/engine.h"
#include "engine/types.h"
#include "net/attrib.capnp.h"

namespace attrib::net {

// A wire text as a view of the frame's bytes (valid while the frame is).
inline absl::string_view View(capnp::Text::Reader text) {
  return absl::string_view(text.begin(), text.size());
}

// Copies `s` into a text field initialised with exactly s.size() bytes:
//   CopyText(s, builder.initName(s.size()));
inline void CopyText(absl::string_view s, capnp::Text::Builder out) {
  if (!s.empty()) std::memcpy(out.begin(), s.data(), s.size());
}

// --- Enums, engine -> wire.
wire::Source ToWire(engine::Source v);
wire::ValidityMode ToWire(engine::ValidityMode v);
wire::Precedence ToWire(engine::Precedence v);
wire::Reason ToWire(engine::Reason v);
wire::Activity ToWire(engine::InactiveReason v);
wire::ConnectResult::Outcome ToWire(engine::ConnectResult::Outcome v);

// --- Enums, wire -> engine (InvalidArgument "<field>: unknown value N").
absl::StatusOr<engine::Source> FromWire(wire::Source v, absl::string_view field);
absl::StatusOr<engine::ConnectMode> FromWire(wire::ConnectMode v, absl::string_view field);
absl::StatusOr<engine::ValidityMode> FromWire(wire::ValidityMode v, absl::string_view field);
absl::StatusOr<engine::Precedence> FromWire(wire::Precedence v, absl::string_view field);
// unknown -> nullopt, yes -> true, no -> false.
absl::StatusOr<std::optional<bool>> FromWire(wire::Tristate v, absl::string_view field);

// --- Values, engine -> wire.
void ToWire(const engine::Connection& c, wire::Connection::Builder out);
void ToWire(const engine::ConnectionView& c, wire::Connection::Builder out);
void ToWire(const engine::ConnectionStatus& s, wire::Status::Builder out);
void ToWire(const engine::LookupResult& r, wire::LookupResult::Builder out);
void ToWire(const engine::AttributionDecision& d, wire::Decision::Builder out);
void ToWire(const engine::ShopSettings& s, wire::Settings::Builder out);

// --- Requests, wire -> engine. Errors name the field.
absl::StatusOr<engine::ShopSettingsPatch> FromWire(wire::SettingsPatch::Reader patch);
// Fills `out` (wire optionals: 0 / `any` -> nullopt). Copies only what the engine's
// request owns (email_prefix, cursor).
absl::Status FromWire(wire::ListRequest::Reader r, engine::ListRequest* out);

// Fills an Error from a non-OK status: code, message, and currentAffiliate from the
// engine's kCurrentAffiliatePayload. Returns the code.
wire::ErrorCode SetError(const absl::Status& status, wire::Error::Builder out);
// A request that failed as a whole: `status` as the Response's error.
inline wire::ErrorCode Fail(const absl::Status& status, wire::Response::Builder out) {
  return SetError(status, out.initError());
}
// Wire optional times: 0 means "not given".
inline std::optional<engine::TimeMs> OptionalTime(int64_t t) {
  return t == 0 ? std::nullopt : std::optional<engine::TimeMs>(t);
}

}  // namespace attrib::net

#endif  // ATTRIB_NET_HANDLER_CONVERT_H_
