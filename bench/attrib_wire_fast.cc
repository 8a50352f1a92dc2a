// bench/attrib_wire_fast.cc: the Lookup encoder and reply reader fast paths (see the
// header; the encoding itself is described in bench/capnp_layout.h). The frame is
// u32 segment count - 1 (0), u32 segment words, then the segment; text = bytes + NUL,
// word-padded. The builder lays a Lookup out in allocation order: root pointer,
// Request, its LookupRequest, the email text.
//
// Thread-safety: as the header.
#include "bench/attrib_wire_fast.h"

#include <cstring>

#include "bench/capnp_layout.h"
#include "net/attrib.capnp.h"
#include "net/wire_codes.h"

namespace attrib::bench {
namespace {

namespace wire = ::attrib::net::wire;
using capnp_layout::OffsetOf;
using capnp_layout::Sections;
using capnp_layout::SectionsOf;

// Offsets are in units of the field's own size (u64, u16, bit) or pointer index.
struct WireLayout {
  Sections request, lookup_request, response, lookup_result, error;
  uint32_t request_id, request_which, request_lookup;
  uint32_t lookup_shop, lookup_email;
  uint32_t response_id, response_which, response_error, response_lookup;
  uint32_t found_bit, error_code;
};

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
    l.request_which = capnp_layout::DiscriminantOf(request);
    l.request_lookup = OffsetOf(request, "lookup");
    l.lookup_shop = OffsetOf(lookup, "shop");
    l.lookup_email = OffsetOf(lookup, "email");
    l.response_id = OffsetOf(response, "id");
    l.response_which = capnp_layout::DiscriminantOf(response);
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
  size_t segment_words;
  if (op == Op::kBatch || !capnp_layout::SingleSegment(bytes, frame_bytes, &segment_words)) {
    return false;
  }
  const WireLayout& l = Layout();
  const capnp_layout::SegmentReader reader(bytes + 8, segment_words);
  capnp_layout::StructRef root;
  if (!reader.Follow(0, &root) || reader.U64(root, l.response_id) != expected_id) return false;
  capnp_layout::StructRef member;
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
    case wire::Response::PONG:
      return op == Op::kPing;
    default:
      return false;
  }
}

}  // namespace attrib::bench
