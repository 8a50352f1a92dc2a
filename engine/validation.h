// engine/validation.h
//
// Checks of request fields shared by the engine's operations. Every error is
// InvalidArgument and starts with the field's name ("name: 130 bytes, the limit is
// 128"), so a client can tell exactly which input to fix.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_VALIDATION_H_
#define ATTRIB_ENGINE_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/types.h"

namespace attrib::engine {

// shop, affiliate, referral_affiliate: must be > 0.
absl::Status ValidateId(absl::string_view field, uint64_t id);
// A timestamp in [0, kMaxTimeMs].
absl::Status ValidateTime(absl::string_view field, TimeMs t);
// Text shown to people: valid UTF-8, no control characters, at most `max_bytes`;
// `allow_empty` false also rejects "".
absl::Status ValidateText(absl::string_view field, absl::string_view text,
                          size_t max_bytes, bool allow_empty);
// A customer directory entry as attrib-restore verify accepts it
// (Engine::CheckCustomerDirectory): the name as ValidateText (<= kMaxNameBytes),
// times in [0, kMaxTimeMs], no order times without an order seen, the first order
// not after the last. The fields are named `prefix` + "name", "orders_seen",
// "first_order_at", "last_order_at" (an import names its CSV columns so).
absl::Status ValidateCustomerEntry(const CustomerEntry& entry, absl::string_view prefix);

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_VALIDATION_H_
