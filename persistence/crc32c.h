// persistence/crc32c.h
//
// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected, init and xorout 0xFFFFFFFF;
// the checksum of iSCSI, ext4 and LevelDB): Crc32c("123456789") == 0xE3069283. The
// log and snapshot formats checksum every record with it.
//
// Crc32c() uses the SSE4.2 crc32 instruction, 8 bytes per instruction, when the CPU
// has it (checked once, at the first call) and a table-driven (slicing-by-8) software
// version otherwise. Both give the same values.
//
// Chaining: the `crc` argument is a finished CRC of the bytes before, so
//   Crc32c(b, nb, Crc32c(a, na)) == Crc32c(a followed by b).
//
// Thread-safety: pure functions; callable from any thread.
#ifndef ATTRIB_PERSISTENCE_CRC32C_H_
#define ATTRIB_PERSISTENCE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace attrib::persistence {

// The CRC-32C of data[0, n), continuing from `crc` (the CRC of the preceding bytes;
// 0 for none). (No string_view overload on purpose: with one, Crc32c("abc", crc)
// would silently mean Crc32c(pointer, length = crc).)
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);

// A CRC stored inside bytes that are themselves checksummed must be masked first
// (LevelDB's rule): CRCs of strings that embed their own CRC are degenerate. For
// example, every message m followed by its own CRC (4 bytes, little-endian) has the
// same CRC, 0x48674BC7, whatever m is; a checksum over such bytes (a block CRC over
// records that carry CRCs, or a zeroed region plus its CRC) then detects less than
// it seems to. Masking (rotate right by 15, add a constant) breaks that algebraic
// relation. Store MaskCrc(crc); compare UnmaskCrc(stored) with the recomputed CRC.
inline constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;

inline constexpr uint32_t MaskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta;
}

inline constexpr uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

static_assert(UnmaskCrc(MaskCrc(0xE3069283u)) == 0xE3069283u);

namespace crc32c_internal {

// For tests and benchmarks: the two implementations behind Crc32c().
// The table-driven version; works on every CPU.
uint32_t Crc32cSoftware(const void* data, size_t n, uint32_t crc = 0);
// The SSE4.2 version; call only when Crc32cHardwareAvailable().
uint32_t Crc32cHardware(const void* data, size_t n, uint32_t crc = 0);
bool Crc32cHardwareAvailable();

}  // namespace crc32c_internal
}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_CRC32C_H_
