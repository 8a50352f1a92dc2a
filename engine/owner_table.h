// engine/owner_table.h
//
// The store-wide table of (shop, affiliate) pairs, "owners". A record holds one
// 32-bit owner index instead of a 64-bit shop id and a 64-bit affiliate id, and the
// per-pair connection counts live here, next to the pair: counts per shop and per
// affiliate cost nothing per record and nothing per shard.
//
// One table for the whole store (not one per shard) because a shop's affiliates
// would otherwise be repeated in every shard: at 10M connections, 10 shops x 1000
// affiliates cost ~8 bytes per connection in per-shard tables and a cache miss per
// lookup; here they are 24 bytes per pair, read from a few hot cache lines.
//
// Thread-safety: every method may be called from any thread. Intern() takes a mutex;
// Get() and Add() are lock-free. Entries are never moved or removed (fixed-size
// blocks, allocated on demand), so Get(i) is safe for any index i whose Intern()
// happened-before the call (the store publishes indexes under its shard locks).
#ifndef ATTRIB_ENGINE_OWNER_TABLE_H_
#define ATTRIB_ENGINE_OWNER_TABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/types.h"

namespace attrib::engine {

class OwnerTable {
 public:
  struct Owner {
    ShopId shop = 0;
    AffiliateId affiliate = 0;
    std::atomic<int64_t> connections{0};  // Records currently held by this pair.
  };
  static constexpr int kBlockBits = 12;  // 4096 owners per block.
  static constexpr size_t kMaxBlocks = size_t{1} << 16;  // 268M distinct pairs.

  OwnerTable();
  OwnerTable(const OwnerTable&) = delete;
  OwnerTable& operator=(const OwnerTable&) = delete;

  // The index of (shop, affiliate), added on first use.
  uint32_t Intern(ShopId shop, AffiliateId affiliate);
  const Owner& Get(uint32_t index) const {
    return blocks_[index >> kBlockBits].load(std::memory_order_acquire)
        [index & ((1u << kBlockBits) - 1)];
  }
  void AddConnections(uint32_t index, int64_t delta) {
    Mutable(index).connections.fetch_add(delta, std::memory_order_relaxed);
  }

  uint64_t CountShop(ShopId shop) const;
  uint64_t CountAffiliate(ShopId shop, AffiliateId affiliate) const;
  absl::flat_hash_map<AffiliateId, uint64_t> CountsByAffiliate(ShopId shop) const;
  size_t size() const { return size_.load(std::memory_order_acquire); }
  size_t memory_bytes() const;

 private:
  Owner& Mutable(uint32_t index) {
    return blocks_[index >> kBlockBits].load(std::memory_order_acquire)
        [index & ((1u << kBlockBits) - 1)];
  }

  // Directory of blocks; a block pointer is written once (under mu_), then only read.
  std::unique_ptr<std::atomic<Owner*>[]> blocks_;
  std::vector<std::unique_ptr<Owner[]>> owned_blocks_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint32_t> size_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::pair<ShopId, AffiliateId>, uint32_t> index_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ShopId, std::vector<uint32_t>> by_shop_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_OWNER_TABLE_H_
