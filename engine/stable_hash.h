// engine/stable_hash.h
//
// A fast 64-bit hash whose value never changes between processes, builds or
// machines (unlike absl::Hash, which is seeded per process). Shard selection and
// table placement use it, and a snapshot may record it, so its output is part of
// the data format: changing this function changes which shard a key lives in.
//
// Construction: 8-byte little-endian words folded with a 64x64->128 multiply
// ("mum", as in wyhash), length mixed into the seed. Not cryptographic: keys are
// chosen by shops, and a hostile key set can at worst make one shard's probe
// sequences longer, which the table's load limit bounds.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_ENGINE_STABLE_HASH_H_
#define ATTRIB_ENGINE_STABLE_HASH_H_

#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"

namespace attrib::engine {

namespace stable_hash_internal {
inline constexpr uint64_t kP0 = 0xa0761d6478bd642full;
inline constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
inline constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;

inline uint64_t Mum(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // The project targets little-endian x86-64 only.
}
}  // namespace stable_hash_internal

inline uint64_t StableHash64(uint64_t value, uint64_t seed = 0) {
  using namespace stable_hash_internal;
  return Mum(Mum(value ^ kP0, seed ^ kP1), kP2);
}

inline uint64_t StableHash(absl::string_view bytes, uint64_t seed = 0) {
  using namespace stable_hash_internal;
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = Mum(seed ^ kP0, n ^ kP1);
  while (n >= 16) {
    h = Mum(Load64(p) ^ h ^ kP1, Load64(p + 8) ^ kP2);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    h = Mum(Load64(p) ^ h, kP1);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  return Mum(h ^ tail ^ kP2, kP0 ^ (n << 58));
}

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_STABLE_HASH_H_
