// bench/bench_protocol.h
//
// The two wire protocols attrib-bench speaks, as encoders that append one request to
// an output buffer and decoders that cut one reply off the front of an input buffer:
//
//  - attrib (net/attrib.capnp): one Cap'n Proto message per frame in the standard
//    stream framing (net/frame.h). lookup = Lookup{shop, email}; batch =
//    LookupBatch{shop, emails}; connect = Connect{shop, email, affiliate, mode};
//    attribute = Attribute{shop, orderId, email}; ping = Request.ping (answered by
//    pong: the server's cost of a request that does no work); plus Auth{token}.
//  - RESP2 (Redis): lookup = GET key; batch = MGET k1..kB; connect = SET key value
//    (the affiliate in decimal); ping = PING (answered +PONG). Keys are the raw
//    emails.
//
// Decoders never read past the bytes they are given: a reply that is not complete
// yet is kNeedMore (the caller reads more and tries again from the same start), so a
// reply fragmented at any byte decodes the same. A reply that can not be parsed, or
// that does not answer the request it should (a GET answered by an integer, a lookup
// answered by a connect result, an unexpected id) is kInvalid with a message: the
// driver treats it as fatal. An error reply is kComplete with `is_error`: the driver
// counts it and goes on. A key that is not there (found = false, RESP nil) is a
// miss, not an error.
//
// Allocation: AttribEncoder builds each message with a MallocMessageBuilder over its
// own reused, zeroed scratch segment and copies the segment table and segment into
// the output buffer: no allocation per request once the buffer has grown. Decoders
// read the reply in place (FlatArrayMessageReader over the input bytes, which must be
// 8-byte aligned) and allocate only to describe an invalid reply.
//
// Thread-safety: the free functions are pure. An AttribEncoder owns scratch memory:
// one thread at a time (each driver thread has its own).
#ifndef ATTRIB_BENCH_BENCH_PROTOCOL_H_
#define ATTRIB_BENCH_BENCH_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "capnp/common.h"

namespace attrib::bench {

enum class Target { kAttrib, kRedis };
absl::StatusOr<Target> ParseTarget(absl::string_view text);  // "attrib" | "redis"
absl::string_view TargetName(Target target);

// What a request asks. kLoad is the load phase's write (attrib: connect ifAbsent;
// Redis: SET); kAuth is attrib's Auth (sent once per connection).
enum class Op : uint8_t { kLookup, kBatch, kConnect, kAttribute, kPing, kLoad, kAuth };
inline constexpr int kWorkloadOps = 5;  // kLookup .. kPing: the ones in --mix.
absl::string_view OpName(Op op);

enum class ConnectMode : uint8_t { kIfAbsent, kReassign };

// ------------------------------------------------------------------- Encoders

class AttribEncoder {
 public:
  // `max_batch` bounds the emails of one LookupBatch so that a request always fits
  // the scratch segment (larger ones still work, through capnp's own allocation).
  explicit AttribEncoder(size_t max_batch);
  AttribEncoder(const AttribEncoder&) = delete;
  AttribEncoder& operator=(const AttribEncoder&) = delete;

  void Lookup(std::string& out, uint64_t id, uint64_t shop, absl::string_view email);
  void LookupBatch(std::string& out, uint64_t id, uint64_t shop,
                   absl::Span<const absl::string_view> emails);
  void Connect(std::string& out, uint64_t id, uint64_t shop, absl::string_view email,
               uint64_t affiliate, ConnectMode mode);
  void Attribute(std::string& out, uint64_t id, uint64_t shop, absl::string_view order_id,
                 absl::string_view email);
  void Auth(std::string& out, uint64_t id, absl::string_view token);
  void Ping(std::string& out, uint64_t id);

 private:
  std::vector<capnp::word> scratch_;  // Zero between requests (the builder re-zeroes it).
};

void EncodeRespGet(std::string& out, absl::string_view key);
void EncodeRespMget(std::string& out, absl::Span<const absl::string_view> keys);
void EncodeRespSet(std::string& out, absl::string_view key, uint64_t value);
void EncodeRespPing(std::string& out);

// Appends the decimal digits of `value` (no allocation when `out` has room).
void AppendDecimal(std::string& out, uint64_t value);

// ------------------------------------------------------------------- Decoders

enum class DecodeStatus { kNeedMore, kComplete, kInvalid };

struct ReplyResult {
  size_t bytes = 0;          // kComplete: the reply's size, to drop from the input.
  bool is_error = false;     // The server answered an error.
  // is_error: what kind. attrib: the ErrorCode's name ("not_found", static); RESP:
  // the first word of the error line ("ERR", "WRONGTYPE"), pointing into the input.
  absl::string_view error_kind;
  uint32_t misses = 0;       // Keys asked but not there (found = false, nil).
  uint32_t item_errors = 0;  // attrib batch items answered with an error.
  absl::string_view item_error_kind;  // The first such item's code name (static).
};

// Decodes the attrib reply at the front of `data` (8-byte aligned, `size` bytes) to a
// request `op` with id `expected_id` that asked for `expected_keys` keys (a batch's
// size; checked against the reply). `max_frame_bytes` bounds a reply.
DecodeStatus DecodeAttribReply(Op op, uint64_t expected_id, uint32_t expected_keys,
                               const void* data, size_t size, size_t max_frame_bytes,
                               ReplyResult* result, std::string* error);

// Decodes the RESP reply at the front of `data` to a request `op` that asked for
// `expected_keys` keys (an MGET's reply must have that many elements).
DecodeStatus DecodeRespReply(Op op, uint32_t expected_keys, const char* data, size_t size,
                             ReplyResult* result, std::string* error);

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_BENCH_PROTOCOL_H_
