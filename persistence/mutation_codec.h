// persistence/mutation_codec.h
//
// The binary encoding of one engine::Mutation: the payload of a log record
// (log_format.h). Defined once here; the decoder is the only reader of log payloads
// and treats its input as hostile (a corrupt disk, a fuzzer).
//
// Primitive encodings:
//   varint   unsigned LEB128, at most 10 bytes, value <= the field's type maximum
//            (u32 fields: <= 2^32 - 1). Non-minimal forms are accepted.
//   zigzag   a signed int64 (TimeMs) mapped to unsigned ((v << 1) ^ (v >> 63)), then
//            varint. Times are not range-checked: any int64 round-trips.
//   string   varint byte length, then the bytes (no terminator, not validated as
//            UTF-8). Every string field is capped at kMaxCodecStringBytes (255).
//   u8 enum  one byte, the engine enum's numeric value (types.h; never renumbered);
//            a value outside the enum's range is rejected.
//   flags    one byte of booleans, bit 0 first; unused bits must be zero.
//   opt<T>   presence byte 0 (absent) or 1 (present, then T); other values rejected.
//
// Mutation:
//   u8 tag | zigzag made_at | body of the tag:
//
//   tag  op                body (in order)
//   1    SetConnection     Connection connection, varint previous_affiliate
//   2    RemoveConnection  varint shop, string canonical_email,
//                          varint previous_affiliate
//   3    PutSettings       varint shop, ShopSettings settings
//   4    RecordOrder       varint shop, Decision decision,
//                          opt<Connection> new_connection, opt<Counters> counters,
//                          varint counted_affiliate, zigzag counted_connected_at,
//                          zigzag prev_last_order_at
//   5    ReverseOrder      varint shop, string order_id, string canonical_email,
//                          opt<Counters> counters
//   6    PutAffiliate      varint shop, varint id, string name, u8 status
//                          (AffiliateStatus), zigzag created_at, varint email count
//                          (<= 8), that many strings (canonical emails), flags
//                          (bit 0 created)
//   7    RemoveConnection  as tag 2, then u8 cause (RemoveCause),
//        (with a cause)    varint became_affiliate
//   8    PutSettings v2    as tag 3, then flags (bit 0 require_registered_affiliates,
//                          bit 1 block_self_referrals), u8 on_customer_becomes_affiliate
//   9    RecordOrder v2    as tag 4 with Decision v2: the reason and
//                          connection_inactive ranges of issue 12 (self_referral,
//                          affiliate_disabled, affiliate_not_registered), and after
//                          the Decision's fields: u8 referral_refused (ReferralRefusal),
//                          varint refused_affiliate, varint order_number_in_connection
//   10   LinkIdentifier    varint shop, string primary, string identifier, u8 cause
//                          (IdentityCause), string order_id
//   11   UnlinkIdentifier  varint shop, string primary, string identifier
//   12   MergeCustomers    varint shop, string survivor, string loser,
//                          opt<Connection> lost_connection, flags (bit 0 conflict),
//                          u8 rule (MergeConflictRule), u8 cause (IdentityCause),
//                          string order_id
//   13   PutSettings v3    as tag 8, then flags (bit 0 auto_link_identifiers),
//                          u8 merge_conflict (MergeConflictRule)
//   14   PutCustomerEntry  varint shop, string key (the customer's primary key),
//                          Entry entry
//   15   MergeCustomers v2 as tag 12, then Entry absorbed_entry (the survivor's
//                          directory entry after absorbing the loser's, which is
//                          removed); tag 12 when the loser had no entry
//   16   LinkIdentifier v2 as tag 10, then Entry absorbed_entry (the primary's entry
//                          after absorbing the identifier's, which is removed)
//   17   RecordOrder v3    as tag 9, then u8 new_customer_source
//                          (NewCustomerSource), varint order_number_for_customer;
//                          tag 9/4 when both are 0 (directory off, no request value)
//   20   PutSettings v4    as tag 13, then flags (bit 0 customer_directory); tag 13
//                          and older when customer_directory is on (the default)
//   (Identifier strings are keys: a canonical email, or 0x01 + external id.)
//   18   PutWebhookEndpoint varint id, varint shop, string url, varint event_mask
//                          (bit i: engine::kWebhookEventTypes[i]; 0 = all), flags
//                          (bit 0 enabled, bit 1 created), string disabled_reason,
//                          string secret, string previous_secret, zigzag
//                          previous_secret_expires_at, zigzag created_at, zigzag
//                          updated_at
//   19   RemoveWebhookEndpoint varint shop, varint id
//   Tags are persisted: never renumber; a new op gets a new tag. An unknown tag is
//   rejected (an old binary must not half-read a newer log). A value the old tag can
//   carry is written with it (tags 2, 3, 4: cause kRequest; the three settings at
//   their defaults; a decision without the new reasons whose order number is the
//   derived one), so logs stay readable by older binaries as long as the new features
//   are unused. Tag 4 derives order_number_in_connection: the new connection's
//   order_count, else the counters' order_count, for a counted order; else 0.
//
//   Connection    varint shop, string canonical_email, string entered_email,
//                 varint affiliate, u8 source (Source), zigzag connected_at,
//                 string name, varint order_count (u32), zigzag last_order_at
//   ShopSettings  flags (bit 0 connections_enabled, bit 1 auto_connect,
//                 bit 2 auto_connect_new_customers_only), varint validity_days (u32),
//                 u8 validity_mode (ValidityMode), varint validity_max_orders (u32),
//                 u8 precedence (Precedence)
//   Decision      string order_id, zigzag ordered_at, varint affiliate,
//   (Attribution- u8 reason (Reason), u8 connection_inactive (InactiveReason),
//    Decision)    flags (bit 0 counted, bit 1 connection_created,
//                 bit 2 connection_moved, bit 3 reversed),
//                 varint previous_affiliate, string canonical_email
//   Entry         string name, zigzag first_order_at, zigzag last_order_at,
//   (CustomerEntry) varint orders_seen (u32)
//   Counters      varint order_count (u32), zigzag last_order_at
//   (OrderCounters)
//
// Invariants: DecodeMutation(Encode(m)) == m for every m whose strings fit the caps;
// the encoding of a mutation is exactly its bytes (trailing bytes are rejected), so
// a payload is one mutation and nothing else.
//
// Errors: DataLoss, naming the field and what is wrong, e.g.
//   "mutation: RecordOrder.decision.order_id: length 300 over 255".
//
// Thread-safety: pure functions; callable from any thread.
#ifndef ATTRIB_PERSISTENCE_MUTATION_CODEC_H_
#define ATTRIB_PERSISTENCE_MUTATION_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/mutation.h"

namespace attrib::persistence {

// Tags of the Mutation variant alternatives (see the table above).
enum class MutationTag : uint8_t {
  kSetConnection = 1,
  kRemoveConnection = 2,
  kPutSettings = 3,
  kRecordOrder = 4,
  kReverseOrder = 5,
  kPutAffiliate = 6,
  kRemoveConnectionWithCause = 7,
  kPutSettingsV2 = 8,
  kRecordOrderV2 = 9,
  // Customer identifiers (issue 12; engine/identity_index.h).
  kLinkIdentifier = 10,
  kUnlinkIdentifier = 11,
  kMergeCustomers = 12,
  kPutSettingsV3 = 13,
  // The customer directory (issue 12; engine/customer_directory.h).
  kPutCustomerEntry = 14,
  kMergeCustomersV2 = 15,
  kLinkIdentifierV2 = 16,
  kRecordOrderV3 = 17,
  kPutSettingsV4 = 20,
  // Webhook endpoints (issue 13; engine/webhook_endpoints.h).
  kPutWebhookEndpoint = 18,
  kRemoveWebhookEndpoint = 19,
};

// The cap on every string field (emails, names, order ids). Generous against the
// engine's own limits (types.h: names and order ids 128 bytes; an email address is
// at most 254), so that a tightened input rule never makes an old log unreadable,
// while a corrupt length cannot make the decoder allocate much.
inline constexpr size_t kMaxCodecStringBytes = 255;
static_assert(engine::kMaxNameBytes <= kMaxCodecStringBytes);
static_assert(engine::kMaxOrderIdBytes <= kMaxCodecStringBytes);

// Appends the encoding of `m` to *out. Strings longer than kMaxCodecStringBytes are
// a caller bug (the engine validates its inputs): they are encoded anyway, and the
// decoder will reject the result.
void EncodeMutation(const engine::Mutation& m, std::string* out);

// Decodes exactly one mutation from `bytes`; DataLoss naming the field otherwise.
absl::StatusOr<engine::Mutation> DecodeMutation(absl::string_view bytes);

// One human-readable line (no newline) for `attrib-restore history/inspect`, e.g.
//   connect shop 1 janedoe@gmail.com -> affiliate 42 (import, connected
//   2026-01-02T03:04:05Z)
// made_at is not included: callers print it next to the sequence number. Control
// characters and backslashes in strings are escaped (\xNN) so that a corrupt string
// cannot garble a terminal.
std::string DescribeMutation(const engine::Mutation& m);

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_MUTATION_CODEC_H_
