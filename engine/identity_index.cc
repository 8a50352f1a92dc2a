// engine/identity_index.cc: customer identifiers and the alias index (see
// identity_index.h).
#include "engine/identity_index.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/stable_hash.h"
#include "engine/utf8.h"

namespace attrib::engine {

absl::StatusOr<std::string> ExternalIdKey(absl::string_view raw) {
  const absl::string_view id = absl::StripAsciiWhitespace(raw);
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "external_id: empty after trimming (rule: 1-64 bytes of printable UTF-8)");
  }
  if (id.size() > kMaxExternalIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "external_id: ", id.size(), " bytes, over the limit of ", kMaxExternalIdBytes,
        " (rule: 1-64 bytes of printable UTF-8)"));
  }
  if (const size_t bad = FindInvalidUtf8(id); bad != id.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "external_id: not valid UTF-8 at byte ", bad, " (rule: printable UTF-8)"));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(id.data());
  for (size_t i = 0; i < id.size();) {
    uint32_t cp = p[i];
    const size_t n = p[i] < 0x80 ? 1 : DecodeUtf8(p + i, id.size() - i, &cp);
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "external_id: control character U+%04X at byte %d (rule: no control characters)",
          cp, i));
    }
    i += n == 0 ? 1 : n;
  }
  std::string key;
  key.reserve(id.size() + 1);
  key.push_back(kExternalIdPrefix);
  key.append(id.data(), id.size());
  return key;
}

std::string DescribeIdentifierKey(absl::string_view key) {
  if (IsExternalIdKey(key)) return absl::StrCat("external_id:", ExternalIdOfKey(key));
  return std::string(key);
}

size_t CustomerIdentifiers::email_count() const {
  size_t n = IsExternalIdKey(primary) ? 0 : 1;
  for (const std::string& a : aliases) n += IsExternalIdKey(a) ? 0 : 1;
  return n;
}

bool CustomerIdentifiers::has_external_id() const {
  if (IsExternalIdKey(primary)) return true;
  return std::any_of(aliases.begin(), aliases.end(),
                     [](const std::string& a) { return IsExternalIdKey(a); });
}

size_t IdentityIndex::StableKeyHash::operator()(const std::string& k) const {
  // Seeded differently from the shard choice so that a shard's keys spread over its
  // table.
  return StableHash(k, 0x1d3e7a5bu);
}

namespace {
int ShardBits(uint32_t n) {
  int bits = 0;
  while ((1u << bits) < n) ++bits;
  return bits;
}
}  // namespace

IdentityIndex::IdentityIndex(uint32_t shard_count) : shard_bits_(ShardBits(shard_count)) {
  shards_.reserve(size_t{1} << shard_bits_);
  for (size_t i = 0; i < (size_t{1} << shard_bits_); ++i) {
    shards_.push_back(std::make_unique<LockedShard>());
  }
}

std::string IdentityIndex::MapKey(ShopId shop, absl::string_view id) {
  std::string k(8 + id.size(), '\0');
  std::memcpy(k.data(), &shop, 8);
  std::memcpy(k.data() + 8, id.data(), id.size());
  return k;
}

uint32_t IdentityIndex::ShardOf(absl::string_view map_key) const {
  if (shard_bits_ == 0) return 0;
  return static_cast<uint32_t>(StableHash(map_key) >> (64 - shard_bits_));
}

class IdentityIndex::MultiLock {
 public:
  MultiLock(const IdentityIndex& index, std::vector<uint32_t> shards) : index_(index) {
    std::sort(shards.begin(), shards.end());
    shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
    shards_ = std::move(shards);
    for (uint32_t s : shards_) index_.shards_[s]->mu.Lock();
  }
  ~MultiLock() {
    for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) {
      index_.shards_[*it]->mu.Unlock();
    }
  }
  MultiLock(const MultiLock&) = delete;
  MultiLock& operator=(const MultiLock&) = delete;

 private:
  const IdentityIndex& index_;
  std::vector<uint32_t> shards_;
};

bool IdentityIndex::PrimaryOf(ShopId shop, absl::string_view id, std::string* primary) const {
  if (empty()) return false;
  const std::string k = MapKey(shop, id);
  const LockedShard& s = *shards_[ShardOf(k)];
  absl::ReaderMutexLock lock(&s.mu);
  const auto it = s.map.find(k);
  if (it == s.map.end() || it->second.primary.empty()) return false;
  *primary = it->second.primary;
  return true;
}

std::string IdentityIndex::Resolve(ShopId shop, absl::string_view id) const {
  std::string primary;
  if (!PrimaryOf(shop, id, &primary)) primary.assign(id.data(), id.size());
  return primary;
}

CustomerIdentifiers IdentityIndex::Get(ShopId shop, absl::string_view primary) const {
  CustomerIdentifiers c;
  c.primary = std::string(primary);
  if (empty()) return c;
  const std::string k = MapKey(shop, primary);
  const LockedShard& s = *shards_[ShardOf(k)];
  absl::ReaderMutexLock lock(&s.mu);
  const auto it = s.map.find(k);
  if (it != s.map.end()) c.aliases = it->second.aliases;
  return c;
}

bool IdentityIndex::HasEntry(ShopId shop, absl::string_view id) const {
  if (empty()) return false;
  const std::string k = MapKey(shop, id);
  const LockedShard& s = *shards_[ShardOf(k)];
  absl::ReaderMutexLock lock(&s.mu);
  return s.map.contains(k);
}

void IdentityIndex::Link(ShopId shop, absl::string_view primary, absl::string_view id,
                         absl::FunctionRef<void()> done) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const std::string pk = MapKey(shop, primary);
  const std::string ik = MapKey(shop, id);
  MultiLock lock(*this, {ShardOf(pk), ShardOf(ik)});
  shards_[ShardOf(ik)]->map[ik] = Entry{std::string(primary), {}};
  // After the insertion above, which may move entries of the same table.
  Entry& p = shards_[ShardOf(pk)]->map[pk];
  if (p.aliases.empty()) entries_.fetch_add(1, std::memory_order_relaxed);
  p.aliases.emplace_back(id);
  entries_.fetch_add(1, std::memory_order_relaxed);
  done();
}

void IdentityIndex::Unlink(ShopId shop, absl::string_view primary, absl::string_view id,
                           absl::FunctionRef<void()> done) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const std::string pk = MapKey(shop, primary);
  const std::string ik = MapKey(shop, id);
  MultiLock lock(*this, {ShardOf(pk), ShardOf(ik)});
  Map& pm = shards_[ShardOf(pk)]->map;
  if (auto it = pm.find(pk); it != pm.end()) {
    std::vector<std::string>& a = it->second.aliases;
    a.erase(std::remove(a.begin(), a.end(), id), a.end());
    if (a.empty()) {
      pm.erase(it);
      entries_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  if (shards_[ShardOf(ik)]->map.erase(ik) != 0) {
    entries_.fetch_sub(1, std::memory_order_relaxed);
  }
  done();
}

void IdentityIndex::Merge(ShopId shop, absl::string_view survivor, absl::string_view loser,
                          absl::FunctionRef<void(absl::Span<const std::string>)> done)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const std::string sk = MapKey(shop, survivor);
  const std::string lk = MapKey(shop, loser);
  // The loser's aliases, read first under its shard lock; the engine holds the
  // loser's connection-shard lock, so they cannot change before the MultiLock.
  std::vector<std::string> moved{std::string(loser)};
  {
    const LockedShard& s = *shards_[ShardOf(lk)];
    absl::ReaderMutexLock l(&s.mu);
    if (auto it = s.map.find(lk); it != s.map.end()) {
      moved.insert(moved.end(), it->second.aliases.begin(), it->second.aliases.end());
    }
  }
  std::vector<uint32_t> touched{ShardOf(sk)};
  std::vector<std::string> keys;
  keys.reserve(moved.size());
  for (const std::string& id : moved) {
    keys.push_back(MapKey(shop, id));
    touched.push_back(ShardOf(keys.back()));
  }
  MultiLock lock(*this, std::move(touched));
  for (size_t i = 0; i < moved.size(); ++i) {
    Map& m = shards_[ShardOf(keys[i])]->map;
    auto [it, inserted] = m.try_emplace(keys[i]);
    if (inserted) entries_.fetch_add(1, std::memory_order_relaxed);
    it->second.primary = std::string(survivor);
    it->second.aliases.clear();
  }
  // Last: an insertion above may have moved the survivor's entry (same table).
  Entry& s = shards_[ShardOf(sk)]->map[sk];
  if (s.aliases.empty()) entries_.fetch_add(1, std::memory_order_relaxed);
  s.aliases.insert(s.aliases.end(), moved.begin(), moved.end());
  done(moved);
}

void IdentityIndex::ForEachLocked(
    absl::FunctionRef<void(ShopId, const CustomerIdentifiers&)> fn,
    absl::FunctionRef<void()> done) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  std::vector<uint32_t> all(shards_.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  MultiLock lock(*this, std::move(all));
  std::vector<std::pair<std::string, const Entry*>> primaries;
  for (const auto& shard : shards_) {
    for (const auto& [k, e] : shard->map) {
      if (!e.aliases.empty()) primaries.emplace_back(k, &e);
    }
  }
  // Deterministic order: by map key (shop bytes, then primary).
  std::sort(primaries.begin(), primaries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [k, e] : primaries) {
    ShopId shop;
    std::memcpy(&shop, k.data(), 8);
    CustomerIdentifiers c;
    c.primary = k.substr(8);
    c.aliases = e->aliases;
    fn(shop, c);
  }
  done();
}

void IdentityIndex::Restore(ShopId shop, const CustomerIdentifiers& c) {
  for (const std::string& a : c.aliases) {
    Link(shop, c.primary, a, [] {});
  }
}

IdentityMemory IdentityIndex::Memory() const {
  IdentityMemory m;
  for (const auto& shard : shards_) {
    absl::ReaderMutexLock lock(&shard->mu);
    m.entries += shard->map.size();
    m.bytes += shard->map.capacity() * (sizeof(Map::value_type) + 1);
    for (const auto& [k, e] : shard->map) {
      if (k.capacity() > 15) m.bytes += k.capacity() + 1;
      if (e.primary.capacity() > 15) m.bytes += e.primary.capacity() + 1;
      m.bytes += e.aliases.capacity() * sizeof(std::string);
      for (const std::string& a : e.aliases) {
        if (a.capacity() > 15) m.bytes += a.capacity() + 1;
      }
    }
  }
  return m;
}

size_t IdentityIndex::customers_with_aliases() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    absl::ReaderMutexLock lock(&shard->mu);
    for (const auto& [k, e] : shard->map) n += e.aliases.empty() ? 0 : 1;
  }
  return n;
}

}  // namespace attrib::engine
