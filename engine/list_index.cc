// engine/list_index.cc: the list order of one shard (see list_index.h).
#include "engine/list_index.h"

#include <algorithm>
#include <cstring>
#include <emmintrin.h>
#include <string>
#include <utility>

#include "engine/stable_hash.h"

namespace attrib::engine {
namespace {

// A full rebuild (key every entry, one sort) costs about as much per pending entry
// as binary-search merging once pending entries pass 1/32 of the order (measured at
// 10M: ~150 ns per keyed entry against ~15 record reads per merged one).
constexpr size_t kFullRebuildRatio = 32;

// A pending entry with its key cached for sorting.
struct Keyed {
  ShopId shop;
  uint64_t prefix;  // First 8 key bytes, big-endian, zero-padded: most comparisons.
  uint32_t key_offset;
  uint32_t key_size;
  uint32_t ref;
  uint8_t tag;
};

bool KeyLess(const ListIndex::Key& a, const ListIndex::Key& b) {
  if (a.shop != b.shop) return a.shop < b.shop;
  return a.canonical < b.canonical;
}

// Keys `refs` (dropping dead ones) into `out`, their bytes into `bytes`.
void KeyEntries(const uint32_t* refs, const uint8_t* tags, size_t n, ListIndex::KeyOf key_of,
                ListIndex::IsDead is_dead, std::vector<Keyed>* out, std::string* bytes) {
  CanonicalBuffer buf;
  for (size_t i = 0; i < n; ++i) {
    if (is_dead(refs[i])) continue;
    const ListIndex::Key k = key_of(refs[i], &buf);
    out->push_back(Keyed{k.shop, ListIndex::PrefixOf(k.canonical),
                         static_cast<uint32_t>(bytes->size()),
                         static_cast<uint32_t>(k.canonical.size()), refs[i], tags[i]});
    bytes->append(k.canonical.data(), k.canonical.size());
  }
}

void SortKeyed(std::vector<Keyed>* items, const std::string& bytes) {
  const auto key = [&](const Keyed& k) {
    return absl::string_view(bytes.data() + k.key_offset, k.key_size);
  };
  std::sort(items->begin(), items->end(), [&](const Keyed& a, const Keyed& b) {
    if (a.shop != b.shop) return a.shop < b.shop;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return key(a) < key(b);
  });
}

}  // namespace

uint64_t ListIndex::PrefixOf(absl::string_view canonical) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | (i < canonical.size() ? static_cast<unsigned char>(canonical[i]) : 0u);
  }
  return v;
}

uint8_t ListIndex::Tag(AffiliateId affiliate) {
  return static_cast<uint8_t>(StableHash64(affiliate) >> 56);
}

void ListIndex::Add(uint32_t ref, uint8_t tag) {
  absl::MutexLock lock(&mu_);
  if (pending_refs_.size() == pending_refs_.capacity()) {
    // Grow by 1/8, not 2x: after a bulk load every entry waits here until the first
    // reader, and doubling would leave up to half of that memory unused.
    const size_t grown = pending_refs_.size() + pending_refs_.size() / 8 + 64;
    pending_refs_.reserve(grown);
    pending_tags_.reserve(grown);
  }
  pending_refs_.push_back(ref);
  pending_tags_.push_back(tag);
}

void ListIndex::ReservePending(size_t n) {
  absl::MutexLock lock(&mu_);
  pending_refs_.reserve(pending_refs_.size() + n);
  pending_tags_.reserve(pending_tags_.size() + n);
}

void ListIndex::Remap(absl::FunctionRef<std::optional<uint32_t>(uint32_t)> moved) {
  absl::MutexLock lock(&mu_);
  size_t out = 0;
  for (size_t i = 0; i < size_; ++i) {
    if (const std::optional<uint32_t> ref = moved(refs_[i])) {
      refs_[out] = *ref;
      tags_[out] = tags_[i];
      ++out;
    }
  }
  if (out != size_) {
    auto refs = std::make_unique<uint32_t[]>(out);
    auto tags = std::make_unique<uint8_t[]>(out);
    std::memcpy(refs.get(), refs_.get(), out * sizeof(uint32_t));
    std::memcpy(tags.get(), tags_.get(), out);
    ReplaceSortedLocked(std::move(refs), std::move(tags), out);
  }
  size_t kept = 0;
  for (size_t i = 0; i < pending_refs_.size(); ++i) {
    if (const std::optional<uint32_t> ref = moved(pending_refs_[i])) {
      pending_refs_[kept] = *ref;
      pending_tags_[kept] = pending_tags_[i];
      ++kept;
    }
  }
  pending_refs_.resize(kept);
  pending_tags_.resize(kept);
  // Positions moved, and the records are not at their new places yet: rebuild the
  // fences on the next read.
  fences_stale_ = true;
}

size_t ListIndex::memory_bytes() const {
  absl::MutexLock lock(&mu_);
  return size_ * (sizeof(uint32_t) + 1) + fence_count_ * sizeof(Fence) +
         pending_refs_.capacity() * sizeof(uint32_t) + pending_tags_.capacity();
}

void ListIndex::ReplaceSortedLocked(std::unique_ptr<uint32_t[]> refs,
                                    std::unique_ptr<uint8_t[]> tags, size_t size) const {
  refs_ = std::move(refs);
  tags_ = std::move(tags);
  size_ = size;
}

void ListIndex::RefreshLocked(KeyOf key_of, IsDead is_dead) const {
  if (fences_stale_) BuildFencesLocked(key_of);
  if (pending_refs_.empty()) return;
  const bool full = size_ == 0 || pending_refs_.size() * kFullRebuildRatio >= size_;
  MergeLocked(key_of, is_dead, full);
  std::vector<uint32_t>().swap(pending_refs_);
  std::vector<uint8_t>().swap(pending_tags_);
  BuildFencesLocked(key_of);
}

void ListIndex::BuildFencesLocked(KeyOf key_of) const {
  const size_t count = (size_ + kFenceEvery - 1) / kFenceEvery;
  if (count != fence_count_) {
    fences_ = count == 0 ? nullptr : std::make_unique<Fence[]>(count);
    fence_count_ = count;
  }
  CanonicalBuffer buf;
  for (size_t j = 0; j < count; ++j) {
    const Key k = key_of(refs_[j * kFenceEvery], &buf);
    fences_[j] = Fence{k.shop, PrefixOf(k.canonical)};
  }
  fences_stale_ = false;
}

void ListIndex::MergeLocked(KeyOf key_of, IsDead is_dead, bool full) const {
  std::vector<Keyed> items;
  std::string bytes;
  const size_t expected = pending_refs_.size() + (full ? size_ : 0);
  items.reserve(expected);
  bytes.reserve(expected * 24);
  KeyEntries(pending_refs_.data(), pending_tags_.data(), pending_refs_.size(), key_of,
             is_dead, &items, &bytes);
  if (full) KeyEntries(refs_.get(), tags_.get(), size_, key_of, is_dead, &items, &bytes);
  SortKeyed(&items, bytes);

  const size_t total = items.size() + (full ? 0 : size_);
  auto refs = std::make_unique<uint32_t[]>(total);
  auto tags = std::make_unique<uint8_t[]>(total);
  size_t out = 0;
  size_t next = 0;  // Next entry of the current order to copy (incremental merge).
  const Entries current = EntriesLocked();
  for (const Keyed& item : items) {
    if (!full) {
      const Key key{item.shop, absl::string_view(bytes.data() + item.key_offset, item.key_size)};
      // Items ascend, so this is >= next.
      const size_t pos = Seek(current, key, key_of, [](uint32_t) {});
      std::memcpy(refs.get() + out, refs_.get() + next, (pos - next) * sizeof(uint32_t));
      std::memcpy(tags.get() + out, tags_.get() + next, pos - next);
      out += pos - next;
      next = pos;
    }
    refs[out] = item.ref;
    tags[out] = item.tag;
    ++out;
  }
  if (!full) {
    std::memcpy(refs.get() + out, refs_.get() + next, (size_ - next) * sizeof(uint32_t));
    std::memcpy(tags.get() + out, tags_.get() + next, size_ - next);
    out += size_ - next;
  }
  ReplaceSortedLocked(std::move(refs), std::move(tags), out);
}

size_t ListIndex::NextTagMatch(const Entries& e, size_t from, std::optional<uint8_t> tag) {
  if (!tag) return std::min(from, e.size);
  const uint8_t want = *tag;
  const __m128i want16 = _mm_set1_epi8(static_cast<char>(want));
  for (; from + 16 <= e.size; from += 16) {
    const __m128i tags = _mm_loadu_si128(reinterpret_cast<const __m128i*>(e.tags + from));
    const int hits = _mm_movemask_epi8(_mm_cmpeq_epi8(tags, want16));
    if (hits != 0) return from + static_cast<unsigned>(__builtin_ctz(static_cast<unsigned>(hits)));
  }
  for (; from < e.size; ++from) {
    if (e.tags[from] == want) return from;
  }
  return e.size;
}

size_t ListIndex::Seek(const Entries& e, const Key& key, KeyOf key_of, Prefetch prefetch) {
  size_t lo = 0;
  size_t hi = e.size;
  if (e.fence_count > 0) {
    const Fence f{key.shop, PrefixOf(key.canonical)};
    const auto fence_less = [](const Fence& a, const Fence& b) {
      return a.shop != b.shop ? a.shop < b.shop : a.prefix < b.prefix;
    };
    const Fence* end = e.fences + e.fence_count;
    // Fences below f are entries below key; fences above f are entries above it.
    const Fence* below_end = std::lower_bound(e.fences, end, f, fence_less);
    const Fence* above = std::upper_bound(below_end, end, f, fence_less);
    if (below_end != e.fences) {
      lo = (static_cast<size_t>(below_end - e.fences) - 1) * kFenceEvery + 1;
    }
    if (above != end) hi = static_cast<size_t>(above - e.fences) * kFenceEvery;
  }
  return LowerBound(e, lo, hi, key, key_of, prefetch);
}

size_t ListIndex::LowerBound(const Entries& e, size_t begin, size_t end, const Key& key,
                             KeyOf key_of, Prefetch prefetch) {
  return PartitionPoint(
      e, begin, end, [&](const Key& k) { return KeyLess(k, key); }, key_of, prefetch);
}

size_t ListIndex::PartitionPoint(const Entries& e, size_t begin, size_t end,
                                 absl::FunctionRef<bool(const Key&)> pred, KeyOf key_of,
                                 Prefetch prefetch) {
  CanonicalBuffer buf;
  while (begin < end) {
    const size_t mid = begin + (end - begin) / 2;
    // Whichever way this probe goes, the next probe is one of these two.
    if (mid > begin) prefetch(e.refs[begin + (mid - begin) / 2]);
    if (end > mid + 1) prefetch(e.refs[mid + 1 + (end - mid - 1) / 2]);
    if (pred(key_of(e.refs[mid], &buf))) {
      begin = mid + 1;
    } else {
      end = mid;
    }
  }
  return begin;
}

}  // namespace attrib::engine
