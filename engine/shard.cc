// engine/shard.cc: one shard of the connection store (see shard.h).
#include "engine/shard.h"

#include <cstring>
#include <string>
#include <utility>

namespace attrib::engine {

std::optional<Shard::Slot> Shard::Find(ShopId shop, absl::string_view canonical,
                                       uint64_t hash) const {
  RecordTable::Position pos;
  const bool found = table_.Find(
      hash,
      [&](uint32_t ref) {
        const record::View v(arena_.At(ref));
        if (ShopOf(v) != shop) return false;
        CanonicalBuffer buf;
        return CanonicalOf(v, &buf) == canonical;
      },
      &pos);
  if (!found) return std::nullopt;
  return Slot{pos, table_.RefAt(pos)};
}

absl::string_view Shard::CanonicalOf(record::View v, CanonicalBuffer* buf) const {
  const uint8_t flags = v.flags();
  if (flags & record::kEnteredIsCanonical) return v.entered();
  if (flags & record::kCanonicalStored) return v.stored_canonical();
  // Put() verified that this reproduces the key, so it cannot fail here.
  (void)CanonicalizeInto(v.entered(), policy_, buf);
  return buf->view();
}

ConnectionView Shard::ViewOf(record::View v, CanonicalBuffer* buf) const {
  const OwnerTable::Owner& owner = owners_->Get(v.owner());
  ConnectionView c;
  c.shop = owner.shop;
  c.canonical_email = CanonicalOf(v, buf);
  c.entered_email = v.entered();
  c.affiliate = owner.affiliate;
  c.source = v.source();
  c.connected_at = v.connected_at();
  c.name = v.name();
  c.order_count = v.order_count();
  c.last_order_at = v.last_order_at();
  return c;
}

Connection Shard::Materialize(record::View v) const {
  CanonicalBuffer buf;
  return ToConnection(ViewOf(v, &buf));
}

record::Fields Shard::FieldsFor(const Connection& c, uint32_t owner) const {
  record::Fields f;
  f.source = c.source;
  f.owner = owner;
  f.connected_at = c.connected_at;
  f.last_order_at = c.last_order_at;
  f.order_count = c.order_count;
  f.entered = c.entered_email;
  f.name = c.name;
  f.canonical = c.canonical_email;
  if (c.entered_email == c.canonical_email) {
    f.entered_is_canonical = true;
  } else {
    // Store the key only when deriving it from the entered email would not
    // reproduce it without libidn2 (see record_format.h).
    bool ascii = true;
    for (char ch : c.entered_email) ascii &= static_cast<unsigned char>(ch) < 0x80;
    CanonicalBuffer buf;
    f.store_canonical = !ascii ||
                        !CanonicalizeInto(c.entered_email, policy_, &buf).ok() ||
                        buf.view() != absl::string_view(c.canonical_email);
  }
  return f;
}

void Shard::Put(uint64_t hash, const Connection& c, const std::optional<Slot>& slot) {
  const record::Fields f = FieldsFor(c, owners_->Intern(c.shop, c.affiliate));
  const size_t size = record::EncodedSize(f);
  const uint8_t tag = ListIndex::Tag(c.affiliate);
  if (slot.has_value()) {
    const record::View old(arena_.At(slot->ref));
    owners_->AddConnections(old.owner(), -1);
    // In place only when the list index's entry stays right: same size, and the
    // same affiliate (the entry's tag, list_index.h).
    if (old.size() == size && old.owner() == f.owner) {
      record::Encode(f, arena_.At(slot->ref));
    } else {
      arena_.Release(old.size());
      record::MarkDead(arena_.At(slot->ref));
      const uint32_t ref = arena_.Allocate(size);
      record::Encode(f, arena_.At(ref));
      table_.Replace(slot->pos, ref);
      list_index_.Add(ref, tag);
    }
  } else {
    const uint32_t ref = arena_.Allocate(size);
    record::Encode(f, arena_.At(ref));
    table_.Insert(hash, ref, [this](uint32_t r) { return HashOfRef(r); });
    list_index_.Add(ref, tag);
  }
  owners_->AddConnections(f.owner, +1);
  MaybeCompact();
}

void Shard::BulkInsert(uint64_t hash, const Connection& c, uint32_t owner) {
  const record::Fields f = FieldsFor(c, owner);
  const size_t size = record::EncodedSize(f);
  const uint32_t ref = arena_.Allocate(size);
  record::Encode(f, arena_.At(ref));
  table_.Insert(hash, ref, [this](uint32_t r) { return HashOfRef(r); });
  list_index_.Add(ref, ListIndex::Tag(c.affiliate));
}

uint32_t Shard::AppendEncoded(absl::string_view record, uint32_t owner) {
  const uint32_t ref = arena_.Allocate(record.size());
  char* p = arena_.At(ref);
  std::memcpy(p, record.data(), record.size());
  record::Store32(p + record::kOffOwner, owner);
  list_index_.Add(ref, ListIndex::Tag(owners_->Get(owner).affiliate));
  return ref;
}

void Shard::Erase(const Slot& slot) {
  char* p = arena_.At(slot.ref);
  const record::View v(p);
  owners_->AddConnections(v.owner(), -1);
  arena_.Release(v.size());
  record::MarkDead(p);
  table_.Erase(slot.pos);
  MaybeCompact();
}

void Shard::SetCounters(const Slot& slot, uint32_t order_count, TimeMs last_order_at) {
  char* p = arena_.At(slot.ref);
  record::SetOrderCount(p, order_count);
  record::SetLastOrderAt(p, last_order_at);
}

ShardMemory Shard::Memory() const {
  ShardMemory m;
  m.table_bytes = table_.memory_bytes();
  m.arena_bytes = arena_.memory_bytes();
  m.live_record_bytes = arena_.live_bytes();
  m.garbage_bytes = arena_.garbage_bytes();
  m.list_index_bytes = list_index_.memory_bytes();
  return m;
}

uint64_t Shard::HashOfRef(uint32_t ref) const {
  const record::View v(arena_.At(ref));
  CanonicalBuffer buf;
  return KeyHash(ShopOf(v), CanonicalOf(v, &buf));
}

void Shard::MaybeCompact() {
  const size_t garbage = arena_.garbage_bytes();
  if (garbage < RecordArena::kChunkBytes || garbage * 4 < arena_.live_bytes() + garbage) {
    return;
  }
  RecordArena fresh;
  table_.Clear(table_.size());
  arena_.ForEach([](const char* p) { return record::View(p).size(); },
                 [&](uint32_t old_ref, const char* p) {
                   const record::View v(p);
                   if (v.dead()) return;
                   const uint32_t ref = fresh.Allocate(v.size());
                   std::memcpy(fresh.At(ref), p, v.size());
                   CanonicalBuffer buf;
                   table_.Insert(KeyHash(ShopOf(v), CanonicalOf(v, &buf)), ref,
                                 [&](uint32_t r) {
                                   const record::View moved(fresh.At(r));
                                   CanonicalBuffer b;
                                   return KeyHash(ShopOf(moved), CanonicalOf(moved, &b));
                                 });
                   // The old copy is dropped below: its owner field now forwards
                   // to the new place, for the list index's Remap().
                   record::Store32(arena_.At(old_ref) + record::kOffOwner, ref);
                 });
  list_index_.Remap([&](uint32_t old_ref) -> std::optional<uint32_t> {
    const char* p = arena_.At(old_ref);
    if (record::View(p).dead()) return std::nullopt;
    return record::Load32(p + record::kOffOwner);
  });
  arena_ = std::move(fresh);
}

}  // namespace attrib::engine
