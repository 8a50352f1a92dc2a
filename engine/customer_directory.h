// engine/customer_directory.h
//
// The customer directory (issue 12): per shop, every customer seen by a connect, an
// attribute or an import, with or without a connection: its name (optional), the
// time of its first and last order seen and the number of orders seen. Keyed by the
// customer's PRIMARY key in the identity scheme (identity_index.h: the key its
// connection is, or would be, under).
//
// Storage is compact (target <= 48 B RSS per entry without a connection at 10M,
// README "Customer directory"): per shard one arena of variable-header records laid
// back to back in 1 MiB chunks, and an open-addressing set of 4-byte record offsets
// hashed by StableHash of (shop, key). A record is
//   [u8 flags | u8 key length | varint shop index | u8 name length (flag has-name)
//    | orders seen: u16, or u32 with flag wide-count | u48 first_order_at
//    | u48 last_order_at (the counts and times only with flag has-orders: any of
//    the three non-zero) | key | name]
// so a customer without a name or orders has a 3-byte header. The shop index is the
// shop's position in the shard's shop table (ShopId in 8 bytes once per shard and
// shop). No std::string per entry. A change that keeps the record's length is made
// in place (every later order of a customer); one that does not (a name of another
// length, the first order, the 65,536th) appends a new record and marks the old one
// dead. Removed entries (a merge's loser) are marked dead. A chunk tail too short
// for a record stays unused (key length 0 marks it when it has >= 2 bytes). Sharded
// by StableHash, at most kMaxCustomerDirectoryShards shards. The log and snapshot
// formats do not depend on this layout.
//
// Thread-safety: every method may be called from any thread. Each shard has its own
// mutex, a leaf: nothing is locked while one is held except the caller's `done`
// callback, which must only emit the Mutation. Changes that touch two shards lock
// them in ascending order. The engine changes a customer's entry only while it holds
// the connection-shard lock of the customer's primary key (engine_customers.cc), so
// read-modify-write sequences of one customer never interleave.
#ifndef ATTRIB_ENGINE_CUSTOMER_DIRECTORY_H_
#define ATTRIB_ENGINE_CUSTOMER_DIRECTORY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/types.h"

namespace attrib::engine {

// Snapshots hold every directory shard's lock at once (one fence for the whole
// directory); ThreadSanitizer's deadlock detector tracks at most 64 locks per thread.
inline constexpr uint32_t kMaxCustomerDirectoryShards = 32;

struct DirectoryMemory {
  size_t entries = 0;      // Live entries.
  size_t dead_bytes = 0;   // Arena bytes of replaced or removed records.
  size_t bytes = 0;        // Estimated: arenas (allocated) plus the offset sets.
};

class CustomerDirectory {
 public:
  explicit CustomerDirectory(uint32_t shard_count);
  CustomerDirectory(const CustomerDirectory&) = delete;
  CustomerDirectory& operator=(const CustomerDirectory&) = delete;

  std::optional<CustomerEntry> Get(ShopId shop, absl::string_view key) const;
  // Read-modify-write under the key's shard lock: fn(current, null when none)
  // returns the new entry, or nullopt to change nothing; after a change done(new
  // entry) runs with the lock still held.
  void Update(ShopId shop, absl::string_view key,
              absl::FunctionRef<std::optional<CustomerEntry>(const CustomerEntry*)> fn,
              absl::FunctionRef<void(const CustomerEntry&)> done);
  // Merge/link: `loser`'s entry (if any) is absorbed into `survivor`'s (Absorbed())
  // and removed. A survivor without an entry starts from `base` when given (then it
  // gets an entry even if the loser had none), else from an empty entry when the
  // loser had one. Both shards locked; done(survivor's entry after, null when it has
  // none; whether anything was stored) runs under the locks, also when nothing
  // changed.
  void Absorb(ShopId shop, absl::string_view survivor, absl::string_view loser,
              const CustomerEntry* base,
              absl::FunctionRef<void(const CustomerEntry* result, bool stored)> done);
  // The entry `winner` has after absorbing `loser`: earliest first order (0 = none
  // is not earlier), latest last order, the sum of the counts (saturating), the
  // winner's name unless it has none.
  static CustomerEntry Absorbed(const CustomerEntry& winner, const CustomerEntry& loser);

  // Replay and restore: store / remove without conditions.
  void Put(ShopId shop, absl::string_view key, const CustomerEntry& entry);
  bool Erase(ShopId shop, absl::string_view key);

  // Snapshot: every shard locked (ascending), fn per live entry, then done() (still
  // under every lock: read the fence there).
  void ForEachLocked(
      absl::FunctionRef<void(ShopId, absl::string_view key, const CustomerEntry&)> fn,
      absl::FunctionRef<void()> done) const;

  // Paging through one shop's entries in storage order (shard, then arena offset).
  struct Position {
    uint32_t shard = 0;
    uint64_t offset = 0;
    friend bool operator==(const Position&, const Position&) = default;
  };
  struct ScannedEntry {
    std::string key;
    CustomerEntry entry;
  };
  // Appends to *out up to `max_entries` live entries of `shop` at or after `from`,
  // locking one shard at a time; returns the position after the last one examined,
  // or nullopt when the directory's end was reached. At most `max_examined` records
  // are examined per call (so one call holds a lock briefly). A `from` that Scan did
  // not return (a made-up cursor) starts at the first record at or after it.
  std::optional<Position> Scan(ShopId shop, Position from, size_t max_entries,
                               size_t max_examined, std::vector<ScannedEntry>* out) const;

  size_t size() const;
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  DirectoryMemory Memory() const;

 private:
  struct Shard;
  struct Probe {
    ShopId shop;
    absl::string_view key;
    uint64_t hash;
  };
  struct OffsetHash {
    using is_transparent = void;
    const Shard* shard;
    size_t operator()(uint32_t offset) const;
    size_t operator()(const Probe& p) const { return p.hash; }
  };
  struct OffsetEq {
    using is_transparent = void;
    const Shard* shard;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, const Probe& p) const;
    bool operator()(const Probe& p, uint32_t a) const { return (*this)(a, p); }
  };
  using OffsetSet = absl::flat_hash_set<uint32_t, OffsetHash, OffsetEq>;
  struct Shard {
    Shard();
    mutable absl::Mutex mu;
    std::vector<std::unique_ptr<char[]>> chunks ABSL_GUARDED_BY(mu);
    uint64_t used ABSL_GUARDED_BY(mu) = 0;  // Bytes of the arena in use (chunk-major).
    size_t dead_bytes ABSL_GUARDED_BY(mu) = 0;
    OffsetSet set ABSL_GUARDED_BY(mu);
    // The shops of this shard's records: a record holds its shop's index here (a
    // varint, 1 byte for the first 128 shops), not the 8-byte id. Never shrinks.
    std::vector<ShopId> shops ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<ShopId, uint32_t> shop_index ABSL_GUARDED_BY(mu);
    ShopId ShopAt(uint32_t index) const ABSL_NO_THREAD_SAFETY_ANALYSIS;
    uint32_t IndexOf(ShopId shop) ABSL_NO_THREAD_SAFETY_ANALYSIS;  // Adds it when new.
    const char* At(uint64_t offset) const ABSL_NO_THREAD_SAFETY_ANALYSIS;
    char* MutableAt(uint64_t offset) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  };
  static uint64_t HashOf(ShopId shop, absl::string_view key);
  uint32_t ShardOf(uint64_t hash) const;
  // Under s.mu.
  static const char* Find(const Shard& s, const Probe& p, uint32_t* offset);
  static void Store(Shard& s, const Probe& p, const CustomerEntry& e);
  static bool Remove(Shard& s, const Probe& p);
  // The first record (or chunk end) at or after `offset`, which may be anything.
  static uint64_t RecordAtOrAfter(const Shard& s, uint64_t offset);

  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_CUSTOMER_DIRECTORY_H_
