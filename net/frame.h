// net/frame.h
//
// Frames on the wire: one Cap'n Proto message in the standard stream framing, with
// nothing before it (SPEC §6):
//
//   offset  size          field
//   0       4             segment count - 1        (little-endian u32)
//   4       4 * count     size of each segment, in 8-byte words
//   ...     0 or 4        padding, so that the table is a whole number of words
//   ...     8 * sum       the segments, back to back
//
// A frame is always a whole number of 8-byte words, so frames read back to back
// into a word-aligned buffer each start word-aligned, which FlatArrayMessageReader
// requires.
//
// The segment table is untrusted input: InspectFrame() caps the segment count and the
// total size BEFORE anything is allocated or read, so a table claiming 2^29 segments
// or 2^32 words is rejected as soon as its first bytes arrive.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_NET_FRAME_H_
#define ATTRIB_NET_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "capnp/message.h"
#include "kj/array.h"

namespace attrib::net {

inline constexpr size_t kWordBytes = 8;
// Requests are small: one segment in practice (the writer allocates one large
// first segment). A few more are accepted for other writers.
inline constexpr uint32_t kMaxSegments = 64;

struct FrameLimits {
  size_t max_frame_bytes = 1 << 20;
  uint32_t max_segments = kMaxSegments;
};

struct FrameInfo {
  enum class Kind { kNeedMore, kComplete, kInvalid };
  Kind kind = Kind::kNeedMore;
  size_t frame_bytes = 0;    // kComplete: the whole frame's size.
  std::string error;         // kInvalid: what is wrong, for the error reply.
  bool oversized = false;    // kInvalid because of max_frame_bytes.
};

// Looks at the start of `data`: is a whole frame there, is more needed, or is it not a
// frame within the limits? Never reads past `size`.
FrameInfo InspectFrame(const uint8_t* data, size_t size, const FrameLimits& limits);

// Reader limits for one request frame: nesting 16, traversal at most 8x the frame's
// words (+64): a request can not make the server read more than a few times its own
// size through overlapping pointers (the amplification attack).
capnp::ReaderOptions RequestReaderOptions(size_t frame_bytes);

// The frame of a built message (capnp::messageToFlatArray), as words.
kj::Array<capnp::word> EncodeFrame(capnp::MessageBuilder& message);

}  // namespace attrib::net

#endif  // ATTRIB_NET_FRAME_H_
