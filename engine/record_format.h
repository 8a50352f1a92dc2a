// engine/record_format.h
//
// The in-memory encoding of one connection inside a shard's arena. Records are
// byte-packed (no alignment, read with memcpy) because memory per connection is the
// store's main cost (target: <= 64 bytes RSS per connection at 10M, SPEC §9).
//
//   offset size field
//   0      1    flags: bits 0-1 source, bit 2 has name, bit 3 canonical stored,
//                bit 4 entered is canonical, bit 7 dead (erased, space not reused)
//   1      4    owner index      (the (shop, affiliate) pair in the OwnerTable)
//   5      6    connected_at     (ms since epoch, 48 bits)
//   11     6    last_order_at    (ms since epoch, 48 bits; 0 = none)
//   17     4    order_count
//   21     1    entered length E
//   22     E    entered email (trimmed, as entered)
//   [1+C]       canonical length C and bytes: only when flag bit 3 is set
//   [1+N]       name length N and bytes: only when flag bit 2 is set
//
// Invariant: the canonical key is stored only when canonicalizing the stored entered
// email does not reproduce it cheaply (non-ASCII input, which would need libidn2 on
// every comparison). Otherwise it is derived on demand, which halves the bytes of a
// typical record ("Jane.Doe@GMail.com" and "janedoe@gmail.com" are both ~18 bytes).
//
// Thread-safety: functions on caller-owned bytes; the shard's lock guards them.
#ifndef ATTRIB_ENGINE_RECORD_FORMAT_H_
#define ATTRIB_ENGINE_RECORD_FORMAT_H_

#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "engine/types.h"

namespace attrib::engine::record {

inline constexpr size_t kHeaderBytes = 22;
inline constexpr uint8_t kSourceMask = 0x03;
inline constexpr uint8_t kHasName = 0x04;
inline constexpr uint8_t kCanonicalStored = 0x08;
inline constexpr uint8_t kEnteredIsCanonical = 0x10;
inline constexpr uint8_t kDead = 0x80;

inline constexpr size_t kOffFlags = 0;
inline constexpr size_t kOffOwner = 1;
inline constexpr size_t kOffConnectedAt = 5;
inline constexpr size_t kOffLastOrderAt = 11;
inline constexpr size_t kOffOrderCount = 17;
inline constexpr size_t kOffEnteredLen = 21;
static_assert(kOffEnteredLen + 1 == kHeaderBytes);
// Every variable part is at most 255 bytes, so the largest record is small.
inline constexpr size_t kMaxRecordBytes = kHeaderBytes + 255 + 256 + 256;

inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void Store32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline TimeMs Load48(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, 6);
  return static_cast<TimeMs>(v);
}
inline void Store48(char* p, TimeMs t) {
  const uint64_t v = static_cast<uint64_t>(t);
  std::memcpy(p, &v, 6);
}

// Read access to an encoded record.
class View {
 public:
  explicit View(const char* p) : p_(p) {}
  uint8_t flags() const { return static_cast<uint8_t>(p_[kOffFlags]); }
  bool dead() const { return flags() & kDead; }
  Source source() const { return static_cast<Source>(flags() & kSourceMask); }
  uint32_t owner() const { return Load32(p_ + kOffOwner); }
  TimeMs connected_at() const { return Load48(p_ + kOffConnectedAt); }
  TimeMs last_order_at() const { return Load48(p_ + kOffLastOrderAt); }
  uint32_t order_count() const { return Load32(p_ + kOffOrderCount); }
  absl::string_view entered() const {
    return absl::string_view(p_ + kHeaderBytes, EnteredLen());
  }
  // Only meaningful with kCanonicalStored.
  absl::string_view stored_canonical() const {
    const char* c = p_ + kHeaderBytes + EnteredLen();
    return absl::string_view(c + 1, static_cast<uint8_t>(*c));
  }
  absl::string_view name() const {
    if (!(flags() & kHasName)) return absl::string_view();
    const char* n = NameStart();
    return absl::string_view(n + 1, static_cast<uint8_t>(*n));
  }
  size_t size() const {
    const char* end = NameStart();
    if (flags() & kHasName) end += 1 + static_cast<uint8_t>(*end);
    return static_cast<size_t>(end - p_);
  }
  // The whole encoded record.
  absl::string_view bytes() const { return absl::string_view(p_, size()); }

 private:
  size_t EnteredLen() const { return static_cast<uint8_t>(p_[kOffEnteredLen]); }
  const char* NameStart() const {
    const char* q = p_ + kHeaderBytes + EnteredLen();
    if (flags() & kCanonicalStored) q += 1 + static_cast<uint8_t>(*q);
    return q;
  }
  const char* p_;
};

// What Encode() writes.
struct Fields {
  Source source = Source::kManual;
  uint32_t owner = 0;
  TimeMs connected_at = 0;
  TimeMs last_order_at = 0;
  uint32_t order_count = 0;
  absl::string_view entered;
  absl::string_view canonical;  // Written only when store_canonical.
  bool store_canonical = false;
  bool entered_is_canonical = false;
  absl::string_view name;  // Written only when non-empty.
};

inline size_t EncodedSize(const Fields& f) {
  return kHeaderBytes + f.entered.size() +
         (f.store_canonical ? 1 + f.canonical.size() : 0) +
         (f.name.empty() ? 0 : 1 + f.name.size());
}

// Writes EncodedSize(f) bytes at p. Lengths must be <= 255 (the engine validates
// emails to 254 bytes and names to 128 before they get here).
void Encode(const Fields& f, char* p);

// In-place updates of the fixed-size fields.
inline void SetOrderCount(char* p, uint32_t v) { Store32(p + kOffOrderCount, v); }
inline void SetLastOrderAt(char* p, TimeMs t) { Store48(p + kOffLastOrderAt, t); }
inline void MarkDead(char* p) { p[kOffFlags] = static_cast<char>(p[kOffFlags] | kDead); }

}  // namespace attrib::engine::record

#endif  // ATTRIB_ENGINE_RECORD_FORMAT_H_
