// persistence/log_reader_test.cc: ScanSegment's classification of every way a
// segment can end (clean, torn by a crash at any byte, corrupt) and ListSegments'
// naming rules, on segments written into a FaultInjectingFileSystem.
//
// Randomized payloads use a fixed seed (printed on failure).
//
// Thread-safety: single-threaded tests.
#include "persistence/log_reader.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_format.h"
#include "persistence/mutation_codec.h"

namespace attrib::persistence {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Tail = SegmentScan::Tail;

constexpr uint64_t kFirstSeq = 1000;
constexpr uint64_t kSeed = 7;

struct Delivered {
  std::vector<uint64_t> seqs;
  std::vector<std::string> payloads;
  std::vector<uint64_t> offsets;
};

// A segment built in memory: its bytes, and where each record starts and ends.
struct Segment {
  std::string bytes;
  std::vector<std::string> payloads;
  std::vector<uint64_t> starts;
  std::vector<uint64_t> ends;
};

Segment MakeSegment(int records, uint64_t first_seq = kFirstSeq) {
  std::mt19937_64 rng(kSeed);
  Segment s;
  s.bytes = EncodeSegmentHeader(SegmentHeader{first_seq, 1});
  for (int i = 0; i < records; ++i) {
    engine::Mutation m{static_cast<int64_t>(i),
                       engine::RemoveConnection{static_cast<uint64_t>(i + 1),
                                                std::string(1 + rng() % 40, 'a' + i % 26),
                                                rng()}};
    std::string payload;
    EncodeMutation(m, &payload);
    s.starts.push_back(s.bytes.size());
    AppendRecord(first_seq + i, payload, &s.bytes);
    s.ends.push_back(s.bytes.size());
    s.payloads.push_back(payload);
  }
  return s;
}

class LogReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.CreateDir("wal").ok()); }

  void Write(const std::string& path, absl::string_view bytes) {
    auto file = fs_.OpenForAppend(path, /*truncate=*/true);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Append(bytes).ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  // Writes `bytes` as a segment and scans it, collecting what was delivered.
  SegmentScan Scan(absl::string_view bytes, Delivered* out) {
    Write(kPath, bytes);
    absl::StatusOr<SegmentScan> scan =
        ScanSegment(&fs_, kPath, [out](const LogRecordRef& r) {
          out->seqs.push_back(r.seq);
          out->payloads.emplace_back(r.payload);
          out->offsets.push_back(r.offset);
          return absl::OkStatus();
        });
    EXPECT_TRUE(scan.ok()) << scan.status();
    return scan.ok() ? *scan : SegmentScan{};
  }

  // The first `n` records of `s` were delivered, and nothing else.
  static void ExpectPrefix(const Segment& s, const SegmentScan& scan, const Delivered& d,
                           size_t n) {
    ASSERT_EQ(scan.records, n);
    ASSERT_EQ(d.seqs.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(d.seqs[i], kFirstSeq + i);
      EXPECT_EQ(d.payloads[i], s.payloads[i]);
      EXPECT_EQ(d.offsets[i], s.starts[i]);
    }
    EXPECT_EQ(scan.valid_bytes, n == 0 ? kSegmentHeaderBytes : s.ends[n - 1]);
    EXPECT_EQ(scan.next_seq, kFirstSeq + n);
    EXPECT_EQ(scan.first_seq, n == 0 ? 0 : kFirstSeq);
    EXPECT_EQ(scan.last_seq, n == 0 ? 0 : kFirstSeq + n - 1);
  }

  static constexpr char kPath[] = "wal/00000000000000001000.log";
  FaultInjectingFileSystem fs_;
};

TEST_F(LogReaderTest, CleanSegment) {
  const Segment s = MakeSegment(5);
  Delivered d;
  const SegmentScan scan = Scan(s.bytes, &d);
  EXPECT_EQ(scan.tail, Tail::kClean);
  EXPECT_EQ(scan.path, kPath);
  EXPECT_EQ(scan.header.first_seq, kFirstSeq);
  EXPECT_EQ(scan.header.email_policy, 1);
  EXPECT_EQ(scan.file_bytes, s.bytes.size());
  EXPECT_EQ(scan.dropped_bytes(), 0u);
  EXPECT_TRUE(scan.problem.empty());
  ExpectPrefix(s, scan, d, 5);
  for (const std::string& p : d.payloads) EXPECT_TRUE(DecodeMutation(p).ok());
}

TEST_F(LogReaderTest, HeaderOnlySegmentIsClean) {
  const Segment s = MakeSegment(0);
  Delivered d;
  const SegmentScan scan = Scan(s.bytes, &d);
  EXPECT_EQ(scan.tail, Tail::kClean);
  ExpectPrefix(s, scan, d, 0);
}

// A crash can cut the file anywhere: every cut delivers exactly the records that
// were complete and classifies the rest as torn (never corrupt).
TEST_F(LogReaderTest, TruncationAtEveryOffsetIsTorn) {
  const Segment s = MakeSegment(4);
  for (size_t cut = 0; cut <= s.bytes.size(); ++cut) {
    SCOPED_TRACE(absl::StrCat("cut at ", cut));
    Delivered d;
    const SegmentScan scan = Scan(s.bytes.substr(0, cut), &d);
    EXPECT_EQ(scan.file_bytes, cut);
    if (cut < kSegmentHeaderBytes) {
      EXPECT_EQ(scan.tail, Tail::kTorn);
      EXPECT_EQ(scan.valid_bytes, 0u);
      EXPECT_EQ(scan.records, 0u);
      EXPECT_EQ(scan.bad_offset, 0u);
      continue;
    }
    size_t complete = 0;
    while (complete < s.ends.size() && s.ends[complete] <= cut) ++complete;
    ExpectPrefix(s, scan, d, complete);
    const bool on_boundary = cut == scan.valid_bytes;
    EXPECT_EQ(scan.tail, on_boundary ? Tail::kClean : Tail::kTorn) << scan.problem;
    if (!on_boundary) {
      EXPECT_EQ(scan.bad_offset, s.starts[complete]);
      EXPECT_EQ(scan.dropped_bytes(), cut - s.starts[complete]);
    }
    if (HasFailure()) return;
  }
}

TEST_F(LogReaderTest, FlippedByteInMiddleRecordIsCorrupt) {
  const Segment s = MakeSegment(4);
  const size_t victim = 1;
  // Every bit of the CRC, seq and payload; the length's lowest bit (a flip in a
  // higher length byte can make the record run past EOF, which is torn by rule).
  for (uint64_t off = s.starts[victim]; off < s.ends[victim]; ++off) {
    for (int bit = 0; bit < 8; ++bit) {
      if (off < s.starts[victim] + 4 && (off != s.starts[victim] || bit != 0)) continue;
      SCOPED_TRACE(absl::StrCat("flip bit ", bit, " of byte ", off));
      std::string bytes = s.bytes;
      bytes[off] ^= static_cast<char>(1 << bit);
      Delivered d;
      const SegmentScan scan = Scan(bytes, &d);
      EXPECT_EQ(scan.tail, Tail::kCorrupt);
      EXPECT_EQ(scan.bad_offset, s.starts[victim]);
      EXPECT_THAT(scan.problem,
                  ::testing::StartsWith(absl::StrCat("record at offset ", s.starts[victim],
                                                     ": checksum mismatch (")));
      ExpectPrefix(s, scan, d, victim);
      if (HasFailure()) return;
    }
  }
}

// The documented rule: a bad checksum on the file's last record is a torn append.
TEST_F(LogReaderTest, FlippedByteInLastRecordIsTorn) {
  const Segment s = MakeSegment(3);
  const size_t last = 2;
  for (uint64_t off = s.starts[last] + 4; off < s.ends[last]; ++off) {
    SCOPED_TRACE(absl::StrCat("flip byte ", off));
    std::string bytes = s.bytes;
    bytes[off] ^= 0x20;
    Delivered d;
    const SegmentScan scan = Scan(bytes, &d);
    EXPECT_EQ(scan.tail, Tail::kTorn);
    EXPECT_EQ(scan.bad_offset, s.starts[last]);
    EXPECT_THAT(scan.problem, HasSubstr("checksum mismatch on the last record"));
    ExpectPrefix(s, scan, d, last);
    if (HasFailure()) return;
  }
}

TEST_F(LogReaderTest, ZeroFilledTailIsTorn) {
  const Segment s = MakeSegment(3);
  for (size_t zeros : {1, 15, 16, 17, 100, 4096}) {
    SCOPED_TRACE(absl::StrCat(zeros, " zero bytes"));
    Delivered d;
    const SegmentScan scan = Scan(s.bytes + std::string(zeros, '\0'), &d);
    EXPECT_EQ(scan.tail, Tail::kTorn);
    EXPECT_EQ(scan.bad_offset, s.bytes.size());
    EXPECT_EQ(scan.dropped_bytes(), zeros);
    EXPECT_EQ(scan.problem, absl::StrCat("record at offset ", s.bytes.size(),
                                         ": zero-filled tail of ", zeros, " bytes"));
    ExpectPrefix(s, scan, d, 3);
  }
  // Right after the header, too.
  Delivered d;
  const SegmentScan scan = Scan(MakeSegment(0).bytes + std::string(64, '\0'), &d);
  EXPECT_EQ(scan.tail, Tail::kTorn);
  EXPECT_EQ(scan.valid_bytes, kSegmentHeaderBytes);
}

// A last record whose tail blocks were zero-filled by the file system: torn.
TEST_F(LogReaderTest, BadLastRecordFollowedByZerosIsTorn) {
  const Segment s = MakeSegment(3);
  std::string bytes = s.bytes;
  std::fill(bytes.begin() + s.ends[2] - 3, bytes.end(), '\0');
  bytes += std::string(50, '\0');
  Delivered d;
  const SegmentScan scan = Scan(bytes, &d);
  EXPECT_EQ(scan.tail, Tail::kTorn);
  EXPECT_EQ(scan.bad_offset, s.starts[2]);
  ExpectPrefix(s, scan, d, 2);
}

TEST_F(LogReaderTest, BadLengthFollowedByDataIsCorrupt) {
  const Segment s = MakeSegment(3);
  for (uint32_t length : {0u, kMaxPayloadBytes + 1, 0xffffffffu}) {
    SCOPED_TRACE(absl::StrCat("length ", length));
    std::string bytes = s.bytes;
    std::memcpy(bytes.data() + s.starts[1], &length, 4);
    Delivered d;
    const SegmentScan scan = Scan(bytes, &d);
    EXPECT_EQ(scan.tail, Tail::kCorrupt);
    EXPECT_EQ(scan.bad_offset, s.starts[1]);
    EXPECT_THAT(scan.problem, HasSubstr(absl::StrCat("bad payload length ", length)));
    ExpectPrefix(s, scan, d, 1);
  }
}

TEST_F(LogReaderTest, BadHeaderIsCorruptAtZero) {
  const Segment s = MakeSegment(2);
  std::string bad_magic = s.bytes;
  bad_magic[0] = 'X';
  std::string bad_crc = s.bytes;
  bad_crc[8] ^= 1;  // first_seq, covered by the header CRC.
  for (const std::string& bytes : {bad_magic, bad_crc}) {
    Delivered d;
    const SegmentScan scan = Scan(bytes, &d);
    EXPECT_EQ(scan.tail, Tail::kCorrupt);
    EXPECT_EQ(scan.bad_offset, 0u);
    EXPECT_EQ(scan.valid_bytes, 0u);
    EXPECT_EQ(scan.records, 0u);
    EXPECT_THAT(scan.problem, HasSubstr("segment header"));
    EXPECT_TRUE(d.seqs.empty());
  }
}

TEST_F(LogReaderTest, SequenceDiscontinuityIsCorrupt) {
  // 1000, 1001, 1003: a gap.
  std::string bytes = EncodeSegmentHeader(SegmentHeader{kFirstSeq, 0});
  AppendRecord(kFirstSeq, "a", &bytes);
  AppendRecord(kFirstSeq + 1, "b", &bytes);
  const uint64_t third = bytes.size();
  AppendRecord(kFirstSeq + 3, "c", &bytes);
  AppendRecord(kFirstSeq + 4, "d", &bytes);
  Delivered d;
  SegmentScan scan = Scan(bytes, &d);
  EXPECT_EQ(scan.tail, Tail::kCorrupt);
  EXPECT_EQ(scan.bad_offset, third);
  EXPECT_EQ(scan.problem, absl::StrCat("record at offset ", third,
                                       ": sequence number 1003, expected 1002"));
  EXPECT_THAT(d.seqs, ElementsAre(kFirstSeq, kFirstSeq + 1));

  // The first record must carry the header's first_seq; a repeat is corrupt too.
  for (uint64_t first : {kFirstSeq - 1, kFirstSeq + 1}) {
    bytes = EncodeSegmentHeader(SegmentHeader{kFirstSeq, 0});
    AppendRecord(first, "a", &bytes);
    Delivered d2;
    scan = Scan(bytes, &d2);
    EXPECT_EQ(scan.tail, Tail::kCorrupt);
    EXPECT_EQ(scan.bad_offset, kSegmentHeaderBytes);
    EXPECT_TRUE(d2.seqs.empty());
  }
  bytes = EncodeSegmentHeader(SegmentHeader{kFirstSeq, 0});
  AppendRecord(kFirstSeq, "a", &bytes);
  AppendRecord(kFirstSeq, "a", &bytes);
  Delivered d3;
  scan = Scan(bytes, &d3);
  EXPECT_EQ(scan.tail, Tail::kCorrupt);
  EXPECT_EQ(scan.records, 1u);
}

TEST_F(LogReaderTest, CallbackErrorAbortsTheScan) {
  const Segment s = MakeSegment(5);
  Write(kPath, s.bytes);
  int calls = 0;
  absl::StatusOr<SegmentScan> scan = ScanSegment(&fs_, kPath, [&](const LogRecordRef& r) {
    ++calls;
    return r.seq == kFirstSeq + 2 ? absl::DataLossError("payload undecodable")
                                  : absl::OkStatus();
  });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(scan.status(), absl::DataLossError("payload undecodable"));
}

TEST_F(LogReaderTest, MissingFileIsNotFound) {
  absl::StatusOr<SegmentScan> scan =
      ScanSegment(&fs_, "wal/nope.log", [](const LogRecordRef&) { return absl::OkStatus(); });
  EXPECT_EQ(scan.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LogReaderTest, ListSegmentsSortsAndReportsForeignFiles) {
  for (uint64_t seq : {20u, 1u, 300u, 3u}) Write(JoinPath("wal", SegmentName(seq)), "");
  for (const char* foreign :
       {"LOCK", "notes.txt", "42.log", "+0000000000000000042.log",
        "00000000000000000007.log.tmp", "0000000000000000000x.log"}) {
    Write(JoinPath("wal", foreign), "x");
  }
  std::vector<std::string> ignored;
  absl::StatusOr<std::vector<SegmentInfo>> segments = ListSegments(&fs_, "wal", &ignored);
  ASSERT_TRUE(segments.ok()) << segments.status();
  std::vector<uint64_t> seqs;
  for (const SegmentInfo& s : *segments) {
    seqs.push_back(s.first_seq);
    EXPECT_EQ(s.name, SegmentName(s.first_seq));
    EXPECT_EQ(s.path, JoinPath("wal", s.name));
  }
  EXPECT_THAT(seqs, ElementsAre(1, 3, 20, 300));
  EXPECT_THAT(ignored, ::testing::UnorderedElementsAre(
                           "LOCK", "notes.txt", "42.log", "+0000000000000000042.log",
                           "00000000000000000007.log.tmp", "0000000000000000000x.log"));
  // Without an `ignored` list, foreign files are still skipped.
  EXPECT_EQ(ListSegments(&fs_, "wal")->size(), 4u);
  EXPECT_EQ(ListSegments(&fs_, "missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(SegmentTailNameTest, Names) {
  EXPECT_EQ(SegmentTailName(Tail::kClean), "clean");
  EXPECT_EQ(SegmentTailName(Tail::kTorn), "torn");
  EXPECT_EQ(SegmentTailName(Tail::kCorrupt), "corrupt");
}

}  // namespace
}  // namespace attrib::persistence
