// bench/attrib_wire_fast.h
//
// Hand-written fast paths for the hottest attrib frames of attrib-bench: encoding a
// Lookup request and reading the few fields the harness needs from a reply (id,
// result kind, found, error code). They exist because the client shares the
// machine's cores with the server: every microsecond capnp's generic builder and
// reader spend per request is CPU the server under test does not get, and RESP's
// encoder is a few appends.
//
// Layout: offsets and section sizes come from the compiled schema at first use
// (capnp reflection: data/pointer section sizes, field offsets, the discriminant's
// offset), never from constants typed here, so a field added to the schema moves
// them too. The encoder writes exactly the bytes capnp's MallocMessageBuilder writes
// (pinned by bench_protocol_test). The reader handles only single-segment frames
// whose struct pointers are in bounds; for anything else it returns false and the
// caller decodes with capnp's reader, which owns every error message.
//
// Thread-safety: pure functions (the layout is computed once, thread-safely).
#ifndef ATTRIB_BENCH_ATTRIB_WIRE_FAST_H_
#define ATTRIB_BENCH_ATTRIB_WIRE_FAST_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "bench/bench_protocol.h"

namespace attrib::bench {

// Appends the frame of Request{id, lookup = (shop, email)}.
void AppendLookupFrame(std::string& out, uint64_t id, uint64_t shop, absl::string_view email);

// Reads a complete reply frame of `frame_bytes` (8-byte aligned) to a non-batch
// request `op` with id `expected_id`. True: `result` is filled (bytes excepted).
// False: not a frame this path reads (other shape, other id, other result kind); the
// caller must decode it the general way.
bool FastDecodeReply(Op op, uint64_t expected_id, const void* frame, size_t frame_bytes,
                     ReplyResult* result);

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_ATTRIB_WIRE_FAST_H_
