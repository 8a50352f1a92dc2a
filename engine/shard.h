// engine/shard.h
//
// One shard of the connection store: a RecordTable index over records packed in a
// RecordArena, the shard's shop and affiliate id tables (records hold 32-bit
// indexes into them instead of 64-bit ids), and the per-shop / per-affiliate counts.
//
// The key of a record is (shop, canonical email); its hash is KeyHash(). The
// canonical email is usually derived from the stored entered email rather than
// stored (see record_format.h), so every key comparison may canonicalize.
//
// Thread-safety: none. ConnectionStore owns one mutex per shard and holds it (shared
// for const methods, exclusive otherwise) around every call.
#ifndef ATTRIB_ENGINE_SHARD_H_
#define ATTRIB_ENGINE_SHARD_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "engine/canonical_email.h"
#include "engine/record_arena.h"
#include "engine/record_format.h"
#include "engine/record_table.h"
#include "engine/stable_hash.h"
#include "engine/types.h"

namespace attrib::engine {

// The stable hash of a store key. Part of the data format (it picks the shard).
inline uint64_t KeyHash(ShopId shop, absl::string_view canonical) {
  return StableHash(canonical, StableHash64(shop));
}

// Memory held by a shard, for stats and the memory report.
struct ShardMemory {
  size_t table_bytes = 0;
  size_t arena_bytes = 0;       // Chunks allocated.
  size_t live_record_bytes = 0;
  size_t garbage_bytes = 0;
};

class Shard {
 public:
  // A located record: where its reference sits in the table, and the reference.
  struct Slot {
    RecordTable::Position pos;
    uint32_t ref;
  };

  explicit Shard(EmailPolicy policy) : policy_(policy) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  std::optional<Slot> Find(ShopId shop, absl::string_view canonical, uint64_t hash) const;
  void Prefetch(uint64_t hash) const { table_.Prefetch(hash); }

  record::View ViewAt(uint32_t ref) const { return record::View(arena_.At(ref)); }
  ShopId ShopOf(record::View v) const { return shop_ids_[v.shop_index()]; }
  AffiliateId AffiliateOf(record::View v) const {
    return affiliate_ids_[v.affiliate_index()];
  }
  // The canonical key of a record; may use `buf` as storage.
  absl::string_view CanonicalOf(record::View v, CanonicalBuffer* buf) const;
  // A full copy of the record.
  Connection Materialize(record::View v) const;

  // Inserts c (key absent: slot empty) or replaces the record at `slot`. `hash` is
  // KeyHash(c.shop, c.canonical_email). The caller validated every field.
  void Put(uint64_t hash, const Connection& c, const std::optional<Slot>& slot);
  void Erase(const Slot& slot);
  // Updates the order counters in place.
  void SetCounters(const Slot& slot, uint32_t order_count, TimeMs last_order_at);

  // Calls fn(record::View) for every live record, in arena order (fast: sequential).
  template <typename Fn>
  void ForEachLive(Fn&& fn) const {
    arena_.ForEach([](const char* p) { return record::View(p).size(); },
                   [&](uint32_t, const char* p) {
                     const record::View v(p);
                     if (!v.dead()) fn(v);
                   });
  }
  // The shard's index of a shop id, if any record of that shop was ever stored.
  std::optional<uint32_t> ShopIndex(ShopId shop) const;

  size_t size() const { return table_.size(); }
  uint64_t CountShop(ShopId shop) const;
  uint64_t CountAffiliate(ShopId shop, AffiliateId affiliate) const;
  // Adds this shard's per-affiliate counts of `shop` to *out.
  void AddAffiliateCounts(ShopId shop,
                          absl::flat_hash_map<AffiliateId, uint64_t>* out) const;
  ShardMemory Memory() const;

 private:
  uint32_t InternShop(ShopId shop);
  uint32_t InternAffiliate(AffiliateId affiliate);
  uint64_t HashOfRef(uint32_t ref) const;
  void AdjustCounts(uint32_t shop_index, uint32_t affiliate_index, int64_t delta);
  // Rewrites the arena without dead records once garbage passes a quarter of it.
  void MaybeCompact();

  const EmailPolicy policy_;
  RecordTable table_;
  RecordArena arena_;
  std::vector<ShopId> shop_ids_;
  absl::flat_hash_map<ShopId, uint32_t> shop_index_;
  std::vector<AffiliateId> affiliate_ids_;
  absl::flat_hash_map<AffiliateId, uint32_t> affiliate_index_;
  absl::flat_hash_map<uint32_t, uint64_t> shop_counts_;  // shop index -> records
  // (shop index << 32 | affiliate index) -> records.
  absl::flat_hash_map<uint64_t, uint64_t> affiliate_counts_;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_SHARD_H_
