// fuzz/frame_fuzz.cc
//
// libFuzzer target for the server's request path without sockets: the input is a
// byte stream as a client would send it. It is cut into frames with InspectFrame()
// under the server's default limits (net/frame.h FrameLimits); the complete frames
// are prepared together (RequestHandler::PrepareFrames, as net/server_connection.cc
// ProcessFrames does for pipelined requests), then each is handled in order
// (RequestHandler::HandleFrame) on an in-memory engine. Checks: nothing crashes or
// throws; every reply, encoded as the server writes it, reads back with
// capnp::FlatArrayMessageReader as a Response; a frame InspectFrame calls invalid
// gets the error reply the server would send (BuildError), decodable too.
//
// Thread-safety: libFuzzer calls the entry point from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/types/span.h"
#include "capnp/message.h"
#include "capnp/serialize.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "kj/array.h"
#include "net/attrib.capnp.h"
#include "net/frame.h"
#include "net/handler.h"
#include "net/wire_codes.h"

namespace {

using attrib::net::FrameInfo;
using attrib::net::RequestHandler;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Encodes the reply as the server does and reads it back as a client would.
void CheckReply(capnp::MessageBuilder& response) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(response);
  capnp::FlatArrayMessageReader reader(words.asPtr());
  auto reply = reader.getRoot<attrib::net::wire::Response>();
  (void)reply.getId();
  Check(reader.getEnd() == words.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A word-aligned copy, as the server's read buffer is.
  kj::Array<capnp::word> buffer = kj::heapArray<capnp::word>(size / 8 + 1);
  memset(buffer.begin(), 0, buffer.size() * sizeof(capnp::word));
  memcpy(buffer.begin(), data, size);
  const auto* base = reinterpret_cast<const uint8_t*>(buffer.begin());

  attrib::engine::FakeClock clock(1'700'000'000'000);
  attrib::engine::EngineOptions engine_options;
  engine_options.shard_count = 4;
  engine_options.clock = &clock;
  attrib::engine::Engine engine(engine_options);
  RequestHandler handler(&engine, attrib::net::HandlerOptions{});
  attrib::net::Session session;
  const attrib::net::FrameLimits limits;  // The server's defaults.

  std::vector<kj::ArrayPtr<const capnp::word>> frames;
  size_t at = 0;
  bool invalid = false;
  while (at < size) {
    const FrameInfo info = attrib::net::InspectFrame(base + at, size - at, limits);
    if (info.kind == FrameInfo::Kind::kNeedMore) break;
    if (info.kind == FrameInfo::Kind::kInvalid) {
      Check(!info.error.empty());
      invalid = true;
      break;
    }
    Check(info.frame_bytes > 0 && info.frame_bytes % attrib::net::kWordBytes == 0 &&
          info.frame_bytes <= size - at && info.frame_bytes <= limits.max_frame_bytes);
    frames.emplace_back(buffer.begin() + at / attrib::net::kWordBytes,
                        info.frame_bytes / attrib::net::kWordBytes);
    at += info.frame_bytes;
  }

  std::vector<RequestHandler::PreparedFrame> prepared(frames.size());
  handler.PrepareFrames(absl::MakeConstSpan(frames), absl::MakeSpan(prepared));
  for (size_t i = 0; i < frames.size(); ++i) {
    capnp::MallocMessageBuilder response;
    // Alternate the prepared and the unprepared path: both are the server's.
    handler.HandleFrame(frames[i], &session, &response, i % 2 == 0 ? &prepared[i] : nullptr);
    CheckReply(response);
    session.wait_for_seq = 0;
    if (session.close_after_reply) return 0;
  }
  if (invalid) {
    capnp::MallocMessageBuilder response(64);
    RequestHandler::BuildError(0, attrib::net::wire::ErrorCode::INVALID_ARGUMENT, "bad frame",
                               &response);
    CheckReply(response);
  }
  (void)handler.OperationCounts();
  return 0;
}
