// common/not_primary.cc: the not_primary error's payload (see the header).
#include "common/not_primary.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace attrib {

// The payload is "native\nhttp" (addresses hold no newline).
absl::Status NotPrimaryError(absl::string_view message, const PrimaryAddresses& primary) {
  absl::Status s = absl::UnavailableError(message);
  s.SetPayload(kNotPrimaryPayload, absl::Cord(absl::StrCat(primary.native, "\n", primary.http)));
  return s;
}

std::optional<PrimaryAddresses> GetNotPrimary(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return std::nullopt;
  const auto payload = status.GetPayload(kNotPrimaryPayload);
  if (!payload.has_value()) return std::nullopt;
  const std::string text(*payload);
  PrimaryAddresses out;
  const size_t nl = text.find('\n');
  out.native = text.substr(0, nl);
  if (nl != std::string::npos) out.http = text.substr(nl + 1);
  return out;
}

}  // namespace attrib
