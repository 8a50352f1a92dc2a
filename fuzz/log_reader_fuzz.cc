// fuzz/log_reader_fuzz.cc
//
// libFuzzer target for reading the write-ahead log: persistence/log_reader.h
// ScanSegment() on an in-memory file system (FaultInjectingFileSystem), then the
// mutation codec (persistence/mutation_codec.h) on every delivered payload and
// Engine::Apply() of what decodes, as recovery does. (This replaces the earlier,
// unwired persistence/mutation_codec_fuzz.cc: its checks are in CheckPayload.)
//
// The first input byte picks the mode:
//   even  the rest is a segment file, as is (the checksums keep random bytes from
//         ever verifying, so this exercises the framing and tail classification);
//   odd   the rest is payloads, each a 2-byte little-endian length then its bytes,
//         written as a well-formed segment with correct checksums, so the codec and
//         the engine see arbitrary payloads; a final byte past the records may
//         tear or extend the tail.
// Checks: never a crash, hang or throw; the scan's counts, sequence numbers and
// offsets agree with each other and with what was delivered; a payload decodes or
// fails with DataLoss, and what decodes re-encodes to at most its input size and
// decodes back to the same mutation; Apply() returns a status (any), never crashes.
//
// Thread-safety: libFuzzer calls the entry point from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_format.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"

namespace {

using attrib::engine::Mutation;
using attrib::persistence::SegmentScan;

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr uint64_t kFirstSeq = 1000;

void CheckPayload(absl::string_view payload, uint64_t seq, attrib::engine::Engine* engine) {
  using attrib::persistence::DecodeMutation;
  using attrib::persistence::EncodeMutation;
  absl::StatusOr<Mutation> decoded = DecodeMutation(payload);
  if (!decoded.ok()) {
    Check(absl::IsDataLoss(decoded.status()));  // Only DataLoss is allowed.
    return;
  }
  (void)attrib::persistence::DescribeMutation(*decoded);
  std::string encoded;
  EncodeMutation(*decoded, &encoded);
  absl::StatusOr<Mutation> again = DecodeMutation(encoded);
  Check(again.ok() && *again == *decoded);
  // Varints may be non-minimal in the input, never longer in the output.
  Check(encoded.size() <= payload.size());
  (void)engine->Apply(*decoded, seq);
}

// Builds a segment with correct checksums from length-prefixed payloads.
std::string BuildSegment(const uint8_t* data, size_t size) {
  std::string segment =
      attrib::persistence::EncodeSegmentHeader({kFirstSeq, /*email_policy=*/1});
  uint64_t seq = kFirstSeq;
  size_t at = 0;
  while (at + 2 <= size) {
    const size_t len = data[at] | (static_cast<size_t>(data[at + 1]) << 8);
    at += 2;
    if (len == 0 || len > size - at) {
      // The rest (a torn or garbage tail) goes in raw.
      segment.append(reinterpret_cast<const char*>(data) + at, size - at);
      return segment;
    }
    attrib::persistence::AppendRecord(
        seq++, absl::string_view(reinterpret_cast<const char*>(data) + at, len), &segment);
    at += len;
  }
  segment.append(reinterpret_cast<const char*>(data) + at, size - at);
  return segment;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool structured = data[0] & 1;
  const std::string bytes =
      structured ? BuildSegment(data + 1, size - 1)
                 : std::string(reinterpret_cast<const char*>(data) + 1, size - 1);

  attrib::persistence::FaultInjectingFileSystem fs;
  Check(fs.CreateDir("wal").ok());
  const std::string path = "wal/00000000000000001000.log";
  {
    auto file = fs.OpenForAppend(path, /*truncate=*/true);
    Check(file.ok());
    Check((*file)->Append(bytes).ok());
    Check((*file)->Close().ok());
  }

  attrib::engine::FakeClock clock(1'700'000'000'000);
  attrib::engine::EngineOptions options;
  options.shard_count = 4;
  options.clock = &clock;
  attrib::engine::Engine engine(options);

  uint64_t delivered = 0;
  uint64_t expected_seq = 0;
  uint64_t last_end = 0;
  absl::StatusOr<SegmentScan> scan = attrib::persistence::ScanSegment(
      &fs, path, [&](const attrib::persistence::LogRecordRef& r) {
        if (delivered == 0) {
          expected_seq = r.seq;
        }
        Check(r.seq == expected_seq);
        ++expected_seq;
        ++delivered;
        Check(!r.payload.empty());
        Check(r.offset >= last_end && r.offset < bytes.size());
        last_end = r.offset + r.payload.size();
        Check(last_end <= bytes.size());
        CheckPayload(r.payload, r.seq, &engine);
        return absl::OkStatus();
      });
  Check(scan.ok());  // The file exists and the callback never fails.
  const SegmentScan& s = *scan;
  Check(s.file_bytes == bytes.size());
  Check(s.valid_bytes <= s.file_bytes);
  Check(s.records == delivered);
  if (s.records > 0) {
    Check(s.first_seq == s.header.first_seq);
    Check(s.last_seq == s.first_seq + s.records - 1);
    Check(s.valid_bytes >= last_end);
  } else {
    Check(s.first_seq == 0 && s.last_seq == 0);
  }
  if (s.tail == SegmentScan::Tail::kClean) {
    Check(s.valid_bytes == s.file_bytes);
  } else {
    Check(!s.problem.empty());
    Check(s.bad_offset <= s.file_bytes);
  }
  (void)attrib::persistence::SegmentTailName(s.tail);
  return 0;
}
