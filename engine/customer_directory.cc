// engine/customer_directory.cc: the compact customer directory (customer_directory.h).
#include "engine/customer_directory.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/record_format.h"
#include "engine/stable_hash.h"

namespace attrib::engine {
namespace {

// Record layout (customer_directory.h): [u8 flags | u8 key length | varint shop
// index | (kHasName) u8 name length | (kHasOrders) u16 orders seen, or u32 with
// kWideCount | u48 first order | u48 last order | key | name].
constexpr size_t kOffFlags = 0;
constexpr size_t kOffKeyLen = 1;
constexpr size_t kOffShopIndex = 2;
// The smallest prefix a reader needs (flags and key length): a chunk tail shorter
// than this is unused, and one at least this long with key length 0 is unused too.
constexpr size_t kMinPrefix = 2;
constexpr uint8_t kDead = 0x01;
constexpr uint8_t kHasName = 0x02;    // A name length byte and >= 1 name byte.
constexpr uint8_t kHasOrders = 0x04;  // Orders seen and both times (any non-zero).
constexpr uint8_t kWideCount = 0x08;  // Orders seen > 0xFFFF: 4 bytes, not 2.
constexpr size_t kMaxVarint = 5;      // A 32-bit shop index.
constexpr size_t kMaxRecordBytes = kOffShopIndex + kMaxVarint + 1 + 4 + 6 + 6 + 255 + 255;
constexpr uint64_t kChunkBits = 20;
constexpr uint64_t kChunkBytes = uint64_t{1} << kChunkBits;
// Offsets are 32 bits: 4096 chunks of 1 MiB per shard.
constexpr uint64_t kMaxArenaBytes = uint64_t{1} << 32;

using record::Load32;
using record::Load48;
using record::Store32;

// The decoded layout of one record (no copies).
struct Layout {
  uint8_t flags = 0;
  uint32_t shop_index = 0;
  size_t key_len = 0;
  size_t name_len = 0;
  const char* fixed = nullptr;  // Orders seen and times, when kHasOrders.
  const char* key = nullptr;
  size_t bytes = 0;  // The whole record.
};

Layout Decode(const char* r) {
  Layout l;
  l.flags = static_cast<uint8_t>(r[kOffFlags]);
  l.key_len = static_cast<uint8_t>(r[kOffKeyLen]);
  const char* p = r + kOffShopIndex;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*p++);
    l.shop_index |= uint32_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  if (l.flags & kHasName) l.name_len = static_cast<uint8_t>(*p++);
  l.fixed = p;
  if (l.flags & kHasOrders) p += ((l.flags & kWideCount) ? 4 : 2) + 12;
  l.key = p;
  l.bytes = static_cast<size_t>(p - r) + l.key_len + l.name_len;
  return l;
}

size_t RecordBytes(const char* r) { return Decode(r).bytes; }
absl::string_view KeyOf(const Layout& l) { return absl::string_view(l.key, l.key_len); }

CustomerEntry EntryOf(const char* r) {
  const Layout l = Decode(r);
  CustomerEntry e;
  e.name.assign(l.key + l.key_len, l.name_len);
  if (l.flags & kHasOrders) {
    const char* p = l.fixed;
    if (l.flags & kWideCount) {
      e.orders_seen = Load32(p);
      p += 4;
    } else {
      uint16_t c;
      std::memcpy(&c, p, 2);
      e.orders_seen = c;
      p += 2;
    }
    e.first_order_at = Load48(p);
    e.last_order_at = Load48(p + 6);
  }
  return e;
}

// Encodes a live record into buf (kMaxRecordBytes); returns its length. Times are
// validated to [0, kMaxTimeMs] at the boundary; clamped here regardless.
size_t Encode(char* buf, uint32_t shop_index, absl::string_view key, const CustomerEntry& e) {
  const size_t key_len = std::min<size_t>(key.size(), 255);
  const size_t name_len = std::min<size_t>(e.name.size(), 255);
  const TimeMs first = std::clamp<TimeMs>(e.first_order_at, 0, kMaxTimeMs);
  const TimeMs last = std::clamp<TimeMs>(e.last_order_at, 0, kMaxTimeMs);
  uint8_t flags = 0;
  if (name_len > 0) flags |= kHasName;
  if (e.orders_seen != 0 || first != 0 || last != 0) flags |= kHasOrders;
  if (e.orders_seen > 0xFFFF) flags |= kWideCount;
  buf[kOffFlags] = static_cast<char>(flags);
  buf[kOffKeyLen] = static_cast<char>(key_len);
  char* p = buf + kOffShopIndex;
  uint32_t v = shop_index;
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  if (flags & kHasName) *p++ = static_cast<char>(name_len);
  if (flags & kHasOrders) {
    if (flags & kWideCount) {
      Store32(p, e.orders_seen);
      p += 4;
    } else {
      const uint16_t c = static_cast<uint16_t>(e.orders_seen);
      std::memcpy(p, &c, 2);
      p += 2;
    }
    record::Store48(p, first);
    record::Store48(p + 6, last);
    p += 12;
  }
  std::memcpy(p, key.data(), key_len);
  p += key_len;
  std::memcpy(p, e.name.data(), name_len);
  p += name_len;
  return static_cast<size_t>(p - buf);
}

// Whether a record starts at `r`, `within` bytes into its chunk (else the rest of
// the chunk is unused).
bool RecordStartsAt(uint64_t within, const char* r) {
  return within + kMinPrefix <= kChunkBytes && r[kOffKeyLen] != 0;
}

}  // namespace

CustomerDirectory::Shard::Shard() : set(0, OffsetHash{this}, OffsetEq{this}) {}

const char* CustomerDirectory::Shard::At(uint64_t offset) const {
  return chunks[offset >> kChunkBits].get() + (offset & (kChunkBytes - 1));
}
char* CustomerDirectory::Shard::MutableAt(uint64_t offset) {
  return chunks[offset >> kChunkBits].get() + (offset & (kChunkBytes - 1));
}

uint64_t CustomerDirectory::HashOf(ShopId shop, absl::string_view key) {
  return StableHash(key, StableHash64(shop));
}

ShopId CustomerDirectory::Shard::ShopAt(uint32_t index) const { return shops[index]; }

uint32_t CustomerDirectory::Shard::IndexOf(ShopId shop) {
  const auto [it, inserted] = shop_index.try_emplace(shop, static_cast<uint32_t>(shops.size()));
  if (inserted) shops.push_back(shop);
  return it->second;
}

size_t CustomerDirectory::OffsetHash::operator()(uint32_t offset) const {
  const Layout l = Decode(shard->At(offset));
  return HashOf(shard->ShopAt(l.shop_index), KeyOf(l));
}

bool CustomerDirectory::OffsetEq::operator()(uint32_t a, const Probe& p) const {
  const Layout l = Decode(shard->At(a));
  return KeyOf(l) == p.key && shard->ShopAt(l.shop_index) == p.shop;
}

CustomerDirectory::CustomerDirectory(uint32_t shard_count) {
  uint32_t n = 1;
  while (n < shard_count && n < kMaxCustomerDirectoryShards) n <<= 1;
  shards_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

uint32_t CustomerDirectory::ShardOf(uint64_t hash) const {
  return static_cast<uint32_t>((hash >> 40) & (shards_.size() - 1));
}

const char* CustomerDirectory::Find(const Shard& s, const Probe& p, uint32_t* offset)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const auto it = s.set.find(p);
  if (it == s.set.end()) return nullptr;
  if (offset != nullptr) *offset = *it;
  return s.At(*it);
}

void CustomerDirectory::Store(Shard& s, const Probe& p, const CustomerEntry& e)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  char buf[kMaxRecordBytes];
  const size_t bytes = Encode(buf, s.IndexOf(p.shop), p.key, e);
  uint32_t old_offset = 0;
  if (char* r = const_cast<char*>(Find(s, p, &old_offset))) {
    const size_t old_bytes = RecordBytes(r);
    if (old_bytes == bytes) {  // Same length (same key and shop): in place.
      std::memcpy(r, buf, bytes);
      return;
    }
    r[kOffFlags] = static_cast<char>(r[kOffFlags] | kDead);
    s.dead_bytes += old_bytes;
    s.set.erase(old_offset);
  }
  uint64_t at = s.used;
  // `used` is at the end of the last chunk (or the arena is empty) when the previous
  // record filled it to its last byte: the record starts the next chunk then.
  const bool in_last_chunk = (at >> kChunkBits) < s.chunks.size();
  if (!in_last_chunk || (at & (kChunkBytes - 1)) + bytes > kChunkBytes) {
    // A record never straddles chunks; the rest of the chunk stays unused.
    if (in_last_chunk && (at & (kChunkBytes - 1)) + kMinPrefix <= kChunkBytes) {
      s.MutableAt(at)[kOffKeyLen] = 0;  // Marks the chunk's unused tail (keys are never empty).
    }
    at = uint64_t{s.chunks.size()} << kChunkBits;
    // Not value-initialized: pages are touched as records fill them.
    s.chunks.push_back(std::unique_ptr<char[]>(new char[kChunkBytes]));
    s.used = at;
  }
  if (at + bytes > kMaxArenaBytes) return;  // 4 GiB per shard: unreachable in practice.
  std::memcpy(s.MutableAt(at), buf, bytes);
  s.used = at + bytes;
  s.set.insert(static_cast<uint32_t>(at));
}

bool CustomerDirectory::Remove(Shard& s, const Probe& p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  uint32_t offset = 0;
  char* r = const_cast<char*>(Find(s, p, &offset));
  if (r == nullptr) return false;
  r[kOffFlags] = static_cast<char>(r[kOffFlags] | kDead);
  s.dead_bytes += RecordBytes(r);
  s.set.erase(offset);
  return true;
}

std::optional<CustomerEntry> CustomerDirectory::Get(ShopId shop, absl::string_view key) const {
  const Probe p{shop, key, HashOf(shop, key)};
  const Shard& s = *shards_[ShardOf(p.hash)];
  absl::ReaderMutexLock lock(&s.mu);
  const char* r = Find(s, p, nullptr);
  if (r == nullptr) return std::nullopt;
  return EntryOf(r);
}

void CustomerDirectory::Update(
    ShopId shop, absl::string_view key,
    absl::FunctionRef<std::optional<CustomerEntry>(const CustomerEntry*)> fn,
    absl::FunctionRef<void(const CustomerEntry&)> done) {
  const Probe p{shop, key, HashOf(shop, key)};
  Shard& s = *shards_[ShardOf(p.hash)];
  absl::MutexLock lock(&s.mu);
  std::optional<CustomerEntry> current;
  if (const char* r = Find(s, p, nullptr)) current = EntryOf(r);
  std::optional<CustomerEntry> next = fn(current ? &*current : nullptr);
  if (!next || (current && *next == *current)) return;
  Store(s, p, *next);
  done(*next);
}

CustomerEntry CustomerDirectory::Absorbed(const CustomerEntry& winner,
                                          const CustomerEntry& loser) {
  CustomerEntry out = winner;
  if (out.name.empty()) out.name = loser.name;
  if (loser.orders_seen > 0) {
    if (out.orders_seen == 0 || loser.first_order_at < out.first_order_at) {
      out.first_order_at = loser.first_order_at;
    }
    out.last_order_at = std::max(out.last_order_at, loser.last_order_at);
  }
  const uint64_t sum = uint64_t{out.orders_seen} + loser.orders_seen;
  out.orders_seen = static_cast<uint32_t>(
      std::min<uint64_t>(sum, std::numeric_limits<uint32_t>::max()));
  return out;
}

void CustomerDirectory::Absorb(
    ShopId shop, absl::string_view survivor, absl::string_view loser, const CustomerEntry* base,
    absl::FunctionRef<void(const CustomerEntry* result, bool stored)> done) {
  const Probe ps{shop, survivor, HashOf(shop, survivor)};
  const Probe pl{shop, loser, HashOf(shop, loser)};
  const uint32_t a = ShardOf(ps.hash);
  const uint32_t b = ShardOf(pl.hash);
  Shard& ss = *shards_[a];
  Shard& sl = *shards_[b];
  absl::Mutex* first = a <= b ? &ss.mu : &sl.mu;
  absl::Mutex* second = a <= b ? &sl.mu : &ss.mu;
  absl::MutexLock l1(first);
  std::optional<absl::MutexLock> l2;
  if (second != first) l2.emplace(second);
  std::optional<CustomerEntry> win;
  std::optional<CustomerEntry> lose;
  if (const char* r = Find(ss, ps, nullptr)) win = EntryOf(r);
  if (const char* r = Find(sl, pl, nullptr)) lose = EntryOf(r);
  if (!lose && (win || base == nullptr)) {
    done(win ? &*win : nullptr, false);
    return;
  }
  const CustomerEntry result =
      Absorbed(win ? *win : (base != nullptr ? *base : CustomerEntry{}),
               lose.value_or(CustomerEntry{}));
  if (lose) Remove(sl, pl);
  Store(ss, ps, result);
  done(&result, true);
}

void CustomerDirectory::Put(ShopId shop, absl::string_view key, const CustomerEntry& entry) {
  if (key.empty()) return;  // Never a customer key (the caller validated).
  const Probe p{shop, key, HashOf(shop, key)};
  Shard& s = *shards_[ShardOf(p.hash)];
  absl::MutexLock lock(&s.mu);
  Store(s, p, entry);
}

bool CustomerDirectory::Erase(ShopId shop, absl::string_view key) {
  const Probe p{shop, key, HashOf(shop, key)};
  Shard& s = *shards_[ShardOf(p.hash)];
  absl::MutexLock lock(&s.mu);
  return Remove(s, p);
}

void CustomerDirectory::ForEachLocked(
    absl::FunctionRef<void(ShopId, absl::string_view, const CustomerEntry&)> fn,
    absl::FunctionRef<void()> done) const {
  for (const auto& s : shards_) s->mu.ReaderLock();
  for (const auto& sp : shards_) {
    const Shard& s = *sp;
    uint64_t at = 0;
    while (at < s.used) [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      const char* r = s.At(at);
      if (!RecordStartsAt(at & (kChunkBytes - 1), r)) {
        at = ((at >> kChunkBits) + 1) << kChunkBits;  // The chunk's unused tail.
        return;
      }
      const Layout l = Decode(r);
      if ((l.flags & kDead) == 0) fn(s.ShopAt(l.shop_index), KeyOf(l), EntryOf(r));
      at += l.bytes;
    }();
  }
  done();
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) (*it)->mu.ReaderUnlock();
}

uint64_t CustomerDirectory::RecordAtOrAfter(const Shard& s, uint64_t offset)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // A cursor is the caller's: walk its chunk from the start so that a made-up
  // offset never decodes the middle of a record (another shop's bytes).
  const uint64_t chunk_start = (offset >> kChunkBits) << kChunkBits;
  uint64_t at = chunk_start;
  while (at < offset && at < s.used) {
    const char* r = s.At(at);
    if (!RecordStartsAt(at & (kChunkBytes - 1), r)) return chunk_start + kChunkBytes;
    at += RecordBytes(r);
  }
  return at;
}

std::optional<CustomerDirectory::Position> CustomerDirectory::Scan(
    ShopId shop, Position from, size_t max_entries, size_t max_examined,
    std::vector<ScannedEntry>* out) const {
  Position pos = from;
  size_t found = 0;
  size_t examined = 0;
  for (; pos.shard < shards_.size(); ++pos.shard, pos.offset = 0) {
    const Shard& s = *shards_[pos.shard];
    absl::ReaderMutexLock lock(&s.mu);
    const bool stopped = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (pos.offset < s.used) pos.offset = RecordAtOrAfter(s, pos.offset);
      while (pos.offset < s.used) {
        if (found >= max_entries || examined >= max_examined) return true;
        const char* r = s.At(pos.offset);
        if (!RecordStartsAt(pos.offset & (kChunkBytes - 1), r)) {
          pos.offset = ((pos.offset >> kChunkBits) + 1) << kChunkBits;
          continue;
        }
        const Layout l = Decode(r);
        ++examined;
        if ((l.flags & kDead) == 0 && s.ShopAt(l.shop_index) == shop) {
          out->push_back(ScannedEntry{std::string(KeyOf(l)), EntryOf(r)});
          ++found;
        }
        pos.offset += l.bytes;
      }
      return false;
    }();
    if (stopped) return pos;
  }
  return std::nullopt;
}

size_t CustomerDirectory::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    absl::ReaderMutexLock lock(&s->mu);
    n += s->set.size();
  }
  return n;
}

DirectoryMemory CustomerDirectory::Memory() const {
  DirectoryMemory m;
  for (const auto& s : shards_) {
    absl::ReaderMutexLock lock(&s->mu);
    m.entries += s->set.size();
    m.dead_bytes += s->dead_bytes;
    m.bytes += s->chunks.size() * kChunkBytes + s->set.capacity() * (sizeof(uint32_t) + 1) +
               s->shops.capacity() * sizeof(ShopId) +
               s->shop_index.capacity() * (sizeof(std::pair<ShopId, uint32_t>) + 1);
  }
  return m;
}

}  // namespace attrib::engine
