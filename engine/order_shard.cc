// engine/order_shard.cc: the compact remembered-order table (see the header).
//
// A record in the log, in order (varint = LEB128, zz = zigzag varint of a
// difference computed modulo 2^64, so any int64 values round-trip):
//   flags       1 byte: 0x01 counted, 0x02 connection_created, 0x04 connection_moved,
//               0x08 reversed (the only byte ever rewritten in place), 0x10 numeric
//               order id, 0x20 has a counted connection, 0x40 counted_affiliate
//               differs from affiliate, 0x80 has prev_last_order_at
//   mark        zz(retain_mark - chunk's base mark)
//   reasons     1 byte: reason | connection_inactive << 2 | referral_refused << 5 |
//               0x80 when refused_affiliate follows
//   shop        varint
//   order id    varint number (numeric) | varint length + bytes
//   ordered_at  zz(ordered_at - retain_mark): usually 0, a 1-byte varint
//   affiliate, previous_affiliate, order_number_in_connection   varints
//   customer    varint order_number_for_customer << 2 | new_customer_source (the
//               customer directory, issue 12: usually one byte)
//   [refused_affiliate varint (reasons 0x80)]
//   [counted_affiliate varint (0x40)] [zz(counted_connected_at - ordered_at) (0x20)]
//   [zz(prev_last_order_at - ordered_at) (0x80)]
//   email       varint length + bytes
#include "engine/order_shard.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "engine/stable_hash.h"

namespace attrib::engine {

namespace {

constexpr uint8_t kCounted = 0x01, kCreated = 0x02, kMoved = 0x04, kReversed = 0x08,
                  kNumericId = 0x10, kHasCounted = 0x20, kCountedDiffers = 0x40,
                  kHasPrevLast = 0x80;
// Longest record: strings are <= 1024 bytes (the snapshot's limit; the engine's
// are shorter), ten varints of <= 10 bytes, two single bytes.
constexpr size_t kMaxStringBytes = 1024;
constexpr size_t kMaxRecordBytes = 2 + 12 * 10 + 2 * (10 + kMaxStringBytes);
// The reasons byte: Reason in bits 0-1, InactiveReason in bits 2-4, ReferralRefusal
// in bits 5-6, and bit 7 set when refused_affiliate follows (the affiliate
// directory's fields, issue 12).
constexpr uint8_t kHasRefused = 0x80;
static_assert(static_cast<uint8_t>(Reason::kSelfReferral) <= 0x03);
static_assert(static_cast<uint8_t>(InactiveReason::kAffiliateNotRegistered) <= 0x07);
static_assert(static_cast<uint8_t>(ReferralRefusal::kSelfReferral) <= 0x03);
static_assert(static_cast<uint8_t>(NewCustomerSource::kDirectory) <= 0x03);
static_assert(kMaxRecordBytes <= OrderShard::kChunkBytes);
// Positions are uint32 modulo 2^32: a whole number of chunks.
static_assert((OrderShard::kChunkBytes & (OrderShard::kChunkBytes - 1)) == 0);

uint64_t ZigZag(TimeMs a, TimeMs b) {
  const uint64_t d = static_cast<uint64_t>(a) - static_cast<uint64_t>(b);
  return (d << 1) ^ (0 - (d >> 63));
}
TimeMs UnZigZag(uint64_t z, TimeMs b) {
  const uint64_t d = (z >> 1) ^ (0 - (z & 1));
  return static_cast<TimeMs>(static_cast<uint64_t>(b) + d);
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

uint64_t GetVarint(const char** p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
}

char* PutString(char* p, absl::string_view s) {
  p = PutVarint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

absl::string_view GetString(const char** p) {
  const size_t n = GetVarint(p);
  const absl::string_view s(*p, n);
  *p += n;
  return s;
}

// 1-19 digits, no leading zero unless the id is "0": exactly the strings that
// StrCat(uint64) gives back, so storing the number loses nothing.
bool ParseCanonicalDecimal(absl::string_view id, uint64_t* value) {
  if (id.empty() || id.size() > 19 || (id.size() > 1 && id[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = v;
  return true;
}

// A decoded record; strings view the log (a numeric order id is in `number`).
struct View {
  uint8_t flags = 0;
  TimeMs mark = 0;
  uint8_t reasons = 0;
  ShopId shop = 0;
  uint64_t number = 0;
  absl::string_view order_id;  // Empty when numeric.
  TimeMs ordered_at = 0;
  AffiliateId affiliate = 0, previous_affiliate = 0, counted_affiliate = 0;
  uint32_t order_number = 0;
  uint64_t customer = 0;  // order_number_for_customer << 2 | new_customer_source.
  AffiliateId refused_affiliate = 0;
  TimeMs counted_connected_at = 0, prev_last_order_at = 0;
  absl::string_view email;
};

// Decodes through the order id only (enough to match or hash a record).
const char* DecodeKey(const char* p, TimeMs base_mark, View* v) {
  v->flags = static_cast<uint8_t>(*p++);
  v->mark = UnZigZag(GetVarint(&p), base_mark);
  v->reasons = static_cast<uint8_t>(*p++);
  v->shop = GetVarint(&p);
  if (v->flags & kNumericId) {
    v->number = GetVarint(&p);
  } else {
    v->order_id = GetString(&p);
  }
  return p;
}

// Decodes the rest; returns the end of the record.
const char* DecodeRest(const char* p, View* v) {
  v->ordered_at = UnZigZag(GetVarint(&p), v->mark);
  v->affiliate = GetVarint(&p);
  v->previous_affiliate = GetVarint(&p);
  v->order_number = static_cast<uint32_t>(GetVarint(&p));
  v->customer = GetVarint(&p);
  if (v->reasons & kHasRefused) v->refused_affiliate = GetVarint(&p);
  if (v->flags & kHasCounted) {
    v->counted_affiliate = (v->flags & kCountedDiffers) ? GetVarint(&p) : v->affiliate;
    v->counted_connected_at = UnZigZag(GetVarint(&p), v->ordered_at);
  }
  if (v->flags & kHasPrevLast) v->prev_last_order_at = UnZigZag(GetVarint(&p), v->ordered_at);
  v->email = GetString(&p);
  return p;
}

OrderRecord ToRecord(const View& v) {
  OrderRecord r;
  r.shop = v.shop;
  AttributionDecision& d = r.decision;
  d.order_id = (v.flags & kNumericId) ? std::to_string(v.number) : std::string(v.order_id);
  d.ordered_at = v.ordered_at;
  d.affiliate = v.affiliate;
  d.reason = static_cast<Reason>(v.reasons & 0x03);
  d.connection_inactive = static_cast<InactiveReason>((v.reasons >> 2) & 0x07);
  d.referral_refused = static_cast<ReferralRefusal>((v.reasons >> 5) & 0x03);
  d.order_number_in_connection = v.order_number;
  d.new_customer_source = static_cast<NewCustomerSource>(v.customer & 0x03);
  d.order_number_for_customer = static_cast<uint32_t>(v.customer >> 2);
  d.refused_affiliate = v.refused_affiliate;
  d.counted = v.flags & kCounted;
  d.connection_created = v.flags & kCreated;
  d.connection_moved = v.flags & kMoved;
  d.previous_affiliate = v.previous_affiliate;
  d.canonical_email = std::string(v.email);
  d.reversed = v.flags & kReversed;
  r.counted_affiliate = v.counted_affiliate;
  r.counted_connected_at = v.counted_connected_at;
  r.prev_last_order_at = v.prev_last_order_at;
  r.retain_mark = v.mark;
  return r;
}

// StableHash of the shop's 8 little-endian bytes followed by the order id.
uint64_t KeyHash(ShopId shop, absl::string_view order_id) {
  char buf[sizeof(shop) + kMaxOrderIdBytes];
  std::memcpy(buf, &shop, sizeof(shop));
  if (order_id.size() <= kMaxOrderIdBytes) {
    std::memcpy(buf + sizeof(shop), order_id.data(), order_id.size());
    return StableHash(absl::string_view(buf, sizeof(shop) + order_id.size()));
  }
  std::string long_key(buf, sizeof(shop));  // Longer than the engine accepts (restored).
  long_key.append(order_id.data(), order_id.size());
  return StableHash(long_key);
}

}  // namespace

OrderKey MakeOrderKey(ShopId shop, absl::string_view order_id) {
  OrderKey key;
  key.shop = shop;
  key.order_id = order_id;
  key.hash = KeyHash(shop, order_id);
  key.numeric = ParseCanonicalDecimal(order_id, &key.number);
  return key;
}

OrderShard::Chunk& OrderShard::ChunkOf(uint32_t pos) const {
  return *chunks_[(pos - front_chunk_seq_ * kChunkBytes) / kChunkBytes];
}

uint64_t OrderShard::HashAt(uint32_t pos) const {
  View v;
  DecodeKey(ChunkOf(pos).bytes + pos % kChunkBytes, 0, &v);
  if (!(v.flags & kNumericId)) return KeyHash(v.shop, v.order_id);
  const std::string id = std::to_string(v.number);
  return KeyHash(v.shop, id);
}

bool OrderShard::Matches(uint32_t pos, const OrderKey& key) const {
  View v;
  DecodeKey(ChunkOf(pos).bytes + pos % kChunkBytes, 0, &v);
  if (v.shop != key.shop) return false;
  if (v.flags & kNumericId) return key.numeric && v.number == key.number;
  return !key.numeric && v.order_id == key.order_id;
}

namespace {
size_t HomeOf(uint64_t hash, size_t mask) { return static_cast<size_t>(hash >> 32) & mask; }
uint8_t TagOf(uint64_t hash) { return static_cast<uint8_t>(hash >> 56); }
}  // namespace

int64_t OrderShard::FindSlot(const OrderKey& key) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  const uint8_t tag = TagOf(key.hash);
  size_t i = HomeOf(key.hash, mask);
  for (size_t d = 1;; ++d, i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.dist == 0) return -1;
    // Filters only: Matches() alone decides.
    const bool same_home = s.dist == kFar ? d >= kFar : s.dist == d;
    if (s.tag == tag && same_home && Matches(s.pos, key)) return static_cast<int64_t>(i);
  }
}

int64_t OrderShard::SlotOfPos(uint32_t pos, uint64_t hash) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  for (size_t i = HomeOf(hash, mask);; i = (i + 1) & mask) {
    if (slots_[i].dist == 0) return -1;
    if (slots_[i].pos == pos) return static_cast<int64_t>(i);
  }
}

size_t OrderShard::Distance(size_t i) const {
  const Slot& s = slots_[i];
  if (s.dist != kFar) return s.dist - 1;
  const size_t mask = slots_.size() - 1;
  return (i - HomeOf(HashAt(s.pos), mask)) & mask;
}

std::optional<OrderRecord> OrderShard::Find(const OrderKey& key) const {
  const int64_t i = FindSlot(key);
  if (i < 0) return std::nullopt;
  const uint32_t pos = slots_[static_cast<size_t>(i)].pos;
  const Chunk& c = ChunkOf(pos);
  View v;
  DecodeRest(DecodeKey(c.bytes + pos % kChunkBytes, c.base_mark, &v), &v);
  return ToRecord(v);
}

bool OrderShard::MarkReversed(const OrderKey& key) {
  const int64_t i = FindSlot(key);
  if (i < 0) return false;
  const uint32_t pos = slots_[static_cast<size_t>(i)].pos;
  char* flags = ChunkOf(pos).bytes + pos % kChunkBytes;
  *flags = static_cast<char>(static_cast<uint8_t>(*flags) | kReversed);
  return true;
}

void OrderShard::Append(const OrderKey& key, const OrderRecord& r) {
  const AttributionDecision& d = r.decision;
  char body[kMaxRecordBytes];
  char* p = body;
  uint8_t flags = (d.counted ? kCounted : 0) | (d.connection_created ? kCreated : 0) |
                  (d.connection_moved ? kMoved : 0) | (d.reversed ? kReversed : 0);
  *p++ = static_cast<char>((static_cast<uint8_t>(d.reason) & 0x03) |
                           (static_cast<uint8_t>(d.connection_inactive) & 0x07) << 2 |
                           (static_cast<uint8_t>(d.referral_refused) & 0x03) << 5 |
                           (d.refused_affiliate != 0 ? kHasRefused : 0));
  p = PutVarint(p, key.shop);
  if (key.numeric) {
    flags |= kNumericId;
    p = PutVarint(p, key.number);
  } else {
    p = PutString(p, key.order_id.substr(0, kMaxStringBytes));
  }
  p = PutVarint(p, ZigZag(d.ordered_at, r.retain_mark));
  p = PutVarint(p, d.affiliate);
  p = PutVarint(p, d.previous_affiliate);
  p = PutVarint(p, d.order_number_in_connection);
  p = PutVarint(p, uint64_t{d.order_number_for_customer} << 2 |
                       (static_cast<uint8_t>(d.new_customer_source) & 0x03));
  if (d.refused_affiliate != 0) p = PutVarint(p, d.refused_affiliate);
  if (r.counted_affiliate != 0 || r.counted_connected_at != 0) {
    flags |= kHasCounted;
    if (r.counted_affiliate != d.affiliate) {
      flags |= kCountedDiffers;
      p = PutVarint(p, r.counted_affiliate);
    }
    p = PutVarint(p, ZigZag(r.counted_connected_at, d.ordered_at));
  }
  if (r.prev_last_order_at != 0) {
    flags |= kHasPrevLast;
    p = PutVarint(p, ZigZag(r.prev_last_order_at, d.ordered_at));
  }
  p = PutString(p, absl::string_view(d.canonical_email).substr(0, kMaxStringBytes));
  const size_t body_size = static_cast<size_t>(p - body);

  uint64_t mark_delta = 0;
  bool fits = false;
  if (!chunks_.empty()) {
    const Chunk& back = *chunks_.back();
    mark_delta = ZigZag(r.retain_mark, back.base_mark);
    fits = back.used + 1 + VarintSize(mark_delta) + body_size <= kChunkBytes;
  }
  if (!fits) {
    chunks_.push_back(std::make_unique<Chunk>());
    chunks_.back()->base_mark = r.retain_mark;
    mark_delta = 0;
  }
  Chunk& c = *chunks_.back();
  const uint32_t pos =
      static_cast<uint32_t>(front_chunk_seq_ + chunks_.size() - 1) * kChunkBytes + c.used;
  char* out = c.bytes + c.used;
  *out++ = static_cast<char>(flags);
  out = PutVarint(out, mark_delta);
  std::memcpy(out, body, body_size);
  c.used = static_cast<uint32_t>(out + body_size - c.bytes);

  const int64_t existing = FindSlot(key);
  if (existing >= 0) {  // Replaced: the old record stays in the log, unreferenced.
    slots_[static_cast<size_t>(existing)].pos = pos;
    ++dead_;
    return;
  }
  if ((size_ + 1) * 8 > slots_.size() * 7) Resize(std::max<size_t>(16, slots_.size() * 2));
  PlaceSlot(pos, key.hash);
  ++size_;
}

void OrderShard::PlaceSlot(uint32_t pos, uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  size_t i = HomeOf(hash, mask);
  size_t d = 1;
  for (; slots_[i].dist != 0; ++d) i = (i + 1) & mask;
  slots_[i] = Slot{pos, TagOf(hash), static_cast<uint8_t>(std::min<size_t>(d, kFar))};
}

void OrderShard::Resize(size_t capacity) {
  // Homes at the new size need more hash bits than a slot keeps: rehash each
  // record (growth doubles, so this is O(1) amortized per insert).
  std::vector<Slot> old(capacity);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.dist != 0) PlaceSlot(s.pos, HashAt(s.pos));
  }
}

void OrderShard::EraseSlot(size_t i) {
  // Backward shift: move later members of the probe run back into the hole, unless
  // that would put one before its home slot.
  const size_t mask = slots_.size() - 1;
  for (size_t j = (i + 1) & mask; slots_[j].dist != 0; j = (j + 1) & mask) {
    const size_t gap = (j - i) & mask;
    const size_t dist = Distance(j);
    if (dist < gap) continue;  // Its home lies after the hole.
    Slot moved = slots_[j];
    moved.dist = static_cast<uint8_t>(std::min<size_t>(dist - gap + 1, kFar));
    slots_[i] = moved;
    i = j;
  }
  slots_[i] = Slot{};
  --size_;
}

void OrderShard::EvictBefore(TimeMs limit) {
  while (!chunks_.empty()) {
    const Chunk& c = *chunks_.front();
    if (front_offset_ == c.used) {
      chunks_.pop_front();  // Every record in it expired: free it.
      ++front_chunk_seq_;
      front_offset_ = 0;
      continue;
    }
    View v;
    const char* p = DecodeKey(c.bytes + front_offset_, c.base_mark, &v);
    if (v.mark >= limit) break;
    const char* end = DecodeRest(p, &v);
    const uint32_t pos = front_chunk_seq_ * kChunkBytes + front_offset_;
    const int64_t i = SlotOfPos(pos, HashAt(pos));
    if (i >= 0) {
      EraseSlot(static_cast<size_t>(i));
    } else {
      --dead_;  // Replaced by a later record of the same key.
    }
    front_offset_ = static_cast<uint32_t>(end - c.bytes);
  }
  // Keep the index at least 1/8 full once the window shrinks (e.g. after a burst).
  if (slots_.size() > 16 && size_ * 8 < slots_.size()) Resize(slots_.size() / 2);
}

void OrderShard::Insert(const OrderKey& key, const OrderRecord& record, TimeMs window_ms) {
  high_water_ = std::max(high_water_, record.decision.ordered_at);
  OrderRecord r = record;
  r.retain_mark = high_water_;
  Append(key, r);
  EvictBefore(high_water_ - window_ms);
}

void OrderShard::Restore(const OrderKey& key, const OrderRecord& record, TimeMs high_water) {
  high_water_ = std::max({high_water_, high_water, record.retain_mark});
  Append(key, record);
}

size_t OrderShard::MemoryBytes() const {
  return chunks_.size() * (sizeof(Chunk) + sizeof(std::unique_ptr<Chunk>)) +
         slots_.capacity() * sizeof(Slot);
}

void OrderShard::ForEach(absl::FunctionRef<void(const OrderRecord&)> fn) const {
  uint32_t offset = front_offset_;
  for (size_t ci = 0; ci < chunks_.size(); ++ci, offset = 0) {
    const Chunk& c = *chunks_[ci];
    while (offset < c.used) {
      View v;
      const char* end = DecodeRest(DecodeKey(c.bytes + offset, c.base_mark, &v), &v);
      const OrderRecord r = ToRecord(v);
      bool live = true;
      if (dead_ > 0) {  // Only a replaced key can have a record the index skips.
        const uint32_t pos = static_cast<uint32_t>(front_chunk_seq_ + ci) * kChunkBytes + offset;
        live = SlotOfPos(pos, HashAt(pos)) >= 0;
      }
      if (live) fn(r);
      offset = static_cast<uint32_t>(end - c.bytes);
    }
  }
}

}  // namespace attrib::engine
