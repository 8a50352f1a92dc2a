// replication/epoch_file.cc: DATA/replication_epoch (see the header).
#include "replication/epoch_file.h"

#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace attrib::replication {

absl::StatusOr<EpochRecord> ReadEpochFile(persistence::FileSystem* fs,
                                          const std::string& data_dir) {
  const std::string path = persistence::JoinPath(data_dir, kEpochFileName);
  if (!fs->Exists(path)) return EpochRecord{};
  absl::StatusOr<std::string> text = fs->ReadFile(path);
  if (!text.ok()) return text.status();
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(*text), ' ');
  EpochRecord r;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &r.epoch) ||
      !absl::SimpleAtoi(parts[1], &r.start_seq)) {
    return absl::DataLossError(
        absl::StrCat(path, ": expected \"EPOCH START_SEQ\", got '", *text, "'"));
  }
  return r;
}

absl::Status WriteEpochFile(persistence::FileSystem* fs, const std::string& data_dir,
                            const EpochRecord& record) {
  const std::string path = persistence::JoinPath(data_dir, kEpochFileName);
  const std::string temp = path + ".tmp";
  absl::StatusOr<std::unique_ptr<persistence::WritableFile>> f =
      fs->OpenForAppend(temp, /*truncate=*/true);
  if (!f.ok()) return f.status();
  absl::Status s = (*f)->Append(absl::StrCat(record.epoch, " ", record.start_seq, "\n"));
  if (s.ok()) s = (*f)->Sync();
  const absl::Status closed = (*f)->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = fs->Rename(temp, path);
  if (s.ok()) s = fs->SyncDir(data_dir);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  return absl::OkStatus();
}

}  // namespace attrib::replication
