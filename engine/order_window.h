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
// Memory: about 200-300 bytes per remembered order (key, decision, FIFO entry); see
// the README for the measured figure.
//
// Thread-safety: every method may be called from any thread. One mutex per shard;
// With() holds it exclusively while its callback runs. The engine takes an order
// shard's lock before a connection shard's lock, never the other way round.
#ifndef ATTRIB_ENGINE_ORDER_WINDOW_H_
#define ATTRIB_ENGINE_ORDER_WINDOW_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/types.h"

namespace attrib::engine {

struct OrderRecord {
  ShopId shop = 0;
  AttributionDecision decision;
  // The connection the order was counted against (when decision.counted): reverse()
  // un-counts only if the customer still has that same connection.
  AffiliateId counted_affiliate = 0;
  TimeMs counted_connected_at = 0;
  // The connection's last_order_at before this order; restored by reverse() when
  // this order is still the last one (so a refund does not extend a sliding window).
  TimeMs prev_last_order_at = 0;
  TimeMs retain_mark = 0;  // max(order time, shard mark) when recorded.
  friend bool operator==(const OrderRecord&, const OrderRecord&) = default;
};

// One shard's orders. Not thread-safe; OrderWindow locks around it.
class OrderShard {
 public:
  OrderRecord* Find(absl::string_view key);
  // Records a new order and evicts those that fell out of the window.
  void Insert(std::string key, OrderRecord record, TimeMs window_ms);
  // Snapshot restore: appends a record as it was (its retain_mark kept, nothing
  // evicted) and raises the high-water mark to at least `high_water`.
  void Restore(std::string key, OrderRecord record, TimeMs high_water);
  TimeMs high_water() const { return high_water_; }
  size_t size() const { return orders_.size(); }
  template <typename Fn>
  void ForEach(Fn&& fn) const {  // In insertion order.
    for (const std::string& key : fifo_) fn(orders_.find(key)->second);
  }

 private:
  absl::flat_hash_map<std::string, OrderRecord> orders_;
  std::deque<std::string> fifo_;  // Keys in insertion (= mark) order.
  TimeMs high_water_ = 0;
};

class OrderWindow {
 public:
  // shard_count: a power of two. window_ms > 0.
  OrderWindow(uint32_t shard_count, TimeMs window_ms);
  OrderWindow(const OrderWindow&) = delete;
  OrderWindow& operator=(const OrderWindow&) = delete;

  TimeMs window_ms() const { return window_ms_; }

  // Runs fn(OrderShard&, const std::string& key) with the order's shard locked
  // exclusively; returns what fn returns.
  template <typename Fn>
  auto With(ShopId shop, absl::string_view order_id, Fn&& fn) {
    const std::string key = Key(shop, order_id);
    LockedShard& s = *shards_[ShardOf(key)];
    absl::MutexLock lock(&s.mu);
    return fn(s.orders, key);
  }

  size_t size() const;
  void ForEach(const std::function<void(const OrderRecord&)>& fn) const;
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  uint32_t ShardIndex(ShopId shop, absl::string_view order_id) const {
    return ShardOf(Key(shop, order_id));
  }
  // Calls fn(const OrderShard&) with shard `index` locked.
  template <typename Fn>
  void ReadShard(uint32_t index, Fn&& fn) const {
    const LockedShard& s = *shards_[index];
    absl::MutexLock lock(&s.mu);
    fn(s.orders);
  }

  static std::string Key(ShopId shop, absl::string_view order_id);

 private:
  uint32_t ShardOf(absl::string_view key) const;

  struct LockedShard {
    mutable absl::Mutex mu;
    OrderShard orders ABSL_GUARDED_BY(mu);
  };
  const TimeMs window_ms_;
  std::vector<std::unique_ptr<LockedShard>> shards_;  // Constant after construction.
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_ORDER_WINDOW_H_
