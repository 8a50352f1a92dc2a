// replication/epoch_file.h
//
// The node's replication epoch, kept in DATA/replication_epoch (issue 16): the
// fencing token of manual failover (attribctl promote). One line, "EPOCH START\n":
// the highest epoch this node has followed or been primary of, and, when it was
// promoted to that epoch, the sequence number its own writes as primary began at
// (0 when it only followed a primary of that epoch). Written atomically (a temporary
// file, fdatasync, rename, directory sync), so a crash leaves the old or the new
// line. A node that never followed a primary of an epoch and was never promoted has
// none: epoch 0.
//
// Why a file beside the log, not a log record: the epoch must survive log
// retention (snapshots let old segments go) and be known before recovery, when the
// replica says hello; the log itself is the primary's, shipped byte for byte.
//
// Thread-safety: pure functions over the file system (callers serialize writes).
#ifndef ATTRIB_REPLICATION_EPOCH_FILE_H_
#define ATTRIB_REPLICATION_EPOCH_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "persistence/file_system.h"

namespace attrib::replication {

struct EpochRecord {
  uint64_t epoch = 0;
  uint64_t start_seq = 0;  // First record of this node's own epoch (0: it followed).
  friend bool operator==(const EpochRecord&, const EpochRecord&) = default;
};

inline constexpr char kEpochFileName[] = "replication_epoch";

// {0, 0} when the file does not exist; DataLoss naming the file when it is not
// "EPOCH START".
absl::StatusOr<EpochRecord> ReadEpochFile(persistence::FileSystem* fs,
                                          const std::string& data_dir);
absl::Status WriteEpochFile(persistence::FileSystem* fs, const std::string& data_dir,
                            const EpochRecord& record);

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_EPOCH_FILE_H_
