// net/frame.cc: stream framing checks (see the header).
#include "net/frame.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "capnp/serialize.h"

namespace attrib::net {
namespace {

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86-64 is little-endian, like the framing.
}

}  // namespace

FrameInfo InspectFrame(const uint8_t* data, size_t size, const FrameLimits& limits) {
  FrameInfo info;
  if (size < 4) return info;  // kNeedMore.
  const uint32_t count_minus_one = LoadU32(data);
  if (count_minus_one >= limits.max_segments) {
    info.kind = FrameInfo::Kind::kInvalid;
    info.error = absl::StrCat("frame: segment table claims ", uint64_t{count_minus_one} + 1,
                              " segments, the limit is ", limits.max_segments);
    return info;
  }
  const size_t count = size_t{count_minus_one} + 1;
  const size_t table_bytes = kWordBytes * (count / 2 + 1);
  // Check sizes as they arrive, so an oversized claim is refused early.
  uint64_t words = 0;
  for (size_t i = 0; i < count && 4 + 4 * (i + 1) <= size; ++i) {
    words += LoadU32(data + 4 + 4 * i);
    if (table_bytes + words * kWordBytes > limits.max_frame_bytes) {
      info.kind = FrameInfo::Kind::kInvalid;
      info.oversized = true;
      info.error = absl::StrCat("frame: over the ", limits.max_frame_bytes,
                                "-byte limit (segment table claims at least ",
                                table_bytes + words * kWordBytes, " bytes)");
      return info;
    }
  }
  if (size < table_bytes) return info;  // kNeedMore.
  const size_t frame_bytes = table_bytes + static_cast<size_t>(words) * kWordBytes;
  if (size < frame_bytes) return info;
  info.kind = FrameInfo::Kind::kComplete;
  info.frame_bytes = frame_bytes;
  return info;
}

capnp::ReaderOptions RequestReaderOptions(size_t frame_bytes) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = 8 * (frame_bytes / kWordBytes) + 64;
  options.nestingLimit = 16;
  return options;
}

kj::Array<capnp::word> EncodeFrame(capnp::MessageBuilder& message) {
  return capnp::messageToFlatArray(message);
}

}  // namespace attrib::net
