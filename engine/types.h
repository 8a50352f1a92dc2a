// engine/types.h
//
// The value types of the engine: connections, shop settings, attribution decisions,
// and the enums that name them (SPEC §3-§5). Plain data, no behaviour beyond naming
// and parsing the enums.
//
// Thread-safety: values; no shared state.
//
// Numeric enum values are persisted (log records, snapshots): never renumber.
#ifndef ATTRIB_ENGINE_TYPES_H_
#define ATTRIB_ENGINE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::engine {

using ShopId = uint64_t;       // > 0.
using AffiliateId = uint64_t;  // > 0; 0 means "no affiliate" in results.
using TimeMs = int64_t;        // Milliseconds since the Unix epoch.

inline constexpr TimeMs kMsPerDay = 86'400'000;
// Timestamps are stored in 48 bits; inputs are capped at 2^47 - 1 ms (year 6429). Inputs
// outside [0, kMaxTimeMs] are rejected.
inline constexpr TimeMs kMaxTimeMs = (TimeMs{1} << 47) - 1;
// Customer names are display data; SPEC §3 caps them.
inline constexpr size_t kMaxNameBytes = 128;
// Order ids are opaque strings chosen by the shop platform.
inline constexpr size_t kMaxOrderIdBytes = 128;

enum class Source : uint8_t { kManual = 0, kApi = 1, kImport = 2, kReferral = 3 };
enum class ConnectMode : uint8_t { kIfAbsent = 0, kReassign = 1 };
enum class ValidityMode : uint8_t { kFixed = 0, kSliding = 1 };
enum class Precedence : uint8_t {
  kConnectionFirst = 0,
  kReferralFirst = 1,
  kReferralTakesOver = 2,
};
// Why the affiliate of an attribution was credited. kSelfReferral: the affiliate
// that would have been credited has one of the customer's emails, so nothing was
// (shop setting block_self_referrals).
enum class Reason : uint8_t { kNone = 0, kConnected = 1, kReferral = 2, kSelfReferral = 3 };
// Why an existing connection does not count (at a given time).
enum class InactiveReason : uint8_t {
  kActive = 0,    // It counts.
  kExpired = 1,   // validity_days passed since its anchor.
  kCapped = 2,    // validity_max_orders reached.
  kDisabled = 3,  // The shop has connections_enabled = false.
  // The affiliate directory, not the connection, decides these (attribution,
  // lookups, a customer's connection and list report them; Engine::JudgeByDirectory):
  kAffiliateDisabled = 4,       // Its affiliate is disabled in the directory.
  kAffiliateNotRegistered = 5,  // require_registered_affiliates, and it is not.
};
// Why the order's referral affiliate (link/coupon) was not credited, by the
// affiliate directory's rules (affiliate_rules.h).
enum class ReferralRefusal : uint8_t {
  kNone = 0,
  kAffiliateDisabled = 1,
  kAffiliateNotRegistered = 2,
  kSelfReferral = 3,
};
// Shop setting on_customer_becomes_affiliate: what registering an affiliate does to
// a connection of one of its emails to ANOTHER affiliate.
enum class CustomerBecomesAffiliate : uint8_t { kKeep = 0, kDisconnect = 1 };
// Shop setting merge_conflict (identity_index.h): which connection survives when an
// order's email and external id name two customers that both have active
// connections to different affiliates.
enum class MergeConflictRule : uint8_t {
  kKeepEarliest = 0,    // The earlier connected_at (ties: the email's customer).
  kKeepEmail = 1,       // The connection of the customer found by the email.
  kKeepExternalId = 2,  // The connection of the customer found by the external id.
  kRefuse = 3,          // No merge (the order goes to the email's customer).
};

absl::string_view SourceName(Source s);
absl::StatusOr<Source> ParseSource(absl::string_view name);
absl::string_view ConnectModeName(ConnectMode m);
absl::StatusOr<ConnectMode> ParseConnectMode(absl::string_view name);
absl::string_view ValidityModeName(ValidityMode m);
absl::StatusOr<ValidityMode> ParseValidityMode(absl::string_view name);
absl::string_view PrecedenceName(Precedence p);
absl::StatusOr<Precedence> ParsePrecedence(absl::string_view name);
absl::string_view ReasonName(Reason r);
absl::string_view InactiveReasonName(InactiveReason r);
absl::string_view ReferralRefusalName(ReferralRefusal r);
absl::string_view CustomerBecomesAffiliateName(CustomerBecomesAffiliate c);
absl::StatusOr<CustomerBecomesAffiliate> ParseCustomerBecomesAffiliate(absl::string_view name);
absl::string_view MergeConflictRuleName(MergeConflictRule r);
absl::StatusOr<MergeConflictRule> ParseMergeConflictRule(absl::string_view name);

// A customer's connection to an affiliate within one shop.
struct Connection {
  ShopId shop = 0;
  std::string canonical_email;
  std::string entered_email;  // As entered, trimmed.
  AffiliateId affiliate = 0;
  Source source = Source::kManual;
  TimeMs connected_at = 0;
  std::string name;               // Empty when not given.
  uint32_t order_count = 0;       // Attributed (counted, not reversed) orders.
  TimeMs last_order_at = 0;       // 0 = no counted order yet.

  friend bool operator==(const Connection&, const Connection&) = default;
};

// A stored connection seen in place: the strings point into the store and are valid
// only while the callback that received the view runs (it holds the shard's lock).
// The allocation-free form of Connection for the read path.
struct ConnectionView {
  ShopId shop = 0;
  absl::string_view canonical_email;
  absl::string_view entered_email;
  AffiliateId affiliate = 0;
  Source source = Source::kManual;
  TimeMs connected_at = 0;
  absl::string_view name;
  uint32_t order_count = 0;
  TimeMs last_order_at = 0;
};

// The view of an owned Connection (valid while `c` lives and is not changed).
inline ConnectionView AsView(const Connection& c) {
  ConnectionView v;
  v.shop = c.shop;
  v.canonical_email = c.canonical_email;
  v.entered_email = c.entered_email;
  v.affiliate = c.affiliate;
  v.source = c.source;
  v.connected_at = c.connected_at;
  v.name = c.name;
  v.order_count = c.order_count;
  v.last_order_at = c.last_order_at;
  return v;
}

// An owned copy of a view.
// Copies `v` into *c, reusing c's string buffers.
inline void AssignConnection(const ConnectionView& v, Connection* c) {
  c->shop = v.shop;
  c->canonical_email.assign(v.canonical_email.data(), v.canonical_email.size());
  c->entered_email.assign(v.entered_email.data(), v.entered_email.size());
  c->affiliate = v.affiliate;
  c->source = v.source;
  c->connected_at = v.connected_at;
  c->name.assign(v.name.data(), v.name.size());
  c->order_count = v.order_count;
  c->last_order_at = v.last_order_at;
}

inline Connection ToConnection(const ConnectionView& v) {
  Connection c;
  AssignConnection(v, &c);
  return c;
}

// An affiliate as the shop's affiliate directory holds it (affiliate_directory.h).
enum class AffiliateStatus : uint8_t { kActive = 0, kDisabled = 1 };
absl::string_view AffiliateStatusName(AffiliateStatus s);
absl::StatusOr<AffiliateStatus> ParseAffiliateStatus(absl::string_view name);
// Limits of a directory entry: names like customer names (kMaxNameBytes).
inline constexpr size_t kMaxAffiliateEmails = 8;

struct Affiliate {
  ShopId shop = 0;
  AffiliateId id = 0;
  std::string name;                 // Valid UTF-8, <= kMaxNameBytes; may be empty.
  std::vector<std::string> emails;  // Canonical, distinct, <= kMaxAffiliateEmails.
  AffiliateStatus status = AffiliateStatus::kActive;
  TimeMs created_at = 0;
  friend bool operator==(const Affiliate&, const Affiliate&) = default;
};

// A customer's record in the customer directory (issue 12; customer_directory.h).
struct CustomerEntry {
  std::string name;            // Valid UTF-8, <= kMaxNameBytes; empty: not given.
  TimeMs first_order_at = 0;   // 0 with orders_seen == 0: no order seen yet.
  TimeMs last_order_at = 0;
  uint32_t orders_seen = 0;    // Orders attributed for this customer (duplicates once).
  friend bool operator==(const CustomerEntry&, const CustomerEntry&) = default;
};

// Where an attribution's "is the customer new" came from (issue 12).
enum class NewCustomerSource : uint8_t {
  kUnknown = 0,    // Not given and no directory (customer_directory off): not new.
  kRequest = 1,    // The request's customer_is_new.
  kDirectory = 2,  // The customer directory: no earlier order seen = new.
};
absl::string_view NewCustomerSourceName(NewCustomerSource s);

// Per-shop settings (SPEC §4). Defaults are those of a shop never configured.
struct ShopSettings {
  bool connections_enabled = true;
  bool auto_connect = false;
  bool auto_connect_new_customers_only = false;
  uint32_t validity_days = 0;        // 0 = forever.
  ValidityMode validity_mode = ValidityMode::kFixed;
  uint32_t validity_max_orders = 0;  // 0 = unlimited.
  Precedence precedence = Precedence::kConnectionFirst;
  // The affiliate directory's rules (affiliate_rules.h).
  bool require_registered_affiliates = false;
  bool block_self_referrals = true;
  CustomerBecomesAffiliate on_customer_becomes_affiliate = CustomerBecomesAffiliate::kKeep;
  // Customer identifiers (identity_index.h): an order with an email and an external
  // id links the unknown one to the known one; two known customers are merged.
  bool auto_link_identifiers = true;
  MergeConflictRule merge_conflict = MergeConflictRule::kKeepEarliest;
  // The customer directory (customer_directory.h): remember every customer seen.
  bool customer_directory = true;

  friend bool operator==(const ShopSettings&, const ShopSettings&) = default;
};
// Settings are validated at the boundary: validity_days <= this (100 years).
inline constexpr uint32_t kMaxValidityDays = 36'500;

// A partial update of ShopSettings: unset fields keep their current value.
struct ShopSettingsPatch {
  std::optional<bool> connections_enabled;
  std::optional<bool> auto_connect;
  std::optional<bool> auto_connect_new_customers_only;
  std::optional<uint32_t> validity_days;
  std::optional<ValidityMode> validity_mode;
  std::optional<uint32_t> validity_max_orders;
  std::optional<Precedence> precedence;
  std::optional<bool> require_registered_affiliates;
  std::optional<bool> block_self_referrals;
  std::optional<CustomerBecomesAffiliate> on_customer_becomes_affiliate;
  std::optional<bool> auto_link_identifiers;
  std::optional<MergeConflictRule> merge_conflict;
  std::optional<bool> customer_directory;
};

// Whether a connection counts at a time, and until when.
struct ConnectionStatus {
  InactiveReason inactive = InactiveReason::kActive;
  bool active() const { return inactive == InactiveReason::kActive; }
  TimeMs expires_at = 0;           // 0 = no time limit (validity_days == 0).
  uint32_t orders_remaining = 0;   // 0 with validity_max_orders == 0: unlimited.
};

// One looked-up email as Engine::LookupEach reports it. `invalid` is null unless
// the email was rejected (then nothing else is set); `connection` and `status` are
// meaningful only when `found`.
struct LookupItemView {
  const absl::Status* invalid = nullptr;
  bool found = false;
  ConnectionView connection;
  ConnectionStatus status;
};

// The recorded outcome of one order (SPEC §5); what explain() returns.
struct AttributionDecision {
  std::string order_id;
  TimeMs ordered_at = 0;            // The time the rules were evaluated at.
  AffiliateId affiliate = 0;        // Credited affiliate; 0 = none.
  Reason reason = Reason::kNone;
  // The customer's connection existed but did not count, and why (kActive: it
  // counted, or there was none).
  InactiveReason connection_inactive = InactiveReason::kActive;
  bool counted = false;             // Counted against a connection.
  bool connection_created = false;  // This order created a connection...
  bool connection_moved = false;    // ...or moved one to another affiliate.
  AffiliateId previous_affiliate = 0;  // Of the replaced/moved connection.
  std::string canonical_email;      // Empty when the order had no email.
  bool reversed = false;            // reverse() was applied.
  // The affiliate directory's part (affiliate_rules.h): why the referral affiliate
  // was not credited, and the affiliate a directory rule refused (the connected one
  // when connection_inactive is kAffiliateDisabled/kAffiliateNotRegistered, else the
  // self-referred one or the refused referral).
  // (Declared in this order so that the two small fields fill the padding after
  // `reversed`: a remembered order grows by 8 bytes, not 16.)
  ReferralRefusal referral_refused = ReferralRefusal::kNone;
  // This order's number within the connection it counted against: 1 = the
  // connection's first counted order (its attributed, not reversed, orders including
  // this one); 0 when not counted.
  uint32_t order_number_in_connection = 0;
  AffiliateId refused_affiliate = 0;
  // Issue 12, the customer directory: where customer_is_new came from, and this
  // order's number among the customer's orders seen (1 = the first; 0: no directory).
  NewCustomerSource new_customer_source = NewCustomerSource::kUnknown;
  uint32_t order_number_for_customer = 0;

  friend bool operator==(const AttributionDecision&,
                         const AttributionDecision&) = default;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_TYPES_H_
