// bench/bench_protocol_attrib_test.cc: attrib-bench's attrib encoders produce what
// the schema says (the hand-written Lookup of attrib_wire_fast.cc byte for byte as
// capnp's builder), and its reply decoder (fast path and general path) handles
// complete, fragmented, concatenated, error, batch, multi-segment and malformed
// frames.
#include <cstring>
#include <string>
#include <vector>

#include "bench/attrib_wire_fast.h"
#include "bench/bench_protocol.h"
#include "capnp/message.h"
#include "capnp/serialize.h"
#include "gtest/gtest.h"
#include "net/attrib.capnp.h"

namespace attrib::bench {
namespace {

namespace wire = ::attrib::net::wire;

// A word-aligned copy of frame bytes, as the driver's input buffer holds them.
std::vector<capnp::word> Aligned(const std::string& bytes) {
  std::vector<capnp::word> words((bytes.size() + 7) / 8 + 1);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

// Decodes a request frame produced by an encoder.
struct DecodedRequest {
  explicit DecodedRequest(const std::string& bytes)
      : words(Aligned(bytes)),
        reader(kj::arrayPtr(words.data(), bytes.size() / 8)) {
    EXPECT_EQ(bytes.size() % 8, 0u);
    EXPECT_EQ(reader.getEnd(), words.data() + bytes.size() / 8);  // Exactly one frame.
  }
  wire::Request::Reader get() { return reader.getRoot<wire::Request>(); }
  std::vector<capnp::word> words;
  capnp::FlatArrayMessageReader reader;
};

std::string Frame(capnp::MessageBuilder& message) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(words.begin()), words.size() * 8);
}

// ------------------------------------------------------------- attrib encode

TEST(AttribEncoderTest, LookupIsTheSameFrameCapnpWrites) {
  AttribEncoder encoder(4);
  std::string out;
  encoder.Lookup(out, 7, 3, "Jane.Doe@example.com");
  DecodedRequest request(out);
  EXPECT_EQ(request.get().getId(), 7u);
  ASSERT_TRUE(request.get().isLookup());
  EXPECT_EQ(request.get().getLookup().getShop(), 3u);
  EXPECT_EQ(std::string(request.get().getLookup().getEmail().cStr()), "Jane.Doe@example.com");

  capnp::MallocMessageBuilder reference;
  wire::Request::Builder r = reference.initRoot<wire::Request>();
  r.setId(7);
  r.initLookup().setShop(3);
  r.getLookup().setEmail("Jane.Doe@example.com");
  EXPECT_EQ(out, Frame(reference));
}

TEST(AttribEncoderTest, ScratchIsReusedWithoutLeftovers) {
  AttribEncoder encoder(4);
  std::string first, again;
  encoder.Connect(first, 1, 2, "a.very.long.address.indeed@example.com", 42,
                  ConnectMode::kReassign);
  encoder.Lookup(again, 5, 2, "b@x.com");  // Shorter: must not see the old bytes.
  std::string fresh;
  AttribEncoder(4).Lookup(fresh, 5, 2, "b@x.com");
  EXPECT_EQ(again, fresh);
  again.clear();
  encoder.Connect(again, 1, 2, "a.very.long.address.indeed@example.com", 42,
                  ConnectMode::kReassign);
  EXPECT_EQ(again, first);
}

TEST(AttribEncoderTest, AllOperations) {
  AttribEncoder encoder(3);
  std::string out;
  const std::vector<absl::string_view> emails = {"a@x.com", "b@y.org", "c@z.net"};
  encoder.LookupBatch(out, 1, 9, emails);
  {
    DecodedRequest q(out);
    ASSERT_TRUE(q.get().isLookupBatch());
    EXPECT_EQ(q.get().getLookupBatch().getShop(), 9u);
    ASSERT_EQ(q.get().getLookupBatch().getEmails().size(), 3u);
    EXPECT_EQ(std::string(q.get().getLookupBatch().getEmails()[2].cStr()), "c@z.net");
  }
  out.clear();
  encoder.Connect(out, 2, 9, "a@x.com", 17, ConnectMode::kIfAbsent);
  {
    DecodedRequest q(out);
    ASSERT_TRUE(q.get().isConnect());
    EXPECT_EQ(q.get().getConnect().getAffiliate(), 17u);
    EXPECT_EQ(q.get().getConnect().getMode(), wire::ConnectMode::IF_ABSENT);
    EXPECT_EQ(q.get().getConnect().getSource(), wire::Source::API);  // The default.
    EXPECT_FALSE(q.get().getConnect().hasName());  // Keeps a replaced name.
  }
  out.clear();
  encoder.Attribute(out, 3, 9, "order-1", "a@x.com");
  {
    DecodedRequest q(out);
    ASSERT_TRUE(q.get().isAttribute());
    EXPECT_EQ(std::string(q.get().getAttribute().getOrderId().cStr()), "order-1");
    EXPECT_EQ(std::string(q.get().getAttribute().getEmail().cStr()), "a@x.com");
  }
  out.clear();
  encoder.Auth(out, 4, "secret");
  {
    DecodedRequest q(out);
    ASSERT_TRUE(q.get().isAuth());
    EXPECT_EQ(std::string(q.get().getAuth().getToken().cStr()), "secret");
  }
}

TEST(AttribEncoderTest, PingIsTheFrameCapnpWrites) {
  AttribEncoder encoder(1);
  for (uint64_t id : {uint64_t{0}, uint64_t{9}, UINT64_MAX}) {
    std::string out;
    encoder.Ping(out, id);
    DecodedRequest request(out);
    EXPECT_EQ(request.get().getId(), id);
    EXPECT_TRUE(request.get().isPing());
    capnp::MallocMessageBuilder reference;
    wire::Request::Builder r = reference.initRoot<wire::Request>();
    r.setId(id);
    r.setPing();
    EXPECT_EQ(out, Frame(reference));
  }
}

TEST(AttribEncoderTest, BatchLargerThanTheScratchStillEncodes) {
  AttribEncoder encoder(1);
  std::vector<std::string> storage;
  for (int i = 0; i < 2000; ++i) storage.push_back("user" + std::to_string(i) + "@example.com");
  std::vector<absl::string_view> emails(storage.begin(), storage.end());
  std::string out;
  encoder.LookupBatch(out, 1, 1, emails);
  DecodedRequest q(out);
  ASSERT_EQ(q.get().getLookupBatch().getEmails().size(), 2000u);
  EXPECT_EQ(std::string(q.get().getLookupBatch().getEmails()[1999].cStr()),
            "user1999@example.com");
  // And the scratch is still clean afterwards.
  std::string small, fresh;
  encoder.Lookup(small, 1, 1, "x@y.z");
  AttribEncoder(1).Lookup(fresh, 1, 1, "x@y.z");
  EXPECT_EQ(small, fresh);
}

TEST(AttribEncoderTest, HandWrittenLookupIsByteForByteTheBuilders) {
  std::string email;
  for (size_t length = 0; length <= 80; ++length) {
    for (uint64_t id : {uint64_t{1}, uint64_t{0x123456789abcdef0}}) {
      std::string ours;
      AppendLookupFrame(ours, id, 0xfedcba9876543210ull >> (length % 64), email);
      capnp::MallocMessageBuilder reference;
      wire::Request::Builder r = reference.initRoot<wire::Request>();
      r.setId(id);
      wire::LookupRequest::Builder l = r.initLookup();
      l.setShop(0xfedcba9876543210ull >> (length % 64));
      capnp::Text::Builder text = l.initEmail(email.size());
      if (!email.empty()) std::memcpy(text.begin(), email.data(), email.size());
      ASSERT_EQ(ours, Frame(reference)) << "email length " << length;
    }
    email.push_back(static_cast<char>('a' + length % 26));
  }
}

// ------------------------------------------------------------- attrib decode

std::string LookupReply(uint64_t id, bool found) {
  capnp::MallocMessageBuilder m;
  wire::Response::Builder r = m.initRoot<wire::Response>();
  r.setId(id);
  wire::LookupResult::Builder l = r.initLookup();
  l.setFound(found);
  if (found) {
    l.initConnection().setCanonicalEmail("jane@x.com");
    l.getConnection().setAffiliate(42);
  }
  return Frame(m);
}

std::string ErrorReply(uint64_t id, wire::ErrorCode code, const char* message) {
  capnp::MallocMessageBuilder m;
  wire::Response::Builder r = m.initRoot<wire::Response>();
  r.setId(id);
  r.initError().setCode(code);
  r.getError().setMessage(message);
  return Frame(m);
}

DecodeStatus DecodeAttrib(Op op, uint64_t id, uint32_t keys, const std::string& bytes,
                          ReplyResult* result, std::string* error) {
  const std::vector<capnp::word> words = Aligned(bytes);
  return DecodeAttribReply(op, id, keys, words.data(), bytes.size(), 1 << 20, result, error);
}

TEST(AttribDecodeTest, LookupFoundAndMissed) {
  ReplyResult result;
  std::string error;
  const std::string hit = LookupReply(5, true);
  ASSERT_EQ(DecodeAttrib(Op::kLookup, 5, 1, hit, &result, &error), DecodeStatus::kComplete)
      << error;
  EXPECT_EQ(result.bytes, hit.size());
  EXPECT_FALSE(result.is_error);
  EXPECT_EQ(result.misses, 0u);
  ASSERT_EQ(DecodeAttrib(Op::kLookup, 6, 1, LookupReply(6, false), &result, &error),
            DecodeStatus::kComplete);
  EXPECT_EQ(result.misses, 1u);
  EXPECT_FALSE(result.is_error);
}

TEST(AttribDecodeTest, EveryFragmentNeedsMoreAndConcatenatedRepliesSplit) {
  const std::string a = LookupReply(1, true), b = ErrorReply(2, wire::ErrorCode::NOT_FOUND, "x");
  ReplyResult result;
  std::string error;
  for (size_t n = 0; n < a.size(); ++n) {
    ASSERT_EQ(DecodeAttrib(Op::kLookup, 1, 1, a.substr(0, n), &result, &error),
              DecodeStatus::kNeedMore)
        << n;
  }
  const std::string both = a + b;
  const std::vector<capnp::word> words = Aligned(both);
  ASSERT_EQ(DecodeAttribReply(Op::kLookup, 1, 1, words.data(), both.size(), 1 << 20, &result,
                              &error),
            DecodeStatus::kComplete);
  ASSERT_EQ(result.bytes, a.size());
  ASSERT_EQ(DecodeAttribReply(Op::kConnect, 2, 1, words.data() + a.size() / 8,
                              both.size() - a.size(), 1 << 20, &result, &error),
            DecodeStatus::kComplete);
  EXPECT_TRUE(result.is_error);
  EXPECT_EQ(result.error_kind, "not_found");
}

TEST(AttribDecodeTest, BatchCountsMissesAndItemErrors) {
  capnp::MallocMessageBuilder m;
  wire::Response::Builder r = m.initRoot<wire::Response>();
  r.setId(3);
  capnp::List<wire::BatchItem>::Builder items = r.initLookupBatch(4);
  items[0].initResult().setFound(true);
  items[1].initResult().setFound(false);
  items[2].initError().setCode(wire::ErrorCode::INVALID_ARGUMENT);
  items[3].initResult().setFound(false);
  ReplyResult result;
  std::string error;
  ASSERT_EQ(DecodeAttrib(Op::kBatch, 3, 4, Frame(m), &result, &error), DecodeStatus::kComplete)
      << error;
  EXPECT_EQ(result.misses, 2u);
  EXPECT_EQ(result.item_errors, 1u);
  EXPECT_EQ(result.item_error_kind, "invalid_argument");
  EXPECT_EQ(DecodeAttrib(Op::kBatch, 3, 5, Frame(m), &result, &error), DecodeStatus::kInvalid);
  EXPECT_NE(error.find("4 items for 5 emails"), std::string::npos) << error;
}

TEST(AttribDecodeTest, ErrorRepliesAreCountedNotFatal) {
  ReplyResult result;
  std::string error;
  ASSERT_EQ(DecodeAttrib(Op::kConnect, 9, 1,
                         ErrorReply(9, wire::ErrorCode::ALREADY_EXISTS, "already connected"),
                         &result, &error),
            DecodeStatus::kComplete);
  EXPECT_TRUE(result.is_error);
  EXPECT_EQ(result.error_kind, "already_exists");
}

TEST(AttribDecodeTest, WrongIdOrWrongKindIsInvalid) {
  ReplyResult result;
  std::string error;
  EXPECT_EQ(DecodeAttrib(Op::kLookup, 8, 1, LookupReply(7, true), &result, &error),
            DecodeStatus::kInvalid);
  EXPECT_NE(error.find("does not match request id 8"), std::string::npos) << error;
  EXPECT_EQ(DecodeAttrib(Op::kLookup, 0, 1,
                         ErrorReply(0, wire::ErrorCode::INVALID_ARGUMENT, "frame: bad"),
                         &result, &error),
            DecodeStatus::kComplete);  // Id 0 is only wrong when we did not send it.
  EXPECT_EQ(DecodeAttrib(Op::kLookup, 4, 1,
                         ErrorReply(0, wire::ErrorCode::INVALID_ARGUMENT, "frame: bad"),
                         &result, &error),
            DecodeStatus::kInvalid);
  EXPECT_NE(error.find("frame: bad"), std::string::npos) << error;
  EXPECT_EQ(DecodeAttrib(Op::kConnect, 7, 1, LookupReply(7, true), &result, &error),
            DecodeStatus::kInvalid);
  EXPECT_NE(error.find("wrong result kind"), std::string::npos) << error;
}

TEST(AttribDecodeTest, MalformedFramesAreInvalid) {
  ReplyResult result;
  std::string error;
  std::string huge(8, '\0');
  const uint32_t segments = 1000;
  std::memcpy(huge.data(), &segments, 4);
  EXPECT_EQ(DecodeAttrib(Op::kLookup, 1, 1, huge, &result, &error), DecodeStatus::kInvalid);
  // One segment of one word whose root pointer points far outside the segment.
  std::string bad(16, '\0');
  const uint32_t table[2] = {0, 1};
  std::memcpy(bad.data(), table, 8);
  const uint64_t pointer = (uint64_t{1000} << 2) | (uint64_t{1} << 32);  // Struct, offset 1000.
  std::memcpy(bad.data() + 8, &pointer, 8);
  EXPECT_EQ(DecodeAttrib(Op::kLookup, 1, 1, bad, &result, &error), DecodeStatus::kInvalid);
  EXPECT_FALSE(error.empty());
  // Over the frame limit.
  const std::string big = LookupReply(1, true);
  const std::vector<capnp::word> words = Aligned(big);
  EXPECT_EQ(DecodeAttribReply(Op::kLookup, 1, 1, words.data(), big.size(), 16, &result, &error),
            DecodeStatus::kInvalid);
}

std::string Reply(uint64_t id, wire::Response::Which which) {
  capnp::MallocMessageBuilder m;
  wire::Response::Builder r = m.initRoot<wire::Response>();
  r.setId(id);
  switch (which) {
    case wire::Response::CONNECT: r.initConnect().initConnection().setAffiliate(3); break;
    case wire::Response::ATTRIBUTE: r.initAttribute().initDecision().setOrderId("o1"); break;
    case wire::Response::AUTH: r.setAuth(); break;
    case wire::Response::PONG: r.setPong(); break;
    default: break;
  }
  return Frame(m);
}

TEST(AttribDecodeTest, PingWantsPong) {
  ReplyResult result;
  std::string error;
  const std::string pong = Reply(11, wire::Response::PONG);
  ASSERT_EQ(DecodeAttrib(Op::kPing, 11, 1, pong, &result, &error), DecodeStatus::kComplete)
      << error;
  EXPECT_EQ(result.bytes, pong.size());
  EXPECT_FALSE(result.is_error);
  EXPECT_EQ(result.misses, 0u);
  EXPECT_EQ(DecodeAttrib(Op::kPing, 11, 1, LookupReply(11, true), &result, &error),
            DecodeStatus::kInvalid);
  EXPECT_NE(error.find("to a ping request has the wrong result kind"), std::string::npos)
      << error;
  EXPECT_EQ(DecodeAttrib(Op::kLookup, 11, 1, pong, &result, &error), DecodeStatus::kInvalid);
  EXPECT_EQ(DecodeAttrib(Op::kPing, 12, 1, pong, &result, &error), DecodeStatus::kInvalid);
  for (size_t n = 0; n < pong.size(); ++n) {
    ASSERT_EQ(DecodeAttrib(Op::kPing, 11, 1, pong.substr(0, n), &result, &error),
              DecodeStatus::kNeedMore)
        << n;
  }
}

TEST(AttribFastDecodeTest, ReadsTheCommonRepliesLikeTheGeneralPath) {
  struct Case {
    std::string frame;
    Op op;
    bool is_error;
    absl::string_view kind;
    uint32_t misses;
  } cases[] = {
      {LookupReply(3, true), Op::kLookup, false, "", 0},
      {LookupReply(3, false), Op::kLookup, false, "", 1},
      {ErrorReply(3, wire::ErrorCode::NOT_FOUND, "gone"), Op::kConnect, true, "not_found", 0},
      {ErrorReply(3, wire::ErrorCode::UNAUTHENTICATED, "no"), Op::kAuth, true, "unauthenticated",
       0},
      {Reply(3, wire::Response::CONNECT), Op::kConnect, false, "", 0},
      {Reply(3, wire::Response::CONNECT), Op::kLoad, false, "", 0},
      {Reply(3, wire::Response::ATTRIBUTE), Op::kAttribute, false, "", 0},
      {Reply(3, wire::Response::AUTH), Op::kAuth, false, "", 0},
      {Reply(3, wire::Response::PONG), Op::kPing, false, "", 0},
      {ErrorReply(3, wire::ErrorCode::UNAUTHENTICATED, "no"), Op::kPing, true,
       "unauthenticated", 0},
  };
  for (const Case& c : cases) {
    const std::vector<capnp::word> words = Aligned(c.frame);
    ReplyResult fast;
    ASSERT_TRUE(FastDecodeReply(c.op, 3, words.data(), c.frame.size(), &fast)) << OpName(c.op);
    EXPECT_EQ(fast.is_error, c.is_error);
    EXPECT_EQ(fast.error_kind, c.kind);
    EXPECT_EQ(fast.misses, c.misses);
    ReplyResult general;
    std::string error;
    ASSERT_EQ(DecodeAttrib(c.op, 3, 1, c.frame, &general, &error), DecodeStatus::kComplete);
    EXPECT_EQ(general.is_error, fast.is_error);
    EXPECT_EQ(general.error_kind, fast.error_kind);
    EXPECT_EQ(general.misses, fast.misses);
    EXPECT_EQ(general.bytes, c.frame.size());
  }
}

TEST(AttribFastDecodeTest, LeavesEverythingElseToTheGeneralPath) {
  ReplyResult r;
  auto fast = [&](Op op, uint64_t id, const std::string& frame) {
    const std::vector<capnp::word> words = Aligned(frame);
    return FastDecodeReply(op, id, words.data(), frame.size(), &r);
  };
  EXPECT_FALSE(fast(Op::kLookup, 4, LookupReply(3, true)));           // Another id.
  EXPECT_FALSE(fast(Op::kConnect, 3, LookupReply(3, true)));          // Another kind.
  EXPECT_FALSE(fast(Op::kLookup, 3, Reply(3, wire::Response::PONG)));
  EXPECT_FALSE(fast(Op::kPing, 3, LookupReply(3, false)));          // Ping wants pong.
  EXPECT_FALSE(fast(Op::kPing, 4, Reply(3, wire::Response::PONG)));  // Another id.
  EXPECT_FALSE(fast(Op::kBatch, 3, LookupReply(3, true)));            // Batches: never.
  // Several segments (a writer with a tiny first segment): the general path reads it.
  capnp::MallocMessageBuilder m(1, capnp::AllocationStrategy::FIXED_SIZE);
  wire::Response::Builder b = m.initRoot<wire::Response>();
  b.setId(3);
  b.initLookup().setFound(true);
  ASSERT_GT(m.getSegmentsForOutput().size(), 1u);
  const std::string multi = Frame(m);
  EXPECT_FALSE(fast(Op::kLookup, 3, multi));
  std::string error;
  ASSERT_EQ(DecodeAttrib(Op::kLookup, 3, 1, multi, &r, &error), DecodeStatus::kComplete) << error;
  EXPECT_EQ(r.misses, 0u);
  // A root pointer out of bounds is not read.
  std::string bad(16, '\0');
  const uint32_t table[2] = {0, 1};
  std::memcpy(bad.data(), table, 8);
  const uint64_t pointer = (uint64_t{1000} << 2) | (uint64_t{1} << 32);
  std::memcpy(bad.data() + 8, &pointer, 8);
  EXPECT_FALSE(fast(Op::kLookup, 0, bad));
}

}  // namespace
}  // namespace attrib::bench
