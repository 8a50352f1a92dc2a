// service/scope.cc: the scope checks (see scope.h).
#include "service/scope.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace attrib::service {

std::string Scope::ToString() const {
  return absl::StrCat(admin ? std::string("admin") : absl::StrCat("shop:", shop),
                      read_only ? " read-only" : "");
}

absl::Status CheckRead(const Scope& scope, engine::ShopId shop) {
  if (scope.admin || scope.shop == shop) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("shop ", shop, ": not found for this key"));
}

absl::Status CheckWrite(const Scope& scope, engine::ShopId shop, absl::string_view operation) {
  if (absl::Status s = CheckRead(scope, shop); !s.ok()) return s;
  if (!scope.read_only) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(operation, ": this key is read-only (", scope.ToString(), ")"));
}

absl::Status CheckAdmin(const Scope& scope, absl::string_view operation, bool write) {
  if (!scope.admin) {
    return absl::PermissionDeniedError(
        absl::StrCat(operation, ": needs an admin key, this one is ", scope.ToString()));
  }
  if (write && scope.read_only) {
    return absl::PermissionDeniedError(absl::StrCat(operation, ": this key is read-only"));
  }
  return absl::OkStatus();
}

bool ConstantTimeEquals(absl::string_view given, absl::string_view expected) {
  unsigned diff = given.size() == expected.size() ? 0u : 1u;
  const size_t n = std::min(given.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

}  // namespace attrib::service
