// http/json_out.h
//
// The HTTP API's JSON responses, written with RapidJSON's SAX Writer straight into
// one output string: no DOM, no intermediate strings (a lookup's connection is
// written from the store's views while the engine's visitor runs).
//
// Conventions (README "HTTP API"): snake_case names as `attribctl --json` prints
// them; ids (shop, affiliate) are u64 and written as decimal strings, since
// JavaScript numbers hold integers exactly only up to 2^53; times are ms since the
// epoch (`connected_at`) plus the same instant as an RFC 3339 string
// (`connected_at_rfc3339`, null when the ms value is 0 = none).
//
// Thread-safety: a JsonOut belongs to one thread.
#ifndef ATTRIB_HTTP_JSON_OUT_H_
#define ATTRIB_HTTP_JSON_OUT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "engine/types.h"
#include "rapidjson/writer.h"

namespace attrib::http {

// RapidJSON's output stream concept over a std::string.
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string* out) : out_(out) {}
  void Put(char c) { out_->push_back(c); }
  void Flush() {}

 private:
  std::string* out_;
};

class JsonOut {
 public:
  // Appends to `out`.
  explicit JsonOut(std::string* out) : sink_(out), w_(sink_) {}

  rapidjson::Writer<StringSink>& w() { return w_; }
  void Key(absl::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void Str(absl::string_view k, absl::string_view v) {
    Key(k);
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  void Id(absl::string_view k, uint64_t id);  // As a decimal string.
  void Uint(absl::string_view k, uint64_t v) {
    Key(k);
    w_.Uint64(v);
  }
  void Int(absl::string_view k, int64_t v) {
    Key(k);
    w_.Int64(v);
  }
  void Bool(absl::string_view k, bool v) {
    Key(k);
    w_.Bool(v);
  }
  // "next_cursor": the cursor, or null when `cursor` is empty (the last page).
  void NextCursor(absl::string_view cursor) {
    Key("next_cursor");
    if (cursor.empty()) {
      w_.Null();
    } else {
      w_.String(cursor.data(), static_cast<rapidjson::SizeType>(cursor.size()));
    }
  }
  // `k` (ms) and `k`_rfc3339.
  void Time(absl::string_view k, engine::TimeMs ms);

  void Connection(const engine::ConnectionView& c);
  void Status(const engine::ConnectionStatus& s);
  void Decision(const engine::AttributionDecision& d);
  void Settings(const engine::ShopSettings& s);

 private:
  StringSink sink_;
  rapidjson::Writer<StringSink> w_;
};

// "2023-11-14T22:13:20.000Z".
std::string Rfc3339(engine::TimeMs ms);

}  // namespace attrib::http

#endif  // ATTRIB_HTTP_JSON_OUT_H_
