// persistence/change_feed.cc: committed changes read back from the log (see the
// header).
#include "persistence/change_feed.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "persistence/crc32c.h"
#include "persistence/log_format.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"

namespace attrib::persistence {
namespace {

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The segments of the log and the archive, by first seq (a segment is in one of the
// two; the archive's are older).
absl::StatusOr<std::vector<SegmentInfo>> AllSegments(FileSystem* fs, const std::string& wal,
                                                     const std::string& archive) {
  absl::StatusOr<std::vector<SegmentInfo>> live = ListSegments(fs, wal);
  if (!live.ok()) return live.status();
  if (archive.empty() || !fs->Exists(archive)) return live;
  absl::StatusOr<std::vector<SegmentInfo>> old = ListSegments(fs, archive);
  if (!old.ok()) return old.status();
  for (SegmentInfo& s : *live) old->push_back(std::move(s));
  std::stable_sort(old->begin(), old->end(), [](const SegmentInfo& a, const SegmentInfo& b) {
    return a.first_seq < b.first_seq;
  });
  return old;
}

}  // namespace

ChangeFeed::ChangeFeed(FileSystem* fs, std::string wal_dir, std::string archive_dir)
    : fs_(fs), wal_dir_(std::move(wal_dir)), archive_dir_(std::move(archive_dir)) {}

absl::Status ChangeFeed::Map() {
  absl::StatusOr<std::unique_ptr<FileContents>> c = fs_->MapFile(path_);
  if (!c.ok()) return c.status();
  contents_ = *std::move(c);
  return absl::OkStatus();
}

absl::Status ChangeFeed::Seek(uint64_t seq) {
  absl::StatusOr<std::vector<SegmentInfo>> segments = AllSegments(fs_, wal_dir_, archive_dir_);
  if (!segments.ok()) return segments.status();
  if (segments->empty() || segments->front().first_seq > seq) {
    return absl::OutOfRangeError(absl::StrCat(
        "changes: seq ", seq, " is no longer in the log (oldest kept: ",
        segments->empty() ? 0 : segments->front().first_seq,
        "); start from a snapshot and follow from its sequence number"));
  }
  auto it = std::upper_bound(segments->begin(), segments->end(), seq,
                             [](uint64_t s, const SegmentInfo& info) {
                               return s < info.first_seq;
                             });
  const SegmentInfo& segment = *std::prev(it);
  path_ = segment.path;
  offset_ = kSegmentHeaderBytes;
  next_seq_ = segment.first_seq;
  if (absl::Status s = Map(); !s.ok()) return s;
  // Skip to `seq` within the segment (once per Seek; reading on uses the cursor).
  const absl::string_view file = contents_->bytes();
  while (next_seq_ < seq) {
    if (offset_ + kRecordHeaderBytes > file.size()) {
      return absl::OutOfRangeError(absl::StrCat("changes: seq ", seq,
                                                " is not in the log yet"));
    }
    offset_ += kRecordHeaderBytes + Load<uint32_t>(file.data() + offset_);
    ++next_seq_;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ChangeRecord>> ChangeFeed::Read(uint64_t from, uint64_t durable,
                                                           size_t max_records) {
  std::vector<ChangeRecord> out;
  if (from == 0) from = 1;
  if (from > durable || max_records == 0) return out;
  if (next_seq_ != from) {
    if (absl::Status s = Seek(from); !s.ok()) return s;
  }
  bool remapped = false;
  while (next_seq_ <= durable && out.size() < max_records) {
    absl::string_view file = contents_->bytes();
    // The end of this segment's records: the end of the file, or the zeros of a
    // preallocated, zero-filled tail (no record has length 0).
    if (offset_ + kRecordHeaderBytes > file.size() ||
        Load<uint32_t>(file.data() + offset_) == 0) {
      if (!remapped) {  // The segment grew since it was mapped.
        if (absl::Status s = Map(); !s.ok()) return s;
        remapped = true;
        continue;
      }
      // All of this segment is read: the log rolled into the next one.
      const uint64_t want = next_seq_;
      if (absl::Status s = Seek(want); !s.ok()) return s;
      if (path_ == "" || next_seq_ != want || offset_ != kSegmentHeaderBytes) {
        return absl::DataLossError(absl::StrCat("changes: seq ", want,
                                                " is missing from the log"));
      }
      remapped = false;
      continue;
    }
    const auto at = [&] { return absl::StrCat("changes: ", path_, " offset ", offset_, ": "); };
    const uint32_t length = Load<uint32_t>(file.data() + offset_);
    if (length > kMaxPayloadBytes) {
      return absl::DataLossError(absl::StrCat(at(), "bad payload length ", length));
    }
    if (offset_ + kRecordHeaderBytes + length > file.size()) {
      if (!remapped) {
        if (absl::Status s = Map(); !s.ok()) return s;
        remapped = true;
        continue;
      }
      return absl::DataLossError(absl::StrCat(at(), "record runs past the end of the file"));
    }
    const char* record = file.data() + offset_;
    if (UnmaskCrc(Load<uint32_t>(record + 4)) !=
        Crc32c(record + kRecordCrcCoverageOffset,
               kRecordHeaderBytes - kRecordCrcCoverageOffset + length)) {
      return absl::DataLossError(absl::StrCat(at(), "checksum mismatch"));
    }
    const uint64_t seq = Load<uint64_t>(record + 8);
    if (seq != next_seq_) {
      return absl::DataLossError(
          absl::StrCat(at(), "sequence number ", seq, ", expected ", next_seq_));
    }
    absl::StatusOr<engine::Mutation> m =
        DecodeMutation(absl::string_view(record + kRecordHeaderBytes, length));
    if (!m.ok()) return absl::DataLossError(absl::StrCat(at(), m.status().message()));
    out.push_back(ChangeRecord{seq, *std::move(m)});
    offset_ += kRecordHeaderBytes + length;
    ++next_seq_;
  }
  return out;
}

}  // namespace attrib::persistence
