// engine/connection_store.h
//
// The sharded in-memory map (shop, canonical email) -> Connection. A key's shard is
// chosen by the top bits of KeyHash() (a stable hash, never absl::Hash), so a key
// lives in the same shard in every process. The store holds decided state only: the
// connection rules live in Engine, which runs them inside Mutate() so that deciding
// and applying a change is one atomic step per key.
//
// Thread-safety: every public method may be called from any thread. Each shard has
// its own mutex: readers share it, writers hold it exclusively, and only MutatePair holds
// two shard locks at once (lower shard index first). Callbacks run under the shard's lock: keep them short and
// never call back into the store from them.
#ifndef ATTRIB_ENGINE_CONNECTION_STORE_H_
#define ATTRIB_ENGINE_CONNECTION_STORE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "engine/owner_table.h"
#include "engine/shard.h"
#include "engine/types.h"

namespace attrib::engine {

// Read and write access to one key while its shard is locked exclusively; see
// ConnectionStore::Mutate().
class KeyEditor {
 public:
  // The key's connection before any change made through this editor.
  const std::optional<Connection>& current() const { return current_; }
  // Stores c (its shop and canonical email must be the editor's key).
  void Put(const Connection& c);
  void Erase();
  // Updates the order counters of the existing connection.
  void SetCounters(uint32_t order_count, TimeMs last_order_at);

 private:
  friend class ConnectionStore;
  KeyEditor(Shard* shard, uint64_t hash, std::optional<Shard::Slot> slot);

  Shard* shard_;
  uint64_t hash_;
  std::optional<Shard::Slot> slot_;
  std::optional<Connection> current_;
};

struct StoreMemory {
  size_t connections = 0;
  size_t owner_table_bytes = 0;  // (shop, affiliate) pairs, shared by all shards.
  size_t table_bytes = 0;
  size_t arena_bytes = 0;
  size_t live_record_bytes = 0;
  size_t garbage_bytes = 0;
  size_t list_index_bytes = 0;  // The list order (list_index.h).
};

class ConnectionStore {
 public:
  // shard_count: a power of two in [1, 65536].
  ConnectionStore(uint32_t shard_count, EmailPolicy policy);
  ConnectionStore(const ConnectionStore&) = delete;
  ConnectionStore& operator=(const ConnectionStore&) = delete;

  EmailPolicy policy() const { return policy_; }
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  uint32_t ShardOf(uint64_t hash) const {
    return shard_bits_ == 0 ? 0 : static_cast<uint32_t>(hash >> (64 - shard_bits_));
  }

  // A copy of the connection, if any.
  std::optional<Connection> Get(ShopId shop, absl::string_view canonical) const;

  // Calls fn(const Shard&, record::View) under the shard's shared lock when the key
  // exists; returns whether it did. The zero-copy read path.
  template <typename Fn>
  bool Visit(ShopId shop, absl::string_view canonical, Fn&& fn) const {
    return VisitHashed(shop, canonical, KeyHash(shop, canonical), std::forward<Fn>(fn));
  }
  // Visit, with the key's hash already computed: hash == KeyHash(shop, canonical).
  template <typename Fn>
  bool VisitHashed(ShopId shop, absl::string_view canonical, uint64_t hash, Fn&& fn) const {
    const LockedShard& s = *shards_[ShardOf(hash)];
    absl::ReaderMutexLock lock(&s.mu);
    const std::optional<Shard::Slot> slot = s.shard.Find(shop, canonical, hash);
    if (!slot) return false;
    fn(s.shard, s.shard.ViewAt(slot->ref));
    return true;
  }

  // Hints for a lookup that follows soon (the server's read batches): bring the
  // key's table bucket into the cache, then (once it is there) its candidate
  // records. Each takes the shard's shared lock briefly and changes nothing.
  void PrefetchBucket(uint64_t hash) const {
    const LockedShard& s = *shards_[ShardOf(hash)];
    absl::ReaderMutexLock lock(&s.mu);
    s.shard.Prefetch(hash);
  }
  void PrefetchRecords(uint64_t hash) const {
    const LockedShard& s = *shards_[ShardOf(hash)];
    absl::ReaderMutexLock lock(&s.mu);
    s.shard.PrefetchRecords(hash);
  }

  // Looks up many keys of one shop: takes each shard's lock once and prefetches the
  // table buckets of a shard's keys before probing them. Calls fn(i, shard, view)
  // for each key i that exists, under that shard's shared lock; order unspecified.
  template <typename Fn>
  void VisitBatch(ShopId shop, absl::Span<const absl::string_view> canonicals,
                  Fn&& fn) const;

  // Runs fn(KeyEditor&) with the key's shard locked exclusively and returns what fn
  // returns.
  template <typename Fn>
  auto Mutate(ShopId shop, absl::string_view canonical, Fn&& fn) {
    const uint64_t hash = KeyHash(shop, canonical);
    LockedShard& s = *shards_[ShardOf(hash)];
    absl::MutexLock lock(&s.mu);
    KeyEditor editor(&s.shard, hash, s.shard.Find(shop, canonical, hash));
    return fn(editor);
  }

  // Runs fn(edit) with the shards of keys `a` and `b` (different keys of one shop)
  // both locked exclusively: the lower shard index first, once if they share one
  // (identity merges and links, engine_identity.cc). edit(i) returns a fresh
  // KeyEditor for key i (0: a, 1: b); finish with one before making the next.
  template <typename Fn>
  auto MutatePair(ShopId shop, absl::string_view a, absl::string_view b, Fn&& fn) {
    const uint64_t ha = KeyHash(shop, a);
    const uint64_t hb = KeyHash(shop, b);
    const uint32_t sa = ShardOf(ha);
    const uint32_t sb = ShardOf(hb);
    LockedShard& first = *shards_[std::min(sa, sb)];
    LockedShard& second = *shards_[std::max(sa, sb)];
    absl::MutexLock lock1(&first.mu);
    std::optional<absl::MutexLock> lock2;
    if (sa != sb) lock2.emplace(&second.mu);
    auto edit = [&](int i) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      Shard* shard = &shards_[i == 0 ? sa : sb]->shard;
      const uint64_t h = i == 0 ? ha : hb;
      return KeyEditor(shard, h, shard->Find(shop, i == 0 ? a : b, h));
    };
    return fn(edit);
  }

  // Calls fn(const Shard&, record::View) for every live record of shard `index`
  // under its shared lock; `first()` runs under the same lock before any record.
  template <typename Fn, typename First>
  void ForEachInShard(uint32_t index, Fn&& fn, First&& first) const {
    const LockedShard& s = *shards_[index];
    absl::ReaderMutexLock lock(&s.mu);
    first();
    s.shard.ForEachLive([&](record::View v) { fn(s.shard, v); });
  }
  template <typename Fn>
  void ForEachInShard(uint32_t index, Fn&& fn) const {
    ForEachInShard(index, std::forward<Fn>(fn), [] {});
  }

  // Calls fn(const Shard&, const ListIndex::Entries&) under shard `index`'s shared
  // lock with its records in list order (Shard::ReadListOrder).
  template <typename Fn>
  void ReadListOrder(uint32_t index, Fn&& fn) const {
    const LockedShard& s = *shards_[index];
    absl::ReaderMutexLock lock(&s.mu);
    s.shard.ReadListOrder([&](const ListIndex::Entries& e) { fn(s.shard, e); });
  }
  // Brings every shard's list order up to date (after a load; each shard under its
  // shared lock in turn), so that no list page pays for it.
  void RefreshListOrders() const;

  // Runs fn(Shard&, OwnerTable&) with shard `index` locked exclusively (bulk load).
  template <typename Fn>
  void WithShard(uint32_t index, Fn&& fn) {
    LockedShard& s = *shards_[index];
    absl::MutexLock lock(&s.mu);
    fn(s.shard, owners_);
  }

  // The (shop, affiliate) pairs records name by index (thread-safe itself).
  const OwnerTable& owners() const { return owners_; }
  OwnerTable& mutable_owners() { return owners_; }
  size_t size() const;
  // Connections per shard, indexed by shard (each shard read under its lock in turn).
  std::vector<size_t> ShardSizes() const;
  uint64_t CountShop(ShopId shop) const;
  uint64_t CountAffiliate(ShopId shop, AffiliateId affiliate) const;
  absl::flat_hash_map<AffiliateId, uint64_t> CountsByAffiliate(ShopId shop) const;
  StoreMemory Memory() const;

 private:
  struct alignas(64) LockedShard {
    LockedShard(EmailPolicy policy, OwnerTable* owners) : shard(policy, owners) {}
    mutable absl::Mutex mu;
    Shard shard ABSL_GUARDED_BY(mu);
  };

  const EmailPolicy policy_;
  const int shard_bits_;
  OwnerTable owners_;  // Shared by the shards; thread-safe itself.
  std::vector<std::unique_ptr<LockedShard>> shards_;  // Constant after construction.
};

template <typename Fn>
void ConnectionStore::VisitBatch(ShopId shop,
                                 absl::Span<const absl::string_view> canonicals,
                                 Fn&& fn) const {
  struct Item {
    uint64_t hash;
    uint32_t shard;
    uint32_t index;
  };
  std::vector<Item> items(canonicals.size());
  for (size_t i = 0; i < canonicals.size(); ++i) {
    const uint64_t hash = KeyHash(shop, canonicals[i]);
    items[i] = Item{hash, ShardOf(hash), static_cast<uint32_t>(i)};
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.shard < b.shard; });
  // Three passes over the batch: prefetch every key's bucket, then every candidate
  // record, then probe. A hit costs two dependent DRAM misses (bucket, record); the
  // passes overlap the misses of all keys instead of paying them one key at a time.
  const auto for_each_shard_group = [&](auto&& per_group) {
    for (size_t begin = 0; begin < items.size();) {
      size_t end = begin;
      while (end < items.size() && items[end].shard == items[begin].shard) ++end;
      const LockedShard& s = *shards_[items[begin].shard];
      absl::ReaderMutexLock lock(&s.mu);
      per_group(s.shard, begin, end);
      begin = end;
    }
  };
  if (items.size() > 1) {
    for_each_shard_group([&](const Shard& shard, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) shard.Prefetch(items[i].hash);
    });
    for_each_shard_group([&](const Shard& shard, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) shard.PrefetchRecords(items[i].hash);
    });
  }
  for_each_shard_group([&](const Shard& shard, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const Item& it = items[i];
      const std::optional<Shard::Slot> slot = shard.Find(shop, canonicals[it.index], it.hash);
      if (slot) fn(it.index, shard, shard.ViewAt(slot->ref));
    }
  });
}

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_CONNECTION_STORE_H_
