// net/handler_frame_test.cc
//
// RequestHandler at the frame level: authentication, malformed messages crafted word
// by word (out-of-bounds pointers, the traversal-limit amplification attack,
// truncation), Request union members this server does not know, the error-code
// mapping and the per-operation counters. Operations are in handler_test.cc.
//
// Thread-safety: single-threaded tests.
#include <cstring>
#include <string>
#include <vector>

#include "capnp/any.h"
#include "common/not_primary.h"
#include "net/handler_convert.h"
#include "net/handler_test_util.h"

namespace attrib::net {
namespace {

using testing_util::HandlerTest;
using testing_util::kShop;
using testing_util::Reply;
using testing_util::Str;
using W = wire::Response;

// ------------------------------------------------------------ Hand-made messages
//
// Cap'n Proto pointers (encoding spec, little-endian words):
//   struct: bits 0-1 = 0, bits 2-31 = signed offset in words from the end of the
//           pointer, bits 32-47 = data words, bits 48-63 = pointer count.
//   list:   bits 0-1 = 1, bits 2-31 = offset, bits 32-34 = element size
//           (2 = byte, 6 = pointer), bits 35-63 = element count.

uint64_t StructPointer(int32_t offset, uint16_t data_words, uint16_t pointers) {
  return (uint64_t{static_cast<uint32_t>(offset) << 2}) | (uint64_t{data_words} << 32) |
         (uint64_t{pointers} << 48);
}

uint64_t ListPointer(int32_t offset, uint8_t element_size, uint32_t count) {
  return 1 | uint64_t{static_cast<uint32_t>(offset) << 2} | (uint64_t{element_size} << 32) |
         (uint64_t{count} << 35);
}

// A one-segment frame: the segment table (count - 1 = 0, then the size) + `segment`.
kj::Array<capnp::word> OneSegmentFrame(const std::vector<uint64_t>& segment) {
  kj::Array<capnp::word> frame = kj::heapArray<capnp::word>(segment.size() + 1);
  const uint32_t table[2] = {0, static_cast<uint32_t>(segment.size())};
  kj::ArrayPtr<kj::byte> bytes = frame.asBytes();
  std::memcpy(bytes.begin(), table, sizeof(table));
  if (!segment.empty()) {
    std::memcpy(bytes.begin() + 8, segment.data(), segment.size() * sizeof(uint64_t));
  }
  return frame;
}

// A lookupBatch Request (id 77) whose `emails` list holds `n` pointers that all point
// at ONE text of `text_words` words: n * text_words words to read from a frame of
// about n + text_words words.
kj::Array<capnp::word> SharedTextBatch(uint32_t n, uint32_t text_words) {
  std::vector<uint64_t> s;
  s.push_back(StructPointer(0, 2, 1));  // 0: root -> Request at word 1.
  s.push_back(77);                      // 1: Request.id
  s.push_back(static_cast<uint64_t>(wire::Request::LOOKUP_BATCH));  // 2: discriminant.
  s.push_back(StructPointer(0, 2, 1));  // 3: -> LookupBatchRequest at word 4.
  s.push_back(kShop);                   // 4: shop
  s.push_back(0);                       // 5: at
  s.push_back(ListPointer(0, 6, n));    // 6: emails -> n pointers at word 7.
  const uint32_t text_at = 7 + n;
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t offset = static_cast<int32_t>(text_at - (7 + i + 1));
    s.push_back(ListPointer(offset, 2, text_words * 8));  // Bytes, NUL included.
  }
  std::string text(text_words * 8 - 1, 'a');
  text.push_back('\0');
  for (uint32_t w = 0; w < text_words; ++w) {
    uint64_t v;
    std::memcpy(&v, text.data() + 8 * w, 8);
    s.push_back(v);
  }
  return OneSegmentFrame(s);
}

// ------------------------------------------------------------ Malformed frames

TEST_F(HandlerTest, HandMadeBatchFrameIsValidWhenSmall) {
  // Checks the crafting itself: one pointer, no amplification, decodes fine.
  const kj::Array<capnp::word> frame = SharedTextBatch(1, 4);
  const Reply r = SendFrame(frame.asPtr());
  ASSERT_EQ(r->which(), W::LOOKUP_BATCH) << Str(r->getError().getMessage());
  EXPECT_EQ(r->getId(), 77u);
  ASSERT_EQ(r->getLookupBatch().size(), 1u);
  EXPECT_TRUE(r->getLookupBatch()[0].isError());  // 31 x 'a': no '@'.
  EXPECT_FALSE(session_.close_after_reply);
}

TEST_F(HandlerTest, TraversalLimitAmplificationIsAnErrorAndCloses) {
  // 64 pointers to one 64-word text: 4096 words to read from a 136-word frame, over
  // RequestReaderOptions' 8 x 136 + 64 words.
  const kj::Array<capnp::word> frame = SharedTextBatch(64, 64);
  const Reply r = SendFrame(frame.asPtr());
  ExpectError(r, wire::ErrorCode::INVALID_ARGUMENT, "request: not a valid Request message: ");
  EXPECT_THAT(Str(r->getError().getMessage()), ::testing::HasSubstr("traversal limit"));
  EXPECT_EQ(r->getId(), 77u);  // Read before the limit was hit.
  EXPECT_TRUE(session_.close_after_reply);
  EXPECT_EQ(Counted("undecodable", "invalid_argument"), 1u);
  EXPECT_EQ(Counted("lookupBatch", "ok"), 0u);
}

TEST_F(HandlerTest, RootPointerOutOfBoundsIsAnErrorAndCloses) {
  // A valid segment table (one segment, one word); the root pointer claims a struct
  // 1000 words past the end of the segment.
  const kj::Array<capnp::word> frame = OneSegmentFrame({StructPointer(1000, 2, 1)});
  const Reply r = SendFrame(frame.asPtr());
  ExpectError(r, wire::ErrorCode::INVALID_ARGUMENT, "request: not a valid Request message: ");
  EXPECT_EQ(r->getId(), 0u);
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(HandlerTest, RootPointerToItselfIsAnErrorAndCloses) {
  // Offset -1: the struct would start at the root pointer itself and run past the
  // one-word segment.
  const kj::Array<capnp::word> frame = OneSegmentFrame({StructPointer(-1, 2, 1)});
  const Reply r = SendFrame(frame.asPtr());
  ExpectError(r, wire::ErrorCode::INVALID_ARGUMENT, "request: not a valid Request message: ");
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(HandlerTest, TruncatedAndEmptyFramesAreErrors) {
  capnp::MallocMessageBuilder message;
  auto c = message.initRoot<wire::Request>().initConnect();
  c.setShop(kShop);
  c.setEmail("jane@example.com");
  const kj::Array<capnp::word> whole = EncodeFrame(message);
  ASSERT_GT(whole.size(), 4u);
  Reply r = SendFrame(whole.slice(0, whole.size() / 2));
  ExpectError(r, wire::ErrorCode::INVALID_ARGUMENT, "request: not a valid Request message: ");
  EXPECT_TRUE(session_.close_after_reply);

  session_ = Session{};
  r = SendFrame(kj::ArrayPtr<const capnp::word>());
  ExpectError(r, wire::ErrorCode::INVALID_ARGUMENT, "request: not a valid Request message: ");
  EXPECT_TRUE(session_.close_after_reply);
  EXPECT_EQ(Counted("undecodable", "invalid_argument"), 2u);
}

// ------------------------------------------------------------ Unknown operations

TEST_F(HandlerTest, UnknownUnionMemberIsUnimplementedAndKeepsTheConnection) {
  // How the frame is made: build an ordinary ping Request, then overwrite its union
  // discriminant in the data section. Request's data section is three words: the id
  // (bytes 0-7), the discriminant (a UInt16 at bytes 8-9) and minSeq (issue 16,
  // bytes 16-23), as the generated
  // Request::Reader::which() reads it (getDataField<Which>(4)). 42 is past the last
  // member (ping = 14), as a Request from a newer schema would be.
  capnp::MallocMessageBuilder message;
  wire::Request::Builder request = message.initRoot<wire::Request>();
  request.setId(555);
  request.setPing();
  kj::ArrayPtr<kj::byte> data = message.getRoot<capnp::AnyStruct>().getDataSection();
  ASSERT_EQ(data.size(), 24u);
  const uint16_t discriminant = 42;
  std::memcpy(data.begin() + 8, &discriminant, sizeof(discriminant));
  ASSERT_EQ(static_cast<uint16_t>(message.getRoot<wire::Request>().which()), 42);

  const kj::Array<capnp::word> frame = EncodeFrame(message);
  const Reply r = SendFrame(frame.asPtr());
  ExpectError(r, wire::ErrorCode::UNIMPLEMENTED, "request: unknown operation 42");
  EXPECT_EQ(r->getId(), 555u);
  EXPECT_FALSE(session_.close_after_reply);
  EXPECT_EQ(Counted("unknown", "unimplemented"), 1u);
  EXPECT_EQ(Ping()->which(), W::PONG);  // The connection carries on.
}

// ------------------------------------------------------------ Auth

class HandlerAuthTest : public HandlerTest {
 protected:
  HandlerAuthTest() {
    HandlerOptions options;
    options.auth_token = "s3cret-token";
    Reset(std::move(options));
  }
  Reply Auth(const std::string& token) {
    return Send([&](wire::Request::Builder q) { q.initAuth().setToken(token); });
  }
};

TEST_F(HandlerAuthTest, AnyRequestBeforeAuthIsRefusedAndCloses) {
  const Reply r = Ping();
  ExpectError(r, wire::ErrorCode::UNAUTHENTICATED, "auth: this server requires `auth` first");
  EXPECT_EQ(r->getId(), last_id_);
  EXPECT_TRUE(session_.close_after_reply);
  EXPECT_FALSE(session_.authenticated);
  EXPECT_EQ(Counted("ping", "unauthenticated"), 1u);
}

TEST_F(HandlerAuthTest, WrongTokenIsRefusedAndCloses) {
  for (const std::string token : {"s3cret-tokeN", "s3cret", "s3cret-token-and-more", ""}) {
    session_ = Session{};
    ExpectError(Auth(token), wire::ErrorCode::UNAUTHENTICATED, "auth: wrong token");
    EXPECT_TRUE(session_.close_after_reply) << token;
    EXPECT_FALSE(session_.authenticated) << token;
  }
  // Nothing got through.
  EXPECT_EQ(engine_.Stats().connections, 0u);
}

TEST_F(HandlerAuthTest, RightTokenOpensTheSession) {
  const Reply r = Auth("s3cret-token");
  EXPECT_EQ(r->which(), W::AUTH);
  EXPECT_TRUE(session_.authenticated);
  EXPECT_FALSE(session_.close_after_reply);
  EXPECT_EQ(Ping()->which(), W::PONG);
  EXPECT_EQ(Connect("jane@example.com", 7)->which(), W::CONNECT);

  // Another session on the same handler starts unauthenticated.
  session_ = Session{};
  ExpectError(Ping(), wire::ErrorCode::UNAUTHENTICATED, "auth:");
}

TEST_F(HandlerTest, WithoutATokenAuthIsANoOpAndNotRequired) {
  EXPECT_EQ(Ping()->which(), W::PONG);
  const Reply r = Send([](wire::Request::Builder q) { q.initAuth().setToken("anything"); });
  EXPECT_EQ(r->which(), W::AUTH);
  EXPECT_FALSE(session_.close_after_reply);
}

// ------------------------------------------------------------ Codes and counters

TEST(WireCodeTest, MirrorsAbslStatusCodes) {
  for (int c = 0; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    EXPECT_EQ(static_cast<int>(ToWireCode(code)), c);
    EXPECT_EQ(FromWireCode(ToWireCode(code)), code);
  }
  EXPECT_EQ(ToWireCode(static_cast<absl::StatusCode>(99)), wire::ErrorCode::UNKNOWN);
  EXPECT_EQ(FromWireCode(static_cast<wire::ErrorCode>(40)), absl::StatusCode::kUnknown);
  EXPECT_EQ(WireCodeName(wire::ErrorCode::OK), "ok");
  EXPECT_EQ(WireCodeName(wire::ErrorCode::INVALID_ARGUMENT), "invalid_argument");
  EXPECT_EQ(WireCodeName(wire::ErrorCode::NOT_FOUND), "not_found");
  EXPECT_EQ(WireCodeName(wire::ErrorCode::ALREADY_EXISTS), "already_exists");
  EXPECT_EQ(WireCodeName(wire::ErrorCode::UNAUTHENTICATED), "unauthenticated");
  EXPECT_EQ(WireCodeName(static_cast<wire::ErrorCode>(40)), "unknown_code");
}

// Issue 16: not_primary is unavailable with a payload inside attrib, its own wire
// code (17) with the primary's address outside.
TEST(WireCodeTest, NotPrimaryHasItsOwnCodeAndCarriesThePrimary) {
  EXPECT_EQ(WireCodeName(wire::ErrorCode::NOT_PRIMARY), "not_primary");
  EXPECT_EQ(FromWireCode(wire::ErrorCode::NOT_PRIMARY), absl::StatusCode::kUnavailable);
  capnp::MallocMessageBuilder m;
  wire::Error::Builder e = m.initRoot<wire::Error>();
  EXPECT_EQ(SetError(NotPrimaryError("not_primary: a replica", {"10.0.0.1:7411", "h:1"}), e),
            wire::ErrorCode::NOT_PRIMARY);
  EXPECT_EQ(e.getCode(), wire::ErrorCode::NOT_PRIMARY);
  EXPECT_EQ(std::string(e.getPrimary().cStr()), "10.0.0.1:7411");
  EXPECT_EQ(std::string(e.getMessage().cStr()), "not_primary: a replica");
  // Any other unavailable stays unavailable, with no primary.
  capnp::MallocMessageBuilder m2;
  wire::Error::Builder e2 = m2.initRoot<wire::Error>();
  EXPECT_EQ(SetError(absl::UnavailableError("disk full"), e2), wire::ErrorCode::UNAVAILABLE);
  EXPECT_EQ(e2.getPrimary().size(), 0u);
}

TEST_F(HandlerTest, OperationCountsListNonZeroOnesByName) {
  EXPECT_TRUE(handler_->OperationCounts().empty());
  Ping();
  Ping();
  Connect("jane@example.com", 7);
  Lookup("jane@example.com");
  Send([](wire::Request::Builder q) { q.initLookupBatch().setShop(kShop); });
  Send([](wire::Request::Builder q) { q.initGetSettings(); });  // shop 0.
  EXPECT_EQ(Counted("ping", "ok"), 2u);
  EXPECT_EQ(Counted("connect", "ok"), 1u);
  EXPECT_EQ(Counted("lookup", "ok"), 1u);
  EXPECT_EQ(Counted("lookupBatch", "ok"), 1u);
  EXPECT_EQ(Counted("getSettings", "invalid_argument"), 1u);
  EXPECT_EQ(handler_->OperationCounts().size(), 5u);
}

TEST_F(HandlerTest, BuildErrorMakesAnErrorResponse) {
  capnp::MallocMessageBuilder response;
  RequestHandler::BuildError(9, wire::ErrorCode::RESOURCE_EXHAUSTED, "frame: too big",
                             &response);
  const Reply r(EncodeFrame(response));
  EXPECT_EQ(r->getId(), 9u);
  ExpectError(r, wire::ErrorCode::RESOURCE_EXHAUSTED, "frame: too big");
}

}  // namespace
}  // namespace attrib::net
