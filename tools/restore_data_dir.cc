// tools/restore_data_dir.cc: loading and writing whole data directories (see the
// header).
#include "tools/restore_data_dir.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace attrib::tools {

absl::StatusOr<LoadedDataDir> OpenEmptyDataDir(persistence::FileSystem* fs,
                                               const std::string& path,
                                               engine::TimeMs order_window_ms) {
  LoadedDataDir loaded;
  absl::StatusOr<std::unique_ptr<persistence::DataDir>> dir =
      persistence::DataDir::OpenReadOnly(fs, path);
  if (!dir.ok()) return dir.status();
  loaded.dir = *std::move(dir);
  engine::EngineOptions eo;
  eo.email_policy = loaded.dir->meta().email_policy;
  eo.shard_count = loaded.dir->meta().shard_count;
  eo.order_window_ms = order_window_ms;
  loaded.engine = std::make_unique<engine::Engine>(eo);
  return loaded;
}

absl::StatusOr<LoadedDataDir> LoadDataDir(persistence::FileSystem* fs, const std::string& path,
                                          persistence::RecoveryOptions options,
                                          engine::TimeMs order_window_ms) {
  absl::StatusOr<LoadedDataDir> opened = OpenEmptyDataDir(fs, path, order_window_ms);
  if (!opened.ok()) return opened.status();
  LoadedDataDir loaded = *std::move(opened);
  options.read_only = true;
  options.point_in_time = false;
  absl::StatusOr<persistence::RecoveryReport> report =
      persistence::Recover(fs, *loaded.dir, loaded.engine.get(), options);
  if (!report.ok()) return report.status();
  loaded.report = *std::move(report);
  return loaded;
}

absl::Status CheckNewDataDir(persistence::FileSystem* fs, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("no target directory given");
  if (!fs->Exists(path)) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> entries = fs->ListDir(path);
  if (!entries.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a readable directory (", entries.status().message(),
                     "); give a new directory"));
  }
  if (!entries->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " exists and is not empty (it holds ", (*entries)[0],
        entries->size() > 1 ? absl::StrCat(" and ", entries->size() - 1, " more") : "",
        "); give a new or empty directory: nothing is overwritten"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WrittenDataDir> WriteNewDataDir(persistence::FileSystem* fs,
                                               const std::string& path,
                                               const engine::Engine& engine,
                                               uint64_t last_seq, engine::TimeMs now_ms,
                                               engine::TimeMs order_window_ms) {
  if (absl::Status s = CheckNewDataDir(fs, path); !s.ok()) return s;
  const auto incomplete = [&path](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(s.message(), " (", path,
                                               " is incomplete: remove it before retrying)"));
  };
  persistence::DataDirMeta meta;
  meta.email_policy = engine.email_policy();
  meta.shard_count = engine.shard_count();
  WrittenDataDir written;
  {
    // Holding the lock while writing keeps a server from starting on a half-made
    // directory.
    absl::StatusOr<std::unique_ptr<persistence::DataDir>> dir =
        persistence::DataDir::Open(fs, path, meta);
    if (!dir.ok()) return incomplete(dir.status());
    const uint64_t fence = std::max<uint64_t>(last_seq, 1);
    absl::StatusOr<persistence::SnapshotInfo> info = persistence::WriteSnapshot(
        fs, (*dir)->snapshot_dir(), engine, [fence] { return fence; }, now_ms, nullptr);
    if (!info.ok()) return incomplete(info.status());
    written.snapshot = *info;

    // Verify: what attribd would load must be what we hold.
    absl::StatusOr<LoadedDataDir> check = LoadDataDir(fs, path, {}, order_window_ms);
    if (!check.ok()) {
      return incomplete(absl::DataLossError(absl::StrCat(
          "the new directory does not recover: ", check.status().message())));
    }
    const engine::EngineStats want = engine.Stats();
    const engine::EngineStats got = check->engine->Stats();
    written.connections = got.connections;
    written.orders = got.remembered_orders;
    written.shops_with_settings = got.shops_with_settings;
    if (got.connections != want.connections || got.remembered_orders != want.remembered_orders ||
        got.shops_with_settings != want.shops_with_settings) {
      return incomplete(absl::DataLossError(absl::StrCat(
          "the new directory recovers to ", got.connections, " connections, ",
          got.remembered_orders, " orders, ", got.shops_with_settings,
          " shops with settings; expected ", want.connections, ", ", want.remembered_orders,
          ", ", want.shops_with_settings)));
    }
    if (check->report.next_seq != fence + 1) {
      return incomplete(absl::DataLossError(
          absl::StrCat("the new directory's log would continue at seq ", check->report.next_seq,
                       ", expected ", fence + 1)));
    }
  }
  return written;
}

absl::StatusOr<std::vector<LogSegment>> ListLogSegments(persistence::FileSystem* fs,
                                                        const persistence::DataDir& dir,
                                                        const std::string& archive_dir,
                                                        std::vector<std::string>* ignored) {
  std::vector<LogSegment> segments;
  const auto add = [&](const std::string& wal, bool archived) -> absl::Status {
    std::vector<std::string> names;
    absl::StatusOr<std::vector<persistence::SegmentInfo>> list =
        persistence::ListSegments(fs, wal, &names);
    if (!list.ok()) return list.status();
    if (ignored != nullptr) {
      for (const std::string& n : names) ignored->push_back(persistence::JoinPath(wal, n));
    }
    for (persistence::SegmentInfo& s : *list) {
      const bool clash = std::any_of(segments.begin(), segments.end(), [&](const LogSegment& l) {
        return l.info.first_seq == s.first_seq;
      });
      if (!clash) segments.push_back({std::move(s), archived});
    }
    return absl::OkStatus();
  };
  if (fs->Exists(dir.wal_dir())) {
    if (absl::Status s = add(dir.wal_dir(), false); !s.ok()) return s;
  }
  if (!archive_dir.empty()) {
    if (!fs->Exists(archive_dir)) {
      return absl::NotFoundError(absl::StrCat("archive ", archive_dir, " does not exist"));
    }
    if (absl::Status s = add(archive_dir, true); !s.ok()) return s;
  }
  std::sort(segments.begin(), segments.end(), [](const LogSegment& a, const LogSegment& b) {
    return a.info.first_seq < b.info.first_seq;
  });
  return segments;
}

}  // namespace attrib::tools
