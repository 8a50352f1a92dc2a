// persistence/data_dir.cc: data directory layout, lock and META (see the header).
#include "persistence/data_dir.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace attrib::persistence {
namespace {

constexpr absl::string_view kMetaMagic = "attrib-data-dir 1";

}  // namespace

std::string EncodeMeta(const DataDirMeta& meta) {
  return absl::StrCat(kMetaMagic, "\nemail_policy ", engine::EmailPolicyName(meta.email_policy),
                      "\nshards ", meta.shard_count, "\n");
}

absl::StatusOr<DataDirMeta> DecodeMeta(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty() || lines[0] != kMetaMagic) {
    return absl::DataLossError("META: not an attrib data directory file (first line)");
  }
  DataDirMeta meta;
  bool have_policy = false, have_shards = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (absl::ConsumePrefix(&line, "email_policy ")) {
      absl::StatusOr<engine::EmailPolicy> p = engine::ParseEmailPolicy(line);
      if (!p.ok()) return absl::DataLossError(absl::StrCat("META: ", p.status().message()));
      meta.email_policy = *p;
      have_policy = true;
    } else if (absl::ConsumePrefix(&line, "shards ")) {
      if (!absl::SimpleAtoi(line, &meta.shard_count) || meta.shard_count == 0) {
        return absl::DataLossError(absl::StrCat("META: bad shard count '", line, "'"));
      }
      have_shards = true;
    }
  }
  if (!have_policy || !have_shards) {
    return absl::DataLossError("META: missing email_policy or shards");
  }
  return meta;
}

absl::StatusOr<DataDirMeta> ReadMeta(FileSystem* fs, const std::string& dir) {
  absl::StatusOr<std::string> text = fs->ReadFile(JoinPath(dir, "META"));
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(absl::StrCat(dir, " is not an attrib data directory (no META)"));
    }
    return text.status();
  }
  return DecodeMeta(*text);
}

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(FileSystem* fs, const std::string& dir,
                                                       const DataDirMeta& wanted) {
  if (absl::Status s = fs->CreateDir(dir); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<FileLock>> lock = fs->Lock(JoinPath(dir, "LOCK"));
  if (!lock.ok()) return lock.status();
  bool created = false;
  DataDirMeta meta = wanted;
  if (fs->Exists(JoinPath(dir, "META"))) {
    absl::StatusOr<DataDirMeta> stored = ReadMeta(fs, dir);
    if (!stored.ok()) return stored.status();
    if (stored->email_policy != wanted.email_policy) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", dir, " was made under --email_policy=",
          engine::EmailPolicyName(stored->email_policy), ", this server runs ",
          engine::EmailPolicyName(wanted.email_policy), ": start it with --email_policy=",
          engine::EmailPolicyName(stored->email_policy),
          ", or re-key the data with attrib-restore rekey"));
    }
    if (stored->shard_count != wanted.shard_count) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", dir, " was made with --shards=", stored->shard_count,
          ", this server runs ", wanted.shard_count, ": start it with --shards=",
          stored->shard_count));
    }
    meta = *stored;
  } else {
    // A new directory: META is written atomically (temp, sync, rename, sync dir).
    const std::string tmp = JoinPath(dir, "META.tmp");
    absl::StatusOr<std::unique_ptr<WritableFile>> f = fs->OpenForAppend(tmp, true);
    if (!f.ok()) return f.status();
    absl::Status s = (*f)->Append(EncodeMeta(wanted));
    if (s.ok()) s = (*f)->Sync();
    if (s.ok()) s = (*f)->Close();
    if (s.ok()) s = fs->Rename(tmp, JoinPath(dir, "META"));
    if (s.ok()) s = fs->SyncDir(dir);
    if (!s.ok()) return s;
    created = true;
  }
  for (const char* sub : {"wal", "snapshots"}) {
    if (absl::Status s = fs->CreateDir(JoinPath(dir, sub)); !s.ok()) return s;
  }
  // New directories are entries of their parents: make them durable too.
  if (absl::Status s = fs->SyncDir(dir); !s.ok()) return s;
  if (created) {
    if (absl::Status s = fs->SyncDir(DirName(dir)); !s.ok()) return s;
  }
  return std::unique_ptr<DataDir>(new DataDir(dir, meta, *std::move(lock), created));
}

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::OpenReadOnly(FileSystem* fs,
                                                               const std::string& dir) {
  absl::StatusOr<DataDirMeta> meta = ReadMeta(fs, dir);
  if (!meta.ok()) return meta.status();
  return std::unique_ptr<DataDir>(new DataDir(dir, *meta, nullptr, false));
}

}  // namespace attrib::persistence
