// tools/json_writer.cc: JSON strings and objects for tool output (see the header).
#include "tools/json_writer.h"

#include <cmath>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/engine.h"
#include "engine/utf8.h"
#include "tools/cli_values.h"

namespace attrib::tools {

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const uint8_t c = p[i];
    if (c >= 0x80) {
      uint32_t cp = 0;
      const size_t len = engine::DecodeUtf8(p + i, n - i, &cp);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

void JsonObject::Key(absl::string_view key) {
  if (text_.size() > 1) text_.push_back(',');
  absl::StrAppend(&text_, JsonString(key), ":");
}
JsonObject& JsonObject::Str(absl::string_view key, absl::string_view value) {
  Key(key);
  text_ += JsonString(value);
  return *this;
}
JsonObject& JsonObject::Int(absl::string_view key, int64_t value) {
  Key(key);
  absl::StrAppend(&text_, value);
  return *this;
}
JsonObject& JsonObject::Uint(absl::string_view key, uint64_t value) {
  Key(key);
  absl::StrAppend(&text_, value);
  return *this;
}
JsonObject& JsonObject::Bool(absl::string_view key, bool value) {
  Key(key);
  text_ += value ? "true" : "false";
  return *this;
}
JsonObject& JsonObject::Double(absl::string_view key, double value) {
  Key(key);
  text_ += std::isfinite(value) ? absl::StrFormat("%.6g", value) : "null";
  return *this;
}
JsonObject& JsonObject::Raw(absl::string_view key, absl::string_view json) {
  Key(key);
  absl::StrAppend(&text_, json);
  return *this;
}

std::string ErrorJson(const absl::Status& status) {
  JsonObject error;
  error.Str("code", CodeName(status.code())).Str("message", status.message());
  if (absl::optional<absl::Cord> current = status.GetPayload(engine::kCurrentAffiliatePayload)) {
    uint64_t affiliate = 0;
    if (absl::SimpleAtoi(std::string(*current), &affiliate)) {
      error.Uint("current_affiliate", affiliate);
    }
  }
  return error.Done();
}

}  // namespace attrib::tools
