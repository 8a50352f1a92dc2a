// persistence/log_reader.h
//
// Reading the write-ahead log (format: log_format.h): listing a log directory's
// segments and scanning one segment record by record, classifying how it ends.
//
// How a segment's end is classified (the first record that fails to verify decides;
// nothing after it is delivered):
//   kClean    every byte belongs to a verified record.
//   kTorn     what a crash in the middle of an append leaves behind, and nothing
//             else: a file shorter than a segment header; a record header or payload
//             that runs past the end of the file; a checksum mismatch on a record
//             that is the last non-zero bytes of the file (it ends at EOF, or only
//             zero bytes follow it: file systems zero-fill unwritten blocks); or a
//             tail of zero bytes.
//   kCorrupt  everything else: a bad segment header (bad_offset 0), a checksum
//             mismatch with non-zero bytes after the record, a length of 0 or over
//             kMaxPayloadBytes followed by non-zero bytes, a sequence number that is
//             not the previous one + 1 (the first must be the header's first_seq).
// Only the newest segment may legitimately be torn; whether a torn tail of an older
// segment is acceptable is the caller's (recovery's) decision, as is what to do with
// the bytes past valid_bytes: they are reported, never silently dropped here.
//
// Thread-safety: free functions; they may be called from any thread (FileSystem is
// thread-safe). A LogRecordRef's payload points into a buffer owned by ScanSegment
// and is valid only during the callback.
#ifndef ATTRIB_PERSISTENCE_LOG_READER_H_
#define ATTRIB_PERSISTENCE_LOG_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persistence/file_system.h"
#include "persistence/log_format.h"

namespace attrib::persistence {

// One verified record, as ScanSegment delivers it.
struct LogRecordRef {
  uint64_t seq = 0;
  absl::string_view payload;  // Valid only during the callback.
  uint64_t offset = 0;        // Of the record header in the file.
};

// What ScanSegment found in one segment file.
struct SegmentScan {
  enum class Tail { kClean, kTorn, kCorrupt };

  std::string path;
  SegmentHeader header;  // Default (first_seq 0) when the header did not verify.
  uint64_t file_bytes = 0;
  // The end of the last good record (or of the header when there is none; 0 when
  // the header is bad). Bytes [valid_bytes, file_bytes) were not delivered.
  uint64_t valid_bytes = 0;
  uint64_t records = 0;  // Delivered records.
  // Of the delivered records; both 0 when records == 0.
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  // The seq the next record of this segment would have: header.first_seq + records.
  uint64_t next_seq = 0;
  Tail tail = Tail::kClean;
  // kTorn/kCorrupt: where the first bad record (or the bad header) starts, and what
  // is wrong with it ("record at offset 4096: checksum mismatch").
  uint64_t bad_offset = 0;
  std::string problem;

  uint64_t dropped_bytes() const { return file_bytes - valid_bytes; }
};

absl::string_view SegmentTailName(SegmentScan::Tail tail);  // "clean", "torn", ...

// Reads `path` and calls on_record for each verified record, in order, stopping at
// the first record that fails to verify (classified in the result; not an error).
// Errors: the file system's (NotFound, Unavailable), or the first non-OK status
// on_record returns, which aborts the scan.
absl::StatusOr<SegmentScan> ScanSegment(
    FileSystem* fs, const std::string& path,
    const std::function<absl::Status(const LogRecordRef&)>& on_record);

// A segment file of a log directory.
struct SegmentInfo {
  uint64_t first_seq = 0;  // From its name.
  std::string name;        // "00000000000000000042.log"
  std::string path;        // JoinPath(wal_dir, name)
};

// The segments of `wal_dir`, sorted by first_seq. Entries whose name is not exactly
// SegmentName(n) for some n are not segments: they are skipped and, when `ignored` is
// given, their names are appended to it (so recovery can warn about them). Errors:
// ListDir's (NotFound when the directory does not exist).
absl::StatusOr<std::vector<SegmentInfo>> ListSegments(
    FileSystem* fs, const std::string& wal_dir,
    std::vector<std::string>* ignored = nullptr);

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_LOG_READER_H_
