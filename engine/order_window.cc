// engine/order_window.cc: remembered orders (see the header).
#include "engine/order_window.h"

namespace attrib::engine {

OrderWindow::OrderWindow(uint32_t shard_count, TimeMs window_ms)
    : window_ms_(window_ms) {
  shards_.reserve(shard_count);
  for (uint32_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<LockedShard>());
  }
}

size_t OrderWindow::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += s->orders.size();
  }
  return n;
}

size_t OrderWindow::MemoryBytes() const {
  size_t n = shards_.capacity() * sizeof(shards_[0]);
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += sizeof(LockedShard) + s->orders.MemoryBytes();
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
