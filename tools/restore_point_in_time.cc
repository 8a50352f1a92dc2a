// tools/restore_point_in_time.cc: `attrib-restore restore` (see the header).
#include "tools/restore_point_in_time.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"
#include "tools/cli_values.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

// The restore point of --until-time T as a sequence number: the record before the
// first one stamped after T (nullopt: no record is). Recovery could stop at T by
// itself, but it can only judge a snapshot by its created_at, and a snapshot taken
// while writes went on may hold changes stamped after that; by sequence number the
// snapshot's fences decide exactly.
absl::StatusOr<std::optional<uint64_t>> LastSeqAtOrBefore(persistence::FileSystem* fs,
                                                          const std::string& path,
                                                          const std::string& archive,
                                                          engine::TimeMs t) {
  absl::StatusOr<std::unique_ptr<persistence::DataDir>> dir =
      persistence::DataDir::OpenReadOnly(fs, path);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::vector<LogSegment>> segments = ListLogSegments(fs, **dir, archive, nullptr);
  if (!segments.ok()) return segments.status();
  std::optional<uint64_t> found;
  uint64_t first_seq = 0;  // Of the oldest record in the files.
  for (const LogSegment& seg : *segments) {
    absl::StatusOr<persistence::SegmentScan> scan = persistence::ScanSegment(
        fs, seg.info.path, [&](const persistence::LogRecordRef& rec) -> absl::Status {
          if (first_seq == 0) first_seq = rec.seq;
          absl::StatusOr<engine::Mutation> m = persistence::DecodeMutation(rec.payload);
          if (m.ok() && m->made_at > t) {
            found = rec.seq - 1;
            return absl::CancelledError("found");
          }
          return absl::OkStatus();  // Undecodable: recovery names it.
        });
    if (found.has_value()) {
      if (*found + 1 == first_seq && first_seq > 1) {
        // The compacted changes before it may have been made after T too.
        return absl::FailedPreconditionError(absl::StrCat(
            "the oldest change in the log (seq ", first_seq, ") was made after ", IsoTime(t),
            ", and the changes before it are no longer in the log, so the state at that time "
            "cannot be known",
            archive.empty() ? " (if attribd ran with --wal-archive, give it as --archive)" : ""));
      }
      return found;
    }
    if (!scan.ok()) return scan.status();
    // A damaged segment: what follows is unknown here; recovery reports it.
    if (scan->tail == persistence::SegmentScan::Tail::kCorrupt) break;
  }
  return found;
}


}  // namespace

int RunRestore(const RestoreOptions& options, const RestoreEnv& env) {
  if (options.args.size() != 1) return env.Usage("restore: expected one data directory");
  if (options.to.empty()) return env.Usage("restore: --to=NEW is required");
  if (options.until_seq != 0 && options.until_time_ms != 0) {
    return env.Usage("restore: give --until-seq or --until-time, not both");
  }
  if (!options.archive.empty() && !env.fs->Exists(options.archive)) {
    return env.Fail("restore", absl::StrCat("--archive: ", options.archive, " does not exist"));
  }
  // Refuse before the long part, not after it.
  if (absl::Status s = CheckNewDataDir(env.fs, options.to); !s.ok()) {
    return env.Fail("restore", s);
  }
  persistence::RecoveryOptions ro;
  ro.until_seq = options.until_seq;
  ro.archive_dir = options.archive;
  bool before_everything = false;  // --until-time before the first change.
  if (options.until_time_ms != 0) {
    absl::StatusOr<std::optional<uint64_t>> seq =
        LastSeqAtOrBefore(env.fs, options.args[0], options.archive, options.until_time_ms);
    if (!seq.ok()) return env.Fail("restore", seq.status());
    if (seq->has_value()) {
      ro.until_seq = **seq;
      before_everything = ro.until_seq == 0;
    }
  }
  absl::StatusOr<LoadedDataDir> loaded =
      before_everything ? OpenEmptyDataDir(env.fs, options.args[0], options.order_window_ms)
                        : LoadDataDir(env.fs, options.args[0], ro, options.order_window_ms);
  if (!loaded.ok()) {
    std::string hint;
    if (options.until_seq != 0 || options.until_time_ms != 0) {
      hint = options.archive.empty()
                 ? " (a restore point before the snapshots needs the log from further back: "
                   "if attribd ran with --wal-archive, give it as --archive)"
                 : " (the log, archive included, does not reach back to the restore point)";
    }
    return env.Fail("restore", absl::StrCat(loaded.status().message(), hint));
  }
  const persistence::RecoveryReport& r = loaded->report;
  for (const std::string& w : r.warnings) env.Warn("restore", w);
  if (options.until_seq != 0 && loaded->last_seq() < options.until_seq) {
    env.Warn("restore", absl::StrCat("the log ends at seq ", loaded->last_seq(),
                                     ", before --until-seq ", options.until_seq,
                                     ": restoring everything there is"));
  }
  const uint64_t last_seq = loaded->last_seq();
  absl::StatusOr<WrittenDataDir> written =
      WriteNewDataDir(env.fs, options.to, *loaded->engine, last_seq, env.clock->NowMs(),
                      options.order_window_ms);
  if (!written.ok()) return env.Fail("restore", written.status());
  std::ostream& out = *env.out;
  out << "restored " << options.args[0] << " up to seq " << last_seq;
  if (options.until_time_ms != 0) {
    out << " (the last change made at or before " << IsoTime(options.until_time_ms) << ")";
  }
  out << " into " << options.to << "\n"
      << "  from " << (r.snapshot.empty() ? std::string("no snapshot") : r.snapshot) << " + "
      << r.replayed << " log records\n"
      << "  " << written->connections << " connections, " << written->orders
      << " remembered orders, " << written->shops_with_settings << " shops with settings\n"
      << "  snapshot " << written->snapshot.path << "; attribd continues the log at seq "
      << std::max<uint64_t>(last_seq, 1) + 1 << "\n";
  out.flush();
  return kExitOk;
}

}  // namespace attrib::tools
