// bench/attrib_wire_fast.cc: the Lookup encoder and reply reader fast paths (see the
// header). Cap'n Proto encoding, as used here (all little-endian):
//
//   frame    u32 segment count - 1 (0), u32 segment words, then the segment
//   struct   pointer: bits 0-1 = 0, bits 2-31 signed offset in words from the end of
//            the pointer to the struct, bits 32-47 data words, 48-63 pointer count
//   list     pointer: bits 0-1 = 1, bits 2-31 offset, bits 32-34 element size
//            (2 = byte), bits 35-63 element count; text = bytes + NUL, word-padded
//   fields   stored XOR their default (all defaults used here are 0); a field past
//            the end of a struct's section reads as its default
//
// The builder lays a Lookup out in allocation order: root pointer, Request, its
// LookupRequest, the email text.
//
// Thread-safety: as the header.
#include "bench/attrib_wire_fast.h"

#include <cstring>

#include "capnp/schema.h"
#include "net/attrib.capnp.h"
#include "net/wire_codes.h"

namespace attrib::bench {
namespace {

namespace wire = ::attrib::net::wire;

struct Sections {
  uint16_t data_words = 0;
  uint16_t pointers = 0;
  uint32_t words() const { return uint32_t{data_words} + pointers; }
};

// Offsets are in units of the field's own size (u64, u16, bit) or pointer index.
struct WireLayout {
  Sections request, lookup_request, response, lookup_result, error;
  uint32_t request_id, request_which, request_lookup;
  uint32_t lookup_shop, lookup_email;
  uint32_t response_id, response_which, response_error, response_lookup;
  uint32_t found_bit, error_code;
};

Sections SectionsOf(capnp::StructSchema schema) {
  const auto node = schema.getProto().getStruct();
  return {node.getDataWordCount(), node.getPointerCount()};
}

uint32_t OffsetOf(capnp::StructSchema schema, const char* field) {
  return schema.getFieldByName(field).getProto().getSlot().getOffset();
}

const WireLayout& Layout() {
  static const WireLayout layout = [] {
    const capnp::StructSchema request = capnp::Schema::from<wire::Request>();
    const capnp::StructSchema lookup = capnp::Schema::from<wire::LookupRequest>();
    const capnp::StructSchema response = capnp::Schema::from<wire::Response>();
    const capnp::StructSchema result = capnp::Schema::from<wire::LookupResult>();
    const capnp::StructSchema error = capnp::Schema::from<wire::Error>();
    WireLayout l;
    l.request = SectionsOf(request);
    l.lookup_request = SectionsOf(lookup);
    l.response = SectionsOf(response);
    l.lookup_result = SectionsOf(result);
    l.error = SectionsOf(error);
    l.request_id = OffsetOf(request, "id");
    l.request_which = request.getProto().getStruct().getDiscriminantOffset();
    l.request_lookup = OffsetOf(request, "lookup");
    l.lookup_shop = OffsetOf(lookup, "shop");
    l.lookup_email = OffsetOf(lookup, "email");
    l.response_id = OffsetOf(response, "id");
    l.response_which = response.getProto().getStruct().getDiscriminantOffset();
    l.response_error = OffsetOf(response, "error");
    l.response_lookup = OffsetOf(response, "lookup");
    l.found_bit = OffsetOf(result, "found");
    l.error_code = OffsetOf(error, "code");
    return l;
  }();
  return layout;
}

uint64_t StructPointer(int64_t offset, Sections s) {
  return uint64_t{static_cast<uint32_t>(offset) << 2} | (uint64_t{s.data_words} << 32) |
         (uint64_t{s.pointers} << 48);
}

uint64_t BytesListPointer(int64_t offset, uint64_t count) {
  return 1 | uint64_t{static_cast<uint32_t>(offset) << 2} | (uint64_t{2} << 32) | (count << 35);
}

void Store64(char* segment, size_t word, uint64_t value) {
  std::memcpy(segment + 8 * word, &value, 8);
}

uint64_t Load64(const uint8_t* p) {
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
    const int64_t offset = static_cast<int32_t>(static_cast<uint32_t>(p)) >> 2;
    const int64_t target = static_cast<int64_t>(at) + 1 + offset;
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
  const uint8_t* segment_;
  size_t words_;
};

}  // namespace

void AppendLookupFrame(std::string& out, uint64_t id, uint64_t shop, absl::string_view email) {
  const WireLayout& l = Layout();
  const size_t request_at = 1;  // After the root pointer.
  const size_t lookup_at = request_at + l.request.words();
  const size_t text_at = lookup_at + l.lookup_request.words();
  const size_t text_words = (email.size() + 1 + 7) / 8;  // With the NUL, padded.
  const size_t segment_words = text_at + text_words;
  const size_t start = out.size();
  out.resize(start + 8 + 8 * segment_words);  // Zero-filled: defaults and padding.
  char* frame = out.data() + start;
  const uint32_t table[2] = {0, static_cast<uint32_t>(segment_words)};
  std::memcpy(frame, table, 8);
  char* segment = frame + 8;
  Store64(segment, 0, StructPointer(0, l.request));
  Store64(segment, request_at + l.request_id, id);
  const uint16_t which = wire::Request::LOOKUP;
  std::memcpy(segment + 8 * request_at + 2 * l.request_which, &which, 2);
  const size_t lookup_pointer = request_at + l.request.data_words + l.request_lookup;
  Store64(segment, lookup_pointer,
          StructPointer(static_cast<int64_t>(lookup_at - lookup_pointer - 1), l.lookup_request));
  Store64(segment, lookup_at + l.lookup_shop, shop);
  const size_t email_pointer = lookup_at + l.lookup_request.data_words + l.lookup_email;
  Store64(segment, email_pointer,
          BytesListPointer(static_cast<int64_t>(text_at - email_pointer - 1), email.size() + 1));
  if (!email.empty()) std::memcpy(segment + 8 * text_at, email.data(), email.size());
}

bool FastDecodeReply(Op op, uint64_t expected_id, const void* frame, size_t frame_bytes,
                     ReplyResult* result) {
  const uint8_t* bytes = static_cast<const uint8_t*>(frame);
  if (op == Op::kBatch || frame_bytes < 16) return false;
  uint32_t table[2];
  std::memcpy(table, bytes, 8);
  if (table[0] != 0 || 8 + 8 * size_t{table[1]} != frame_bytes) return false;  // One segment.
  const WireLayout& l = Layout();
  const SegmentReader reader(bytes + 8, table[1]);
  StructRef root;
  if (!reader.Follow(0, &root) || reader.U64(root, l.response_id) != expected_id) return false;
  StructRef member;
  switch (reader.U16(root, l.response_which)) {
    case wire::Response::ERROR:
      if (!reader.FollowMember(root, l.response_error, &member)) return false;
      result->is_error = true;
      result->error_kind =
          net::WireCodeName(static_cast<wire::ErrorCode>(reader.U16(member, l.error_code)));
      return true;
    case wire::Response::LOOKUP:
      if (op != Op::kLookup || !reader.FollowMember(root, l.response_lookup, &member)) {
        return false;
      }
      result->misses = reader.Bit(member, l.found_bit) ? 0 : 1;
      return true;
    case wire::Response::CONNECT:
      return op == Op::kConnect || op == Op::kLoad;
    case wire::Response::ATTRIBUTE:
      return op == Op::kAttribute;
    case wire::Response::AUTH:
      return op == Op::kAuth;
    default:
      return false;
  }
}

}  // namespace attrib::bench
