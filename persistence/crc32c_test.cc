// persistence/crc32c_test.cc: CRC-32C against published vectors and against Boost's
// generic CRC as the reference, for the dispatching, hardware and software paths, at
// every length up to 300 and every alignment; chaining; masking.
#include "persistence/crc32c.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/crc.hpp"
#include "gtest/gtest.h"

namespace attrib::persistence {
namespace {

using crc32c_internal::Crc32cHardware;
using crc32c_internal::Crc32cHardwareAvailable;
using crc32c_internal::Crc32cSoftware;

using BoostCrc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

uint32_t Reference(const void* data, size_t n) {
  BoostCrc32c crc;
  crc.process_bytes(data, n);
  return crc.checksum();
}

using CrcFunction = uint32_t (*)(const void*, size_t, uint32_t);

struct Implementation {
  const char* name;
  CrcFunction crc;
};

// The public entry point and both implementations behind it (the hardware one only
// where the CPU has SSE4.2).
std::vector<Implementation> Implementations() {
  std::vector<Implementation> out = {
      {"Crc32c", [](const void* d, size_t n, uint32_t c) { return Crc32c(d, n, c); }},
      {"Crc32cSoftware", &Crc32cSoftware}};
  if (Crc32cHardwareAvailable()) out.push_back({"Crc32cHardware", &Crc32cHardware});
  return out;
}

TEST(Crc32cTest, KnownVectors) {
  // "123456789" is the standard check value; the rest are RFC 3720 (iSCSI) B.4.
  unsigned char buf[48];
  for (const Implementation& impl : Implementations()) {
    SCOPED_TRACE(impl.name);
    EXPECT_EQ(impl.crc("123456789", 9, 0), 0xE3069283u);
    EXPECT_EQ(impl.crc("", 0, 0), 0u);

    std::memset(buf, 0, 32);
    EXPECT_EQ(impl.crc(buf, 32, 0), 0x8A9136AAu);
    std::memset(buf, 0xff, 32);
    EXPECT_EQ(impl.crc(buf, 32, 0), 0x62A8AB43u);
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(i);
    EXPECT_EQ(impl.crc(buf, 32, 0), 0x46DD794Eu);
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(31 - i);
    EXPECT_EQ(impl.crc(buf, 32, 0), 0x113FDB5Cu);

    // An iSCSI SCSI Read (10) command PDU.
    const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(impl.crc(pdu, sizeof(pdu), 0), 0xD9963A56u);
  }
}

TEST(Crc32cTest, MatchesBoostAtEveryLengthAndAlignment) {
  const uint64_t seed = 20240601;
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  std::mt19937_64 rng(seed);
  std::vector<unsigned char> buf(300 + 16);
  for (size_t len = 0; len <= 300; ++len) {
    for (unsigned char& b : buf) b = static_cast<unsigned char>(rng());
    const size_t offset = static_cast<size_t>(rng() % 16);
    const unsigned char* p = buf.data() + offset;
    const uint32_t want = Reference(p, len);
    for (const Implementation& impl : Implementations()) {
      ASSERT_EQ(impl.crc(p, len, 0), want)
          << impl.name << " len=" << len << " offset=" << offset;
    }
  }
}

TEST(Crc32cTest, LargeBufferMatchesBoost) {
  const uint64_t seed = 99;
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  std::mt19937_64 rng(seed);
  std::string buf(1 << 20, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (const Implementation& impl : Implementations()) {
    EXPECT_EQ(impl.crc(buf.data(), buf.size(), 0), Reference(buf.data(), buf.size()))
        << impl.name;
  }
}

TEST(Crc32cTest, ChainingEqualsOneCall) {
  const uint64_t seed = 7;
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  std::mt19937_64 rng(seed);
  std::string buf(77, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (const Implementation& impl : Implementations()) {
    const uint32_t whole = impl.crc(buf.data(), buf.size(), 0);
    for (size_t split = 0; split <= buf.size(); ++split) {
      const uint32_t first = impl.crc(buf.data(), split, 0);
      ASSERT_EQ(impl.crc(buf.data() + split, buf.size() - split, first), whole)
          << impl.name << " split=" << split;
    }
  }
  // Three pieces.
  EXPECT_EQ(Crc32c("789", 3, Crc32c("456", 3, Crc32c("123", 3))), 0xE3069283u);
}

uint32_t Crc(absl::string_view s) { return Crc32c(s.data(), s.size()); }

TEST(Crc32cTest, MaskRoundTripsAndChangesTheValue) {
  const uint32_t crc = Crc("foo");
  EXPECT_NE(MaskCrc(crc), crc);
  EXPECT_NE(MaskCrc(MaskCrc(crc)), crc);
  EXPECT_EQ(UnmaskCrc(MaskCrc(crc)), crc);
  EXPECT_EQ(UnmaskCrc(UnmaskCrc(MaskCrc(MaskCrc(crc)))), crc);
  for (uint32_t v : {0u, 1u, 0xffffffffu, 0x80000000u, 0xE3069283u}) {
    EXPECT_EQ(UnmaskCrc(MaskCrc(v)), v) << v;
  }
}

// The degeneracy crc32c.h gives as the reason for masking: a message followed by its
// own little-endian CRC always has the same CRC; masked, it does not.
TEST(Crc32cTest, EmbeddedCrcIsDegenerateUnlessMasked) {
  auto with_crc = [](std::string m, uint32_t stored) {
    for (int i = 0; i < 4; ++i) m.push_back(static_cast<char>(stored >> (8 * i)));
    return Crc(m);
  };
  EXPECT_EQ(with_crc("hello", Crc("hello")), 0x48674BC7u);
  EXPECT_EQ(with_crc("another message", Crc("another message")), 0x48674BC7u);
  EXPECT_NE(with_crc("hello", MaskCrc(Crc("hello"))),
            with_crc("another message", MaskCrc(Crc("another message"))));
}

}  // namespace
}  // namespace attrib::persistence
