// bench/capnp_layout.h
//
// Reading and writing Cap'n Proto's wire encoding by hand, for the bench tools' fast
// paths (attrib-bench's Lookup encoder and reply reader, bench/attrib_wire_fast.cc;
// the zero-work server's request reader, bench/zero_work_replies.cc). All
// little-endian:
//
//   struct   pointer: bits 0-1 = 0, bits 2-31 signed offset in words from the end of
//            the pointer to the struct, bits 32-47 data words, 48-63 pointer count
//   list     pointer: bits 0-1 = 1, bits 2-31 offset, bits 32-34 element size
//            (2 = byte, 6 = pointer, 7 = inline composite), bits 35-63 element count
//            (inline composite: words of the elements, a tag word first)
//   fields   stored XOR their default; a field past the end of a struct's section
//            reads as its default
//
// Section sizes and field offsets come from the compiled schema (capnp reflection),
// never from constants typed here, so a field added to the schema moves them too.
// SegmentReader reads one segment and checks every pointer it follows against the
// segment's bounds; it never follows far pointers (it reports them as unreadable,
// and callers fall back to capnp's own reader).
//
// Thread-safety: pure functions; a SegmentReader is a view over caller-owned bytes.
#ifndef ATTRIB_BENCH_CAPNP_LAYOUT_H_
#define ATTRIB_BENCH_CAPNP_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "capnp/schema.h"

namespace attrib::bench::capnp_layout {

struct Sections {
  uint16_t data_words = 0;
  uint16_t pointers = 0;
  uint32_t words() const { return uint32_t{data_words} + pointers; }
};

inline Sections SectionsOf(capnp::StructSchema schema) {
  const auto node = schema.getProto().getStruct();
  return {node.getDataWordCount(), node.getPointerCount()};
}

// A field's slot offset, in units of the field's own size (u64, u16, bit) or its
// pointer index.
inline uint32_t OffsetOf(capnp::StructSchema schema, const char* field) {
  return schema.getFieldByName(field).getProto().getSlot().getOffset();
}

// The union discriminant's offset, in u16 units of the data section.
inline uint32_t DiscriminantOf(capnp::StructSchema schema) {
  return schema.getProto().getStruct().getDiscriminantOffset();
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A struct inside the segment; sizes 0 for a null pointer (every field default).
struct StructRef {
  size_t start = 0;  // Word index of the data section.
  Sections sections;
};

class SegmentReader {
 public:
  SegmentReader(const uint8_t* segment, size_t words) : segment_(segment), words_(words) {}

  // Follows the struct pointer at word `at`. False if it is not a plain in-bounds
  // struct pointer (a far pointer, a list, out of bounds).
  bool Follow(size_t at, StructRef* out) const {
    *out = StructRef();
    if (at >= words_) return false;
    const uint64_t p = Load64(segment_ + 8 * at);
    if (p == 0) return true;
    if ((p & 3) != 0) return false;
    const int64_t target = static_cast<int64_t>(at) + 1 + Offset(p);
    out->sections = {static_cast<uint16_t>(p >> 32), static_cast<uint16_t>(p >> 48)};
    if (target < 0 || static_cast<uint64_t>(target) + out->sections.words() > words_) return false;
    out->start = static_cast<size_t>(target);
    return true;
  }
  // Pointer `index` of `parent` (null when past its pointer section).
  bool FollowMember(const StructRef& parent, uint32_t index, StructRef* out) const {
    if (index >= parent.sections.pointers) {
      *out = StructRef();
      return true;
    }
    return Follow(parent.start + parent.sections.data_words + index, out);
  }
  // The element count of the list of pointers (List(Text), List(Data), ...) at
  // pointer `index` of `parent`; 0 for a null pointer. False if it is another kind
  // of pointer or its elements are out of bounds.
  bool PointerListSize(const StructRef& parent, uint32_t index, uint32_t* count) const {
    *count = 0;
    if (index >= parent.sections.pointers) return true;
    const size_t at = parent.start + parent.sections.data_words + index;
    const uint64_t p = Load64(segment_ + 8 * at);
    if (p == 0) return true;
    if ((p & 3) != 1 || ((p >> 32) & 7) != 6) return false;
    const uint64_t elements = p >> 35;
    const int64_t target = static_cast<int64_t>(at) + 1 + Offset(p);
    if (target < 0 || static_cast<uint64_t>(target) + elements > words_) return false;
    *count = static_cast<uint32_t>(elements);
    return true;
  }
  uint64_t U64(const StructRef& s, uint32_t index) const {
    if (index >= s.sections.data_words) return 0;
    return Load64(segment_ + 8 * (s.start + index));
  }
  uint16_t U16(const StructRef& s, uint32_t index) const {
    if (2 * (index + 1) > 8u * s.sections.data_words) return 0;
    uint16_t v;
    std::memcpy(&v, segment_ + 8 * s.start + 2 * index, 2);
    return v;
  }
  bool Bit(const StructRef& s, uint32_t index) const {
    if (index / 8 >= 8u * s.sections.data_words) return false;
    return (segment_[8 * s.start + index / 8] >> (index % 8)) & 1;
  }

 private:
  static int64_t Offset(uint64_t pointer) {
    return static_cast<int32_t>(static_cast<uint32_t>(pointer)) >> 2;
  }

  const uint8_t* segment_;
  size_t words_;
};

// The single segment of a one-segment frame (segment count 1, segment size matching
// `frame_bytes`): true with `*segment_words` set, false for anything else.
inline bool SingleSegment(const uint8_t* frame, size_t frame_bytes, size_t* segment_words) {
  if (frame_bytes < 16) return false;
  uint32_t table[2];
  std::memcpy(table, frame, 8);
  if (table[0] != 0 || 8 + 8 * size_t{table[1]} != frame_bytes) return false;
  *segment_words = table[1];
  return true;
}

}  // namespace attrib::bench::capnp_layout

#endif  // ATTRIB_BENCH_CAPNP_LAYOUT_H_
