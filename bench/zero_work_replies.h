// bench/zero_work_replies.h
//
// What the zero-work server (bench/zero_work_server.cc) answers. It exists to measure
// the machine's ceiling (SPEC §9, issue 15): the same load as against attribd or
// Redis, answered by a program that does nothing per request but cut the frame and
// append a fixed reply, so the figure is the cost of the client, the kernel's
// loopback TCP and epoll alone. A server can not beat it on this machine.
//
//  - attrib: requests in the standard stream framing (net/frame.h: the segment table
//    is capped by InspectFrame before it is trusted). Each frame is answered by a
//    Response built once with libcapnp, whose id bytes are patched to the request's
//    id (attrib-bench checks ids): lookup -> lookup {found = false}; lookupBatch of n
//    emails -> n items {result: found = false}; ping -> pong; connect -> connect {}
//    (outcome created); attribute -> attribute {}; auth -> auth; anything else ->
//    error unimplemented. The request's id, union tag and batch size are read in
//    place from the root pointer (bench/capnp_layout.h), with capnp's reader as the
//    fallback for frames that path can not read (several segments). A frame that
//    neither can read is answered error invalidArgument with id 0, as attribd does.
//  - resp: RESP2 commands (arrays of bulk strings): GET -> $-1 (nil); MGET k1..kn
//    -> an array of n nils; SET -> +OK; PING -> +PONG; anything else -> -ERR.
//
// A frame or command longer than `max_request_bytes`, or one that is not framed as
// its protocol says (a huge segment table, a line that is not RESP), stops the
// connection: AnswerAll reports it and the server closes after writing the replies
// before it.
//
// Thread-safety: a ZeroWorkResponder keeps a cache of batch reply templates: one
// thread at a time (the server has one). AttribReplyTemplate is immutable once
// built.
#ifndef ATTRIB_BENCH_ZERO_WORK_REPLIES_H_
#define ATTRIB_BENCH_ZERO_WORK_REPLIES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "capnp/message.h"

namespace attrib::bench {

enum class ZeroWorkProtocol { kAttrib, kResp };
// "attrib" | "resp"; InvalidArgument naming --protocol otherwise.
absl::StatusOr<ZeroWorkProtocol> ParseZeroWorkProtocol(absl::string_view text);

// A reply frame built once (its root a net::wire::Response, id 0) and the offset of
// its id's 8 bytes, found from the frame's segment table and root pointer.
class AttribReplyTemplate {
 public:
  explicit AttribReplyTemplate(capnp::MessageBuilder& message);

  // Appends the frame with `id` in place of 0.
  void Append(std::string& out, uint64_t id) const;
  const std::string& frame() const { return frame_; }
  size_t id_offset() const { return id_offset_; }

 private:
  std::string frame_;
  size_t id_offset_ = 0;
};

// The fields of a request the zero-work server needs.
struct AttribRequestHead {
  uint64_t id = 0;
  uint16_t which = 0;         // net::wire::Request::Which.
  uint32_t batch_emails = 0;  // lookupBatch: how many emails.
};

// Reads them from a complete frame (8-byte aligned, `frame_bytes` as InspectFrame
// measured it). False if the frame is not a readable Request.
bool ReadAttribRequestHead(const void* frame, size_t frame_bytes, AttribRequestHead* head);

class ZeroWorkResponder {
 public:
  ZeroWorkResponder(ZeroWorkProtocol protocol, size_t max_request_bytes);
  ZeroWorkResponder(const ZeroWorkResponder&) = delete;
  ZeroWorkResponder& operator=(const ZeroWorkResponder&) = delete;

  // Answers every complete request at the front of `data` (8-byte aligned for
  // attrib) by appending its reply to `out`, and returns the bytes they took; an
  // incomplete request at the end is left for the next call. If a request is not
  // framed as the protocol says, `*error` says why and the return value is the
  // bytes before it.
  size_t AnswerAll(const char* data, size_t size, std::string& out, std::string* error);

 private:
  size_t AnswerAttrib(const char* data, size_t size, std::string& out, std::string* error);
  size_t AnswerResp(const char* data, size_t size, std::string& out, std::string* error);
  const AttribReplyTemplate& BatchReply(uint32_t emails);

  const ZeroWorkProtocol protocol_;
  const size_t max_request_bytes_;
  const AttribReplyTemplate lookup_, pong_, connect_, attribute_, auth_, unimplemented_,
      undecodable_, batch_too_large_;
  // Batch replies by email count: a client uses one or two sizes; bounded, and a
  // size past the bound is built for that request.
  std::vector<std::pair<uint32_t, AttribReplyTemplate>> batches_;
  std::unique_ptr<AttribReplyTemplate> uncached_batch_;
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_ZERO_WORK_REPLIES_H_
