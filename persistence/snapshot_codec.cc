// persistence/snapshot_codec.cc: snapshot record encoding (layouts in
// snapshot_format.h).
#include "persistence/snapshot_codec.h"

#include <cstring>
#include <string>
#include <utility>

#include "persistence/mutation_codec.h"
#include "persistence/snapshot_format.h"

namespace attrib::persistence::snapshot_codec {
namespace {

using engine::AffiliateId;
using engine::Connection;
using engine::ConnectionView;
using engine::OrderRecord;
using engine::ShopId;
using engine::ShopSettings;
using engine::TimeMs;

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes into a stack buffer of kMaxRecordBytes; the callers check string sizes
// first, so every record fits (static_asserts in snapshot_format.h).
class Writer {
 public:
  void Byte(uint8_t v) { *p_++ = static_cast<char>(v); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void ZigZag(int64_t v) { Varint(ZigZagEncode(v)); }
  void String(absl::string_view s) {
    Varint(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void AppendTo(std::string* out) const { out->append(buf_, static_cast<size_t>(p_ - buf_)); }

 private:
  char buf_[kMaxRecordBytes];
  char* p_ = buf_;
};

}  // namespace

bool AppendSettings(ShopId shop, const ShopSettings& s, std::string* out) {
  Writer w;
  w.Varint(shop);
  w.Byte(static_cast<uint8_t>((s.connections_enabled ? 0x01 : 0) |
                              (s.auto_connect ? 0x02 : 0) |
                              (s.auto_connect_new_customers_only ? 0x04 : 0) |
                              (static_cast<uint8_t>(s.validity_mode) & 0x01) << 3 |
                              (static_cast<uint8_t>(s.precedence) & 0x03) << 4));
  w.Varint(s.validity_days);
  w.Varint(s.validity_max_orders);
  w.Byte(static_cast<uint8_t>(
      (s.require_registered_affiliates ? 0x01 : 0) | (s.block_self_referrals ? 0x02 : 0) |
      (s.on_customer_becomes_affiliate == engine::CustomerBecomesAffiliate::kDisconnect ? 0x04
                                                                                        : 0)));
  w.AppendTo(out);
  return true;
}

bool AppendAffiliate(const engine::Affiliate& a, std::string* out) {
  if (a.name.size() > kMaxConnectionStringBytes || a.emails.size() > engine::kMaxAffiliateEmails) {
    return false;
  }
  for (const std::string& e : a.emails) {
    if (e.size() > kMaxConnectionStringBytes) return false;
  }
  Writer w;
  w.Varint(a.shop);
  w.Varint(a.id);
  w.String(a.name);
  w.Byte(static_cast<uint8_t>(a.status));
  w.ZigZag(a.created_at);
  w.Byte(static_cast<uint8_t>(a.emails.size()));
  for (const std::string& e : a.emails) w.String(e);
  w.AppendTo(out);
  return true;
}

bool AppendWebhookEndpoint(const engine::WebhookEndpoint& e, std::string* out) {
  std::string m;
  EncodeMutation(engine::Mutation{0, engine::PutWebhookEndpoint{e, false}}, &m);
  if (m.size() + 16 > kMaxRecordBytes) return false;
  Writer w;
  w.String(m);
  w.AppendTo(out);
  return true;
}

bool AppendIdentity(const IdentityRecord& r, std::string* out) {
  Writer w;
  w.Byte(r.kind);
  w.Varint(r.shop);
  if (r.kind == kIdentityKindSettings) {
    w.Byte(static_cast<uint8_t>((r.auto_link_identifiers ? 1 : 0) |
                                (r.customer_directory ? 0 : 2)));
    w.Byte(static_cast<uint8_t>(r.merge_conflict));
  } else {
    const engine::CustomerIdentifiers& c = r.customer;
    if (c.primary.size() > kMaxConnectionStringBytes || c.aliases.empty() ||
        c.aliases.size() > engine::kMaxCustomerEmails) {
      return false;
    }
    for (const std::string& a : c.aliases) {
      if (a.size() > kMaxConnectionStringBytes) return false;
    }
    w.String(c.primary);
    w.Byte(static_cast<uint8_t>(c.aliases.size()));
    for (const std::string& a : c.aliases) w.String(a);
  }
  w.AppendTo(out);
  return true;
}

bool AppendCustomerEntry(engine::ShopId shop, absl::string_view key,
                         const engine::CustomerEntry& e, std::string* out) {
  if (key.empty() || key.size() > kMaxConnectionStringBytes ||
      e.name.size() > kMaxConnectionStringBytes) {
    return false;
  }
  Writer w;
  w.Varint(shop);
  w.String(key);
  w.String(e.name);
  w.ZigZag(e.first_order_at);
  w.ZigZag(e.last_order_at);
  w.Varint(e.orders_seen);
  w.AppendTo(out);
  return true;
}

bool AppendConnection(const ConnectionView& c, std::string* out) {
  if (c.canonical_email.size() > kMaxConnectionStringBytes ||
      c.entered_email.size() > kMaxConnectionStringBytes ||
      c.name.size() > kMaxConnectionStringBytes) {
    return false;
  }
  const bool same = c.entered_email == c.canonical_email;
  Writer w;
  w.Byte(static_cast<uint8_t>((static_cast<uint8_t>(c.source) & kConnSourceMask) |
                              (c.name.empty() ? 0 : kConnHasName) |
                              (same ? kConnEnteredIsCanonical : 0)));
  w.Varint(c.shop);
  w.Varint(c.affiliate);
  w.ZigZag(c.connected_at);
  w.ZigZag(c.last_order_at);
  w.Varint(c.order_count);
  w.String(c.canonical_email);
  if (!same) w.String(c.entered_email);
  if (!c.name.empty()) w.String(c.name);
  w.AppendTo(out);
  return true;
}

bool AppendOrder(const OrderRecord& r, std::string* out) {
  const engine::AttributionDecision& d = r.decision;
  if (d.order_id.size() > kMaxOrderStringBytes ||
      d.canonical_email.size() > kMaxOrderStringBytes) {
    return false;
  }
  Writer w;
  w.Byte(static_cast<uint8_t>((static_cast<uint8_t>(d.reason) & 0x03) |
                              (d.counted ? 0x10 : 0) | (d.connection_created ? 0x20 : 0) |
                              (d.connection_moved ? 0x40 : 0) | (d.reversed ? 0x80 : 0)));
  w.Varint(r.shop);
  w.String(d.order_id);
  w.ZigZag(d.ordered_at);
  w.Varint(d.affiliate);
  w.Varint(d.previous_affiliate);
  w.String(d.canonical_email);
  w.Varint(r.counted_affiliate);
  w.ZigZag(r.counted_connected_at);
  w.ZigZag(r.prev_last_order_at);
  w.ZigZag(r.retain_mark);
  w.Byte(static_cast<uint8_t>(d.connection_inactive));
  w.Byte(static_cast<uint8_t>(d.referral_refused));
  w.Varint(d.refused_affiliate);
  w.Varint(d.order_number_in_connection);
  w.Byte(static_cast<uint8_t>(d.new_customer_source));
  w.Varint(d.order_number_for_customer);
  w.AppendTo(out);
  return true;
}

bool AppendOwner(const engine::OwnerKey& o, std::string* out) {
  Writer w;
  w.Varint(o.shop);
  w.Varint(o.affiliate);
  w.AppendTo(out);
  return true;
}

bool AppendEncodedConnection(const engine::EncodedConnection& c, std::string* out) {
  if (c.bytes.size() > engine::record::kMaxRecordBytes) return false;
  char hash[kEncodedHashBytes];
  snapshot_internal::Put64(hash, c.key_hash);
  out->append(hash, kEncodedHashBytes);
  out->append(c.bytes.data(), c.bytes.size());
  return true;
}

bool DecodeEncodedConnection(absl::string_view record,
                             absl::Span<const engine::OwnerKey> owners,
                             engine::EmailPolicy policy, Connection* c, std::string* error) {
  const engine::record::View v(record.data());
  const engine::OwnerKey& owner = owners[v.owner()];
  c->shop = owner.shop;
  c->affiliate = owner.affiliate;
  c->source = v.source();
  c->connected_at = v.connected_at();
  c->last_order_at = v.last_order_at();
  c->order_count = v.order_count();
  c->entered_email.assign(v.entered().data(), v.entered().size());
  c->name.assign(v.name().data(), v.name().size());
  if (v.flags() & kEncodedEnteredIsCanonical) {
    c->canonical_email = c->entered_email;
  } else if (v.flags() & kEncodedCanonicalStored) {
    c->canonical_email.assign(v.stored_canonical().data(), v.stored_canonical().size());
  } else {
    engine::CanonicalBuffer buf;
    const absl::Status s = engine::CanonicalizeInto(v.entered(), policy, &buf);
    if (!s.ok()) {
      *error = std::string(s.message());
      return false;
    }
    c->canonical_email.assign(buf.view().data(), buf.view().size());
  }
  return true;
}

ConnectionView ViewOf(const Connection& c) { return engine::AsView(c); }

// ------------------------------------------------------------------ Decoding

inline bool RecordDecoder::Byte(uint8_t* v) {
  if (p_ == end_) return Fail("record runs past the end of its block");
  *v = static_cast<uint8_t>(*p_++);
  return true;
}

inline bool RecordDecoder::Varint(uint64_t* v) {
  // One-byte fast path: most shop ids, counts and lengths.
  if (p_ != end_ && static_cast<uint8_t>(*p_) < 0x80) {
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) return Fail("record runs past the end of its block");
    const uint8_t b = static_cast<uint8_t>(*p_++);
    if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = result;
      return true;
    }
  }
  return Fail("varint longer than 10 bytes");
}

inline bool RecordDecoder::Varint32(uint32_t* v) {
  uint64_t x;
  if (!Varint(&x)) return false;
  if (x > UINT32_MAX) return Fail("32-bit field out of range");
  *v = static_cast<uint32_t>(x);
  return true;
}

inline bool RecordDecoder::ZigZag(int64_t* v) {
  uint64_t x;
  if (!Varint(&x)) return false;
  *v = ZigZagDecode(x);
  return true;
}

inline bool RecordDecoder::String(size_t limit, std::string* s) {
  uint64_t n;
  if (!Varint(&n)) return false;
  if (n > limit) return Fail("string longer than the format allows");
  if (n > static_cast<uint64_t>(end_ - p_)) return Fail("string runs past the end of its block");
  s->assign(p_, n);
  p_ += n;
  return true;
}

bool RecordDecoder::ReadSettings(ShopId* shop, ShopSettings* s) {
  uint8_t bits;
  uint32_t validity_days, validity_max_orders;
  if (!Varint(shop) || !Byte(&bits) || !Varint32(&validity_days) ||
      !Varint32(&validity_max_orders)) {
    return false;
  }
  if (*shop == 0) return Fail("settings of shop 0");
  if ((bits & 0xC0) != 0 || ((bits >> 4) & 0x03) > 2) return Fail("bad settings bits");
  *s = ShopSettings{};  // Version < 3: the affiliate settings' defaults.
  if (version_ >= 3) {
    uint8_t affiliate_bits;
    if (!Byte(&affiliate_bits)) return false;
    if ((affiliate_bits & 0xF8) != 0) return Fail("bad affiliate settings bits");
    s->require_registered_affiliates = affiliate_bits & 0x01;
    s->block_self_referrals = affiliate_bits & 0x02;
    s->on_customer_becomes_affiliate = (affiliate_bits & 0x04)
                                           ? engine::CustomerBecomesAffiliate::kDisconnect
                                           : engine::CustomerBecomesAffiliate::kKeep;
  }
  s->validity_days = validity_days;
  s->validity_max_orders = validity_max_orders;
  s->connections_enabled = bits & 0x01;
  s->auto_connect = bits & 0x02;
  s->auto_connect_new_customers_only = bits & 0x04;
  s->validity_mode = static_cast<engine::ValidityMode>((bits >> 3) & 0x01);
  s->precedence = static_cast<engine::Precedence>((bits >> 4) & 0x03);
  return true;
}

bool RecordDecoder::ReadConnection(Connection* c) {
  uint8_t bits;
  if (!Byte(&bits) || !Varint(&c->shop) || !Varint(&c->affiliate) ||
      !ZigZag(&c->connected_at) || !ZigZag(&c->last_order_at) ||
      !Varint32(&c->order_count) ||
      !String(kMaxConnectionStringBytes, &c->canonical_email)) {
    return false;
  }
  if ((bits & kConnUnusedBits) != 0) return Fail("bad connection bits");
  if (c->shop == 0 || c->affiliate == 0) return Fail("connection with shop or affiliate 0");
  if (c->canonical_email.empty()) return Fail("connection with an empty email");
  c->source = static_cast<engine::Source>(bits & kConnSourceMask);
  if (bits & kConnEnteredIsCanonical) {
    c->entered_email = c->canonical_email;
  } else if (!String(kMaxConnectionStringBytes, &c->entered_email)) {
    return false;
  }
  if (bits & kConnHasName) {
    if (!String(kMaxConnectionStringBytes, &c->name)) return false;
    if (c->name.empty()) return Fail("connection with an empty name flagged as named");
  } else {
    c->name.clear();
  }
  return true;
}

bool RecordDecoder::ReadOwner(engine::OwnerKey* o) {
  if (!Varint(&o->shop) || !Varint(&o->affiliate)) return false;
  if (o->shop == 0 || o->affiliate == 0) return Fail("owner with shop or affiliate 0");
  return true;
}

bool RecordDecoder::ReadAffiliate(engine::Affiliate* a) {
  uint8_t status, emails;
  if (!Varint(&a->shop) || !Varint(&a->id) || !String(kMaxConnectionStringBytes, &a->name) ||
      !Byte(&status) || !ZigZag(&a->created_at) || !Byte(&emails)) {
    return false;
  }
  if (a->shop == 0 || a->id == 0) return Fail("affiliate with shop or id 0");
  if (status > static_cast<uint8_t>(engine::AffiliateStatus::kDisabled)) {
    return Fail("bad affiliate status");
  }
  if (emails > engine::kMaxAffiliateEmails) return Fail("affiliate with more than 8 emails");
  a->status = static_cast<engine::AffiliateStatus>(status);
  a->emails.resize(emails);
  for (std::string& e : a->emails) {
    if (!String(kMaxConnectionStringBytes, &e)) return false;
    if (e.empty()) return Fail("affiliate with an empty email");
  }
  return true;
}

bool RecordDecoder::ReadWebhookEndpoint(engine::WebhookEndpoint* e) {
  std::string m;
  if (!String(kMaxRecordBytes, &m)) return false;
  absl::StatusOr<engine::Mutation> decoded = DecodeMutation(m);
  if (!decoded.ok()) return Fail("webhook endpoint record does not decode");
  const auto* put = std::get_if<engine::PutWebhookEndpoint>(&decoded->op);
  if (put == nullptr) return Fail("webhook endpoint record holds another mutation");
  if (put->endpoint.shop == 0 || put->endpoint.id == 0) {
    return Fail("webhook endpoint with shop or id 0");
  }
  *e = put->endpoint;
  return true;
}

bool RecordDecoder::ReadIdentity(IdentityRecord* r) {
  if (!Byte(&r->kind) || !Varint(&r->shop)) return false;
  if (r->shop == 0) return Fail("identity record with shop 0");
  if (r->kind == kIdentityKindSettings) {
    uint8_t bits, rule;
    if (!Byte(&bits) || !Byte(&rule)) return false;
    if ((bits & (version_ >= 5 ? 0xFC : 0xFE)) != 0) return Fail("bad identity settings bits");
    if (rule > static_cast<uint8_t>(engine::MergeConflictRule::kRefuse)) {
      return Fail("bad merge_conflict");
    }
    r->auto_link_identifiers = (bits & 1) != 0;
    r->customer_directory = (bits & 2) == 0;
    r->merge_conflict = static_cast<engine::MergeConflictRule>(rule);
    return true;
  }
  if (r->kind != kIdentityKindCustomer) return Fail("unknown identity record kind");
  uint8_t n;
  if (!String(kMaxConnectionStringBytes, &r->customer.primary) || !Byte(&n)) return false;
  if (r->customer.primary.empty()) return Fail("customer with an empty primary key");
  if (n == 0 || n > engine::kMaxCustomerEmails) return Fail("customer with 0 or over 8 aliases");
  r->customer.aliases.resize(n);
  for (std::string& a : r->customer.aliases) {
    if (!String(kMaxConnectionStringBytes, &a)) return false;
    if (a.empty() || a == r->customer.primary) return Fail("customer with a bad alias");
  }
  return true;
}

bool RecordDecoder::ReadCustomerEntry(engine::ShopId* shop, std::string* key,
                                      engine::CustomerEntry* e) {
  if (!Varint(shop) || !String(kMaxConnectionStringBytes, key) ||
      !String(kMaxConnectionStringBytes, &e->name) || !ZigZag(&e->first_order_at) ||
      !ZigZag(&e->last_order_at) || !Varint32(&e->orders_seen)) {
    return false;
  }
  if (*shop == 0) return Fail("customer directory record with shop 0");
  if (key->empty()) return Fail("customer directory record with an empty key");
  return true;
}

bool RecordDecoder::ReadEncodedConnection(uint32_t owner_count, uint64_t* key_hash,
                                          absl::string_view* record) {
  const size_t available = static_cast<size_t>(end_ - p_);
  if (available < kEncodedHashBytes + kEncodedHeaderBytes) {
    return Fail("record runs past the end of its block");
  }
  const char* r = p_ + kEncodedHashBytes;
  const size_t limit = available - kEncodedHashBytes;  // Bytes the record may use.
  const uint8_t flags = static_cast<uint8_t>(r[0]);
  if ((flags & kEncodedUnusedBits) != 0) return Fail("bad connection flags");
  if ((flags & kEncodedCanonicalStored) && (flags & kEncodedEnteredIsCanonical)) {
    return Fail("bad connection flags (canonical email stored and equal to the entered one)");
  }
  if (snapshot_internal::Get32(r + kEncodedOwnerOffset) >= owner_count) {
    return Fail("owner index past the end of the owner list");
  }
  const size_t entered = static_cast<uint8_t>(r[kEncodedEnteredLengthOffset]);
  if (entered == 0) return Fail("connection with an empty email");
  size_t size = kEncodedHeaderBytes + entered;
  // The optional strings, in record order: a length byte (>= 1), then the bytes.
  const auto optional_string = [&](uint8_t bit, const char* if_empty) {
    if ((flags & bit) == 0) return true;
    if (size >= limit) return Fail("record runs past the end of its block");
    const size_t n = static_cast<uint8_t>(r[size]);
    if (n == 0) return Fail(if_empty);
    size += 1 + n;
    return true;
  };
  if (!optional_string(kEncodedCanonicalStored, "connection with an empty stored canonical") ||
      !optional_string(kEncodedHasName, "connection with an empty name flagged as named")) {
    return false;
  }
  if (size > limit) return Fail("record runs past the end of its block");
  *key_hash = snapshot_internal::Get64(p_);
  *record = absl::string_view(r, size);
  p_ = r + size;
  return true;
}

bool RecordDecoder::ReadOrder(OrderRecord* r) {
  engine::AttributionDecision& d = r->decision;
  uint8_t bits;
  if (!Byte(&bits) || !Varint(&r->shop) || !String(kMaxOrderStringBytes, &d.order_id) ||
      !ZigZag(&d.ordered_at) || !Varint(&d.affiliate) || !Varint(&d.previous_affiliate) ||
      !String(kMaxOrderStringBytes, &d.canonical_email) || !Varint(&r->counted_affiliate) ||
      !ZigZag(&r->counted_connected_at) || !ZigZag(&r->prev_last_order_at) ||
      !ZigZag(&r->retain_mark)) {
    return false;
  }
  if (r->shop == 0) return Fail("order of shop 0");
  if (d.order_id.empty()) return Fail("order with an empty id");
  if (version_ < 3 && (bits & 0x03) > 2) return Fail("bad order reason");
  d.reason = static_cast<engine::Reason>(bits & 0x03);
  d.connection_inactive = static_cast<engine::InactiveReason>((bits >> 2) & 0x03);
  d.referral_refused = engine::ReferralRefusal::kNone;
  d.refused_affiliate = 0;
  d.order_number_in_connection = 0;
  if (version_ >= 3) {
    uint8_t inactive, refused;
    if ((bits & 0x0C) != 0) return Fail("bad order bits");
    if (!Byte(&inactive) || !Byte(&refused) || !Varint(&d.refused_affiliate) ||
        !Varint32(&d.order_number_in_connection)) {
      return false;
    }
    if (inactive > static_cast<uint8_t>(engine::InactiveReason::kAffiliateNotRegistered)) {
      return Fail("bad order connection_inactive");
    }
    if (refused > static_cast<uint8_t>(engine::ReferralRefusal::kSelfReferral)) {
      return Fail("bad order referral_refused");
    }
    d.connection_inactive = static_cast<engine::InactiveReason>(inactive);
    d.referral_refused = static_cast<engine::ReferralRefusal>(refused);
  }
  d.new_customer_source = engine::NewCustomerSource::kUnknown;
  d.order_number_for_customer = 0;
  if (version_ >= 5) {
    uint8_t source;
    if (!Byte(&source) || !Varint32(&d.order_number_for_customer)) return false;
    if (source > static_cast<uint8_t>(engine::NewCustomerSource::kDirectory)) {
      return Fail("bad order new_customer_source");
    }
    d.new_customer_source = static_cast<engine::NewCustomerSource>(source);
  }
  d.counted = bits & 0x10;
  d.connection_created = bits & 0x20;
  d.connection_moved = bits & 0x40;
  d.reversed = bits & 0x80;
  return true;
}

}  // namespace attrib::persistence::snapshot_codec
