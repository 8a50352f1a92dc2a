// tools/restore_verify.cc: `attrib-restore verify` (see the header).
#include "tools/restore_verify.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "persistence/data_dir.h"
#include "persistence/log_format.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"
#include "tools/cli_values.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

class Verifier {
 public:
  Verifier(const RestoreOptions& options, const RestoreEnv& env)
      : options_(options), env_(env), out_(*env.out) {}

  int Run() {
    const std::string& path = options_.args[0];
    absl::StatusOr<std::unique_ptr<persistence::DataDir>> dir =
        persistence::DataDir::OpenReadOnly(env_.fs, path);
    if (!dir.ok()) return env_.Fail("verify", dir.status());
    dir_ = *std::move(dir);
    out_ << "data directory " << path << ": email policy "
         << engine::EmailPolicyName(dir_->meta().email_policy) << ", "
         << dir_->meta().shard_count << " shards\n";
    CheckSnapshots();
    CheckLog();
    CheckRecovery();
    if (problems_ == 0) {
      out_ << "verify: ok";
      if (warnings_ > 0) out_ << " (" << warnings_ << (warnings_ == 1 ? " warning)" : " warnings)");
      out_ << "\n";
    } else {
      out_ << "verify: " << problems_ << (problems_ == 1 ? " problem" : " problems") << "\n";
    }
    out_.flush();
    return problems_ == 0 ? kExitOk : kExitFailed;
  }

 private:
  void Problem(absl::string_view text) {
    ++problems_;
    out_ << "  PROBLEM: " << text << "\n";
  }
  void Warning(absl::string_view text) {
    ++warnings_;
    out_ << "  WARNING: " << text << "\n";
  }

  void CheckSnapshots() {
    absl::StatusOr<std::vector<std::string>> snaps =
        persistence::ListSnapshots(env_.fs, dir_->snapshot_dir());
    if (!snaps.ok()) {
      out_ << "snapshots:\n";
      Problem(absl::StrCat(dir_->snapshot_dir(), ": ", snaps.status().message()));
      return;
    }
    out_ << "snapshots (" << snaps->size() << ", newest first):\n";
    if (env_.fs->Exists(dir_->snapshot_dir())) {
      absl::StatusOr<std::vector<std::string>> names = env_.fs->ListDir(dir_->snapshot_dir());
      if (names.ok()) {
        for (const std::string& name : *names) {
          const std::string p = persistence::JoinPath(dir_->snapshot_dir(), name);
          if (std::find(snaps->begin(), snaps->end(), p) != snaps->end()) continue;
          Warning(absl::StrCat(p, ": not a snapshot name",
                               absl::EndsWith(name, ".tmp")
                                   ? " (a snapshot that was being written; attribd removes it)"
                                   : " (ignored)"));
        }
      }
    }
    Progress progress(env_, "verify snapshots");
    for (size_t i = 0; i < snaps->size(); ++i) {
      progress.Update(i, snaps->size(), "snapshots");
      const std::string& p = (*snaps)[i];
      absl::StatusOr<persistence::SnapshotInfo> info = persistence::ReadSnapshotInfo(env_.fs, p);
      if (!info.ok()) {
        out_ << "  " << p << "\n";
        Problem(info.status().message());
        continue;
      }
      out_ << "  " << p << ": " << info->bytes << " bytes, created " << IsoTime(info->created_at_ms)
           << ", fences " << info->oldest_fence << ".." << info->newest_fence << " (replay from seq "
           << info->oldest_fence + 1 << "), " << info->connections << " connections, "
           << info->settings << " shops with settings, " << info->orders << " orders\n";
      if (info->email_policy != static_cast<uint8_t>(dir_->meta().email_policy) ||
          info->shard_count != dir_->meta().shard_count) {
        Problem(absl::StrCat(p, ": made with email policy ", static_cast<int>(info->email_policy), " and ",
                             info->shard_count, " shards; META says ",
                             static_cast<int>(dir_->meta().email_policy), " and ",
                             dir_->meta().shard_count));
      }
    }
  }

  void CheckLog() {
    std::vector<std::string> ignored;
    absl::StatusOr<std::vector<LogSegment>> segments =
        ListLogSegments(env_.fs, *dir_, options_.archive, &ignored);
    if (!segments.ok()) {
      out_ << "log segments:\n";
      Problem(segments.status().message());
      return;
    }
    out_ << "log segments (" << segments->size() << "):\n";
    for (const std::string& p : ignored) Warning(absl::StrCat(p, ": not a segment name (ignored)"));
    Progress progress(env_, "verify log");
    uint64_t expected_next = 0;  // The next segment's first_seq; 0 before the first.
    for (size_t i = 0; i < segments->size(); ++i) {
      progress.Update(i, segments->size(), "segments");
      const LogSegment& seg = (*segments)[i];
      const bool last = i + 1 == segments->size();
      uint64_t undecodable = 0;
      std::string first_decode_error;
      absl::StatusOr<persistence::SegmentScan> scan = persistence::ScanSegment(
          env_.fs, seg.info.path, [&](const persistence::LogRecordRef& rec) {
            absl::StatusOr<engine::Mutation> m = persistence::DecodeMutation(rec.payload);
            if (!m.ok() && undecodable++ == 0) {
              first_decode_error = absl::StrCat("record seq ", rec.seq, " at offset ", rec.offset,
                                                ": ", m.status().message());
            }
            return absl::OkStatus();
          });
      if (!scan.ok()) {
        out_ << "  " << seg.info.path << "\n";
        Problem(scan.status().message());
        expected_next = 0;
        continue;
      }
      out_ << "  " << seg.info.path << (seg.archived ? " (archived)" : "") << ": ";
      if (scan->records > 0) {
        out_ << "seq " << scan->first_seq << ".." << scan->last_seq << ", ";
      } else {
        out_ << "no records, ";
      }
      out_ << scan->records << " records, " << scan->file_bytes << " bytes, "
           << persistence::SegmentTailName(scan->tail) << "\n";
      if (scan->tail == persistence::SegmentScan::Tail::kCorrupt) {
        Problem(absl::StrCat(seg.info.path, ": ", scan->problem, " (offset ", scan->bad_offset,
                             "; ", scan->dropped_bytes(), " bytes from there on unreadable)"));
      } else if (scan->tail == persistence::SegmentScan::Tail::kTorn) {
        const std::string text =
            absl::StrCat(seg.info.path, ": torn tail at offset ", scan->bad_offset, ", ",
                         scan->dropped_bytes(), " bytes (", scan->problem, ")");
        if (last) {
          Warning(absl::StrCat(text, "; attribd cuts them off at start"));
        } else {
          Problem(absl::StrCat(text, "; only the newest segment may end torn"));
        }
      }
      if (scan->valid_bytes > 0 && scan->header.first_seq != seg.info.first_seq) {
        Problem(absl::StrCat(seg.info.path, ": its header says first seq ", scan->header.first_seq,
                             ", its name ", seg.info.first_seq));
      }
      if (scan->valid_bytes > 0 &&
          scan->header.email_policy != static_cast<uint8_t>(dir_->meta().email_policy)) {
        Problem(absl::StrCat(seg.info.path, ": written under email policy ",
                             static_cast<int>(scan->header.email_policy), ", META says ",
                             engine::EmailPolicyName(dir_->meta().email_policy)));
      }
      if (undecodable > 0) {
        Problem(absl::StrCat(seg.info.path, ": ", undecodable,
                             " records pass their checksum but do not decode; the first: ",
                             first_decode_error));
      }
      if (expected_next != 0 && seg.info.first_seq != expected_next) {
        Problem(seg.info.first_seq > expected_next
                    ? absl::StrCat("log: records ", expected_next, "..", seg.info.first_seq - 1,
                                   " are missing (before ", seg.info.path, ")")
                    : absl::StrCat("log: ", seg.info.path, " starts at seq ", seg.info.first_seq,
                                   ", overlapping the previous segment (which ends at ",
                                   expected_next - 1, ")"));
      }
      expected_next = scan->next_seq;
    }
  }

  void CheckRecovery() {
    persistence::RecoveryOptions ro;
    ro.archive_dir = options_.archive;
    absl::StatusOr<LoadedDataDir> loaded =
        LoadDataDir(env_.fs, options_.args[0], ro, options_.order_window_ms);
    out_ << "recovery (read-only):\n";
    if (!loaded.ok()) {
      Problem(loaded.status().message());
      return;
    }
    const persistence::RecoveryReport& r = loaded->report;
    for (const std::string& w : r.warnings) {
      // A torn tail was counted above; a snapshot fallback is a problem already
      // reported with its snapshot.
      out_ << "  note: " << w << "\n";
    }
    const engine::EngineStats stats = loaded->engine->Stats();
    out_ << "  from " << (r.snapshot.empty() ? std::string("no snapshot") : r.snapshot) << " + "
         << r.replayed << " log records";
    if (r.replayed > 0) out_ << " (seq " << r.replay_from_seq << ".." << r.last_seq << ")";
    out_ << "\n  state at seq " << loaded->last_seq() << ": " << stats.connections
         << " connections, " << stats.remembered_orders << " remembered orders, "
         << stats.shops_with_settings << " shops with settings, " << stats.affiliates
         << " affiliates; attribd would continue the log at seq "
         << r.next_seq << "\n";
    uint64_t customers = 0;
    if (absl::Status s = loaded->engine->CheckIdentities(&customers); !s.ok()) {
      Problem(s.message());
    } else {
      out_ << "  identifier index: " << customers
           << " customers with several identifiers, consistent\n";
    }
    uint64_t entries = 0;
    if (absl::Status s = loaded->engine->CheckCustomerDirectory(&entries); !s.ok()) {
      Problem(s.message());
    } else {
      out_ << "  customer directory: " << entries
           << " customers, each at a live customer's primary key\n";
    }
  }

  const RestoreOptions& options_;
  const RestoreEnv& env_;
  std::ostream& out_;
  std::unique_ptr<persistence::DataDir> dir_;
  int problems_ = 0;
  int warnings_ = 0;
};

}  // namespace

int RunVerify(const RestoreOptions& options, const RestoreEnv& env) {
  if (options.args.size() != 1) return env.Usage("verify: expected one data directory");
  return Verifier(options, env).Run();
}

}  // namespace attrib::tools
