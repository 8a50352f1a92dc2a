// bench/key_set.h
//
// The keys attrib-bench sends: RealisticEmail(first + i, seed) for i < count, all
// generated before anything is measured into one contiguous arena (the bytes of every
// key back to back plus an offset table), so that choosing a key on the hot path is
// two loads and never an allocation. The same bytes go to both targets: attrib
// canonicalizes them, Redis stores them as raw keys.
//
// Memory: ~28 bytes of arena + 8 bytes of offset per key (1M keys: ~36 MB), in
// 2 MiB-aligned blocks advised as transparent huge pages: random keys over tens of
// MB would otherwise miss the TLB on nearly every request (4 KiB pages), which was
// the largest single cost of the client per request.
//
// Thread-safety: immutable after Generate(); any thread may call Get() and the
// Prefetch hints.
#ifndef ATTRIB_BENCH_KEY_SET_H_
#define ATTRIB_BENCH_KEY_SET_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace attrib::bench {

// A zeroed, fixed-size, move-only block; huge-page-advised when it is large.
class HugeBlock {
 public:
  HugeBlock() = default;
  explicit HugeBlock(size_t bytes);
  ~HugeBlock();
  HugeBlock(HugeBlock&& other) noexcept;
  HugeBlock& operator=(HugeBlock&& other) noexcept;
  HugeBlock(const HugeBlock&) = delete;
  HugeBlock& operator=(const HugeBlock&) = delete;

  char* data() const { return data_; }

 private:
  char* data_ = nullptr;
};

class KeySet {
 public:
  KeySet() = default;
  // Generates the keys on `threads` threads (generation is not measured, but 10M
  // keys take seconds on one core).
  static KeySet Generate(uint64_t first, uint64_t count, uint64_t seed, int threads);

  // Key number i (i < size()), i.e. RealisticEmail(first + i, seed).
  absl::string_view Get(uint64_t i) const {
    const uint64_t* offsets = Offsets();
    return absl::string_view(arena_.data() + offsets[i], offsets[i + 1] - offsets[i]);
  }
  uint64_t size() const { return count_; }
  size_t arena_bytes() const { return arena_bytes_; }

  // Hints for a key that will be read soon (a random key is two cache misses: its
  // offset, then its bytes). PrefetchBytes reads the offset: prefetch that first.
  void PrefetchOffset(uint64_t i) const { __builtin_prefetch(Offsets() + i); }
  void PrefetchBytes(uint64_t i) const { __builtin_prefetch(arena_.data() + Offsets()[i]); }

 private:
  const uint64_t* Offsets() const { return reinterpret_cast<const uint64_t*>(offsets_.data()); }

  HugeBlock arena_;
  HugeBlock offsets_;  // count_ + 1 u64; key i is [offsets[i], offsets[i + 1]).
  uint64_t count_ = 0;
  size_t arena_bytes_ = 0;
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_KEY_SET_H_
