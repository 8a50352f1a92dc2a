// net/handler_prepare_test.cc: RequestHandler::PrepareFrames, the look-ahead over
// pipelined frames. It is only a hint: every frame handled with its PreparedFrame
// must get byte for byte the reply it gets without one, whatever the frames are
// (lookups that hit, miss, name an invalid email or shop 0, other operations,
// malformed frames), and auth still applies to prepared lookups.
#include <string>
#include <vector>

#include "net/handler_test_util.h"

namespace attrib::net {
namespace {

using testing_util::HandlerTest;
using testing_util::kA;
using testing_util::kShop;

kj::Array<capnp::word> LookupFrame(uint64_t id, uint64_t shop, const std::string& email,
                                   int64_t at = 0) {
  capnp::MallocMessageBuilder m;
  wire::Request::Builder r = m.initRoot<wire::Request>();
  r.setId(id);
  wire::LookupRequest::Builder l = r.initLookup();
  l.setShop(shop);
  l.setEmail(email);
  l.setAt(at);
  return EncodeFrame(m);
}

kj::Array<capnp::word> PingFrame(uint64_t id) {
  capnp::MallocMessageBuilder m;
  wire::Request::Builder r = m.initRoot<wire::Request>();
  r.setId(id);
  r.setPing();
  return EncodeFrame(m);
}

std::string Bytes(const kj::Array<capnp::word>& words) {
  return std::string(reinterpret_cast<const char*>(words.begin()),
                     words.size() * sizeof(capnp::word));
}

class PrepareFramesTest : public HandlerTest {
 protected:
  // Replies to `frames` handled one by one without preparation, then with it, on
  // fresh sessions; each as encoded bytes.
  void ExpectSameReplies(const std::vector<kj::Array<capnp::word>>& frames,
                         const HandlerOptions& options = {}) {
    std::vector<kj::ArrayPtr<const capnp::word>> views;
    for (const auto& f : frames) views.push_back(f.asPtr());
    std::vector<RequestHandler::PreparedFrame> prepared(frames.size());
    std::vector<std::string> plain, ahead;
    for (int pass = 0; pass < 2; ++pass) {
      Reset(options);
      if (pass == 1) handler_->PrepareFrames(views, absl::MakeSpan(prepared));
      for (size_t i = 0; i < views.size(); ++i) {
        capnp::MallocMessageBuilder response;
        handler_->HandleFrame(views[i], &session_, &response,
                              pass == 1 ? &prepared[i] : nullptr);
        (pass == 0 ? plain : ahead).push_back(Bytes(EncodeFrame(response)));
        if (session_.close_after_reply) break;
      }
    }
    ASSERT_EQ(plain.size(), ahead.size());
    for (size_t i = 0; i < plain.size(); ++i) EXPECT_EQ(plain[i], ahead[i]) << "frame " << i;
  }
};

TEST_F(PrepareFramesTest, RepliesAreTheSameWithAndWithoutPreparation) {
  Connect("Jane.Doe@Example.com", kA);
  Connect("bob@example.org", kA);
  std::vector<kj::Array<capnp::word>> frames;
  frames.push_back(LookupFrame(1, kShop, "jane.doe@example.com"));
  frames.push_back(LookupFrame(2, kShop, "nobody@example.com"));
  frames.push_back(PingFrame(3));
  frames.push_back(LookupFrame(4, kShop, "not an email"));
  frames.push_back(LookupFrame(5, 0, "bob@example.org"));
  frames.push_back(LookupFrame(6, kShop + 1, "bob@example.org"));  // Other shop: miss.
  frames.push_back(LookupFrame(7, kShop, "BOB@example.org", testing_util::kT0 + 5));
  frames.push_back(LookupFrame(8, kShop, "bob@example.org", -3));  // Invalid time.
  ExpectSameReplies(frames);
}

TEST_F(PrepareFramesTest, MalformedFramesAreLeftToHandleFrame) {
  std::vector<kj::Array<capnp::word>> frames;
  frames.push_back(LookupFrame(1, kShop, "jane@example.com"));
  // A frame whose root pointer points far outside the message.
  kj::Array<capnp::word> bad = LookupFrame(2, kShop, "jane@example.com");
  reinterpret_cast<uint32_t*>(bad.begin())[2] = 0x7ffffff0u;
  frames.push_back(std::move(bad));
  frames.push_back(LookupFrame(3, kShop, "jane@example.com"));
  ExpectSameReplies(frames);
}

TEST_F(PrepareFramesTest, PreparedLookupsStillNeedAuth) {
  Connect("jane@example.com", kA);
  HandlerOptions options;
  options.auth_token = "secret";
  std::vector<kj::Array<capnp::word>> frames;
  frames.push_back(LookupFrame(1, kShop, "jane@example.com"));
  ExpectSameReplies(frames, options);
  EXPECT_TRUE(session_.close_after_reply);
  EXPECT_EQ(Counted("lookup", "unauthenticated"), 1u);
}

TEST_F(PrepareFramesTest, PreparedLookupsAreCounted) {
  Connect("jane@example.com", kA);
  std::vector<kj::Array<capnp::word>> frames;
  frames.push_back(LookupFrame(1, kShop, "jane@example.com"));
  frames.push_back(LookupFrame(2, kShop, "x"));
  ExpectSameReplies(frames);
  EXPECT_EQ(Counted("lookup", "ok"), 1u);
  EXPECT_EQ(Counted("lookup", "invalid_argument"), 1u);
}

// The latency histograms (request_latency.h): each request is recorded once under its
// operation, whether it ran alone or in a prepared batch whose lookups are timed
// together.
uint64_t LatencyCount(const RequestHandler& handler, const std::string& op) {
  for (const OperationLatency& l : handler.OperationLatencies()) {
    if (l.operation == op) return l.latency.count();
  }
  return ~uint64_t{0};
}

TEST_F(PrepareFramesTest, LatencyIsRecordedOncePerRequest) {
  Connect("jane@example.com", kA);
  EXPECT_EQ(LatencyCount(*handler_, "connect"), 1u);
  EXPECT_EQ(LatencyCount(*handler_, "lookup"), 0u);
  EXPECT_EQ(LatencyCount(*handler_, "undecodable"), ~uint64_t{0});  // Not listed yet.
  std::vector<kj::Array<capnp::word>> frames;
  frames.push_back(LookupFrame(1, kShop, "jane@example.com"));
  frames.push_back(PingFrame(2));
  frames.push_back(LookupFrame(3, kShop, "x"));
  frames.push_back(LookupFrame(4, kShop, "nobody@example.com"));
  ExpectSameReplies(frames);  // Once alone (Reset() makes a fresh handler), then prepared.
  EXPECT_EQ(LatencyCount(*handler_, "lookup"), 3u);
  EXPECT_EQ(LatencyCount(*handler_, "ping"), 1u);
  EXPECT_EQ(LatencyCount(*handler_, "connect"), 0u);  // A fresh handler.
  // A lookup after the batch, alone, is timed alone.
  Lookup("jane@example.com");
  EXPECT_EQ(LatencyCount(*handler_, "lookup"), 4u);
  // Every operation of the schema is listed, even with no requests.
  EXPECT_EQ(LatencyCount(*handler_, "putSettings"), 0u);
  EXPECT_EQ(handler_->OperationLatencies().size(), RequestHandler::kOperationSlots - 2);
}

TEST_F(PrepareFramesTest, AnAbandonedBatchDoesNotLeakIntoTheNext) {
  std::vector<kj::Array<capnp::word>> frames;
  frames.push_back(LookupFrame(1, kShop, "a@example.com"));
  frames.push_back(LookupFrame(2, kShop, "b@example.com"));
  std::vector<kj::ArrayPtr<const capnp::word>> views = {frames[0].asPtr(), frames[1].asPtr()};
  std::vector<RequestHandler::PreparedFrame> prepared(2);
  handler_->PrepareFrames(views, absl::MakeSpan(prepared));
  capnp::MallocMessageBuilder first;
  handler_->HandleFrame(views[0], &session_, &first, &prepared[0]);  // Then abandoned.
  EXPECT_EQ(LatencyCount(*handler_, "lookup"), 0u);  // Its run has not ended.
  handler_->PrepareFrames(views, absl::MakeSpan(prepared));
  for (size_t i = 0; i < 2; ++i) {
    capnp::MallocMessageBuilder response;
    handler_->HandleFrame(views[i], &session_, &response, &prepared[i]);
  }
  EXPECT_EQ(LatencyCount(*handler_, "lookup"), 2u);
}

}  // namespace
}  // namespace attrib::net
