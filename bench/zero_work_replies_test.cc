// bench/zero_work_replies_test.cc: the zero-work server's replies. attrib: each reply
// is byte for byte the frame libcapnp builds with the request's id (the template's
// id patching is right for any id and any size of reply, several segments
// included), and attrib-bench's decoder accepts it for the op it sent; requests are
// read by the fast path and by capnp's reader alike; partial, concatenated and
// malformed frames. RESP: the replies attrib-bench accepts, fragments, pipelines and
// malformed commands.
#include "bench/zero_work_replies.h"

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_protocol.h"
#include "capnp/message.h"
#include "capnp/serialize.h"
#include "gtest/gtest.h"
#include "net/attrib.capnp.h"

namespace attrib::bench {
namespace {

namespace wire = ::attrib::net::wire;

constexpr size_t kMaxRequest = 1 << 20;
const uint64_t kIds[] = {0, 1, 0xff, 0x0123456789abcdefull, UINT64_MAX};

std::string Frame(capnp::MessageBuilder& message) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(words.begin()), words.size() * 8);
}

// What libcapnp writes for a Response with `id` filled by `fill`.
template <typename Fill>
std::string Reference(uint64_t id, Fill fill) {
  capnp::MallocMessageBuilder m;
  wire::Response::Builder r = m.initRoot<wire::Response>();
  r.setId(id);
  fill(r);
  return Frame(m);
}

// Word-aligned bytes, as the server's input buffer holds them.
struct Aligned {
  explicit Aligned(const std::string& bytes)
      : words((bytes.size() + 7) / 8 + 1), size(bytes.size()) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  const char* data() const { return reinterpret_cast<const char*>(words.data()); }
  std::vector<uint64_t> words;
  size_t size;
};

struct Answered {
  size_t consumed = 0;
  std::string out;
  std::string error;
};

Answered Answer(ZeroWorkResponder& responder, const std::string& input) {
  const Aligned in(input);
  Answered a;
  a.consumed = responder.AnswerAll(in.data(), in.size, a.out, &a.error);
  return a;
}

TEST(AttribReplyTemplateTest, PatchedReplyIsByteIdenticalToLibcapnp) {
  for (uint64_t id : kIds) {
    capnp::MallocMessageBuilder m;
    m.initRoot<wire::Response>().initLookup();
    const AttribReplyTemplate reply(m);
    std::string out = "prefix!!";  // Appends, wherever the output already is.
    reply.Append(out, id);
    EXPECT_EQ(out.substr(8), Reference(id, [](wire::Response::Builder r) { r.initLookup(); }))
        << id;
  }
}

TEST(AttribReplyTemplateTest, IdOffsetFollowsTheSegmentTable) {
  // Replies in small fixed-size segments: 2 to 12 segments, so segment tables with
  // and without padding before the root pointer.
  auto build = [](capnp::MallocMessageBuilder& m, uint64_t id, int results) {
    wire::Response::Builder r = m.initRoot<wire::Response>();
    r.setId(id);
    capnp::List<wire::BatchItem>::Builder items = r.initLookupBatch(40);
    for (int i = 0; i < results; ++i) items[i].initResult().setFound(i % 2 == 0);
  };
  std::set<size_t> segment_counts;
  for (int results = 0; results <= 40; results += 5) {
    capnp::MallocMessageBuilder m(16, capnp::AllocationStrategy::FIXED_SIZE);
    build(m, 0, results);
    segment_counts.insert(m.getSegmentsForOutput().size());
    const AttribReplyTemplate reply(m);
    for (uint64_t id : kIds) {
      std::string out;
      reply.Append(out, id);
      capnp::MallocMessageBuilder expected(16, capnp::AllocationStrategy::FIXED_SIZE);
      build(expected, id, results);
      ASSERT_EQ(out, Frame(expected)) << id << ", " << results << " results";
    }
  }
  // An even count has a padding word in its table, an odd one has none.
  std::string counts;
  bool odd = false, even = false;
  for (size_t n : segment_counts) {
    counts += " " + std::to_string(n);
    (n % 2 ? odd : even) = true;
  }
  EXPECT_TRUE(odd && even) << counts;
}

TEST(ZeroWorkAttribTest, EachOperationGetsLibcapnpsReplyWithItsId) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kAttrib, kMaxRequest);
  AttribEncoder encoder(200);
  const std::vector<absl::string_view> three = {"a@x.com", "b@y.org", "c@z.net"};
  std::vector<std::string> storage;
  for (int i = 0; i < 600; ++i) storage.push_back("user" + std::to_string(i) + "@example.com");
  const std::vector<absl::string_view> many(storage.begin(), storage.end());
  for (uint64_t id : kIds) {
    struct Case {
      std::string request, expected;
      Op op;
      uint32_t keys;
    };
    std::vector<Case> cases;
    Case c;
    encoder.Lookup(c.request, id, 1, "jane@x.com");
    c.expected = Reference(id, [](wire::Response::Builder r) { r.initLookup(); });
    c.op = Op::kLookup;
    c.keys = 1;
    cases.push_back(c);
    c.request.clear();
    encoder.Ping(c.request, id);
    c.expected = Reference(id, [](wire::Response::Builder r) { r.setPong(); });
    c.op = Op::kPing;
    cases.push_back(c);
    c.request.clear();
    encoder.LookupBatch(c.request, id, 1, three);
    c.expected = Reference(id, [](wire::Response::Builder r) { r.initLookupBatch(3); });
    c.op = Op::kBatch;
    c.keys = 3;
    cases.push_back(c);
    c.request.clear();
    encoder.LookupBatch(c.request, id, 1, many);  // Several segments in the reply.
    c.expected = Reference(id, [](wire::Response::Builder r) { r.initLookupBatch(600); });
    c.keys = 600;
    cases.push_back(c);
    c.request.clear();
    encoder.Connect(c.request, id, 1, "jane@x.com", 7, ConnectMode::kReassign);
    c.expected = Reference(id, [](wire::Response::Builder r) { r.initConnect(); });
    c.op = Op::kConnect;
    c.keys = 1;
    cases.push_back(c);
    c.request.clear();
    encoder.Attribute(c.request, id, 1, "order-1", "jane@x.com");
    c.expected = Reference(id, [](wire::Response::Builder r) { r.initAttribute(); });
    c.op = Op::kAttribute;
    cases.push_back(c);
    c.request.clear();
    encoder.Auth(c.request, id, "token");
    c.expected = Reference(id, [](wire::Response::Builder r) { r.setAuth(); });
    c.op = Op::kAuth;
    cases.push_back(c);
    for (const Case& k : cases) {
      const Answered a = Answer(responder, k.request);
      EXPECT_EQ(a.error, "");
      EXPECT_EQ(a.consumed, k.request.size());
      ASSERT_EQ(a.out, k.expected) << OpName(k.op) << " id " << id;
      // And attrib-bench takes it as the answer to what it sent.
      const Aligned reply(a.out);
      ReplyResult result;
      std::string error;
      ASSERT_EQ(DecodeAttribReply(k.op, id, k.keys, reply.data(), reply.size, 64 << 20,
                                  &result, &error),
                DecodeStatus::kComplete)
          << OpName(k.op) << ": " << error;
      EXPECT_FALSE(result.is_error);
      EXPECT_EQ(result.bytes, reply.size);
    }
  }
}

TEST(ZeroWorkAttribTest, OtherRequestsAreUnimplementedWithTheirId) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kAttrib, kMaxRequest);
  capnp::MallocMessageBuilder m;
  wire::Request::Builder q = m.initRoot<wire::Request>();
  q.setId(99);
  q.setStats();
  const Answered a = Answer(responder, Frame(m));
  const Aligned reply(a.out);
  capnp::FlatArrayMessageReader r(
      kj::arrayPtr(reinterpret_cast<const capnp::word*>(reply.words.data()), reply.size / 8));
  const wire::Response::Reader response = r.getRoot<wire::Response>();
  EXPECT_EQ(response.getId(), 99u);
  ASSERT_TRUE(response.isError());
  EXPECT_EQ(response.getError().getCode(), wire::ErrorCode::UNIMPLEMENTED);
}

TEST(ZeroWorkAttribTest, ReadsSeveralSegmentRequestsThroughCapnp) {
  // A writer with a tiny first segment: the fast path declines, capnp reads it.
  capnp::MallocMessageBuilder m(1, capnp::AllocationStrategy::FIXED_SIZE);
  wire::Request::Builder q = m.initRoot<wire::Request>();
  q.setId(0x1122334455667788ull);
  q.initLookupBatch().initEmails(5);
  ASSERT_GT(m.getSegmentsForOutput().size(), 1u);
  const std::string frame = Frame(m);
  const Aligned in(frame);
  AttribRequestHead head;
  ASSERT_TRUE(ReadAttribRequestHead(in.data(), in.size, &head));
  EXPECT_EQ(head.id, 0x1122334455667788ull);
  EXPECT_EQ(head.which, wire::Request::LOOKUP_BATCH);
  EXPECT_EQ(head.batch_emails, 5u);
  ZeroWorkResponder responder(ZeroWorkProtocol::kAttrib, kMaxRequest);
  EXPECT_EQ(Answer(responder, frame).out,
            Reference(head.id, [](wire::Response::Builder r) { r.initLookupBatch(5); }));
}

TEST(ZeroWorkAttribTest, PartialAndConcatenatedFrames) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kAttrib, kMaxRequest);
  AttribEncoder encoder(4);
  std::string a, b;
  encoder.Lookup(a, 1, 1, "a@x.com");
  encoder.Ping(b, 2);
  for (size_t n = 0; n < a.size(); ++n) {
    const Answered partial = Answer(responder, a.substr(0, n));
    EXPECT_EQ(partial.consumed, 0u) << n;
    EXPECT_EQ(partial.out, "") << n;
    EXPECT_EQ(partial.error, "") << n;
  }
  const Answered both = Answer(responder, a + b + b.substr(0, 12));
  EXPECT_EQ(both.consumed, a.size() + b.size());
  EXPECT_EQ(both.out, Reference(1, [](wire::Response::Builder r) { r.initLookup(); }) +
                          Reference(2, [](wire::Response::Builder r) { r.setPong(); }));
}

TEST(ZeroWorkAttribTest, MalformedFramesStopTheConnection) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kAttrib, 1024);
  AttribEncoder encoder(4);
  std::string good;
  encoder.Ping(good, 5);
  // A segment table claiming 1000 segments: refused before it is trusted.
  std::string huge(8, '\0');
  const uint32_t segments = 999;
  std::memcpy(huge.data(), &segments, 4);
  Answered a = Answer(responder, good + huge);
  EXPECT_EQ(a.consumed, good.size());  // The request before it is answered.
  EXPECT_EQ(a.out, Reference(5, [](wire::Response::Builder r) { r.setPong(); }));
  EXPECT_NE(a.error, "");
  // Over --max_request_bytes.
  std::vector<std::string> storage(100, "someone.with.a.long.name@example.com");
  const std::vector<absl::string_view> emails(storage.begin(), storage.end());
  std::string big;
  encoder.LookupBatch(big, 6, 1, emails);
  ASSERT_GT(big.size(), 1024u);
  a = Answer(responder, big);
  EXPECT_EQ(a.consumed, 0u);
  EXPECT_NE(a.error, "");
  // A root pointer out of bounds: answered error invalidArgument, id 0 (the frame
  // is whole, so the stream goes on).
  std::string bad(16, '\0');
  const uint32_t table[2] = {0, 1};
  std::memcpy(bad.data(), table, 8);
  const uint64_t pointer = (uint64_t{1000} << 2) | (uint64_t{1} << 32);
  std::memcpy(bad.data() + 8, &pointer, 8);
  a = Answer(responder, bad + good);
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(a.consumed, bad.size() + good.size());
  const Aligned reply(a.out);
  capnp::FlatArrayMessageReader r(
      kj::arrayPtr(reinterpret_cast<const capnp::word*>(reply.words.data()), reply.size / 8));
  EXPECT_EQ(r.getRoot<wire::Response>().getId(), 0u);
  EXPECT_EQ(r.getRoot<wire::Response>().getError().getCode(), wire::ErrorCode::INVALID_ARGUMENT);
}

// ------------------------------------------------------------------- RESP

TEST(ZeroWorkRespTest, RepliesAttribBenchAccepts) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kResp, kMaxRequest);
  const std::vector<absl::string_view> keys = {"a@b", "cc@dd.e", "f@g"};
  struct Case {
    std::string request;
    std::string expected;
    Op op;
    uint32_t keys;
  };
  std::vector<Case> cases(4);
  EncodeRespGet(cases[0].request, "jane@x.com");
  cases[0] = {cases[0].request, "$-1\r\n", Op::kLookup, 1};
  EncodeRespMget(cases[1].request, keys);
  cases[1] = {cases[1].request, "*3\r\n$-1\r\n$-1\r\n$-1\r\n", Op::kBatch, 3};
  EncodeRespSet(cases[2].request, "jane@x.com", 42);
  cases[2] = {cases[2].request, "+OK\r\n", Op::kConnect, 1};
  EncodeRespPing(cases[3].request);
  cases[3] = {cases[3].request, "+PONG\r\n", Op::kPing, 1};
  std::string pipeline, replies;
  for (const Case& c : cases) {
    const Answered a = Answer(responder, c.request);
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(a.consumed, c.request.size());
    ASSERT_EQ(a.out, c.expected) << c.request;
    ReplyResult result;
    std::string error;
    ASSERT_EQ(DecodeRespReply(c.op, c.keys, a.out.data(), a.out.size(), &result, &error),
              DecodeStatus::kComplete)
        << error;
    EXPECT_FALSE(result.is_error);
    pipeline += c.request;
    replies += c.expected;
  }
  // Pipelined, with a partial command at the end.
  const Answered all = Answer(responder, pipeline + cases[0].request.substr(0, 9));
  EXPECT_EQ(all.consumed, pipeline.size());
  EXPECT_EQ(all.out, replies);
  // Lower case, and an unknown command: an error reply, the stream goes on.
  const Answered other = Answer(responder, "*1\r\n$4\r\nping\r\n*1\r\n$4\r\nINFO\r\n");
  EXPECT_EQ(other.error, "");
  EXPECT_EQ(other.out.substr(0, 7), "+PONG\r\n");
  EXPECT_EQ(other.out.substr(7, 5), "-ERR ");
}

TEST(ZeroWorkRespTest, EveryFragmentWaitsForMore) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kResp, kMaxRequest);
  std::string request;
  EncodeRespMget(request, {"a@b", "cc@dd.e"});
  for (size_t n = 0; n < request.size(); ++n) {
    const Answered a = Answer(responder, request.substr(0, n));
    EXPECT_EQ(a.consumed, 0u) << n;
    EXPECT_EQ(a.out, "") << n;
    EXPECT_EQ(a.error, "") << n;
  }
}

TEST(ZeroWorkRespTest, MalformedOrOversizedCommandsStopTheConnection) {
  ZeroWorkResponder responder(ZeroWorkProtocol::kResp, 64);
  for (const std::string bad :
       {"PING\r\n", "*x\r\n", "*1\r\n$4\r\nPINGxx", "*1\r\r", "*0\r\n", "*1\r\n:4\r\n",
        "*1\r\n$99999\r\n"}) {
    const Answered a = Answer(responder, "*1\r\n$4\r\nPING\r\n" + bad);
    EXPECT_EQ(a.out, "+PONG\r\n") << bad;
    EXPECT_EQ(a.consumed, 14u) << bad;
    EXPECT_EQ(a.error.rfind("RESP: ", 0), 0u) << bad << " -> " << a.error;
  }
  // Longer than the limit while still incomplete.
  const Answered a = Answer(responder, "*2\r\n$3\r\nGET\r\n$100\r\n" + std::string(60, 'k'));
  EXPECT_NE(a.error, "");
}

}  // namespace
}  // namespace attrib::bench
