// http/json_in.cc: typed reads of JSON request bodies (see json_in.h).
#include "http/json_in.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "rapidjson/error/en.h"

namespace attrib::http {
namespace {

constexpr absl::string_view kFieldPayload = "attrib/field";
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

const rapidjson::Value* Member(const rapidjson::Value& o, const char* name) {
  const auto it = o.FindMember(name);
  if (it == o.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view why) {
  absl::Status s = absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  s.SetPayload(kFieldPayload, absl::Cord(field));
  return s;
}

std::string FieldOf(const absl::Status& status) {
  if (auto p = status.GetPayload(kFieldPayload)) return std::string(*p);
  const absl::string_view m = status.message();
  const size_t colon = m.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  for (char c : m.substr(0, colon)) {
    // Identifier characters, and an index ("emails[0]").
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' &&
        c != ']') {
      return "";
    }
  }
  return std::string(m.substr(0, colon));
}

absl::Status ParseObject(std::string* body, rapidjson::Document* doc) {
  doc->ParseInsitu(body->data());  // Trailing content is an error too.
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("body: not valid JSON at byte offset ", doc->GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc->GetParseError())));
  }
  if (!doc->IsObject()) return absl::InvalidArgumentError("body: must be a JSON object");
  return absl::OkStatus();
}

absl::Status OnlyFields(const rapidjson::Value& object,
                        std::initializer_list<absl::string_view> allowed) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const absl::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (absl::string_view a : allowed) known = known || a == name;
    if (!known) return FieldError(name, "unknown field");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseId(absl::string_view field, absl::string_view text) {
  uint64_t v = 0;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::SimpleAtoi(text, &v)) {
    return FieldError(field, absl::StrCat("\"", text, "\" is not a decimal u64 id"));
  }
  return v;
}

absl::StatusOr<engine::TimeMs> ParseTime(absl::string_view field, absl::string_view text) {
  int64_t ms = 0;
  if (absl::SimpleAtoi(text, &ms)) return ms;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) {
    return FieldError(field, absl::StrCat("\"", text,
                                          "\" is neither ms since the epoch nor RFC 3339"));
  }
  return absl::ToUnixMillis(t);
}

absl::StatusOr<std::optional<uint64_t>> GetId(const rapidjson::Value& o, const char* name) {
  const rapidjson::Value* v = Member(o, name);
  if (v == nullptr) return std::optional<uint64_t>();
  if (v->IsString()) {
    absl::StatusOr<uint64_t> id = ParseId(name, {v->GetString(), v->GetStringLength()});
    if (!id.ok()) return id.status();
    return std::optional<uint64_t>(*id);
  }
  if (v->IsUint64() && v->GetUint64() <= kMaxSafeInteger) {
    return std::optional<uint64_t>(v->GetUint64());
  }
  return FieldError(name, "must be a decimal string or an integer in [0, 2^53)");
}

absl::StatusOr<std::optional<absl::string_view>> GetString(const rapidjson::Value& o,
                                                           const char* name) {
  const rapidjson::Value* v = Member(o, name);
  if (v == nullptr) return std::optional<absl::string_view>();
  if (!v->IsString()) return FieldError(name, "must be a string");
  return std::optional<absl::string_view>(
      absl::string_view(v->GetString(), v->GetStringLength()));
}

absl::StatusOr<std::optional<bool>> GetBool(const rapidjson::Value& o, const char* name) {
  const rapidjson::Value* v = Member(o, name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->IsBool()) return FieldError(name, "must be true or false");
  return std::optional<bool>(v->GetBool());
}

absl::StatusOr<std::optional<uint32_t>> GetUint32(const rapidjson::Value& o,
                                                  const char* name) {
  const rapidjson::Value* v = Member(o, name);
  if (v == nullptr) return std::optional<uint32_t>();
  if (!v->IsUint()) return FieldError(name, "must be an integer in [0, 2^32)");
  return std::optional<uint32_t>(v->GetUint());
}

absl::StatusOr<std::optional<engine::TimeMs>> GetTime(const rapidjson::Value& o,
                                                      const char* name) {
  const rapidjson::Value* v = Member(o, name);
  if (v == nullptr) return std::optional<engine::TimeMs>();
  if (v->IsInt64()) return std::optional<engine::TimeMs>(v->GetInt64());
  if (v->IsString()) {
    absl::StatusOr<engine::TimeMs> t = ParseTime(name, {v->GetString(), v->GetStringLength()});
    if (!t.ok()) return t.status();
    return std::optional<engine::TimeMs>(*t);
  }
  return FieldError(name, "must be ms since the epoch or an RFC 3339 string");
}

}  // namespace attrib::http
