// engine/validation.cc: request field checks (see the header).
#include "engine/validation.h"

#include "absl/strings/str_cat.h"
#include "engine/utf8.h"

namespace attrib::engine {

absl::Status ValidateId(absl::string_view field, uint64_t id) {
  if (id == 0) return absl::InvalidArgumentError(absl::StrCat(field, ": must be > 0"));
  return absl::OkStatus();
}

absl::Status ValidateTime(absl::string_view field, TimeMs t) {
  if (t < 0 || t > kMaxTimeMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", t, " is outside [0, ", kMaxTimeMs, "] (milliseconds since epoch)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view field, absl::string_view text,
                          size_t max_bytes, bool allow_empty) {
  if (text.empty() && !allow_empty) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", text.size(),
                                                   " bytes, the limit is ", max_bytes));
  }
  const size_t bad = FindInvalidUtf8(text);
  if (bad != text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not valid UTF-8 at byte ", bad));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": control character at byte ", i));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCustomerEntry(const CustomerEntry& e, absl::string_view prefix) {
  const auto field = [&](absl::string_view name) { return absl::StrCat(prefix, name); };
  if (absl::Status s = ValidateText(field("name"), e.name, kMaxNameBytes, true); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateTime(field("first_order_at"), e.first_order_at); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateTime(field("last_order_at"), e.last_order_at); !s.ok()) return s;
  if (e.orders_seen == 0 && (e.first_order_at != 0 || e.last_order_at != 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field("orders_seen"), ": 0, but ",
        field(e.first_order_at != 0 ? "first_order_at" : "last_order_at"), " is set (a customer without an order seen has no order times)"));
  }
  if (e.orders_seen > 0 && e.first_order_at > e.last_order_at) {
    return absl::InvalidArgumentError(absl::StrCat(field("first_order_at"), ": ",
                                                   e.first_order_at, " is after ",
                                                   field("last_order_at"), " ",
                                                   e.last_order_at));
  }
  return absl::OkStatus();
}

}  // namespace attrib::engine
