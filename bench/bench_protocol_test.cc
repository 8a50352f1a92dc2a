// bench/bench_protocol_test.cc: attrib-bench's RESP encoders produce what Redis
// expects, and the RESP decoder handles complete, fragmented, concatenated, error,
// nil, array and malformed replies (attrib's side: bench_protocol_attrib_test.cc).
#include "bench/bench_protocol.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace attrib::bench {
namespace {

TEST(ProtocolNamesTest, TargetsAndOps) {
  EXPECT_EQ(*ParseTarget("attrib"), Target::kAttrib);
  EXPECT_EQ(*ParseTarget("redis"), Target::kRedis);
  EXPECT_FALSE(ParseTarget("memcached").ok());
  EXPECT_EQ(TargetName(Target::kRedis), "redis");
  EXPECT_EQ(OpName(Op::kBatch), "batch");
  EXPECT_EQ(OpName(Op::kAttribute), "attribute");
  EXPECT_EQ(OpName(Op::kPing), "ping");
}

// -------------------------------------------------------------------- RESP

TEST(RespEncodeTest, Commands) {
  std::string out;
  EncodeRespGet(out, "jane@x.com");
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$10\r\njane@x.com\r\n");
  out.clear();
  const std::vector<absl::string_view> keys = {"a@b", "cc@dd.e"};
  EncodeRespMget(out, keys);
  EXPECT_EQ(out, "*3\r\n$4\r\nMGET\r\n$3\r\na@b\r\n$7\r\ncc@dd.e\r\n");
  out.clear();
  EncodeRespSet(out, "a@b", 1000);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\na@b\r\n$4\r\n1000\r\n");
  out.clear();
  EncodeRespSet(out, "a@b", 0);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\na@b\r\n$1\r\n0\r\n");
  out.clear();
  EncodeRespPing(out);
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n");
  out.clear();
  AppendDecimal(out, UINT64_MAX);
  EXPECT_EQ(out, "18446744073709551615");
}

DecodeStatus Resp(Op op, uint32_t keys, absl::string_view bytes, ReplyResult* result,
                  std::string* error) {
  return DecodeRespReply(op, keys, bytes.data(), bytes.size(), result, error);
}

TEST(RespDecodeTest, GetHitNilAndError) {
  ReplyResult r;
  std::string error;
  ASSERT_EQ(Resp(Op::kLookup, 1, "$2\r\n42\r\n", &r, &error), DecodeStatus::kComplete);
  EXPECT_EQ(r.bytes, 8u);
  EXPECT_EQ(r.misses, 0u);
  EXPECT_FALSE(r.is_error);
  ASSERT_EQ(Resp(Op::kLookup, 1, "$-1\r\n", &r, &error), DecodeStatus::kComplete);
  EXPECT_EQ(r.misses, 1u);
  ASSERT_EQ(Resp(Op::kLookup, 1, "_\r\n", &r, &error), DecodeStatus::kComplete);  // RESP3.
  EXPECT_EQ(r.misses, 1u);
  ASSERT_EQ(Resp(Op::kLookup, 1, "-WRONGTYPE Operation against a key\r\n", &r, &error),
            DecodeStatus::kComplete);
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_kind, "WRONGTYPE");
  ASSERT_EQ(Resp(Op::kConnect, 1, "-ERR\r\n", &r, &error), DecodeStatus::kComplete);
  EXPECT_EQ(r.error_kind, "ERR");
}

TEST(RespDecodeTest, BulkPayloadMayHoldCrLf) {
  ReplyResult r;
  std::string error;
  ASSERT_EQ(Resp(Op::kLookup, 1, "$4\r\na\r\nb\r\n", &r, &error), DecodeStatus::kComplete);
  EXPECT_EQ(r.bytes, 10u);
}

TEST(RespDecodeTest, MgetArrayCountsNils) {
  ReplyResult r;
  std::string error;
  const absl::string_view reply = "*4\r\n$1\r\n1\r\n$-1\r\n$3\r\n999\r\n$-1\r\n";
  ASSERT_EQ(Resp(Op::kBatch, 4, reply, &r, &error), DecodeStatus::kComplete) << error;
  EXPECT_EQ(r.bytes, reply.size());
  EXPECT_EQ(r.misses, 2u);
  EXPECT_EQ(Resp(Op::kBatch, 3, reply, &r, &error), DecodeStatus::kInvalid);
  EXPECT_EQ(Resp(Op::kBatch, 2, "*2\r\n$1\r\n1\r\n:5\r\n", &r, &error), DecodeStatus::kInvalid);
  EXPECT_NE(error.find("not bulk"), std::string::npos) << error;
}

TEST(RespDecodeTest, SetWantsStatusReply) {
  ReplyResult r;
  std::string error;
  EXPECT_EQ(Resp(Op::kConnect, 1, "+OK\r\n", &r, &error), DecodeStatus::kComplete);
  EXPECT_EQ(Resp(Op::kLoad, 1, "+OK\r\n", &r, &error), DecodeStatus::kComplete);
  EXPECT_EQ(Resp(Op::kConnect, 1, ":1\r\n", &r, &error), DecodeStatus::kInvalid);
  EXPECT_NE(error.find("connect answered by an integer reply"), std::string::npos) << error;
  EXPECT_EQ(Resp(Op::kLookup, 1, "+OK\r\n", &r, &error), DecodeStatus::kInvalid);
}

TEST(RespDecodeTest, PingWantsPong) {
  ReplyResult r;
  std::string error;
  ASSERT_EQ(Resp(Op::kPing, 1, "+PONG\r\n", &r, &error), DecodeStatus::kComplete) << error;
  EXPECT_EQ(r.bytes, 7u);
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.misses, 0u);
  EXPECT_EQ(Resp(Op::kPing, 1, "+OK\r\n", &r, &error), DecodeStatus::kInvalid);
  EXPECT_NE(error.find("ping answered by a status reply"), std::string::npos) << error;
  EXPECT_EQ(Resp(Op::kPing, 1, "$4\r\nPONG\r\n", &r, &error), DecodeStatus::kInvalid);
  EXPECT_EQ(Resp(Op::kLookup, 1, "+PONG\r\n", &r, &error), DecodeStatus::kInvalid);
  ASSERT_EQ(Resp(Op::kPing, 1, "-NOAUTH Authentication required.\r\n", &r, &error),
            DecodeStatus::kComplete);
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_kind, "NOAUTH");
  for (size_t n = 0; n < 7; ++n) {
    EXPECT_EQ(Resp(Op::kPing, 1, absl::string_view("+PONG\r\n", n), &r, &error),
              DecodeStatus::kNeedMore)
        << n;
  }
}

TEST(RespDecodeTest, EveryFragmentNeedsMore) {
  const std::vector<std::string> replies = {
      "$10\r\njane@x.com\r\n", "$-1\r\n", "-ERR unknown command\r\n", "+OK\r\n",
      "*3\r\n$1\r\n1\r\n$-1\r\n$2\r\n22\r\n", "*0\r\n", "_\r\n"};
  const std::vector<Op> ops = {Op::kLookup, Op::kLookup, Op::kLookup, Op::kConnect,
                               Op::kBatch, Op::kBatch, Op::kLookup};
  const std::vector<uint32_t> keys = {1, 1, 1, 1, 3, 0, 1};
  for (size_t i = 0; i < replies.size(); ++i) {
    ReplyResult r;
    std::string error;
    for (size_t n = 0; n < replies[i].size(); ++n) {
      ASSERT_EQ(Resp(ops[i], keys[i], absl::string_view(replies[i]).substr(0, n), &r, &error),
                DecodeStatus::kNeedMore)
          << replies[i] << " cut at " << n;
    }
    ASSERT_EQ(Resp(ops[i], keys[i], replies[i], &r, &error), DecodeStatus::kComplete)
        << replies[i] << ": " << error;
    EXPECT_EQ(r.bytes, replies[i].size());
  }
}

TEST(RespDecodeTest, ConcatenatedRepliesDecodeOneAtATime) {
  const std::string stream = "$1\r\na\r\n$-1\r\n-ERR x\r\n$2\r\nbc\r\n";
  ReplyResult r;
  std::string error;
  size_t at = 0;
  uint32_t misses = 0, errors = 0, replies = 0;
  while (at < stream.size()) {
    ASSERT_EQ(Resp(Op::kLookup, 1, absl::string_view(stream).substr(at), &r, &error),
              DecodeStatus::kComplete);
    at += r.bytes;
    misses += r.misses;
    errors += r.is_error;
    ++replies;
  }
  EXPECT_EQ(replies, 4u);
  EXPECT_EQ(misses, 1u);
  EXPECT_EQ(errors, 1u);
}

TEST(RespDecodeTest, MalformedRepliesAreInvalid) {
  ReplyResult r;
  std::string error;
  for (absl::string_view bad :
       {"HTTP/1.1 400\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcde\r\n", "*-5\r\n",
        "+OK\rX\n", ":12x\r\n", "$99999999999999999999\r\n", "_x\r\n"}) {
    error.clear();
    EXPECT_EQ(Resp(Op::kLookup, 1, bad, &r, &error), DecodeStatus::kInvalid) << bad;
    EXPECT_EQ(error.rfind("RESP: ", 0), 0u) << bad << " -> " << error;
  }
  // Nested too deep.
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_EQ(Resp(Op::kBatch, 1, deep, &r, &error), DecodeStatus::kInvalid);
  EXPECT_NE(error.find("too deep"), std::string::npos);
}

}  // namespace
}  // namespace attrib::bench
