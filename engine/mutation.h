// engine/mutation.h
//
// Every change the engine makes is described by one Mutation value: what changed,
// with every timestamp and decision already resolved. The durability layer logs
// these values and replays them; Engine::Apply() of the same values, in the same
// order, on an empty engine rebuilds the identical state without reading a clock or
// evaluating settings (the rules ran once, when the change was made).
//
// Ordering contract: the engine hands a mutation to its MutationSink while it still
// holds the locks of the state it changed, so two mutations of the same key (or the
// same order id, or the same shop's settings) reach the sink in the order they were
// applied. Mutations of different keys commute. A sink that numbers mutations does so
// inside OnMutation(), i.e. under those locks: a shard copied under its lock has
// exactly the mutations numbered up to the sink's counter at that moment, which is
// what makes snapshot fences (engine.h) exact.
//
// Thread-safety: values. A MutationSink must accept calls from any thread, and must
// be quick and must not call back into the engine (it runs under engine locks).
#ifndef ATTRIB_ENGINE_MUTATION_H_
#define ATTRIB_ENGINE_MUTATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "engine/types.h"
#include "engine/webhook_endpoints.h"

namespace attrib::engine {

// Store `connection` as the key's connection (insert or replace), counters included.
struct SetConnection {
  Connection connection;
  AffiliateId previous_affiliate = 0;  // Informational (history): 0 = none before.
  friend bool operator==(const SetConnection&, const SetConnection&) = default;
};

// Why a connection was removed (informational: history; Apply() ignores it).
enum class RemoveCause : uint8_t {
  kRequest = 0,                 // disconnect().
  kCustomerBecameAffiliate = 1,  // on_customer_becomes_affiliate = disconnect.
};

// Remove the key's connection.
struct RemoveConnection {
  ShopId shop = 0;
  std::string canonical_email;
  AffiliateId previous_affiliate = 0;  // Informational (history).
  RemoveCause cause = RemoveCause::kRequest;
  AffiliateId became_affiliate = 0;  // kCustomerBecameAffiliate: the affiliate put.
  friend bool operator==(const RemoveConnection&, const RemoveConnection&) = default;
};

// Replace a shop's settings.
struct PutSettings {
  ShopId shop = 0;
  ShopSettings settings;
  friend bool operator==(const PutSettings&, const PutSettings&) = default;
};

// A connection's order counters after a change, as computed when it was made.
struct OrderCounters {
  uint32_t order_count = 0;
  TimeMs last_order_at = 0;
  friend bool operator==(const OrderCounters&, const OrderCounters&) = default;
};

// Remember an order's decision (the order part), and apply its effect on the
// customer's connection (the connection part): store `new_connection`, or set the
// current connection's counters to `counters`. Every value is resolved, so the two
// parts can be applied independently (see SnapshotFences in engine.h).
struct RecordOrder {
  ShopId shop = 0;
  AttributionDecision decision;
  std::optional<Connection> new_connection;
  std::optional<OrderCounters> counters;  // Counted against the current connection.
  // What reverse() needs later (see OrderRecord).
  AffiliateId counted_affiliate = 0;
  TimeMs counted_connected_at = 0;
  TimeMs prev_last_order_at = 0;
  friend bool operator==(const RecordOrder&, const RecordOrder&) = default;
};

// Un-count a remembered order (refund/cancel): mark it reversed (order part) and, when
// it still counts against the same connection, set that connection's counters
// (connection part).
struct ReverseOrder {
  ShopId shop = 0;
  std::string order_id;
  std::string canonical_email;            // The connection's key; empty: none.
  std::optional<OrderCounters> counters;  // None: nothing to un-count.
  friend bool operator==(const ReverseOrder&, const ReverseOrder&) = default;
};

// Store `affiliate` as the directory entry (shop, affiliate.id): create or replace.
struct PutAffiliate {
  Affiliate affiliate;
  bool created = false;  // Informational (history): there was no entry before.
  friend bool operator==(const PutAffiliate&, const PutAffiliate&) = default;
};

// Store `endpoint` as webhook endpoint endpoint.id (create or replace; issue 13).
struct PutWebhookEndpoint {
  WebhookEndpoint endpoint;
  bool created = false;  // Informational (history).
  friend bool operator==(const PutWebhookEndpoint&, const PutWebhookEndpoint&) = default;
};

// Remove webhook endpoint `id` of `shop`.
struct RemoveWebhookEndpoint {
  ShopId shop = 0;
  uint64_t id = 0;
  friend bool operator==(const RemoveWebhookEndpoint&, const RemoveWebhookEndpoint&) = default;
};

// --- Customer identifiers (identity_index.h; engine_identity.cc). Identifiers are
// keys: a canonical email, or kExternalIdPrefix + external id.

// What made an identity change (informational: history).
enum class IdentityCause : uint8_t {
  kManual = 0,   // link / merge requests.
  kOrder = 1,    // An order carried both identifiers (auto_link_identifiers).
  kConnect = 2,  // A connect carried both identifiers.
};

// `identifier` (its own customer until now, with no connection) becomes an alias of
// the customer whose primary key is `primary`.
struct LinkIdentifier {
  ShopId shop = 0;
  std::string primary;
  std::string identifier;
  IdentityCause cause = IdentityCause::kManual;
  std::string order_id;  // kOrder: the order (informational).
  // The customer directory: set when the primary's entry changed: `identifier`'s
  // entry (if any) was absorbed and removed, and the primary's entry is this value
  // afterwards (created if needed: the directory was on).
  std::optional<CustomerEntry> absorbed_entry;
  friend bool operator==(const LinkIdentifier&, const LinkIdentifier&) = default;
};

// Alias `identifier` of `primary` becomes its own customer again (no connection).
struct UnlinkIdentifier {
  ShopId shop = 0;
  std::string primary;
  std::string identifier;
  friend bool operator==(const UnlinkIdentifier&, const UnlinkIdentifier&) = default;
};

// The customer with primary key `loser` joins the one with primary `survivor`: every
// identifier of the loser becomes an alias of the survivor (identity part), and the
// loser's connection, if `lost_connection` is set, is removed (connection part, at the
// loser's key). The survivor's connection is the one kept and does not move.
struct MergeCustomers {
  ShopId shop = 0;
  std::string survivor;
  std::string loser;
  std::optional<Connection> lost_connection;  // As it was (history shows it).
  bool conflict = false;  // Both connections were active, to different affiliates.
  MergeConflictRule rule = MergeConflictRule::kKeepEarliest;  // The rule applied.
  IdentityCause cause = IdentityCause::kManual;
  std::string order_id;
  // The customer directory: set when the survivor's entry changed: the loser's
  // entry (if any) was absorbed and removed, and the survivor's entry is this value
  // afterwards (created if needed: the directory was on).
  std::optional<CustomerEntry> absorbed_entry;
  friend bool operator==(const MergeCustomers&, const MergeCustomers&) = default;
};

// Store `entry` as the customer directory's entry of the customer with primary key
// `key` (customer_directory.h): create or replace. Every value resolved.
struct PutCustomerEntry {
  ShopId shop = 0;
  std::string key;
  CustomerEntry entry;
  friend bool operator==(const PutCustomerEntry&, const PutCustomerEntry&) = default;
};

struct Mutation {
  // The clock time when the change was made (for history and point-in-time
  // restore; Apply() does not use it).
  TimeMs made_at = 0;
  std::variant<SetConnection, RemoveConnection, PutSettings, RecordOrder, ReverseOrder,
               PutAffiliate, LinkIdentifier, UnlinkIdentifier, MergeCustomers,
               PutWebhookEndpoint, RemoveWebhookEndpoint, PutCustomerEntry>
      op;
  friend bool operator==(const Mutation&, const Mutation&) = default;
};

class MutationSink {
 public:
  virtual ~MutationSink() = default;
  virtual void OnMutation(const Mutation& mutation) = 0;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_MUTATION_H_
