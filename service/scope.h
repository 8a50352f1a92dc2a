// service/scope.h
//
// Who is asking (a principal's scope): an admin sees every shop, a shop-scoped caller
// only its shop; either may be read-only. The service checks it on every operation:
// another shop is NotFound (the same answer whether or not that shop has data, so a
// key tells nothing about other shops), a write by a read-only caller is
// PermissionDenied, server-wide operations (stats, snapshot) need admin.
//
// Thread-safety: a value type.
#ifndef ATTRIB_SERVICE_SCOPE_H_
#define ATTRIB_SERVICE_SCOPE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/types.h"

namespace attrib::service {

struct Scope {
  bool admin = true;         // Every shop; else only `shop`.
  engine::ShopId shop = 0;   // When !admin.
  bool read_only = false;

  static Scope Admin(bool read_only = false) { return Scope{true, 0, read_only}; }
  static Scope Shop(engine::ShopId shop, bool read_only = false) {
    return Scope{false, shop, read_only};
  }
  // "admin", "shop:7", with " read-only" when so.
  std::string ToString() const;
};

// OK, or NotFound "shop N: not found for this key" for a shop outside the scope.
absl::Status CheckRead(const Scope& scope, engine::ShopId shop);
// CheckRead, then PermissionDenied for a read-only scope. `operation` names it.
absl::Status CheckWrite(const Scope& scope, engine::ShopId shop, absl::string_view operation);
// Server-wide operations: PermissionDenied unless admin (and read-write if `write`).
absl::Status CheckAdmin(const Scope& scope, absl::string_view operation, bool write);

// Compares a presented secret with the expected one without an early exit, so the
// time taken does not tell how many leading bytes were right. It reveals only whether
// the lengths differ, which a secret's strength does not rest on.
bool ConstantTimeEquals(absl::string_view given, absl::string_view expected);

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_SCOPE_H_
