// engine/owner_table.cc: the store-wide (shop, affiliate) table (see the header).
#include "engine/owner_table.h"

namespace attrib::engine {

OwnerTable::OwnerTable() : blocks_(new std::atomic<Owner*>[kMaxBlocks]) {
  for (size_t i = 0; i < kMaxBlocks; ++i) blocks_[i].store(nullptr, std::memory_order_relaxed);
}

uint32_t OwnerTable::Intern(ShopId shop, AffiliateId affiliate) {
  absl::MutexLock lock(&mu_);
  const auto [it, inserted] = index_.try_emplace(std::make_pair(shop, affiliate), 0);
  if (!inserted) return it->second;
  const uint32_t index = size_.load(std::memory_order_relaxed);
  const size_t block = index >> kBlockBits;
  if (block >= owned_blocks_.size()) {
    // Cannot happen below kMaxBlocks * 4096 pairs; beyond, fail loudly rather than
    // corrupt memory.
    if (block >= kMaxBlocks) __builtin_trap();
    owned_blocks_.emplace_back(new Owner[size_t{1} << kBlockBits]);
    blocks_[block].store(owned_blocks_.back().get(), std::memory_order_release);
  }
  Owner& o = owned_blocks_[block][index & ((1u << kBlockBits) - 1)];
  o.shop = shop;
  o.affiliate = affiliate;
  it->second = index;
  by_shop_[shop].push_back(index);
  size_.store(index + 1, std::memory_order_release);
  return index;
}

uint64_t OwnerTable::CountShop(ShopId shop) const {
  absl::MutexLock lock(&mu_);
  const auto it = by_shop_.find(shop);
  if (it == by_shop_.end()) return 0;
  int64_t n = 0;
  for (uint32_t i : it->second) n += Get(i).connections.load(std::memory_order_relaxed);
  return static_cast<uint64_t>(n);
}

uint64_t OwnerTable::CountAffiliate(ShopId shop, AffiliateId affiliate) const {
  absl::MutexLock lock(&mu_);
  const auto it = index_.find(std::make_pair(shop, affiliate));
  if (it == index_.end()) return 0;
  return static_cast<uint64_t>(Get(it->second).connections.load(std::memory_order_relaxed));
}

absl::flat_hash_map<AffiliateId, uint64_t> OwnerTable::CountsByAffiliate(ShopId shop) const {
  absl::flat_hash_map<AffiliateId, uint64_t> out;
  absl::MutexLock lock(&mu_);
  const auto it = by_shop_.find(shop);
  if (it == by_shop_.end()) return out;
  for (uint32_t i : it->second) {
    const int64_t n = Get(i).connections.load(std::memory_order_relaxed);
    if (n > 0) out[Get(i).affiliate] = static_cast<uint64_t>(n);
  }
  return out;
}

size_t OwnerTable::memory_bytes() const {
  absl::MutexLock lock(&mu_);
  return kMaxBlocks * sizeof(std::atomic<Owner*>) +
         owned_blocks_.size() * (size_t{1} << kBlockBits) * sizeof(Owner) +
         index_.capacity() * (sizeof(std::pair<ShopId, AffiliateId>) + 8) +
         by_shop_.size() * 48 + size() * sizeof(uint32_t);
}

}  // namespace attrib::engine
