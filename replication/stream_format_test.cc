// replication/stream_format_test.cc
//
// The replication frames: round trips fed whole and one byte at a time; a bad CRC,
// an unknown type and a body over the limit are errors; shipped records verify
// their CRC, must be consecutive, and a cut-off record is DataLoss.
//
// Thread-safety: single-threaded tests.
#include "replication/stream_format.h"

#include "gtest/gtest.h"
#include "persistence/log_format.h"

namespace attrib::replication {
namespace {

TEST(StreamFormatTest, FramesRoundTripWholeAndByteByByte) {
  std::string wire;
  AppendFrame(FrameType::kHello, PairBody(7, 9), &wire);
  AppendFrame(FrameType::kRefused, RefusedBody(RefusedReason::kStaleEpoch, "old"), &wire);
  AppendFrame(FrameType::kRecords, "", &wire);
  for (bool bytewise : {false, true}) {
    FrameReader r(1024);
    std::vector<Frame> got;
    for (size_t i = 0; i < wire.size(); i += bytewise ? 1 : wire.size()) {
      r.Feed(absl::string_view(wire).substr(i, bytewise ? 1 : wire.size()));
      Frame f;
      for (;;) {
        absl::StatusOr<bool> next = r.Next(&f);
        ASSERT_TRUE(next.ok()) << next.status();
        if (!*next) break;
        got.push_back(f);
      }
    }
    ASSERT_EQ(got.size(), 3u);
    uint64_t a = 0, b = 0;
    ASSERT_TRUE(ParsePair(got[0], &a, &b).ok());
    EXPECT_EQ(a, 7u);
    EXPECT_EQ(b, 9u);
    EXPECT_EQ(got[1].type, FrameType::kRefused);
    EXPECT_EQ(got[1].body, std::string("\x02old", 4));
    EXPECT_TRUE(got[2].body.empty());
    EXPECT_FALSE(ParsePair(got[1], &a, &b).ok());
  }
}

TEST(StreamFormatTest, BadFramesAreErrors) {
  std::string good;
  AppendFrame(FrameType::kAck, PairBody(1, 2), &good);
  std::string bad_crc = good;
  bad_crc.back() ^= 1;
  std::string bad_type = good;
  bad_type[0] = 42;
  for (const std::string& wire : {bad_crc, bad_type}) {
    FrameReader r(1024);
    r.Feed(wire);
    Frame f;
    EXPECT_FALSE(r.Next(&f).ok());
  }
  FrameReader small(15);  // The 16-byte body is over the limit.
  small.Feed(good.substr(0, kFrameHeaderBytes));
  Frame f;
  absl::StatusOr<bool> over = small.Next(&f);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("over the limit of 15"), absl::string_view::npos);
}

TEST(StreamFormatTest, RecordsVerifyAndMustBeConsecutive) {
  std::string body;
  persistence::AppendRecord(5, "abc", &body);
  persistence::AppendRecord(6, "de", &body);
  auto ok = ParseRecords(body);
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].seq, 5u);
  EXPECT_EQ((*ok)[1].payload, "de");

  std::string gap;
  persistence::AppendRecord(5, "abc", &gap);
  persistence::AppendRecord(7, "de", &gap);
  EXPECT_EQ(ParseRecords(gap).status().code(), absl::StatusCode::kDataLoss);

  std::string flipped = body;
  flipped[persistence::kRecordHeaderBytes] ^= 1;
  EXPECT_EQ(ParseRecords(flipped).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseRecords(body.substr(0, body.size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace attrib::replication

namespace attrib::replication {
namespace {

TEST(StreamFormatTest, WelcomeCarriesTheClientAddressesAndOldWelcomesStillParse) {
  Frame f;
  f.type = FrameType::kWelcome;
  f.body = WelcomeBody({3, 41, "127.0.0.1:7411", "127.0.0.1:7412"});
  absl::StatusOr<Welcome> w = ParseWelcome(f);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->epoch, 3u);
  EXPECT_EQ(w->durable_seq, 41u);
  EXPECT_EQ(w->client_address, "127.0.0.1:7411");
  EXPECT_EQ(w->http_address, "127.0.0.1:7412");
  // Without an HTTP API.
  f.body = WelcomeBody({1, 2, "127.0.0.1:7411", ""});
  w = ParseWelcome(f);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->client_address, "127.0.0.1:7411");
  EXPECT_EQ(w->http_address, "");
  // The first part's 16-byte welcome.
  f.body = PairBody(5, 6);
  w = ParseWelcome(f);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->epoch, 5u);
  EXPECT_EQ(w->client_address, "");
  f.body = "short";
  EXPECT_FALSE(ParseWelcome(f).ok());
}

}  // namespace
}  // namespace attrib::replication
