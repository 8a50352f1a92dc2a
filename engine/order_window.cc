// engine/order_window.cc: remembered orders (see the header).
#include "engine/order_window.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "engine/stable_hash.h"

namespace attrib::engine {

OrderRecord* OrderShard::Find(absl::string_view key) {
  const auto it = orders_.find(key);
  return it == orders_.end() ? nullptr : &it->second;
}

void OrderShard::Insert(std::string key, OrderRecord record, TimeMs window_ms) {
  high_water_ = std::max(high_water_, record.decision.ordered_at);
  record.retain_mark = high_water_;
  fifo_.push_back(key);
  orders_.insert_or_assign(std::move(key), std::move(record));
  while (!fifo_.empty()) {
    const auto it = orders_.find(fifo_.front());
    if (it->second.retain_mark >= high_water_ - window_ms) break;
    orders_.erase(it);
    fifo_.pop_front();
  }
}

void OrderShard::Restore(std::string key, OrderRecord record, TimeMs high_water) {
  high_water_ = std::max({high_water_, high_water, record.retain_mark});
  const auto [it, inserted] = orders_.insert_or_assign(key, std::move(record));
  if (inserted) fifo_.push_back(std::move(key));
}

OrderWindow::OrderWindow(uint32_t shard_count, TimeMs window_ms)
    : window_ms_(window_ms) {
  shards_.reserve(shard_count);
  for (uint32_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<LockedShard>());
  }
}

std::string OrderWindow::Key(ShopId shop, absl::string_view order_id) {
  std::string key(sizeof(shop) + order_id.size(), '\0');
  std::memcpy(key.data(), &shop, sizeof(shop));
  std::memcpy(key.data() + sizeof(shop), order_id.data(), order_id.size());
  return key;
}

uint32_t OrderWindow::ShardOf(absl::string_view key) const {
  return static_cast<uint32_t>(StableHash(key) & (shards_.size() - 1));
}

size_t OrderWindow::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += s->orders.size();
  }
  return n;
}

void OrderWindow::ForEach(const std::function<void(const OrderRecord&)>& fn) const {
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    s->orders.ForEach(fn);
  }
}

}  // namespace attrib::engine
