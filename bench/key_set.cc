// bench/key_set.cc: generating the key arena (see the header).
//
// Each thread generates a contiguous range of indices into its own string; the
// pieces are then copied in order into the arena, so the result does not depend on
// the number of threads.
//
// Thread-safety: as the header.
#include "bench/key_set.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/email_generator.h"

namespace attrib::bench {
namespace {

constexpr size_t kHugePageBytes = 2 << 20;

}  // namespace

HugeBlock::HugeBlock(size_t bytes) {
  const bool huge = bytes >= kHugePageBytes;
  const size_t align = huge ? kHugePageBytes : 64;
  const size_t rounded = std::max<size_t>((bytes + align - 1) / align, 1) * align;
  data_ = static_cast<char*>(std::aligned_alloc(align, rounded));
  if (data_ == nullptr) throw std::bad_alloc();
  // Advice only: without transparent huge pages it is ignored and 4 KiB pages work.
  if (huge) (void)madvise(data_, rounded, MADV_HUGEPAGE);
  std::memset(data_, 0, rounded);
}

HugeBlock::~HugeBlock() { std::free(data_); }

HugeBlock::HugeBlock(HugeBlock&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}

HugeBlock& HugeBlock::operator=(HugeBlock&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

KeySet KeySet::Generate(uint64_t first, uint64_t count, uint64_t seed, int threads) {
  threads = static_cast<int>(std::clamp<uint64_t>(threads, 1, std::max<uint64_t>(count, 1)));
  struct Piece {
    std::string bytes;
    std::vector<uint32_t> lengths;
  };
  std::vector<Piece> pieces(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const uint64_t begin = count * t / threads, end = count * (t + 1) / threads;
      Piece& piece = pieces[t];
      piece.bytes.reserve((end - begin) * 32);
      piece.lengths.reserve(end - begin);
      for (uint64_t i = begin; i < end; ++i) {
        const std::string email = RealisticEmail(first + i, seed);
        piece.bytes += email;
        piece.lengths.push_back(static_cast<uint32_t>(email.size()));
      }
    });
  }
  for (std::thread& w : workers) w.join();
  KeySet keys;
  keys.count_ = count;
  for (const Piece& p : pieces) keys.arena_bytes_ += p.bytes.size();
  keys.arena_ = HugeBlock(keys.arena_bytes_);
  keys.offsets_ = HugeBlock((count + 1) * sizeof(uint64_t));
  uint64_t* offsets = reinterpret_cast<uint64_t*>(keys.offsets_.data());
  uint64_t at = 0, i = 0;
  for (Piece& p : pieces) {
    std::memcpy(keys.arena_.data() + at, p.bytes.data(), p.bytes.size());
    for (uint32_t length : p.lengths) {
      offsets[i++] = at;
      at += length;
    }
    p = Piece();  // Free as we go: the peak is about twice the arena.
  }
  offsets[i] = at;
  return keys;
}

}  // namespace attrib::bench
