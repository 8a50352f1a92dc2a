// engine/connection_store.cc: the sharded connection store (see the header).
#include "engine/connection_store.h"

#include <utility>

namespace attrib::engine {

KeyEditor::KeyEditor(Shard* shard, uint64_t hash, std::optional<Shard::Slot> slot)
    : shard_(shard), hash_(hash), slot_(slot) {
  if (slot_) current_ = shard_->Materialize(shard_->ViewAt(slot_->ref));
}

void KeyEditor::Put(const Connection& c) {
  shard_->Put(hash_, c, slot_);
  // Put() may move the record or compact the shard: find it again.
  slot_ = shard_->Find(c.shop, c.canonical_email, hash_);
}

void KeyEditor::Erase() {
  if (!slot_) return;
  shard_->Erase(*slot_);
  slot_.reset();
}

void KeyEditor::SetCounters(uint32_t order_count, TimeMs last_order_at) {
  if (slot_) shard_->SetCounters(*slot_, order_count, last_order_at);
}

ConnectionStore::ConnectionStore(uint32_t shard_count, EmailPolicy policy)
    : policy_(policy), shard_bits_(__builtin_ctz(shard_count)) {
  shards_.reserve(shard_count);
  for (uint32_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<LockedShard>(policy, &owners_));
  }
}

std::optional<Connection> ConnectionStore::Get(ShopId shop,
                                               absl::string_view canonical) const {
  std::optional<Connection> out;
  Visit(shop, canonical,
        [&](const Shard& shard, record::View v) { out = shard.Materialize(v); });
  return out;
}

size_t ConnectionStore::size() const {
  size_t n = 0;
  for (size_t shard_size : ShardSizes()) n += shard_size;
  return n;
}

std::vector<size_t> ConnectionStore::ShardSizes() const {
  std::vector<size_t> sizes;
  sizes.reserve(shards_.size());
  for (const auto& s : shards_) {
    absl::ReaderMutexLock lock(&s->mu);
    sizes.push_back(s->shard.size());
  }
  return sizes;
}

void ConnectionStore::RefreshListOrders() const {
  for (const auto& s : shards_) {
    absl::ReaderMutexLock lock(&s->mu);
    s->shard.RefreshListOrder();
  }
}

uint64_t ConnectionStore::CountShop(ShopId shop) const { return owners_.CountShop(shop); }

uint64_t ConnectionStore::CountAffiliate(ShopId shop, AffiliateId affiliate) const {
  return owners_.CountAffiliate(shop, affiliate);
}

absl::flat_hash_map<AffiliateId, uint64_t> ConnectionStore::CountsByAffiliate(
    ShopId shop) const {
  return owners_.CountsByAffiliate(shop);
}

StoreMemory ConnectionStore::Memory() const {
  StoreMemory m;
  m.owner_table_bytes = owners_.memory_bytes();
  for (const auto& s : shards_) {
    absl::ReaderMutexLock lock(&s->mu);
    const ShardMemory sm = s->shard.Memory();
    m.connections += s->shard.size();
    m.table_bytes += sm.table_bytes;
    m.arena_bytes += sm.arena_bytes;
    m.live_record_bytes += sm.live_record_bytes;
    m.garbage_bytes += sm.garbage_bytes;
    m.list_index_bytes += sm.list_index_bytes;
  }
  return m;
}

}  // namespace attrib::engine
