// http/json_in.h
//
// Reading the HTTP API's JSON request bodies and query values: RapidJSON parses the
// body in place (ParseInsitu: strings are unescaped inside the body's own buffer, no
// copies), then these helpers read typed fields. Every error is InvalidArgument with
// a message naming the field (or the byte offset of a syntax error), and with the
// field's name as `field` (FieldOf) for the problem document's `field` member.
// Unknown members are rejected, so a misspelt optional field is not silently
// ignored.
//
// Ids are accepted as decimal strings or as integers up to 2^53 - 1 (what a
// JavaScript number holds exactly); times as ms since the epoch or RFC 3339 strings.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_HTTP_JSON_IN_H_
#define ATTRIB_HTTP_JSON_IN_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/types.h"
#include "rapidjson/document.h"

namespace attrib::http {

// An InvalidArgument for `field` ("field: why"), carrying the field's name.
absl::Status FieldError(absl::string_view field, absl::string_view why);
// The field an InvalidArgument names: the payload FieldError sets, else the
// message's leading identifier (with an index: "emails[0]") before ": " (the
// engine's convention), else "".
std::string FieldOf(const absl::Status& status);

// Parses `body` (modified in place; must outlive `doc`) as one JSON object.
absl::Status ParseObject(std::string* body, rapidjson::Document* doc);
// InvalidArgument naming the first member of `object` not in `allowed`.
absl::Status OnlyFields(const rapidjson::Value& object,
                        std::initializer_list<absl::string_view> allowed);

// Each returns nullopt when the member is absent (or null, where null means "not
// given"), InvalidArgument when it has the wrong type or range.
absl::StatusOr<std::optional<uint64_t>> GetId(const rapidjson::Value& o, const char* name);
absl::StatusOr<std::optional<absl::string_view>> GetString(const rapidjson::Value& o,
                                                           const char* name);
absl::StatusOr<std::optional<bool>> GetBool(const rapidjson::Value& o, const char* name);
absl::StatusOr<std::optional<uint32_t>> GetUint32(const rapidjson::Value& o, const char* name);
absl::StatusOr<std::optional<engine::TimeMs>> GetTime(const rapidjson::Value& o,
                                                      const char* name);

// The same rules for query parameters and path segments (text).
absl::StatusOr<uint64_t> ParseId(absl::string_view field, absl::string_view text);
absl::StatusOr<engine::TimeMs> ParseTime(absl::string_view field, absl::string_view text);

}  // namespace attrib::http

#endif  // ATTRIB_HTTP_JSON_IN_H_
