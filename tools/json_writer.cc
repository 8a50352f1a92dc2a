// tools/json_writer.cc: JSON strings and objects for tool output (see the header),
// written by RapidJSON's Writer.
#include "tools/json_writer.h"

#include <cmath>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/utf8.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tools/cli_values.h"

namespace attrib::tools {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// `text` with every byte that does not start a valid UTF-8 sequence replaced by
// U+FFFD, so that RapidJSON's writer (which copies UTF-8 through) only sees valid
// input. No copy when the text is valid, the usual case.
absl::string_view ValidUtf8(absl::string_view text, std::string* storage) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  bool copying = false;
  while (i < n) {
    size_t len = 1;
    bool valid = true;
    if (p[i] >= 0x80) {
      uint32_t cp = 0;
      len = engine::DecodeUtf8(p + i, n - i, &cp);
      valid = len != 0;
      if (!valid) len = 1;
    }
    if (!valid && !copying) {
      storage->assign(text.data(), i);
      copying = true;
    }
    if (copying) {
      if (valid) {
        storage->append(text.data() + i, len);
      } else {
        storage->append("\xEF\xBF\xBD");  // U+FFFD
      }
    }
    i += len;
  }
  return copying ? absl::string_view(*storage) : text;
}

// The text of one JSON value written by `write(Writer&)`.
template <typename F>
std::string WriteValue(F write) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  write(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string storage;
  const absl::string_view valid = ValidUtf8(text, &storage);
  return WriteValue([&](Writer& w) {
    w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
  });
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
  text_ += WriteValue([&](Writer& w) { w.Int64(value); });
  return *this;
}
JsonObject& JsonObject::Uint(absl::string_view key, uint64_t value) {
  Key(key);
  text_ += WriteValue([&](Writer& w) { w.Uint64(value); });
  return *this;
}
JsonObject& JsonObject::Bool(absl::string_view key, bool value) {
  Key(key);
  text_ += WriteValue([&](Writer& w) { w.Bool(value); });
  return *this;
}
JsonObject& JsonObject::Double(absl::string_view key, double value) {
  Key(key);
  // JSON has no NaN or infinity: null, as JSON.stringify writes them.
  text_ += std::isfinite(value) ? WriteValue([&](Writer& w) { w.Double(value); }) : "null";
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
