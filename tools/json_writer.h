// tools/json_writer.h
//
// JSON output of the command-line tools (attribctl --json, attrib-restore --json
// and `export --format jsonl`): string literals and flat-or-nested objects built
// key by key, every value written by RapidJSON's Writer (the library the HTTP API
// uses, http/json_out.h). Bytes that are not valid UTF-8 become U+FFFD first, so the
// output is always valid JSON whatever a corrupt record holds.
//
// Thread-safety: values and pure functions.
#ifndef ATTRIB_TOOLS_JSON_WRITER_H_
#define ATTRIB_TOOLS_JSON_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace attrib::tools {

// A JSON string literal: quotes, escapes, invalid UTF-8 replaced by U+FFFD.
std::string JsonString(absl::string_view text);

// Builds one flat-or-nested JSON object, keys in insertion order.
class JsonObject {
 public:
  JsonObject& Str(absl::string_view key, absl::string_view value);
  JsonObject& Int(absl::string_view key, int64_t value);
  JsonObject& Uint(absl::string_view key, uint64_t value);
  JsonObject& Bool(absl::string_view key, bool value);
  JsonObject& Double(absl::string_view key, double value);
  JsonObject& Raw(absl::string_view key, absl::string_view json);  // A nested value.
  std::string Done() const { return text_ + "}"; }

 private:
  void Key(absl::string_view key);
  std::string text_ = "{";
};

// {"code":"not_found","message":"...","current_affiliate":7} (the last when the
// status carries engine::kCurrentAffiliatePayload).
std::string ErrorJson(const absl::Status& status);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_JSON_WRITER_H_
