// persistence/snapshot_format.cc: the snapshot header and file names (format in
// snapshot_format.h).
#include "persistence/snapshot_format.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "persistence/crc32c.h"

namespace attrib::persistence {

using snapshot_internal::Get32;
using snapshot_internal::Get64;
using snapshot_internal::Put32;
using snapshot_internal::Put64;

std::string EncodeSnapshotHeader(const SnapshotHeader& h) {
  std::string out(kSnapshotHeaderBytes, '\0');
  char* p = out.data();
  std::memcpy(p, kSnapshotMagic, 8);
  Put32(p + 8, h.version);
  p[12] = static_cast<char>(h.email_policy);
  Put32(p + 16, h.connection_shards);
  Put32(p + 20, h.order_shards);
  Put64(p + 24, static_cast<uint64_t>(h.created_at_ms));
  Put64(p + 32, h.settings_fence);
  Put32(p + kSnapshotHeaderCrcOffset, MaskCrc(Crc32c(p, kSnapshotHeaderCrcOffset)));
  return out;
}

absl::StatusOr<SnapshotHeader> DecodeSnapshotHeader(absl::string_view bytes) {
  if (bytes.size() < kSnapshotHeaderBytes) {
    return absl::DataLossError(absl::StrCat("truncated at offset ", bytes.size(),
                                            " (the header is ", kSnapshotHeaderBytes,
                                            " bytes)"));
  }
  const char* p = bytes.data();
  if (std::memcmp(p, kSnapshotMagic, 8) != 0) {
    return absl::DataLossError("header at offset 0: not an attrib snapshot (bad magic)");
  }
  if (UnmaskCrc(Get32(p + kSnapshotHeaderCrcOffset)) !=
      Crc32c(p, kSnapshotHeaderCrcOffset)) {
    return absl::DataLossError("header at offset 0: checksum mismatch");
  }
  SnapshotHeader h;
  h.version = Get32(p + 8);
  if (h.version < kOldestReadableSnapshotVersion || h.version > kSnapshotVersion) {
    return absl::DataLossError(absl::StrCat(
        "header at offset 0: format version ", h.version, ", this build reads versions ",
        kOldestReadableSnapshotVersion, " to ", kSnapshotVersion,
        h.version > kSnapshotVersion ? " (written by a newer attrib?)" : ""));
  }
  if (p[13] != 0 || p[14] != 0 || p[15] != 0 || Get32(p + 40) != 0) {
    return absl::DataLossError("header at offset 0: reserved bytes are not zero");
  }
  h.email_policy = static_cast<uint8_t>(p[12]);
  h.connection_shards = Get32(p + 16);
  h.order_shards = Get32(p + 20);
  h.created_at_ms = static_cast<int64_t>(Get64(p + 24));
  h.settings_fence = Get64(p + 32);
  return h;
}

std::string SnapshotName(uint64_t oldest_fence) {
  return absl::StrFormat("%s%020u%s", kSnapshotPrefix, oldest_fence, kSnapshotSuffix);
}

std::string SnapshotTempName(uint64_t fence) {
  return absl::StrFormat("%s%020u%s", kSnapshotPrefix, fence, kSnapshotTempSuffix);
}

bool ParseSnapshotName(absl::string_view name, uint64_t* oldest_fence) {
  if (name.size() != kSnapshotPrefix.size() + 20 + kSnapshotSuffix.size() ||
      !absl::StartsWith(name, kSnapshotPrefix) || !absl::EndsWith(name, kSnapshotSuffix)) {
    return false;
  }
  const absl::string_view digits = name.substr(kSnapshotPrefix.size(), 20);
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(digits, oldest_fence);
}

bool IsSnapshotTempName(absl::string_view name) {
  return absl::StartsWith(name, kSnapshotPrefix) &&
         absl::EndsWith(name, kSnapshotTempSuffix);
}

}  // namespace attrib::persistence
