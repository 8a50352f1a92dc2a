// persistence/crc32c.cc
//
// CRC-32C: the SSE4.2 crc32 instruction when the CPU has it, slicing-by-8 tables
// otherwise. See crc32c.h.
//
// Thread-safety: pure functions; the tables are constant and the CPU check is a
// function-local static (initialized once, thread-safely).
#include "persistence/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace attrib::persistence {
namespace crc32c_internal {
namespace {

// The reflected form of 0x1EDC6F41.
constexpr uint32_t kReflectedPoly = 0x82F63B78u;

// kTables[0] is the classic byte-at-a-time table; kTables[k][b] is the CRC of byte b
// followed by k zero bytes, which lets the loop below fold 8 bytes with 8 lookups
// and no dependency between them (slicing-by-8).
constexpr std::array<std::array<uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? kReflectedPoly : 0);
    t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
  return t;
}

constexpr auto kTables = MakeTables();
static_assert(kTables[0][1] == 0xF26B8303u);  // Well-known first entries.
static_assert(kTables[0][128] == kReflectedPoly);

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));  // Unaligned loads are fine on x86; memcpy is legal.
  return v;
}

}  // namespace

uint32_t Crc32cSoftware(const void* data, size_t n, uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t l = ~crc;
  // Byte steps until p is 8-aligned, so the wide loads below do not straddle lines.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    l = (l >> 8) ^ kTables[0][(l ^ *p++) & 0xff];
    --n;
  }
  while (n >= 8) {
    // Little-endian: the low 32 bits are the first four bytes, which the running
    // CRC is folded into; bytes further along need fewer zero-byte shifts.
    const uint64_t v = Load64(p) ^ l;
    l = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^
        kTables[5][(v >> 16) & 0xff] ^ kTables[4][(v >> 24) & 0xff] ^
        kTables[3][(v >> 32) & 0xff] ^ kTables[2][(v >> 40) & 0xff] ^
        kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    l = (l >> 8) ^ kTables[0][(l ^ *p++) & 0xff];
    --n;
  }
  return ~l;
}

#if defined(__x86_64__)

// target("sse4.2") so this compiles, and the rest of the file stays portable, even
// without -msse4.2 on the command line; it runs only after the CPU check.
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const void* data, size_t n,
                                                           uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t l = static_cast<uint32_t>(~crc);
  // One instruction per 8 bytes (3-cycle latency, so about 8 bytes per 3 cycles).
  // Records are small and every write waits for an fdatasync, so the 3-stream
  // interleave (and the CRC-combine step it needs) is not worth its code here.
  while (n >= 8) {
    l = _mm_crc32_u64(l, Load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t l32 = static_cast<uint32_t>(l);
  while (n > 0) {
    l32 = _mm_crc32_u8(l32, *p++);
    --n;
  }
  return ~l32;
}

bool Crc32cHardwareAvailable() {
  static const bool available = [] {
    __builtin_cpu_init();  // Needed if this runs before main (a static initializer).
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return available;
}

#else  // Not x86-64: the software version under both names.

uint32_t Crc32cHardware(const void* data, size_t n, uint32_t crc) {
  return Crc32cSoftware(data, n, crc);
}
bool Crc32cHardwareAvailable() { return false; }

#endif

}  // namespace crc32c_internal

uint32_t Crc32c(const void* data, size_t n, uint32_t crc) {
  if (crc32c_internal::Crc32cHardwareAvailable()) {
    return crc32c_internal::Crc32cHardware(data, n, crc);
  }
  return crc32c_internal::Crc32cSoftware(data, n, crc);
}

}  // namespace attrib::persistence
