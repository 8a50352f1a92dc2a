// persistence/webhook_cursors.cc: durable webhook delivery cursors (see the header).
#include "persistence/webhook_cursors.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace attrib::persistence {

absl::Status WebhookCursors::Open() {
  if (fs_->Exists(dir_)) return absl::OkStatus();
  return fs_->CreateDir(dir_);
}

std::string WebhookCursors::PathOf(uint64_t endpoint_id) const {
  return JoinPath(dir_, absl::StrCat("ep_", endpoint_id, ".cursor"));
}

absl::StatusOr<std::optional<uint64_t>> WebhookCursors::Load(uint64_t endpoint_id) {
  const std::string path = PathOf(endpoint_id);
  if (!fs_->Exists(path)) return std::optional<uint64_t>();
  absl::StatusOr<std::string> text = fs_->ReadFile(path);
  if (!text.ok()) return text.status();
  uint64_t cursor = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &cursor)) {
    return absl::DataLossError(absl::StrCat(path, ": not a sequence number"));
  }
  return std::optional<uint64_t>(cursor);
}

absl::Status WebhookCursors::Save(uint64_t endpoint_id, uint64_t cursor) {
  const std::string path = PathOf(endpoint_id);
  const std::string temp = path + ".tmp";
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(temp, /*truncate=*/true);
  if (!f.ok()) return f.status();
  absl::Status s = (*f)->Append(absl::StrCat(cursor, "\n"));
  if (s.ok()) s = (*f)->Sync();
  const absl::Status closed = (*f)->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = fs_->Rename(temp, path);
  if (s.ok()) s = fs_->SyncDir(dir_);
  return s;
}

absl::Status WebhookCursors::Remove(uint64_t endpoint_id) {
  const std::string path = PathOf(endpoint_id);
  if (!fs_->Exists(path)) return absl::OkStatus();
  absl::Status s = fs_->Remove(path);
  if (s.ok()) s = fs_->SyncDir(dir_);
  return s;
}

}  // namespace attrib::persistence
