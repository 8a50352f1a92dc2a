// persistence/log_format.h
//
// The write-ahead log's on-disk format, defined once here. All integers are
// little-endian.
//
// A data directory's log is a sequence of segment files DATA/wal/<first seq, 20
// digits>.log. A segment is a header followed by records:
//
//   Segment header (kSegmentHeaderBytes = 32):
//     offset size  field
//     0      8     magic "ATRBWAL1"
//     8      8     first_seq: the sequence number of the segment's first record
//     16     1     email policy (engine::EmailPolicy value) of the data directory
//     17     7     reserved, zero
//     24     4     reserved, zero
//     28     4     masked CRC32C of bytes [0, 28)
//
//   Record (kRecordHeaderBytes = 16, then the payload):
//     0      4     payload length N (1 <= N <= kMaxPayloadBytes)
//     4      4     masked CRC32C of bytes [8, 16 + N): the sequence number and payload
//     8      8     seq
//     16     N     payload: one engine::Mutation (persistence/mutation_codec.h)
//
// Invariants:
//  - Records of a segment have consecutive sequence numbers starting at first_seq;
//    the next segment starts at the last record's seq + 1 (a gap or overlap between
//    segments is corruption: a segment is missing or out of order).
//  - A record never spans two segments; segments roll at --wal_segment_bytes.
//  - Only the end of the newest segment can be torn by a crash: a record that runs
//    past the end of the file, or a bad CRC on the file's last record, or a zero
//    tail. Anything else that fails to verify is corruption, reported with file and
//    offset.
//
// CRCs are masked (crc32c.h) so that a CRC stored in checksummed data is not
// degenerate.
//
// Thread-safety: constants and pure functions.
#ifndef ATTRIB_PERSISTENCE_LOG_FORMAT_H_
#define ATTRIB_PERSISTENCE_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::persistence {

inline constexpr char kSegmentMagic[8] = {'A', 'T', 'R', 'B', 'W', 'A', 'L', '1'};
inline constexpr size_t kSegmentHeaderBytes = 32;
inline constexpr size_t kSegmentHeaderCrcOffset = 28;
inline constexpr size_t kRecordHeaderBytes = 16;
inline constexpr size_t kRecordCrcCoverageOffset = 8;  // CRC covers [8, 16 + N).
inline constexpr uint32_t kMaxPayloadBytes = 1 << 20;  // A mutation is < 2 KiB.
static_assert(kSegmentHeaderCrcOffset + 4 == kSegmentHeaderBytes);
static_assert(kRecordCrcCoverageOffset + 8 == kRecordHeaderBytes);

inline constexpr absl::string_view kWalDir = "wal";
inline constexpr absl::string_view kSegmentSuffix = ".log";

struct SegmentHeader {
  uint64_t first_seq = 0;
  uint8_t email_policy = 0;
};

// The 32 header bytes.
std::string EncodeSegmentHeader(const SegmentHeader& h);
// DataLoss naming what is wrong (magic, CRC).
absl::StatusOr<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes);

// Appends one record (header + payload) to *out.
void AppendRecord(uint64_t seq, absl::string_view payload, std::string* out);

// "00000000000000000042.log" for first_seq 42; ParseSegmentName is its inverse.
std::string SegmentName(uint64_t first_seq);
bool ParseSegmentName(absl::string_view name, uint64_t* first_seq);

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_LOG_FORMAT_H_
