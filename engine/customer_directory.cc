// engine/customer_directory.cc: the compact customer directory (customer_directory.h).
#include "engine/customer_directory.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/record_format.h"
#include "engine/stable_hash.h"

namespace attrib::engine {
namespace {

// Record layout (customer_directory.h).
constexpr size_t kOffFlags = 0;
constexpr size_t kOffKeyLen = 1;
constexpr size_t kOffNameLen = 2;
constexpr size_t kOffCount = 3;
constexpr size_t kOffFirst = 7;
constexpr size_t kOffLast = 13;
constexpr size_t kOffShop = 19;
constexpr size_t kHeader = 27;
constexpr uint8_t kDead = 0x01;
constexpr uint64_t kChunkBits = 20;
constexpr uint64_t kChunkBytes = uint64_t{1} << kChunkBits;
// Offsets are 32 bits: 4096 chunks of 1 MiB per shard.
constexpr uint64_t kMaxArenaBytes = uint64_t{1} << 32;

using record::Load32;
using record::Load48;
using record::Store32;
uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
// Times are validated to [0, kMaxTimeMs] at the boundary; clamped here regardless.
void Store48(char* p, TimeMs v) { record::Store48(p, std::clamp<TimeMs>(v, 0, kMaxTimeMs)); }
size_t RecordBytes(const char* r) {
  return kHeader + static_cast<uint8_t>(r[kOffKeyLen]) + static_cast<uint8_t>(r[kOffNameLen]);
}
absl::string_view KeyOf(const char* r) {
  return absl::string_view(r + kHeader, static_cast<uint8_t>(r[kOffKeyLen]));
}
CustomerEntry EntryOf(const char* r) {
  CustomerEntry e;
  e.name.assign(r + kHeader + static_cast<uint8_t>(r[kOffKeyLen]),
                static_cast<uint8_t>(r[kOffNameLen]));
  e.orders_seen = Load32(r + kOffCount);
  e.first_order_at = Load48(r + kOffFirst);
  e.last_order_at = Load48(r + kOffLast);
  return e;
}
void WriteFixed(char* r, const CustomerEntry& e) {
  Store32(r + kOffCount, e.orders_seen);
  Store48(r + kOffFirst, e.first_order_at);
  Store48(r + kOffLast, e.last_order_at);
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

size_t CustomerDirectory::OffsetHash::operator()(uint32_t offset) const {
  const char* r = shard->At(offset);
  return HashOf(Load64(r + kOffShop), KeyOf(r));
}

bool CustomerDirectory::OffsetEq::operator()(uint32_t a, const Probe& p) const {
  const char* r = shard->At(a);
  return Load64(r + kOffShop) == p.shop && KeyOf(r) == p.key;
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
  const size_t name_len = std::min<size_t>(e.name.size(), 255);
  const size_t key_len = std::min<size_t>(p.key.size(), 255);
  uint32_t old_offset = 0;
  if (char* r = const_cast<char*>(Find(s, p, &old_offset))) {
    if (static_cast<uint8_t>(r[kOffNameLen]) == name_len) {
      WriteFixed(r, e);
      std::memcpy(r + kHeader + key_len, e.name.data(), name_len);
      return;
    }
    r[kOffFlags] = static_cast<char>(kDead);
    s.dead_bytes += RecordBytes(r);
    s.set.erase(old_offset);
  }
  const size_t bytes = kHeader + key_len + name_len;
  uint64_t at = s.used;
  // `used` is at the end of the last chunk (or the arena is empty) when the previous
  // record filled it to its last byte: the record starts the next chunk then.
  const bool in_last_chunk = (at >> kChunkBits) < s.chunks.size();
  if (!in_last_chunk || (at & (kChunkBytes - 1)) + bytes > kChunkBytes) {
    // A record never straddles chunks; the rest of the chunk stays unused.
    if (in_last_chunk && (at & (kChunkBytes - 1)) + kHeader <= kChunkBytes) {
      s.MutableAt(at)[kOffKeyLen] = 0;  // Marks the chunk's unused tail (keys are never empty).
    }
    at = uint64_t{s.chunks.size()} << kChunkBits;
    // Not value-initialized: pages are touched as records fill them.
    s.chunks.push_back(std::unique_ptr<char[]>(new char[kChunkBytes]));
    s.used = at;
  }
  if (at + bytes > kMaxArenaBytes) return;  // 4 GiB per shard: unreachable in practice.
  char* r = s.MutableAt(at);
  r[kOffFlags] = 0;
  r[kOffKeyLen] = static_cast<char>(key_len);
  r[kOffNameLen] = static_cast<char>(name_len);
  WriteFixed(r, e);
  std::memcpy(r + kOffShop, &p.shop, 8);
  std::memcpy(r + kHeader, p.key.data(), key_len);
  std::memcpy(r + kHeader + key_len, e.name.data(), name_len);
  s.used = at + bytes;
  s.set.insert(static_cast<uint32_t>(at));
}

bool CustomerDirectory::Remove(Shard& s, const Probe& p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  uint32_t offset = 0;
  char* r = const_cast<char*>(Find(s, p, &offset));
  if (r == nullptr) return false;
  r[kOffFlags] = static_cast<char>(kDead);
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
      const uint64_t within = at & (kChunkBytes - 1);
      if (within + kHeader > kChunkBytes || s.At(at)[kOffKeyLen] == 0) {
        at = ((at >> kChunkBits) + 1) << kChunkBits;  // The chunk's unused tail.
        return;
      }
      const char* r = s.At(at);
      if ((r[kOffFlags] & kDead) == 0) fn(Load64(r + kOffShop), KeyOf(r), EntryOf(r));
      at += RecordBytes(r);
    }();
  }
  done();
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) (*it)->mu.ReaderUnlock();
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
      while (pos.offset < s.used) {
        if (found >= max_entries || examined >= max_examined) return true;
        const uint64_t within = pos.offset & (kChunkBytes - 1);
        if (within + kHeader > kChunkBytes || s.At(pos.offset)[kOffKeyLen] == 0) {
          pos.offset = ((pos.offset >> kChunkBits) + 1) << kChunkBits;
          continue;
        }
        const char* r = s.At(pos.offset);
        ++examined;
        if ((r[kOffFlags] & kDead) == 0 && Load64(r + kOffShop) == shop) {
          out->push_back(ScannedEntry{std::string(KeyOf(r)), EntryOf(r)});
          ++found;
        }
        pos.offset += RecordBytes(r);
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
    m.bytes += s->chunks.size() * kChunkBytes + s->set.capacity() * (sizeof(uint32_t) + 1);
  }
  return m;
}

}  // namespace attrib::engine
