// service/operation.h
//
// The operations the service counts and times, with the names the metrics
// (attrib_requests_total{operation=...}) and the `stats` reply use. The values are
// the native Request union's ordinals + 1 (net/handler.cc checks that), so the
// counters of both front ends share rows; 0 and the last row are for native frames
// that were not a valid request or named an operation this server does not know.
//
// Thread-safety: pure values.
#ifndef ATTRIB_SERVICE_OPERATION_H_
#define ATTRIB_SERVICE_OPERATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace attrib::service {

enum class Operation : uint8_t {
  kUndecodable = 0,
  kConnect,
  kDisconnect,
  kLookup,
  kLookupBatch,
  kList,
  kCount,
  kGetSettings,
  kPutSettings,
  kAttribute,
  kReverse,
  kExplain,
  kStats,
  kSnapshot,
  kAuth,
  kPing,
  kPutAffiliate,
  kGetAffiliate,
  kDisableAffiliate,
  kSearchAffiliates,
  kGetCustomer,  // Issue 12: customer identifiers.
  kLinkIdentifier,
  kUnlinkIdentifier,
  kMergeCustomers,
  kPromote,  // Issue 16: manual failover.
  kSearchCustomers,  // Issue 12: the customer directory.
  kPutCustomer,
  // --- Operations only the HTTP API has (no Request member; counted and timed like
  // the others). They come after the native ones, whose rows are the Request
  // union's ordinals + 1: a new Request member goes before this block.
  kCreateWebhook,
  kListWebhooks,
  kGetWebhook,
  kUpdateWebhook,
  kDeleteWebhook,
  kRotateWebhookSecret,
  kChanges,
  kUnknown,
};
inline constexpr size_t kHttpOnlyOperations = 7;
inline constexpr size_t kOperationCount = static_cast<size_t>(Operation::kUnknown) + 1;

inline absl::string_view OperationName(Operation op) {
  static constexpr absl::string_view kNames[kOperationCount] = {
      "undecodable", "connect",  "disconnect", "lookup",  "lookupBatch", "list",
      "count",       "getSettings", "putSettings", "attribute", "reverse", "explain",
      "stats",       "snapshot", "auth",       "ping",    "putAffiliate",
      "getAffiliate", "disableAffiliate", "searchAffiliates", "getCustomer",
      "linkIdentifier", "unlinkIdentifier", "mergeCustomers", "promote",
      "searchCustomers", "putCustomer",
      "createWebhook", "listWebhooks", "getWebhook", "updateWebhook", "deleteWebhook",
      "rotateWebhookSecret", "changes",
      "unknown",
  };
  const size_t i = static_cast<size_t>(op);
  return i < kOperationCount ? kNames[i] : "unknown";
}

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_OPERATION_H_
