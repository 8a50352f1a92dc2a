// engine/record_table.h
//
// A compact open-addressing hash index from a 64-bit key hash to a 32-bit record
// reference (a position in a RecordArena). It stores no keys: the caller confirms a
// candidate by comparing the record the reference points at.
//
// Layout: one cache line per bucket = 12 one-byte tags + 12 four-byte refs (+4
// spare bytes), so a lookup touches one line of the table and then the record:
// ~5.3 bytes per slot, ~6-9 bytes per entry at the load factors the table keeps.
//
// Probing: bucket b = bits 8.. of the hash, then b+1, b+2, ... A probe stops at the
// first bucket with an empty slot. Invariant: slots go empty -> used -> deleted and
// never back to empty except by Rehash(); so a bucket that has an empty slot now
// has never been full, no key was ever pushed past it, and erasing in such a bucket
// may set the slot empty instead of leaving a tombstone.
//
// Thread-safety: none; the owning shard's mutex guards it.
#ifndef ATTRIB_ENGINE_RECORD_TABLE_H_
#define ATTRIB_ENGINE_RECORD_TABLE_H_

#include <cstdint>
#include <cstring>
#include <memory>

namespace attrib::engine {

class RecordTable {
 public:
  static constexpr int kSlotsPerBucket = 12;
  static constexpr uint8_t kEmpty = 0;
  static constexpr uint8_t kDeleted = 1;

  struct alignas(64) Bucket {
    uint8_t tags[kSlotsPerBucket];
    uint32_t spare;
    uint32_t refs[kSlotsPerBucket];
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

  // Where a key lives: the bucket and slot, for Erase() and Replace().
  struct Position {
    uint32_t bucket;
    uint32_t slot;
  };

  RecordTable() { Reset(1); }
  RecordTable(const RecordTable&) = delete;
  RecordTable& operator=(const RecordTable&) = delete;

  size_t size() const { return size_; }
  size_t bucket_count() const { return mask_ + 1; }
  size_t memory_bytes() const { return bucket_count() * sizeof(Bucket); }

  // Calls `is_match(ref)` for each candidate whose tag matches; returns true and
  // sets *pos at the first candidate it accepts.
  template <typename IsMatch>
  bool Find(uint64_t hash, IsMatch&& is_match, Position* pos) const {
    const uint8_t tag = TagOf(hash);
    uint32_t b = BucketOf(hash);
    for (size_t probes = 0; probes <= mask_; ++probes) {
      const Bucket& bucket = buckets_[b];
      bool has_empty = false;
      for (int s = 0; s < kSlotsPerBucket; ++s) {
        const uint8_t t = bucket.tags[s];
        if (t == tag && is_match(bucket.refs[s])) {
          *pos = Position{b, static_cast<uint32_t>(s)};
          return true;
        }
        has_empty |= (t == kEmpty);
      }
      if (has_empty) return false;
      b = (b + 1) & mask_;
    }
    return false;
  }

  // Hints the CPU to load the bucket of `hash` (batch lookups overlap misses).
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&buckets_[BucketOf(hash)]); }

  // Calls fn(ref) for the references in the first bucket of `hash` whose tag
  // matches (the likely candidates; overflow buckets are not visited).
  template <typename Fn>
  void ForTagMatches(uint64_t hash, Fn&& fn) const {
    const uint8_t tag = TagOf(hash);
    const Bucket& bucket = buckets_[BucketOf(hash)];
    for (int s = 0; s < kSlotsPerBucket; ++s) {
      if (bucket.tags[s] == tag) fn(bucket.refs[s]);
    }
  }

  uint32_t RefAt(Position pos) const { return buckets_[pos.bucket].refs[pos.slot]; }
  void Replace(Position pos, uint32_t ref) { buckets_[pos.bucket].refs[pos.slot] = ref; }

  // Inserts a key known to be absent. `hash_of_ref(ref)` recomputes the hash of a
  // stored reference; it is called only when the table grows.
  template <typename HashOfRef>
  void Insert(uint64_t hash, uint32_t ref, HashOfRef&& hash_of_ref) {
    if ((size_ + tombstones_ + 1) * 8 > capacity_slots() * 7) {
      // Grow when live entries fill more than half of it, else just sweep tombstones.
      const size_t buckets = (size_ + 1) * 2 > capacity_slots() ? bucket_count() * 2
                                                               : bucket_count();
      Rehash(buckets, hash_of_ref);
    }
    InsertNoGrow(hash, ref);
  }

  void Erase(Position pos) {
    Bucket& bucket = buckets_[pos.bucket];
    bool has_empty = false;
    for (int s = 0; s < kSlotsPerBucket; ++s) has_empty |= (bucket.tags[s] == kEmpty);
    if (has_empty) {
      bucket.tags[pos.slot] = kEmpty;
    } else {
      bucket.tags[pos.slot] = kDeleted;
      ++tombstones_;
    }
    --size_;
  }

  // Calls fn(ref) for every stored reference, in table order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t b = 0; b <= mask_; ++b) {
      for (int s = 0; s < kSlotsPerBucket; ++s) {
        if (buckets_[b].tags[s] > kDeleted) fn(buckets_[b].refs[s]);
      }
    }
  }

  // Empties the table and sizes it for about `expected` entries.
  void Clear(size_t expected = 0) {
    size_t buckets = 1;
    while (buckets * kSlotsPerBucket * 7 < expected * 8) buckets *= 2;
    Reset(buckets);
  }

 private:
  static uint8_t TagOf(uint64_t hash) {
    // 2..255: 0 and 1 are the empty and deleted markers.
    return static_cast<uint8_t>(2 + (hash & 0xff) % 254);
  }
  uint32_t BucketOf(uint64_t hash) const {
    return static_cast<uint32_t>((hash >> 8) & mask_);
  }
  size_t capacity_slots() const { return bucket_count() * kSlotsPerBucket; }

  void Reset(size_t buckets) {
    buckets_.reset(new Bucket[buckets]);
    std::memset(static_cast<void*>(buckets_.get()), 0, buckets * sizeof(Bucket));
    mask_ = buckets - 1;
    size_ = 0;
    tombstones_ = 0;
  }

  void InsertNoGrow(uint64_t hash, uint32_t ref) {
    uint32_t b = BucketOf(hash);
    for (;;) {
      Bucket& bucket = buckets_[b];
      for (int s = 0; s < kSlotsPerBucket; ++s) {
        if (bucket.tags[s] <= kDeleted) {
          if (bucket.tags[s] == kDeleted) --tombstones_;
          bucket.tags[s] = TagOf(hash);
          bucket.refs[s] = ref;
          ++size_;
          return;
        }
      }
      b = (b + 1) & mask_;
    }
  }

  template <typename HashOfRef>
  void Rehash(size_t buckets, HashOfRef& hash_of_ref) {
    std::unique_ptr<Bucket[]> old = std::move(buckets_);
    const size_t old_count = bucket_count();
    Reset(buckets);
    for (size_t b = 0; b < old_count; ++b) {
      for (int s = 0; s < kSlotsPerBucket; ++s) {
        if (old[b].tags[s] > kDeleted) {
          InsertNoGrow(hash_of_ref(old[b].refs[s]), old[b].refs[s]);
        }
      }
    }
  }

  std::unique_ptr<Bucket[]> buckets_;
  size_t mask_ = 0;  // bucket_count() - 1; bucket_count() is a power of two.
  size_t size_ = 0;
  size_t tombstones_ = 0;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_RECORD_TABLE_H_
