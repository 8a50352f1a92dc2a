// persistence/mutation_codec.cc: the Mutation encoding (format in the header), its
// bounds-checked decoder, and the one-line description.
//
// Thread-safety: pure functions.
#include "persistence/mutation_codec.h"

#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "engine/identity_index.h"

namespace attrib::persistence {
namespace {

using engine::AttributionDecision;
using engine::Connection;
using engine::Mutation;
using engine::OrderCounters;
using engine::ShopSettings;

// ---- Encoding ----

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t u) {
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

void PutTime(engine::TimeMs t, std::string* out) { PutVarint(ZigZag(t), out); }

void PutString(absl::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s.data(), s.size());
}

template <typename E>
void PutEnum(E e, std::string* out) {
  out->push_back(static_cast<char>(static_cast<std::underlying_type_t<E>>(e)));
}

void PutConnection(const Connection& c, std::string* out) {
  PutVarint(c.shop, out);
  PutString(c.canonical_email, out);
  PutString(c.entered_email, out);
  PutVarint(c.affiliate, out);
  PutEnum(c.source, out);
  PutTime(c.connected_at, out);
  PutString(c.name, out);
  PutVarint(c.order_count, out);
  PutTime(c.last_order_at, out);
}

void PutSettingsBody(const ShopSettings& s, std::string* out) {
  out->push_back(static_cast<char>((s.connections_enabled ? 1 : 0) |
                                   (s.auto_connect ? 2 : 0) |
                                   (s.auto_connect_new_customers_only ? 4 : 0)));
  PutVarint(s.validity_days, out);
  PutEnum(s.validity_mode, out);
  PutVarint(s.validity_max_orders, out);
  PutEnum(s.precedence, out);
}

void PutDecision(const AttributionDecision& d, std::string* out) {
  PutString(d.order_id, out);
  PutTime(d.ordered_at, out);
  PutVarint(d.affiliate, out);
  PutEnum(d.reason, out);
  PutEnum(d.connection_inactive, out);
  out->push_back(static_cast<char>((d.counted ? 1 : 0) | (d.connection_created ? 2 : 0) |
                                   (d.connection_moved ? 4 : 0) | (d.reversed ? 8 : 0)));
  PutVarint(d.previous_affiliate, out);
  PutString(d.canonical_email, out);
}

// The fields version 2 of the Decision adds (tag 9).
void PutDecisionV2(const AttributionDecision& d, std::string* out) {
  PutEnum(d.referral_refused, out);
  PutVarint(d.refused_affiliate, out);
  PutVarint(d.order_number_in_connection, out);
}

// The fields version 3 of the Decision adds (tag 17; the customer directory).
void PutDecisionV3(const AttributionDecision& d, std::string* out) {
  PutEnum(d.new_customer_source, out);
  PutVarint(d.order_number_for_customer, out);
}

// A customer directory entry (tags 14, 15, 16).
void PutCustomerEntryBody(const engine::CustomerEntry& e, std::string* out) {
  PutString(e.name, out);
  PutTime(e.first_order_at, out);
  PutTime(e.last_order_at, out);
  PutVarint(e.orders_seen, out);
}

void PutSettingsV4(const ShopSettings& s, std::string* out) {
  out->push_back(static_cast<char>(s.customer_directory ? 1 : 0));
}

void PutSettingsV2(const ShopSettings& s, std::string* out) {
  out->push_back(static_cast<char>((s.require_registered_affiliates ? 1 : 0) |
                                   (s.block_self_referrals ? 2 : 0)));
  PutEnum(s.on_customer_becomes_affiliate, out);
}

void PutSettingsV3(const ShopSettings& s, std::string* out) {
  out->push_back(static_cast<char>(s.auto_link_identifiers ? 1 : 0));
  PutEnum(s.merge_conflict, out);
}

void PutAffiliateBody(const engine::PutAffiliate& op, std::string* out) {
  const engine::Affiliate& a = op.affiliate;
  PutVarint(a.shop, out);
  PutVarint(a.id, out);
  PutString(a.name, out);
  PutEnum(a.status, out);
  PutTime(a.created_at, out);
  PutVarint(a.emails.size(), out);
  for (const std::string& e : a.emails) PutString(e, out);
  out->push_back(op.created ? 1 : 0);
}

void PutWebhookBody(const engine::PutWebhookEndpoint& op, std::string* out) {
  const engine::WebhookEndpoint& e = op.endpoint;
  PutVarint(e.id, out);
  PutVarint(e.shop, out);
  PutString(e.url, out);
  PutVarint(e.event_mask, out);
  out->push_back(static_cast<char>((e.enabled ? 1 : 0) | (op.created ? 2 : 0)));
  PutString(e.disabled_reason, out);
  PutString(e.secret, out);
  PutString(e.previous_secret, out);
  PutTime(e.previous_secret_expires_at, out);
  PutTime(e.created_at, out);
  PutTime(e.updated_at, out);
}

void PutCounters(const std::optional<OrderCounters>& c, std::string* out) {
  out->push_back(c ? 1 : 0);
  if (!c) return;
  PutVarint(c->order_count, out);
  PutTime(c->last_order_at, out);
}

// ---- Decoding ----

// Reads primitives from hostile bytes. Errors are sticky: after the first one every
// read returns a default value and the first error (the one that names the real
// problem) is kept, so the decoding code below reads like the format table.
class Decoder {
 public:
  explicit Decoder(absl::string_view in) : in_(in) {}

  // `where` is the enclosing struct path ("RecordOrder.decision"), `field` the field
  // name; they are joined only on error.
  uint64_t Varint(absl::string_view where, absl::string_view field) {
    if (!ok_) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= in_.size()) {
        Fail(where, field, absl::StrCat("truncated varint (input ends at byte ", pos_, ")"));
        return 0;
      }
      const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (i == 9 && b > 1) {  // The 10th byte holds bit 63 only.
        Fail(where, field, (b & 0x80) != 0 ? "varint longer than 10 bytes"
                                           : "varint overflows 64 bits");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    return 0;  // Not reached: the 10th byte either ends the varint or fails above.
  }

  uint32_t Varint32(absl::string_view where, absl::string_view field) {
    const uint64_t v = Varint(where, field);
    if (v > UINT32_MAX) {
      Fail(where, field, absl::StrCat("value ", v, " over ", UINT32_MAX));
      return 0;
    }
    return static_cast<uint32_t>(v);
  }

  int64_t Time(absl::string_view where, absl::string_view field) {
    return UnZigZag(Varint(where, field));
  }

  uint8_t Byte(absl::string_view where, absl::string_view field) {
    if (!ok_) return 0;
    if (pos_ >= in_.size()) {
      Fail(where, field, absl::StrCat("truncated (input ends at byte ", pos_, ")"));
      return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
  }

  std::string String(absl::string_view where, absl::string_view field) {
    const uint64_t n = Varint(where, field);
    if (!ok_) return std::string();
    if (n > kMaxCodecStringBytes) {
      Fail(where, field, absl::StrCat("length ", n, " over ", kMaxCodecStringBytes));
      return std::string();
    }
    if (n > in_.size() - pos_) {
      Fail(where, field, absl::StrCat("truncated (length ", n, ", ",
                                      in_.size() - pos_, " bytes left)"));
      return std::string();
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  // An enum stored as u8 with values 0..max.
  template <typename E>
  E Enum(absl::string_view where, absl::string_view field, E max) {
    const uint8_t v = Byte(where, field);
    if (v > static_cast<uint8_t>(max)) {
      Fail(where, field, absl::StrCat("value ", v, " out of range 0..",
                                      static_cast<int>(max)));
      return E{};
    }
    return static_cast<E>(v);
  }

  // A flags byte whose bits outside `used` must be zero.
  uint8_t Flags(absl::string_view where, absl::string_view field, uint8_t used) {
    const uint8_t v = Byte(where, field);
    if ((v & ~used) != 0) {
      Fail(where, field, absl::StrFormat("unknown bits 0x%02x", v & ~used));
      return 0;
    }
    return v;
  }

  bool Present(absl::string_view where, absl::string_view field) {
    const uint8_t v = Byte(where, field);
    if (v > 1) {
      Fail(where, field, absl::StrCat("presence byte ", v, " is not 0 or 1"));
      return false;
    }
    return v == 1;
  }

  void Fail(absl::string_view where, absl::string_view field, absl::string_view what) {
    if (!ok_) return;
    ok_ = false;
    status_ = absl::DataLossError(absl::StrCat(
        "mutation: ", where, where.empty() ? "" : ".", field, ": ", what));
  }

  // The first error, or DataLoss if bytes are left over.
  absl::Status Finish() {
    if (ok_ && pos_ != in_.size()) {
      status_ = absl::DataLossError(absl::StrCat("mutation: ", in_.size() - pos_,
                                                 " trailing bytes after byte ", pos_));
    }
    return status_;
  }

 private:
  absl::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
  absl::Status status_;
};

Connection ReadConnection(Decoder& d, absl::string_view where) {
  Connection c;
  c.shop = d.Varint(where, "shop");
  c.canonical_email = d.String(where, "canonical_email");
  c.entered_email = d.String(where, "entered_email");
  c.affiliate = d.Varint(where, "affiliate");
  c.source = d.Enum(where, "source", engine::Source::kReferral);
  c.connected_at = d.Time(where, "connected_at");
  c.name = d.String(where, "name");
  c.order_count = d.Varint32(where, "order_count");
  c.last_order_at = d.Time(where, "last_order_at");
  return c;
}

ShopSettings ReadSettings(Decoder& d, absl::string_view where) {
  ShopSettings s;
  const uint8_t flags = d.Flags(where, "flags", 0x07);
  s.connections_enabled = (flags & 1) != 0;
  s.auto_connect = (flags & 2) != 0;
  s.auto_connect_new_customers_only = (flags & 4) != 0;
  s.validity_days = d.Varint32(where, "validity_days");
  s.validity_mode = d.Enum(where, "validity_mode", engine::ValidityMode::kSliding);
  s.validity_max_orders = d.Varint32(where, "validity_max_orders");
  s.precedence = d.Enum(where, "precedence", engine::Precedence::kReferralTakesOver);
  return s;
}

// v2 (tag 9) allows the reasons the affiliate directory added.
AttributionDecision ReadDecision(Decoder& d, absl::string_view where, bool v2 = false) {
  AttributionDecision a;
  a.order_id = d.String(where, "order_id");
  a.ordered_at = d.Time(where, "ordered_at");
  a.affiliate = d.Varint(where, "affiliate");
  a.reason = d.Enum(where, "reason",
                    v2 ? engine::Reason::kSelfReferral : engine::Reason::kReferral);
  a.connection_inactive =
      d.Enum(where, "connection_inactive",
             v2 ? engine::InactiveReason::kAffiliateNotRegistered
                : engine::InactiveReason::kDisabled);
  const uint8_t flags = d.Flags(where, "flags", 0x0f);
  a.counted = (flags & 1) != 0;
  a.connection_created = (flags & 2) != 0;
  a.connection_moved = (flags & 4) != 0;
  a.reversed = (flags & 8) != 0;
  a.previous_affiliate = d.Varint(where, "previous_affiliate");
  a.canonical_email = d.String(where, "canonical_email");
  return a;
}

void ReadDecisionV2(Decoder& d, absl::string_view where, AttributionDecision* a) {
  a->referral_refused =
      d.Enum(where, "referral_refused", engine::ReferralRefusal::kSelfReferral);
  a->refused_affiliate = d.Varint(where, "refused_affiliate");
  a->order_number_in_connection = d.Varint32(where, "order_number_in_connection");
}

void ReadDecisionV3(Decoder& d, absl::string_view where, AttributionDecision* a) {
  a->new_customer_source =
      d.Enum(where, "new_customer_source", engine::NewCustomerSource::kDirectory);
  a->order_number_for_customer = d.Varint32(where, "order_number_for_customer");
}

engine::CustomerEntry ReadCustomerEntry(Decoder& d, absl::string_view where) {
  engine::CustomerEntry e;
  e.name = d.String(where, "name");
  e.first_order_at = d.Time(where, "first_order_at");
  e.last_order_at = d.Time(where, "last_order_at");
  e.orders_seen = d.Varint32(where, "orders_seen");
  return e;
}

void ReadSettingsV4(Decoder& d, absl::string_view where, ShopSettings* s) {
  s->customer_directory = (d.Flags(where, "directory_flags", 0x01) & 1) != 0;
}

void ReadSettingsV3(Decoder& d, absl::string_view where, ShopSettings* s) {
  s->auto_link_identifiers = (d.Flags(where, "identity_flags", 0x01) & 1) != 0;
  s->merge_conflict = d.Enum(where, "merge_conflict", engine::MergeConflictRule::kRefuse);
}

void ReadSettingsV2(Decoder& d, absl::string_view where, ShopSettings* s) {
  const uint8_t flags = d.Flags(where, "affiliate_flags", 0x03);
  s->require_registered_affiliates = (flags & 1) != 0;
  s->block_self_referrals = (flags & 2) != 0;
  s->on_customer_becomes_affiliate = d.Enum(where, "on_customer_becomes_affiliate",
                                            engine::CustomerBecomesAffiliate::kDisconnect);
}

engine::PutAffiliate ReadAffiliate(Decoder& d) {
  constexpr absl::string_view where = "PutAffiliate";
  engine::PutAffiliate op;
  engine::Affiliate& a = op.affiliate;
  a.shop = d.Varint(where, "shop");
  a.id = d.Varint(where, "id");
  a.name = d.String(where, "name");
  a.status = d.Enum(where, "status", engine::AffiliateStatus::kDisabled);
  a.created_at = d.Time(where, "created_at");
  const uint64_t n = d.Varint(where, "email_count");
  if (n > engine::kMaxAffiliateEmails) {
    d.Fail(where, "email_count", absl::StrCat("value ", n, " over ", engine::kMaxAffiliateEmails));
  }
  for (uint64_t i = 0; i < n && i < engine::kMaxAffiliateEmails; ++i) {
    a.emails.push_back(d.String(where, "emails"));
  }
  op.created = d.Flags(where, "flags", 0x01) != 0;
  return op;
}

engine::PutWebhookEndpoint ReadWebhook(Decoder& d) {
  constexpr absl::string_view where = "PutWebhookEndpoint";
  engine::PutWebhookEndpoint op;
  engine::WebhookEndpoint& e = op.endpoint;
  e.id = d.Varint(where, "id");
  e.shop = d.Varint(where, "shop");
  e.url = d.String(where, "url");
  const uint64_t mask = d.Varint(where, "event_mask");
  if (mask >= (uint64_t{1} << engine::kWebhookEventTypes.size())) {
    d.Fail(where, "event_mask", absl::StrCat("unknown event type bits in ", mask));
  }
  e.event_mask = static_cast<uint32_t>(mask);
  const uint8_t flags = d.Flags(where, "flags", 0x03);
  e.enabled = (flags & 1) != 0;
  op.created = (flags & 2) != 0;
  e.disabled_reason = d.String(where, "disabled_reason");
  e.secret = d.String(where, "secret");
  e.previous_secret = d.String(where, "previous_secret");
  e.previous_secret_expires_at = d.Time(where, "previous_secret_expires_at");
  e.created_at = d.Time(where, "created_at");
  e.updated_at = d.Time(where, "updated_at");
  return op;
}

// `inner` is where + ".counters" (a literal: no allocation per record).
std::optional<OrderCounters> ReadCounters(Decoder& d, absl::string_view where,
                                          absl::string_view inner) {
  if (!d.Present(where, "counters")) return std::nullopt;
  OrderCounters c;
  c.order_count = d.Varint32(inner, "order_count");
  c.last_order_at = d.Time(inner, "last_order_at");
  return c;
}

// ---- Description ----

// Escapes control bytes (and '\', so the escape is unambiguous) as \xNN: a corrupt
// string cannot drive the terminal. UTF-8 passes unchanged.
std::string Printable(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b == 0x7f || b == '\\') {
      absl::StrAppendFormat(&out, "\\x%02x", b);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// A connection key: a canonical email, or an external id's key (identity_index.h).
std::string Email(absl::string_view canonical) {
  if (engine::IsExternalIdKey(canonical)) {
    return absl::StrCat("external_id:", Printable(engine::ExternalIdOfKey(canonical)));
  }
  return canonical.empty() ? std::string("(no email)") : Printable(canonical);
}

absl::string_view CauseName(engine::IdentityCause c) {
  switch (c) {
    case engine::IdentityCause::kManual: return "manual";
    case engine::IdentityCause::kOrder: return "order";
    case engine::IdentityCause::kConnect: return "connect";
  }
  return "?";
}

std::string CauseText(engine::IdentityCause c, absl::string_view order_id) {
  if (c == engine::IdentityCause::kOrder) {
    return absl::StrCat("order \"", Printable(order_id), "\"");
  }
  return std::string(CauseName(c));
}

std::string Time(engine::TimeMs ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string CountersText(uint32_t order_count, engine::TimeMs last_order_at) {
  return last_order_at == 0
             ? absl::StrCat(order_count, " orders")
             : absl::StrCat(order_count, " orders, last ", Time(last_order_at));
}

std::string Describe(const engine::SetConnection& op) {
  const Connection& c = op.connection;
  const char* verb = op.previous_affiliate == 0           ? "connect"
                     : op.previous_affiliate == c.affiliate ? "reconnect"
                                                            : "reassign";
  std::string line =
      absl::StrCat(verb, " shop ", c.shop, " ", Email(c.canonical_email), " -> affiliate ",
                   c.affiliate, " (", engine::SourceName(c.source), ", connected ",
                   Time(c.connected_at));
  if (op.previous_affiliate != 0 && op.previous_affiliate != c.affiliate) {
    absl::StrAppend(&line, ", was affiliate ", op.previous_affiliate);
  }
  if (c.entered_email != c.canonical_email) {
    absl::StrAppend(&line, ", entered \"", Printable(c.entered_email), "\"");
  }
  if (!c.name.empty()) absl::StrAppend(&line, ", name \"", Printable(c.name), "\"");
  if (c.order_count != 0 || c.last_order_at != 0) {
    absl::StrAppend(&line, ", ", CountersText(c.order_count, c.last_order_at));
  }
  line += ")";
  return line;
}

std::string Describe(const engine::RemoveConnection& op) {
  std::string line = absl::StrCat("disconnect shop ", op.shop, " ", Email(op.canonical_email),
                                  " (was affiliate ", op.previous_affiliate);
  if (op.cause == engine::RemoveCause::kCustomerBecameAffiliate) {
    absl::StrAppend(&line, "; the customer became affiliate ", op.became_affiliate,
                    ", on_customer_becomes_affiliate=disconnect");
  }
  return line + ")";
}

std::string Describe(const engine::PutAffiliate& op) {
  const engine::Affiliate& a = op.affiliate;
  std::string line = absl::StrCat("affiliate ", op.created ? "created" : "updated", " shop ",
                                  a.shop, " affiliate ", a.id, " \"", Printable(a.name),
                                  "\" (", engine::AffiliateStatusName(a.status));
  for (size_t i = 0; i < a.emails.size(); ++i) {
    absl::StrAppend(&line, i == 0 ? ", emails " : " ", Printable(a.emails[i]));
  }
  absl::StrAppend(&line, ", created ", Time(a.created_at), ")");
  return line;
}

// Secrets are never printed.
std::string Describe(const engine::PutWebhookEndpoint& op) {
  const engine::WebhookEndpoint& e = op.endpoint;
  std::string types = absl::StrJoin(engine::WebhookEventNames(e.event_mask), ",");
  std::string line = absl::StrCat(
      "webhook endpoint ", op.created ? "created" : "updated", " shop ", e.shop, " ep_", e.id,
      " ", Printable(e.url), " (events ", types.empty() ? "all" : types, ", ",
      e.enabled ? "enabled" : "disabled");
  if (!e.disabled_reason.empty()) {
    absl::StrAppend(&line, ": ", Printable(e.disabled_reason));
  }
  if (!e.previous_secret.empty()) {
    absl::StrAppend(&line, ", previous secret valid until ", Time(e.previous_secret_expires_at));
  }
  return line + ")";
}

std::string Describe(const engine::RemoveWebhookEndpoint& op) {
  return absl::StrCat("webhook endpoint deleted shop ", op.shop, " ep_", op.id);
}

const char* Bool(bool b) { return b ? "true" : "false"; }

std::string EntryText(const engine::CustomerEntry& e) {
  std::string line = e.name.empty() ? std::string("no name")
                                    : absl::StrCat("name \"", Printable(e.name), "\"");
  if (e.orders_seen == 0) return line + ", no order seen";
  return absl::StrCat(line, ", ", e.orders_seen, " orders seen, first ", Time(e.first_order_at),
                      ", last ", Time(e.last_order_at));
}

std::string Describe(const engine::LinkIdentifier& op) {
  return absl::StrCat("link shop ", op.shop, " ", Email(op.identifier), " -> customer ",
                      Email(op.primary), " (", CauseText(op.cause, op.order_id),
                      op.absorbed_entry
                          ? absl::StrCat("; directory entry now: ", EntryText(*op.absorbed_entry))
                          : std::string(),
                      ")");
}

std::string Describe(const engine::PutCustomerEntry& op) {
  return absl::StrCat("customer directory shop ", op.shop, " ", Email(op.key), ": ",
                      EntryText(op.entry));
}

std::string Describe(const engine::UnlinkIdentifier& op) {
  return absl::StrCat("unlink shop ", op.shop, " ", Email(op.identifier), " from customer ",
                      Email(op.primary));
}

std::string Describe(const engine::MergeCustomers& op) {
  std::string line = absl::StrCat("merge shop ", op.shop, " customer ", Email(op.loser),
                                  " into customer ", Email(op.survivor), " (",
                                  CauseText(op.cause, op.order_id));
  if (op.conflict) {
    absl::StrAppend(&line, "; both connected, merge_conflict=",
                    engine::MergeConflictRuleName(op.rule));
  }
  if (op.lost_connection) {
    absl::StrAppend(&line, "; lost connection to affiliate ", op.lost_connection->affiliate,
                    ", connected ", Time(op.lost_connection->connected_at), ", ",
                    CountersText(op.lost_connection->order_count,
                                 op.lost_connection->last_order_at));
  }
  if (op.absorbed_entry) {
    absl::StrAppend(&line, "; directory entry now: ", EntryText(*op.absorbed_entry));
  }
  return line + ")";
}

std::string Describe(const engine::PutSettings& op) {
  const ShopSettings& s = op.settings;
  return absl::StrCat(
      "settings shop ", op.shop, ": connections_enabled=", Bool(s.connections_enabled),
      " auto_connect=", Bool(s.auto_connect),
      " auto_connect_new_customers_only=", Bool(s.auto_connect_new_customers_only),
      " validity_days=", s.validity_days,
      " validity_mode=", engine::ValidityModeName(s.validity_mode),
      " validity_max_orders=", s.validity_max_orders,
      " precedence=", engine::PrecedenceName(s.precedence),
      " require_registered_affiliates=", Bool(s.require_registered_affiliates),
      " block_self_referrals=", Bool(s.block_self_referrals),
      " on_customer_becomes_affiliate=",
      engine::CustomerBecomesAffiliateName(s.on_customer_becomes_affiliate),
      s.auto_link_identifiers && s.merge_conflict == engine::MergeConflictRule::kKeepEarliest
          ? std::string()
          : absl::StrCat(" auto_link_identifiers=", Bool(s.auto_link_identifiers),
                         " merge_conflict=", engine::MergeConflictRuleName(s.merge_conflict)),
      s.customer_directory ? "" : " customer_directory=false");
}

std::string Describe(const engine::RecordOrder& op) {
  const AttributionDecision& d = op.decision;
  std::string line = absl::StrCat("order shop ", op.shop, " \"", Printable(d.order_id),
                                  "\" ", Email(d.canonical_email), " at ",
                                  Time(d.ordered_at), " -> ");
  if (d.affiliate == 0) {
    line += "no affiliate (";
  } else {
    absl::StrAppend(&line, "affiliate ", d.affiliate, " (",
                    engine::ReasonName(d.reason));
  }
  std::string sep = d.affiliate == 0 ? "" : "; ";
  auto add = [&](absl::string_view part) {
    absl::StrAppend(&line, sep, part);
    sep = "; ";
  };
  if (d.connection_inactive != engine::InactiveReason::kActive) {
    add(absl::StrCat("connection ",
                     engine::InactiveReasonName(d.connection_inactive)));
  }
  if (d.counted) {
    add(d.order_number_in_connection == 0
            ? std::string("counted")
            : absl::StrCat("counted, order ", d.order_number_in_connection,
                           " of the connection"));
  }
  if (d.reason == engine::Reason::kSelfReferral) {
    add(absl::StrCat("self_referral of affiliate ", d.refused_affiliate, ", not credited"));
  } else if (d.referral_refused != engine::ReferralRefusal::kNone) {
    add(absl::StrCat("referral refused: ", engine::ReferralRefusalName(d.referral_refused)));
  }
  if (d.connection_created) add("connection created");
  if (d.connection_moved) {
    add(absl::StrCat("connection moved from affiliate ", d.previous_affiliate));
  }
  if (d.reversed) add("reversed");
  if (op.new_connection) {
    add(absl::StrCat("new connection to affiliate ", op.new_connection->affiliate, ", ",
                     CountersText(op.new_connection->order_count,
                                  op.new_connection->last_order_at)));
  }
  if (op.counters) {
    add(absl::StrCat("now ", CountersText(op.counters->order_count,
                                          op.counters->last_order_at)));
  }
  if (sep.empty()) line += "not counted";
  line += ")";
  return line;
}

std::string Describe(const engine::ReverseOrder& op) {
  std::string line = absl::StrCat("reverse order shop ", op.shop, " \"",
                                  Printable(op.order_id), "\" ",
                                  Email(op.canonical_email), " (");
  if (op.counters) {
    absl::StrAppend(&line, "un-counted, now ",
                    CountersText(op.counters->order_count, op.counters->last_order_at),
                    ")");
  } else {
    line += "nothing to un-count)";
  }
  return line;
}

uint32_t DerivedOrderNumber(const engine::RecordOrder& op) {
  if (!op.decision.counted) return 0;
  if (op.new_connection) return op.new_connection->order_count;
  return op.counters ? op.counters->order_count : 0;
}

MutationTag TagOf(const Mutation& m) {
  struct Visitor {
    MutationTag operator()(const engine::SetConnection&) { return MutationTag::kSetConnection; }
    MutationTag operator()(const engine::RemoveConnection& op) {
      return op.cause == engine::RemoveCause::kRequest && op.became_affiliate == 0
                 ? MutationTag::kRemoveConnection
                 : MutationTag::kRemoveConnectionWithCause;
    }
    MutationTag operator()(const engine::PutSettings& op) {
      const ShopSettings defaults;
      const ShopSettings& s = op.settings;
      if (s.customer_directory != defaults.customer_directory) return MutationTag::kPutSettingsV4;
      if (s.auto_link_identifiers != defaults.auto_link_identifiers ||
          s.merge_conflict != defaults.merge_conflict) {
        return MutationTag::kPutSettingsV3;
      }
      return s.require_registered_affiliates == defaults.require_registered_affiliates &&
                     s.block_self_referrals == defaults.block_self_referrals &&
                     s.on_customer_becomes_affiliate == defaults.on_customer_becomes_affiliate
                 ? MutationTag::kPutSettings
                 : MutationTag::kPutSettingsV2;
    }
    MutationTag operator()(const engine::RecordOrder& op) {
      const AttributionDecision& d = op.decision;
      if (d.new_customer_source != engine::NewCustomerSource::kUnknown ||
          d.order_number_for_customer != 0) {
        return MutationTag::kRecordOrderV3;
      }
      return d.reason <= engine::Reason::kReferral &&
                     d.connection_inactive <= engine::InactiveReason::kDisabled &&
                     d.referral_refused == engine::ReferralRefusal::kNone &&
                     d.refused_affiliate == 0 &&
                     d.order_number_in_connection == DerivedOrderNumber(op)
                 ? MutationTag::kRecordOrder
                 : MutationTag::kRecordOrderV2;
    }
    MutationTag operator()(const engine::ReverseOrder&) { return MutationTag::kReverseOrder; }
    MutationTag operator()(const engine::PutAffiliate&) { return MutationTag::kPutAffiliate; }
    MutationTag operator()(const engine::PutWebhookEndpoint&) {
      return MutationTag::kPutWebhookEndpoint;
    }
    MutationTag operator()(const engine::RemoveWebhookEndpoint&) {
      return MutationTag::kRemoveWebhookEndpoint;
    }
    MutationTag operator()(const engine::LinkIdentifier& op) {
      return op.absorbed_entry ? MutationTag::kLinkIdentifierV2 : MutationTag::kLinkIdentifier;
    }
    MutationTag operator()(const engine::PutCustomerEntry&) {
      return MutationTag::kPutCustomerEntry;
    }
    MutationTag operator()(const engine::UnlinkIdentifier&) {
      return MutationTag::kUnlinkIdentifier;
    }
    MutationTag operator()(const engine::MergeCustomers& op) {
      return op.absorbed_entry ? MutationTag::kMergeCustomersV2 : MutationTag::kMergeCustomers;
    }
  };
  return std::visit(Visitor{}, m.op);
}

}  // namespace

void EncodeMutation(const Mutation& m, std::string* out) {
  const MutationTag tag = TagOf(m);
  out->push_back(static_cast<char>(tag));
  PutTime(m.made_at, out);
  std::visit(
      [out, tag](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, engine::SetConnection>) {
          PutConnection(op.connection, out);
          PutVarint(op.previous_affiliate, out);
        } else if constexpr (std::is_same_v<T, engine::RemoveConnection>) {
          PutVarint(op.shop, out);
          PutString(op.canonical_email, out);
          PutVarint(op.previous_affiliate, out);
          if (tag == MutationTag::kRemoveConnectionWithCause) {
            PutEnum(op.cause, out);
            PutVarint(op.became_affiliate, out);
          }
        } else if constexpr (std::is_same_v<T, engine::PutSettings>) {
          PutVarint(op.shop, out);
          PutSettingsBody(op.settings, out);
          if (tag != MutationTag::kPutSettings) PutSettingsV2(op.settings, out);
          if (tag == MutationTag::kPutSettingsV3 || tag == MutationTag::kPutSettingsV4) {
            PutSettingsV3(op.settings, out);
          }
          if (tag == MutationTag::kPutSettingsV4) PutSettingsV4(op.settings, out);
        } else if constexpr (std::is_same_v<T, engine::PutAffiliate>) {
          PutAffiliateBody(op, out);
        } else if constexpr (std::is_same_v<T, engine::PutWebhookEndpoint>) {
          PutWebhookBody(op, out);
        } else if constexpr (std::is_same_v<T, engine::RemoveWebhookEndpoint>) {
          PutVarint(op.shop, out);
          PutVarint(op.id, out);
        } else if constexpr (std::is_same_v<T, engine::LinkIdentifier>) {
          PutVarint(op.shop, out);
          PutString(op.primary, out);
          PutString(op.identifier, out);
          PutEnum(op.cause, out);
          PutString(op.order_id, out);
          if (op.absorbed_entry) PutCustomerEntryBody(*op.absorbed_entry, out);
        } else if constexpr (std::is_same_v<T, engine::PutCustomerEntry>) {
          PutVarint(op.shop, out);
          PutString(op.key, out);
          PutCustomerEntryBody(op.entry, out);
        } else if constexpr (std::is_same_v<T, engine::UnlinkIdentifier>) {
          PutVarint(op.shop, out);
          PutString(op.primary, out);
          PutString(op.identifier, out);
        } else if constexpr (std::is_same_v<T, engine::MergeCustomers>) {
          PutVarint(op.shop, out);
          PutString(op.survivor, out);
          PutString(op.loser, out);
          out->push_back(op.lost_connection ? 1 : 0);
          if (op.lost_connection) PutConnection(*op.lost_connection, out);
          out->push_back(static_cast<char>(op.conflict ? 1 : 0));
          PutEnum(op.rule, out);
          PutEnum(op.cause, out);
          PutString(op.order_id, out);
          if (op.absorbed_entry) PutCustomerEntryBody(*op.absorbed_entry, out);
        } else if constexpr (std::is_same_v<T, engine::RecordOrder>) {
          PutVarint(op.shop, out);
          PutDecision(op.decision, out);
          if (tag != MutationTag::kRecordOrder) PutDecisionV2(op.decision, out);
          if (tag == MutationTag::kRecordOrderV3) PutDecisionV3(op.decision, out);
          out->push_back(op.new_connection ? 1 : 0);
          if (op.new_connection) PutConnection(*op.new_connection, out);
          PutCounters(op.counters, out);
          PutVarint(op.counted_affiliate, out);
          PutTime(op.counted_connected_at, out);
          PutTime(op.prev_last_order_at, out);
        } else {
          static_assert(std::is_same_v<T, engine::ReverseOrder>);
          PutVarint(op.shop, out);
          PutString(op.order_id, out);
          PutString(op.canonical_email, out);
          PutCounters(op.counters, out);
        }
      },
      m.op);
}

static_assert(static_cast<int>(MutationTag::kSetConnection) == 1 &&
              static_cast<int>(MutationTag::kReverseOrder) == 5 &&
              static_cast<int>(MutationTag::kRecordOrderV2) == 9);

absl::StatusOr<Mutation> DecodeMutation(absl::string_view bytes) {
  Decoder d(bytes);
  Mutation m;
  const uint8_t tag = d.Byte("", "tag");
  m.made_at = d.Time("", "made_at");
  switch (static_cast<MutationTag>(tag)) {
    case MutationTag::kSetConnection: {
      engine::SetConnection op;
      op.connection = ReadConnection(d, "SetConnection.connection");
      op.previous_affiliate = d.Varint("SetConnection", "previous_affiliate");
      m.op = std::move(op);
      break;
    }
    case MutationTag::kRemoveConnection:
    case MutationTag::kRemoveConnectionWithCause: {
      engine::RemoveConnection op;
      op.shop = d.Varint("RemoveConnection", "shop");
      op.canonical_email = d.String("RemoveConnection", "canonical_email");
      op.previous_affiliate = d.Varint("RemoveConnection", "previous_affiliate");
      if (tag == static_cast<uint8_t>(MutationTag::kRemoveConnectionWithCause)) {
        op.cause = d.Enum("RemoveConnection", "cause",
                          engine::RemoveCause::kCustomerBecameAffiliate);
        op.became_affiliate = d.Varint("RemoveConnection", "became_affiliate");
      }
      m.op = std::move(op);
      break;
    }
    case MutationTag::kPutSettings:
    case MutationTag::kPutSettingsV2:
    case MutationTag::kPutSettingsV3:
    case MutationTag::kPutSettingsV4: {
      engine::PutSettings op;
      op.shop = d.Varint("PutSettings", "shop");
      op.settings = ReadSettings(d, "PutSettings.settings");
      if (tag != static_cast<uint8_t>(MutationTag::kPutSettings)) {
        ReadSettingsV2(d, "PutSettings.settings", &op.settings);
      }
      if (tag == static_cast<uint8_t>(MutationTag::kPutSettingsV3) ||
          tag == static_cast<uint8_t>(MutationTag::kPutSettingsV4)) {
        ReadSettingsV3(d, "PutSettings.settings", &op.settings);
      }
      if (tag == static_cast<uint8_t>(MutationTag::kPutSettingsV4)) {
        ReadSettingsV4(d, "PutSettings.settings", &op.settings);
      }
      m.op = std::move(op);
      break;
    }
    case MutationTag::kPutAffiliate:
      m.op = ReadAffiliate(d);
      break;
    case MutationTag::kPutWebhookEndpoint:
      m.op = ReadWebhook(d);
      break;
    case MutationTag::kRemoveWebhookEndpoint: {
      engine::RemoveWebhookEndpoint op;
      op.shop = d.Varint("RemoveWebhookEndpoint", "shop");
      op.id = d.Varint("RemoveWebhookEndpoint", "id");
      m.op = op;
      break;
    }
    case MutationTag::kPutCustomerEntry: {
      constexpr absl::string_view where = "PutCustomerEntry";
      engine::PutCustomerEntry op;
      op.shop = d.Varint(where, "shop");
      op.key = d.String(where, "key");
      op.entry = ReadCustomerEntry(d, "PutCustomerEntry.entry");
      m.op = std::move(op);
      break;
    }
    case MutationTag::kLinkIdentifier:
    case MutationTag::kLinkIdentifierV2: {
      constexpr absl::string_view where = "LinkIdentifier";
      engine::LinkIdentifier op;
      op.shop = d.Varint(where, "shop");
      op.primary = d.String(where, "primary");
      op.identifier = d.String(where, "identifier");
      op.cause = d.Enum(where, "cause", engine::IdentityCause::kConnect);
      op.order_id = d.String(where, "order_id");
      if (tag == static_cast<uint8_t>(MutationTag::kLinkIdentifierV2)) {
        op.absorbed_entry = ReadCustomerEntry(d, "LinkIdentifier.absorbed_entry");
      }
      m.op = std::move(op);
      break;
    }
    case MutationTag::kUnlinkIdentifier: {
      constexpr absl::string_view where = "UnlinkIdentifier";
      engine::UnlinkIdentifier op;
      op.shop = d.Varint(where, "shop");
      op.primary = d.String(where, "primary");
      op.identifier = d.String(where, "identifier");
      m.op = std::move(op);
      break;
    }
    case MutationTag::kMergeCustomers:
    case MutationTag::kMergeCustomersV2: {
      constexpr absl::string_view where = "MergeCustomers";
      engine::MergeCustomers op;
      op.shop = d.Varint(where, "shop");
      op.survivor = d.String(where, "survivor");
      op.loser = d.String(where, "loser");
      if (d.Present(where, "lost_connection")) {
        op.lost_connection = ReadConnection(d, "MergeCustomers.lost_connection");
      }
      op.conflict = (d.Flags(where, "flags", 0x01) & 1) != 0;
      op.rule = d.Enum(where, "rule", engine::MergeConflictRule::kRefuse);
      op.cause = d.Enum(where, "cause", engine::IdentityCause::kConnect);
      op.order_id = d.String(where, "order_id");
      if (tag == static_cast<uint8_t>(MutationTag::kMergeCustomersV2)) {
        op.absorbed_entry = ReadCustomerEntry(d, "MergeCustomers.absorbed_entry");
      }
      m.op = std::move(op);
      break;
    }
    case MutationTag::kRecordOrder:
    case MutationTag::kRecordOrderV2:
    case MutationTag::kRecordOrderV3: {
      const bool v3 = tag == static_cast<uint8_t>(MutationTag::kRecordOrderV3);
      const bool v2 = v3 || tag == static_cast<uint8_t>(MutationTag::kRecordOrderV2);
      engine::RecordOrder op;
      op.shop = d.Varint("RecordOrder", "shop");
      op.decision = ReadDecision(d, "RecordOrder.decision", v2);
      if (v2) ReadDecisionV2(d, "RecordOrder.decision", &op.decision);
      if (v3) ReadDecisionV3(d, "RecordOrder.decision", &op.decision);
      if (d.Present("RecordOrder", "new_connection")) {
        op.new_connection = ReadConnection(d, "RecordOrder.new_connection");
      }
      op.counters = ReadCounters(d, "RecordOrder", "RecordOrder.counters");
      op.counted_affiliate = d.Varint("RecordOrder", "counted_affiliate");
      op.counted_connected_at = d.Time("RecordOrder", "counted_connected_at");
      op.prev_last_order_at = d.Time("RecordOrder", "prev_last_order_at");
      // Tag 4 (written before the number existed, or when it is the derived one).
      if (!v2) op.decision.order_number_in_connection = DerivedOrderNumber(op);
      m.op = std::move(op);
      break;
    }
    case MutationTag::kReverseOrder: {
      engine::ReverseOrder op;
      op.shop = d.Varint("ReverseOrder", "shop");
      op.order_id = d.String("ReverseOrder", "order_id");
      op.canonical_email = d.String("ReverseOrder", "canonical_email");
      op.counters = ReadCounters(d, "ReverseOrder", "ReverseOrder.counters");
      m.op = std::move(op);
      break;
    }
    default:
      d.Fail("", "tag", absl::StrCat("unknown mutation type ", tag));
  }
  if (absl::Status s = d.Finish(); !s.ok()) return s;
  return m;
}

std::string DescribeMutation(const Mutation& m) {
  return std::visit([](const auto& op) { return Describe(op); }, m.op);
}

}  // namespace attrib::persistence
