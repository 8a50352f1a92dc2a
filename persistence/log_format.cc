// persistence/log_format.cc: encoding of segment headers and records (format in the
// header).
#include "persistence/log_format.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "persistence/crc32c.h"

namespace attrib::persistence {
namespace {

void Put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void Put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
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

}  // namespace

std::string EncodeSegmentHeader(const SegmentHeader& h) {
  std::string out(kSegmentHeaderBytes, '\0');
  std::memcpy(out.data(), kSegmentMagic, 8);
  Put64(out.data() + 8, h.first_seq);
  out[16] = static_cast<char>(h.email_policy);
  Put32(out.data() + kSegmentHeaderCrcOffset,
        MaskCrc(Crc32c(out.data(), kSegmentHeaderCrcOffset)));
  return out;
}

absl::StatusOr<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return absl::DataLossError(absl::StrCat("segment header: ", bytes.size(),
                                            " bytes, a header is ", kSegmentHeaderBytes));
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, 8) != 0) {
    return absl::DataLossError("segment header: not an attrib log segment (bad magic)");
  }
  const uint32_t stored = UnmaskCrc(Get32(bytes.data() + kSegmentHeaderCrcOffset));
  if (stored != Crc32c(bytes.data(), kSegmentHeaderCrcOffset)) {
    return absl::DataLossError("segment header: checksum mismatch");
  }
  SegmentHeader h;
  h.first_seq = Get64(bytes.data() + 8);
  h.email_policy = static_cast<uint8_t>(bytes[16]);
  return h;
}

void AppendRecord(uint64_t seq, absl::string_view payload, std::string* out) {
  const size_t start = out->size();
  out->resize(start + kRecordHeaderBytes + payload.size());
  char* p = out->data() + start;
  Put32(p, static_cast<uint32_t>(payload.size()));
  Put64(p + 8, seq);
  std::memcpy(p + kRecordHeaderBytes, payload.data(), payload.size());
  Put32(p + 4, MaskCrc(Crc32c(p + kRecordCrcCoverageOffset, 8 + payload.size())));
}

std::string SegmentName(uint64_t first_seq) {
  return absl::StrFormat("%020u%s", first_seq, kSegmentSuffix);
}

bool ParseSegmentName(absl::string_view name, uint64_t* first_seq) {
  if (name.size() != 20 + kSegmentSuffix.size() ||
      name.substr(20) != kSegmentSuffix) {
    return false;
  }
  return absl::SimpleAtoi(name.substr(0, 20), first_seq);
}

}  // namespace attrib::persistence
