// engine/shard.h
//
// One shard of the connection store: a RecordTable index over records packed in a
// RecordArena, and the ListIndex that orders them for list pages. Records name
// their (shop, affiliate) pair by a 32-bit index into the store-wide OwnerTable,
// which also keeps the per-pair counts.
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
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "engine/canonical_email.h"
#include "engine/list_index.h"
#include "engine/owner_table.h"
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
  size_t list_index_bytes = 0;
};

class Shard {
 public:
  // A located record: where its reference sits in the table, and the reference.
  struct Slot {
    RecordTable::Position pos;
    uint32_t ref;
  };

  // `owners` is shared by all shards of a store and must outlive the shard.
  Shard(EmailPolicy policy, OwnerTable* owners) : policy_(policy), owners_(owners) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  std::optional<Slot> Find(ShopId shop, absl::string_view canonical, uint64_t hash) const;
  void Prefetch(uint64_t hash) const { table_.Prefetch(hash); }
  // Prefetches the records whose tag matches `hash` (call once its bucket is cached):
  // the second stage of a batch lookup's overlapped misses.
  void PrefetchRecords(uint64_t hash) const {
    table_.ForTagMatches(hash, [&](uint32_t ref) {
      // A plain __builtin_prefetch in a loop that only prefetches gets dropped by
      // GCC; the asm keeps it.
      asm volatile("prefetcht0 %0" : : "m"(*arena_.At(ref)));
    });
  }

  // Starts loading the record at `ref` into the cache.
  void PrefetchRecord(uint32_t ref) const {
    asm volatile("prefetcht0 %0" : : "m"(*arena_.At(ref)));
  }
  record::View ViewAt(uint32_t ref) const { return record::View(arena_.At(ref)); }
  ShopId ShopOf(record::View v) const { return owners_->Get(v.owner()).shop; }
  AffiliateId AffiliateOf(record::View v) const {
    return owners_->Get(v.owner()).affiliate;
  }
  // The canonical key of a record; may use `buf` as storage.
  absl::string_view CanonicalOf(record::View v, CanonicalBuffer* buf) const;
  // The record in place (strings into the arena, or into `buf` for a derived
  // canonical key): valid while the shard's lock is held and `buf` lives.
  ConnectionView ViewOf(record::View v, CanonicalBuffer* buf) const;
  // A full copy of the record.
  Connection Materialize(record::View v) const;

  // Inserts c (key absent: slot empty) or replaces the record at `slot`. `hash` is
  // KeyHash(c.shop, c.canonical_email). The caller validated every field.
  void Put(uint64_t hash, const Connection& c, const std::optional<Slot>& slot);
  void Erase(const Slot& slot);
  // Bulk load (snapshot restore): appends a record whose key is known to be absent,
  // with its owner already interned (the caller counts it in the OwnerTable).
  void BulkInsert(uint64_t hash, const Connection& c, uint32_t owner);
  // Bulk load of a record already in this encoding (snapshot restore), in two steps
  // so that the caller can prefetch the table bucket in between: AppendEncoded()
  // copies the well-formed record as is, with `owner` (interned, counted by the
  // caller) in place of its owner index, and returns its reference; IndexAppended()
  // then inserts that reference under `hash`, its key's KeyHash(). The key must be
  // absent.
  uint32_t AppendEncoded(absl::string_view record, uint32_t owner);
  void IndexAppended(uint64_t hash, uint32_t ref) {
    table_.Insert(hash, ref, [this](uint32_t r) { return HashOfRef(r); });
  }
  // Sizes the table for about n entries; only on an empty shard.
  void Reserve(size_t n) {
    if (table_.size() != 0) return;
    table_.Clear(n);
    list_index_.ReservePending(n);
  }
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
  size_t size() const { return table_.size(); }
  ShardMemory Memory() const;

  // Calls fn(const ListIndex::Entries&) with the records in (shop, canonical email)
  // order, after bringing the order up to date; see list_index.h. Needs the shard's
  // lock, shared at least.
  template <typename Fn>
  void ReadListOrder(Fn&& fn) const {
    list_index_.Read([this](uint32_t ref, CanonicalBuffer* buf) { return ListKeyAt(ref, buf); },
                     [this](uint32_t ref) { return IsDeadAt(ref); }, std::forward<Fn>(fn));
  }
  // The key of the record at `ref` in the list order.
  ListIndex::Key ListKeyAt(uint32_t ref, CanonicalBuffer* buf) const {
    const record::View v(arena_.At(ref));
    return ListIndex::Key{ShopOf(v), CanonicalOf(v, buf)};
  }
  // Brings the list order up to date now (after a load), so that no page pays it.
  void RefreshListOrder() const {
    list_index_.Refresh(
        [this](uint32_t ref, CanonicalBuffer* buf) { return ListKeyAt(ref, buf); },
        [this](uint32_t ref) { return IsDeadAt(ref); });
  }

 private:
  uint64_t HashOfRef(uint32_t ref) const;
  record::Fields FieldsFor(const Connection& c, uint32_t owner) const;
  // Rewrites the arena without dead records once garbage passes a quarter of it.
  void MaybeCompact();
  bool IsDeadAt(uint32_t ref) const { return record::View(arena_.At(ref)).dead(); }

  const EmailPolicy policy_;
  OwnerTable* const owners_;
  RecordTable table_;
  RecordArena arena_;
  ListIndex list_index_;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_SHARD_H_
