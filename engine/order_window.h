// engine/order_window.h
//
// The remembered orders: (shop, order id) -> the decision made for it, which makes
// attribute() idempotent per order and lets reverse() and explain() find it.
//
// Retention is measured in order time, so replaying the log rebuilds the same set:
// each shard keeps a high-water mark H, the newest order time it has seen. An order
// recorded when the mark is H, with order time T, is remembered while
//     max(T, H) >= (newest order time seen since) - window.
// So a late webhook (T far in the past) is still remembered for a full window, and
// an idle shop's orders are dropped only as newer orders arrive. max(T, H) is the
// new mark itself, so the marks of a shard's records are non-decreasing in
// insertion order and eviction pops a FIFO.
//
// The window defaults to 120 days of order time (EngineOptions, attribd
// --order_window): refund and chargeback periods run 30-120 days, and reverse()
// and explain() find an order only while it is remembered.
//
// Memory: each shard is a compact table (order_shard.h): a log of variable-length
// records in insertion order plus a 6-byte-slot index, ~57 bytes of RSS per
// remembered order at 10-12M (README, "Measured figures"; bench/memory_report).
// Expiry pops the log's front, so it costs O(expired), never a scan.
//
// Thread-safety: every method may be called from any thread. One mutex per shard;
// With() holds it exclusively while its callback runs. The engine takes an order
// shard's lock before a connection shard's lock, never the other way round.
#ifndef ATTRIB_ENGINE_ORDER_WINDOW_H_
#define ATTRIB_ENGINE_ORDER_WINDOW_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/order_shard.h"
#include "engine/types.h"

namespace attrib::engine {

class OrderWindow {
 public:
  // shard_count: a power of two. window_ms > 0.
  OrderWindow(uint32_t shard_count, TimeMs window_ms);
  OrderWindow(const OrderWindow&) = delete;
  OrderWindow& operator=(const OrderWindow&) = delete;

  TimeMs window_ms() const { return window_ms_; }

  // Runs fn(OrderShard&, const OrderKey& key) with the order's shard locked
  // exclusively; returns what fn returns. `order_id` must outlive the call.
  template <typename Fn>
  auto With(ShopId shop, absl::string_view order_id, Fn&& fn) {
    const OrderKey key = MakeOrderKey(shop, order_id);
    LockedShard& s = *shards_[ShardOf(key)];
    absl::MutexLock lock(&s.mu);
    return fn(s.orders, key);
  }

  size_t size() const;
  size_t MemoryBytes() const;  // Every shard's OrderShard::MemoryBytes().
  void ForEach(const std::function<void(const OrderRecord&)>& fn) const;
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  uint32_t ShardIndex(ShopId shop, absl::string_view order_id) const {
    return ShardOf(MakeOrderKey(shop, order_id));
  }
  // Calls fn(const OrderShard&) with shard `index` locked.
  template <typename Fn>
  void ReadShard(uint32_t index, Fn&& fn) const {
    const LockedShard& s = *shards_[index];
    absl::MutexLock lock(&s.mu);
    fn(s.orders);
  }


 private:
  // The low bits of the key's StableHash: a snapshot's order fences are indexed by
  // shard, so this mapping is part of the snapshot format.
  uint32_t ShardOf(const OrderKey& key) const {
    return static_cast<uint32_t>(key.hash & (shards_.size() - 1));
  }

  struct LockedShard {
    mutable absl::Mutex mu;
    OrderShard orders ABSL_GUARDED_BY(mu);
  };
  const TimeMs window_ms_;
  std::vector<std::unique_ptr<LockedShard>> shards_;  // Constant after construction.
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_ORDER_WINDOW_H_
