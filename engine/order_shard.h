// engine/order_shard.h
//
// One shard of the remembered orders (order_window.h): (shop, order id) -> the
// decision made for it, stored compactly: ~57-58 bytes of RSS per order at 10-12M
// orders (README, "Measured figures"), of which the record ~48 and the index ~10.
//
// Layout (in memory only; snapshots write OrderRecord fields, see
// persistence/snapshot_format.h, so this layout may change freely):
//   - The log: every record encoded back to back (variable length, varints, times
//     as deltas) in 16 KiB chunks, in insertion order. Insertion order is retention
//     order (a record's mark is non-decreasing along the log, order_window.h), so
//     expiry pops records off the front and frees whole chunks: it never scans
//     what it keeps, and there is no fragmentation.
//   - The index: an open-addressing table (linear probing, load <= 7/8,
//     backward-shift deletion, no tombstones) of 6-byte slots {log position,
//     8 hash bits, distance from the home slot}; bits 32.. of the hash pick the home
//     slot, and the tag and distance skip most non-matching slots without touching
//     the log (a slot's home is its position minus its distance, so deletion
//     needs no stored hash; growth rehashes from the records, O(1) amortized).
// Collisions: hash bits only select candidates. A candidate matches only if the
// record's shop and its full order id equal the key's, so two orders never share a
// decision whatever their hashes (no probability argument needed). An id of 1-19
// decimal digits without a leading zero (Shopify-style) is kept as an integer
// (a varint of 6-8 bytes); any other id as its bytes. (A 128-bit hash instead of
// the id would cost 16 bytes and leave a collision probability, however small.)
//
// The hash is the process-independent StableHash (engine/stable_hash.h), the one
// that already picks the shard (so snapshot fences keep meaning the same shards);
// nothing hashed is persisted by this file.
//
// Thread-safety: none; OrderWindow locks around each shard.
#ifndef ATTRIB_ENGINE_ORDER_SHARD_H_
#define ATTRIB_ENGINE_ORDER_SHARD_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
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

// The identity of a remembered order, with its hash computed once. Views
// `order_id`, which must outlive the key.
struct OrderKey {
  ShopId shop = 0;
  absl::string_view order_id;
  uint64_t hash = 0;            // StableHash of the shop (8 bytes LE) + order id.
  bool numeric = false;         // order_id is canonical decimal (see above)...
  uint64_t number = 0;          // ...of this value.
};
OrderKey MakeOrderKey(ShopId shop, absl::string_view order_id);

class OrderShard {
 public:
  OrderShard() = default;
  OrderShard(const OrderShard&) = delete;
  OrderShard& operator=(const OrderShard&) = delete;

  // The remembered decision of `key` (decision.order_id = key.order_id), if any.
  std::optional<OrderRecord> Find(const OrderKey& key) const;
  bool Contains(const OrderKey& key) const { return FindSlot(key) >= 0; }
  // Sets decision.reversed on the remembered order; false if it is not remembered.
  bool MarkReversed(const OrderKey& key);
  // Records a new order (replacing a remembered one of the same key) and evicts
  // those that fell out of the window: retain_mark < high_water - window_ms.
  void Insert(const OrderKey& key, const OrderRecord& record, TimeMs window_ms);
  // Snapshot restore: appends a record as it was (its retain_mark kept, nothing
  // evicted) and raises the high-water mark to at least `high_water`.
  void Restore(const OrderKey& key, const OrderRecord& record, TimeMs high_water);

  TimeMs high_water() const { return high_water_; }
  size_t size() const { return size_; }
  // Bytes this shard holds: log chunks, index slots and the chunk list.
  size_t MemoryBytes() const;
  // Every remembered order, in insertion order.
  void ForEach(absl::FunctionRef<void(const OrderRecord&)> fn) const;

  // Chunk payload bytes; a record never spans two chunks.
  static constexpr uint32_t kChunkBytes = 16 * 1024;

 private:
  struct Chunk {
    TimeMs base_mark = 0;  // Marks in this chunk are encoded relative to it.
    uint32_t used = 0;
    char bytes[kChunkBytes];
  };
  struct Slot {
    uint32_t pos = 0;  // Log position: chunk sequence * kChunkBytes + offset.
    uint8_t tag = 0;   // Hash bits 56-63: most non-matching slots are skipped unread.
    uint8_t dist = 0;  // 0: empty; else 1 + distance from the home slot (kFar: more).
  } __attribute__((packed));
  static constexpr uint8_t kFar = 255;  // Distance >= 254: the record's hash tells.
  static_assert(sizeof(Slot) == 6);

  Chunk& ChunkOf(uint32_t pos) const;  // The chunk holding log position `pos`.
  uint64_t HashAt(uint32_t pos) const;  // The key hash of the record at `pos`.
  bool Matches(uint32_t pos, const OrderKey& key) const;
  // Index of the slot of `key` (or of the record at `pos`), or -1.
  int64_t FindSlot(const OrderKey& key) const;
  int64_t SlotOfPos(uint32_t pos, uint64_t hash) const;
  size_t Distance(size_t i) const;  // Of occupied slot i from its home.
  void Append(const OrderKey& key, const OrderRecord& record);
  void EvictBefore(TimeMs limit);
  void EraseSlot(size_t i);
  void Resize(size_t capacity);
  void PlaceSlot(uint32_t pos, uint64_t hash);

  std::deque<std::unique_ptr<Chunk>> chunks_;
  uint32_t front_chunk_seq_ = 0;  // Sequence number of chunks_.front().
  uint32_t front_offset_ = 0;     // First unexpired record in chunks_.front().
  std::vector<Slot> slots_;       // Size 0 or a power of two.
  size_t size_ = 0;               // Remembered orders (occupied slots).
  size_t dead_ = 0;  // Records in the log that a later one of the same key replaced.
  TimeMs high_water_ = 0;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_ORDER_SHARD_H_
