// engine/list_index.h
//
// The list order of one shard: references to the shard's records sorted by (shop,
// canonical email), so that a list page seeks to its cursor and reads on, instead
// of scanning the store (SPEC §3 list; target: a 100-row page of a 1M-connection
// shop in a 10M store in <= 5 ms).
//
// Memory is the constraint (<= 64 B RSS per connection at 10M, SPEC §9, with ~58 B
// already used by the records and the hash table): an entry is 5 bytes, a 4-byte
// arena reference and a 1-byte filter tag, in two exact-size arrays, plus a 16-byte
// fence every 128 entries (5.13 B per connection in all). No key bytes are
// stored: a comparison reads the record (and may re-derive its canonical key).
// Because of that, keeping the order on every write would cost a few binary-search
// steps of record reads per write (~1-3 us at 10M); instead a write only appends
// the new reference to an unsorted pending list (O(1)), and the order is brought up
// to date lazily, by the next reader that needs it (Refresh): pending entries are
// keyed once, sorted with their keys cached, and merged in; when they are many
// (a bulk load, a restore) the whole order is rebuilt by one sort instead.
//
// The tag: an 8-bit hash of the record's affiliate, so the affiliate filter skips
// the entries of other affiliates without reading their records (1/256 of them
// pass by chance and are checked on the record). A record's affiliate therefore
// never changes in place: a rewrite that changes it moves the record
// (Shard::Put), which appends a new entry. (Bits for the source were tried: with 6
// bits left for the affiliate, a page of a small affiliate read 4x more records;
// the source filter reads the records instead.)
//
// Entries may name dead records (erased, or moved by a rewrite): readers skip them
// (the record bytes stay readable until the arena is compacted), and a compaction
// or a full rebuild drops them. Arena references never get reused before a
// compaction, and a compaction remaps every entry (Remap).
//
// Thread-safety: the owning shard's mutex guards the index: Add(), ReservePending()
// and Remap() need it exclusively. Read() needs at least the shared lock; it refreshes the order
// under the index's own mutex, so concurrent readers of one shard may both call it
// and lookups (shared lock, no index access) never wait for a refresh.
#ifndef ATTRIB_ENGINE_LIST_INDEX_H_
#define ATTRIB_ENGINE_LIST_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/canonical_email.h"
#include "engine/types.h"

namespace attrib::engine {

class ListIndex {
 public:
  // A record's place in the order.
  struct Key {
    ShopId shop = 0;
    absl::string_view canonical;
  };
  // The key of the record at `ref` (may use `buf` as storage), and whether the
  // record is dead. Supplied by the shard, which knows the record format.
  using KeyOf = absl::FunctionRef<Key(uint32_t ref, CanonicalBuffer* buf)>;
  using IsDead = absl::FunctionRef<bool(uint32_t ref)>;
  // Starts loading the record at `ref` into the cache (binary searches overlap the
  // record misses of their next two probes).
  using Prefetch = absl::FunctionRef<void(uint32_t ref)>;

  // Every kFenceEvery-th entry's shop and first 8 key bytes (big-endian,
  // zero-padded), so that a seek narrows to one stretch of entries before it reads
  // records: ~7 record reads per seek instead of ~16 at 40k entries a shard, for
  // 0.125 bytes per entry.
  static constexpr size_t kFenceEvery = 128;
  struct Fence {
    ShopId shop = 0;
    uint64_t prefix = 0;
  };
  static uint64_t PrefixOf(absl::string_view canonical);

  // The sorted entries, valid while the reader holds the shard's lock.
  struct Entries {
    const uint32_t* refs = nullptr;
    const uint8_t* tags = nullptr;
    size_t size = 0;
    const Fence* fences = nullptr;  // fences[j] is entry j * kFenceEvery's.
    size_t fence_count = 0;
  };

  static uint8_t Tag(AffiliateId affiliate);

  ListIndex() = default;
  ListIndex(const ListIndex&) = delete;
  ListIndex& operator=(const ListIndex&) = delete;

  // A new record (or a record's new place) at `ref`.
  void Add(uint32_t ref, uint8_t tag);
  // Room for n more Add()s without growing (a bulk load knows its count).
  void ReservePending(size_t n);
  // After the arena was compacted: `moved(old_ref)` is the record's new reference,
  // or nullopt if it was dead (dropped). Keeps the order (keys do not change).
  void Remap(absl::FunctionRef<std::optional<uint32_t>(uint32_t)> moved);

  // Brings the order up to date, then calls fn(const Entries&) under the index's
  // mutex. The caller holds the shard's lock (shared is enough).
  template <typename Fn>
  void Read(KeyOf key_of, IsDead is_dead, Fn&& fn) const {
    absl::MutexLock lock(&mu_);
    RefreshLocked(key_of, is_dead);
    fn(EntriesLocked());
  }
  // Read() without a reader: the work a first list page would do after a load.
  void Refresh(KeyOf key_of, IsDead is_dead) const {
    absl::MutexLock lock(&mu_);
    RefreshLocked(key_of, is_dead);
  }

  size_t memory_bytes() const;

  // Position of the first entry at or after `from` whose tag is `tag` (any tag when
  // nullopt), or e.size; 16 tags per step.
  static size_t NextTagMatch(const Entries& e, size_t from, std::optional<uint8_t> tag);

  // Position of the first entry whose key is not less than `key` (the fences, then
  // a binary search of records).
  static size_t Seek(const Entries& e, const Key& key, KeyOf key_of, Prefetch prefetch);

  // Position of the first entry in [begin, end) whose key is not less than
  // (shop, canonical); entries must be sorted (Read's).
  static size_t LowerBound(const Entries& e, size_t begin, size_t end, const Key& key,
                           KeyOf key_of, Prefetch prefetch);
  // Position of the first entry in [begin, end) for which pred(entry key) is
  // false; pred must be true on a prefix of the order.
  static size_t PartitionPoint(const Entries& e, size_t begin, size_t end,
                               absl::FunctionRef<bool(const Key&)> pred, KeyOf key_of,
                               Prefetch prefetch);

 private:
  void RefreshLocked(KeyOf key_of, IsDead is_dead) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sorts the live pending entries and merges them into the order; `full` rebuilds
  // the order from all live entries by one sort.
  void MergeLocked(KeyOf key_of, IsDead is_dead, bool full) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Entries EntriesLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return Entries{refs_.get(), tags_.get(), size_, fences_.get(), fence_count_};
  }
  void BuildFencesLocked(KeyOf key_of) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReplaceSortedLocked(std::unique_ptr<uint32_t[]> refs, std::unique_ptr<uint8_t[]> tags,
                           size_t size) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The order (exact-size arrays) and the entries added since it was last brought
  // up to date. Logically part of the shard's state; mutable because readers
  // refresh it.
  mutable absl::Mutex mu_;
  mutable std::unique_ptr<uint32_t[]> refs_ ABSL_GUARDED_BY(mu_);
  mutable std::unique_ptr<uint8_t[]> tags_ ABSL_GUARDED_BY(mu_);
  mutable size_t size_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::unique_ptr<Fence[]> fences_ ABSL_GUARDED_BY(mu_);
  mutable size_t fence_count_ ABSL_GUARDED_BY(mu_) = 0;
  // The fences are rebuilt (from the records) before the next read.
  mutable bool fences_stale_ ABSL_GUARDED_BY(mu_) = false;
  mutable std::vector<uint32_t> pending_refs_ ABSL_GUARDED_BY(mu_);
  mutable std::vector<uint8_t> pending_tags_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_LIST_INDEX_H_
