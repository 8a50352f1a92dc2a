// net/frame_test.cc: the stream-framing checks, against frames capnp itself writes
// and against hostile segment tables.
#include "net/frame.h"

#include <cstring>
#include <string>
#include <vector>

#include "capnp/serialize.h"
#include "gtest/gtest.h"
#include "net/attrib.capnp.h"

namespace attrib::net {
namespace {

std::vector<uint8_t> Bytes(const kj::Array<capnp::word>& words) {
  const auto b = words.asBytes();
  return std::vector<uint8_t>(b.begin(), b.end());
}

std::vector<uint8_t> Table(std::vector<uint32_t> fields) {
  std::vector<uint8_t> out(fields.size() * 4);
  std::memcpy(out.data(), fields.data(), out.size());
  return out;
}

TEST(FrameTest, CompleteFrameIsRecognizedAtEveryPrefixLength) {
  capnp::MallocMessageBuilder message;
  auto req = message.initRoot<wire::Request>();
  req.setId(7);
  req.initLookup().setEmail("jane@example.com");
  const std::vector<uint8_t> frame = Bytes(EncodeFrame(message));
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_EQ(InspectFrame(frame.data(), n, FrameLimits{}).kind, FrameInfo::Kind::kNeedMore)
        << n;
  }
  const FrameInfo info = InspectFrame(frame.data(), frame.size(), FrameLimits{});
  ASSERT_EQ(info.kind, FrameInfo::Kind::kComplete);
  EXPECT_EQ(info.frame_bytes, frame.size());
  // Followed by the next frame: only the first is claimed.
  std::vector<uint8_t> two = frame;
  two.insert(two.end(), frame.begin(), frame.end());
  EXPECT_EQ(InspectFrame(two.data(), two.size(), FrameLimits{}).frame_bytes, frame.size());
}

TEST(FrameTest, MultiSegmentTablesArePadded) {
  // 2 segments: 4 + 8 bytes of table, padded to 16.
  std::vector<uint8_t> frame = Table({1, 1, 2, 0});
  frame.resize(16 + 3 * 8);
  const FrameInfo info = InspectFrame(frame.data(), frame.size(), FrameLimits{});
  ASSERT_EQ(info.kind, FrameInfo::Kind::kComplete);
  EXPECT_EQ(info.frame_bytes, 16u + 24u);
}

TEST(FrameTest, HugeSegmentCountIsRefusedFromTheFirstFourBytes) {
  const std::vector<uint8_t> table = Table({(1u << 29) - 1});
  const FrameInfo info = InspectFrame(table.data(), table.size(), FrameLimits{});
  EXPECT_EQ(info.kind, FrameInfo::Kind::kInvalid);
  EXPECT_NE(info.error.find("536870912 segments"), std::string::npos) << info.error;
  const std::vector<uint8_t> all_ones = Table({0xffffffffu});
  EXPECT_EQ(InspectFrame(all_ones.data(), 4, FrameLimits{}).kind, FrameInfo::Kind::kInvalid);
}

TEST(FrameTest, HugeSegmentSizeIsRefusedBeforeTheBodyArrives) {
  const std::vector<uint8_t> table = Table({0, 0xffffffffu});  // 2^32 words.
  const FrameInfo info = InspectFrame(table.data(), table.size(), FrameLimits{});
  EXPECT_EQ(info.kind, FrameInfo::Kind::kInvalid);
  EXPECT_TRUE(info.oversized);
}

TEST(FrameTest, TheLimitIsInclusive) {
  FrameLimits limits;
  limits.max_frame_bytes = 8 + 10 * 8;
  std::vector<uint8_t> frame = Table({0, 10});
  frame.resize(limits.max_frame_bytes);
  EXPECT_EQ(InspectFrame(frame.data(), frame.size(), limits).kind, FrameInfo::Kind::kComplete);
  const std::vector<uint8_t> over = Table({0, 11});
  EXPECT_TRUE(InspectFrame(over.data(), over.size(), limits).oversized);
}

TEST(FrameTest, ReaderOptionsAreTight) {
  const capnp::ReaderOptions o = RequestReaderOptions(1024);
  EXPECT_EQ(o.nestingLimit, 16);
  EXPECT_EQ(o.traversalLimitInWords, 8u * 128 + 64);
}

}  // namespace
}  // namespace attrib::net
