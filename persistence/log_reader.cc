// persistence/log_reader.cc: segment listing and scanning (classification rules in
// the header).
//
// Thread-safety: free functions, no shared state.
#include "persistence/log_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "persistence/crc32c.h"

namespace attrib::persistence {
namespace {

uint32_t Get32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

bool AllZero(absl::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

// Ends the scan at `offset` with a classified tail.
void Stop(SegmentScan* scan, SegmentScan::Tail tail, uint64_t offset,
          std::string problem) {
  scan->tail = tail;
  scan->bad_offset = offset;
  scan->problem = std::move(problem);
}

}  // namespace

absl::string_view SegmentTailName(SegmentScan::Tail tail) {
  switch (tail) {
    case SegmentScan::Tail::kClean:
      return "clean";
    case SegmentScan::Tail::kTorn:
      return "torn";
    case SegmentScan::Tail::kCorrupt:
      return "corrupt";
  }
  return "unknown";
}

absl::StatusOr<SegmentScan> ScanSegment(
    FileSystem* fs, const std::string& path,
    const std::function<absl::Status(const LogRecordRef&)>& on_record) {
  absl::StatusOr<std::string> content = fs->ReadFile(path);
  if (!content.ok()) return content.status();
  const absl::string_view file(*content);

  SegmentScan scan;
  scan.path = path;
  scan.file_bytes = file.size();

  if (file.size() < kSegmentHeaderBytes) {
    // A segment is created and its header appended in one write; a crash can cut it.
    Stop(&scan, SegmentScan::Tail::kTorn, 0,
         absl::StrCat("segment header truncated: ", file.size(), " of ",
                      kSegmentHeaderBytes, " bytes"));
    return scan;
  }
  absl::StatusOr<SegmentHeader> header = DecodeSegmentHeader(file);
  if (!header.ok()) {
    Stop(&scan, SegmentScan::Tail::kCorrupt, 0, std::string(header.status().message()));
    return scan;
  }
  scan.header = *header;
  scan.next_seq = header->first_seq;

  uint64_t pos = kSegmentHeaderBytes;
  scan.valid_bytes = pos;
  while (pos < file.size()) {
    const absl::string_view rest = file.substr(pos);
    // Built only for the one record that stops the scan.
    const auto at = [pos] { return absl::StrCat("record at offset ", pos, ": "); };
    // A zero tail is checked first: it is what a file system leaves in blocks that
    // were allocated but never written, whatever record "length" they would spell.
    if (AllZero(rest)) {
      Stop(&scan, SegmentScan::Tail::kTorn, pos,
           absl::StrCat(at(), "zero-filled tail of ", rest.size(), " bytes"));
      break;
    }
    if (rest.size() < kRecordHeaderBytes) {
      Stop(&scan, SegmentScan::Tail::kTorn, pos,
           absl::StrCat(at(), "record header truncated: ", rest.size(), " of ",
                        kRecordHeaderBytes, " bytes"));
      break;
    }
    const uint32_t length = Get32(rest.data());
    if (length == 0 || length > kMaxPayloadBytes) {
      // The length field is written before anything after it, so an append cut short
      // never leaves a bad length followed by non-zero bytes.
      Stop(&scan, SegmentScan::Tail::kCorrupt, pos,
           absl::StrCat(at(), "bad payload length ", length, " (1..", kMaxPayloadBytes,
                        ")"));
      break;
    }
    const uint64_t record_bytes = kRecordHeaderBytes + uint64_t{length};
    if (record_bytes > rest.size()) {
      Stop(&scan, SegmentScan::Tail::kTorn, pos,
           absl::StrCat(at(), record_bytes, "-byte record runs past the end of the file (",
                        rest.size(), " bytes left)"));
      break;
    }
    const uint32_t stored_crc = UnmaskCrc(Get32(rest.data() + 4));
    const uint32_t actual_crc = Crc32c(rest.data() + kRecordCrcCoverageOffset,
                                       record_bytes - kRecordCrcCoverageOffset);
    if (stored_crc != actual_crc) {
      const absl::string_view after = rest.substr(record_bytes);
      if (AllZero(after)) {
        // The last record written (only zeros, or nothing, follow it): a torn append.
        Stop(&scan, SegmentScan::Tail::kTorn, pos,
             absl::StrCat(at(), "checksum mismatch on the last record",
                          after.empty() ? "" : absl::StrCat(" (", after.size(),
                                                            " zero bytes follow)")));
      } else {
        Stop(&scan, SegmentScan::Tail::kCorrupt, pos,
             absl::StrCat(at(), "checksum mismatch (", after.size(),
                          " bytes follow the record)"));
      }
      break;
    }
    const uint64_t seq = Get64(rest.data() + 8);
    if (seq != scan.next_seq) {
      Stop(&scan, SegmentScan::Tail::kCorrupt, pos,
           absl::StrCat(at(), "sequence number ", seq, ", expected ", scan.next_seq));
      break;
    }
    LogRecordRef ref;
    ref.seq = seq;
    ref.payload = rest.substr(kRecordHeaderBytes, length);
    ref.offset = pos;
    if (absl::Status s = on_record(ref); !s.ok()) return s;

    if (scan.records == 0) scan.first_seq = seq;
    scan.last_seq = seq;
    ++scan.records;
    ++scan.next_seq;
    pos += record_bytes;
    scan.valid_bytes = pos;
  }
  return scan;
}

absl::StatusOr<std::vector<SegmentInfo>> ListSegments(FileSystem* fs,
                                                      const std::string& wal_dir,
                                                      std::vector<std::string>* ignored) {
  absl::StatusOr<std::vector<std::string>> names = fs->ListDir(wal_dir);
  if (!names.ok()) return names.status();
  std::vector<SegmentInfo> segments;
  for (std::string& name : *names) {
    uint64_t first_seq = 0;
    // Exactly the canonical spelling: ParseSegmentName alone would also accept a
    // sign or spaces among the 20 characters, and two names for one first_seq would
    // make the order ambiguous.
    if (!ParseSegmentName(name, &first_seq) || SegmentName(first_seq) != name) {
      if (ignored != nullptr) ignored->push_back(std::move(name));
      continue;
    }
    SegmentInfo info;
    info.first_seq = first_seq;
    info.path = JoinPath(wal_dir, name);
    info.name = std::move(name);
    segments.push_back(std::move(info));
  }
  std::sort(segments.begin(), segments.end(),
            [](const SegmentInfo& a, const SegmentInfo& b) {
              return a.first_seq < b.first_seq;
            });
  return segments;
}

}  // namespace attrib::persistence
