// engine/record_arena.h
//
// Bump allocation of variable-length records in fixed 64 KiB chunks, addressed by a
// 32-bit reference (chunk index << 16 | offset). Fixed chunks keep the slack per
// shard under one chunk (no vector doubling) and the references small.
//
// Erased records are not reused; their bytes are counted as garbage and the owner
// (Shard) compacts when garbage grows past a fraction of the arena. A record never
// spans two chunks.
//
// Thread-safety: none; the owning shard's mutex guards it.
#ifndef ATTRIB_ENGINE_RECORD_ARENA_H_
#define ATTRIB_ENGINE_RECORD_ARENA_H_

#include <cstdint>
#include <memory>
#include <vector>

namespace attrib::engine {

class RecordArena {
 public:
  static constexpr int kChunkBits = 16;
  static constexpr size_t kChunkBytes = size_t{1} << kChunkBits;
  // 2^16 chunks of 64 KiB: 4 GiB of records per shard.
  static constexpr size_t kMaxChunks = size_t{1} << (32 - kChunkBits);

  RecordArena() = default;
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;
  RecordArena(RecordArena&&) = default;
  RecordArena& operator=(RecordArena&&) = default;

  // Returns a reference to `bytes` fresh bytes (bytes <= kChunkBytes).
  uint32_t Allocate(size_t bytes) {
    if (chunks_.empty() || used_in_last_ + bytes > kChunkBytes) {
      if (!chunks_.empty()) fills_.push_back(static_cast<uint32_t>(used_in_last_));
      chunks_.emplace_back(new char[kChunkBytes]);
      used_in_last_ = 0;
    }
    const uint32_t ref = static_cast<uint32_t>(((chunks_.size() - 1) << kChunkBits) |
                                               used_in_last_);
    used_in_last_ += bytes;
    live_bytes_ += bytes;
    return ref;
  }

  char* At(uint32_t ref) { return chunks_[ref >> kChunkBits].get() + (ref & (kChunkBytes - 1)); }
  const char* At(uint32_t ref) const {
    return chunks_[ref >> kChunkBits].get() + (ref & (kChunkBytes - 1));
  }

  // Records `bytes` at some reference as garbage (the caller marks the record dead).
  void Release(size_t bytes) {
    live_bytes_ -= bytes;
    garbage_bytes_ += bytes;
  }

  // Calls fn(ref, const char* record) for every record ever allocated, dead or not,
  // in allocation order. `size_of(const char*)` gives a record's encoded size.
  template <typename SizeOf, typename Fn>
  void ForEach(SizeOf&& size_of, Fn&& fn) const {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const size_t end = c + 1 == chunks_.size() ? used_in_last_ : fills_[c];
      size_t off = 0;
      while (off < end) {
        const char* p = chunks_[c].get() + off;
        const size_t n = size_of(p);
        fn(static_cast<uint32_t>((c << kChunkBits) | off), p);
        off += n;
      }
    }
  }

  size_t live_bytes() const { return live_bytes_; }
  size_t garbage_bytes() const { return garbage_bytes_; }
  size_t memory_bytes() const { return chunks_.size() * kChunkBytes; }
  bool full() const { return chunks_.size() >= kMaxChunks; }

 private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<uint32_t> fills_;  // Bytes used in each closed chunk (all but the last).
  size_t used_in_last_ = 0;
  size_t live_bytes_ = 0;
  size_t garbage_bytes_ = 0;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_RECORD_ARENA_H_
