// engine/identity_types.h
//
// The request and result values of the engine's customer-identifier operations
// (issue 12; engine_identity.cc, identity_index.h): a customer named by email, by
// external id, or by both; links, unlinks and merges and what they report.
//
// Thread-safety: values; no shared state.
#ifndef ATTRIB_ENGINE_IDENTITY_TYPES_H_
#define ATTRIB_ENGINE_IDENTITY_TYPES_H_

#include <optional>
#include <string>
#include <vector>

#include "engine/types.h"

namespace attrib::engine {

// A customer as a request names it: by email (as entered), by external id (as
// entered), or both (then both must name the same customer, or one be unknown).
struct CustomerRef {
  std::optional<std::string> email;
  std::optional<std::string> external_id;
};

// A customer's identifiers and connection.
struct CustomerInfo {
  ShopId shop = 0;
  std::string primary;              // The connection's key (identity_index.h).
  std::vector<std::string> emails;  // Canonical; the primary's first when it is one.
  std::string external_id;          // Empty: none.
  std::optional<Connection> connection;
};

// A merge as its result and history report it.
struct MergeReport {
  std::string survivor;  // Primary keys.
  std::string loser;
  std::vector<std::string> moved;  // The loser's identifiers, now the survivor's.
  std::optional<Connection> kept_connection;
  std::optional<Connection> lost_connection;  // Removed by the merge.
  bool conflict = false;  // Both were active, to different affiliates.
  MergeConflictRule rule = MergeConflictRule::kKeepEarliest;
};

// What an operation carrying two identifiers did to the customers (connect,
// attribute, link, merge).
struct IdentityChange {
  bool linked = false;
  std::string linked_identifier;  // The key that was linked.
  std::optional<MergeReport> merge;
  // Nothing was joined although the identifiers name two customers (or a limit
  // stopped a link): why, naming the rule ("merge_conflict=refuse: ...").
  std::string not_joined;
};

// Manual merge: which connection to keep when both are active to different
// affiliates. Unset: the shop's merge_conflict rule, with keep_email meaning `into`
// and keep_external_id meaning `from`.
enum class MergeKeep : uint8_t { kInto = 0, kFrom = 1, kEarliest = 2 };

struct MergeRequest {
  ShopId shop = 0;
  CustomerRef into;
  CustomerRef from;
  std::optional<MergeKeep> keep;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_IDENTITY_TYPES_H_
