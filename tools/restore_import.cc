// tools/restore_import.cc: `attrib-restore import`, the offline bulk load (see the
// header).
#include "tools/restore_import.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "persistence/data_dir.h"
#include "persistence/durability.h"
#include "tools/cli_values.h"
#include "tools/import_rows.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

// Numbers the changes an in-memory import makes, as the log would: the snapshot of
// a new directory is fenced at the last one.
class CountingSink final : public engine::MutationSink {
 public:
  void OnMutation(const engine::Mutation&) override {
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> count_{0};
};

// Applies every row of `reader` to `engine`.
void ApplyRows(ImportRowReader& reader, engine::Engine& engine, ImportTally* tally,
               const RestoreEnv& env) {
  Progress progress(env, "import");
  ImportRow row;
  int64_t line = 0;
  while (reader.Next(tally, &row, &line)) {
    if ((tally->rows & 0xfff) == 0) progress.Update(tally->rows, 0, "rows");
    if (row.connects()) {
      absl::StatusOr<engine::ConnectResult> result = engine.Connect(row.connect);
      if (!result.ok()) {
        tally->Reject(line, row.label(), result.status());
        continue;
      }
      tally->Count(result->outcome);
      if (result->identity.linked) ++tally->linked;
    }
    // The customer's other identifiers (import_rows.h), in order.
    bool linked = true;
    for (const engine::CustomerRef& id : row.Links()) {
      absl::StatusOr<engine::CustomerInfo> info =
          engine.LinkIdentifier(row.connect.shop, row.customer(), id);
      if (!info.ok()) {
        tally->Reject(line, row.label(), LinkFailed(row, id, info.status()));
        linked = false;
        break;
      }
      ++tally->linked;
    }
    // Then its directory entry, last: a link absorbs entries, this is the result.
    if (linked && row.directory) {
      const absl::Status s =
          engine.ImportCustomerEntry(row.connect.shop, row.customer(), *row.directory);
      if (!s.ok()) {
        tally->Reject(line, row.label(), DirectoryEntryFailed(row, s));
        continue;
      }
      ++tally->directory;
    }
  }
}

class OfflineImport {
 public:
  OfflineImport(const RestoreOptions& options, const RestoreEnv& env)
      : options_(options), env_(env) {}

  int Run() {
    if (options_.args.size() != 1) return env_.Usage("import: expected one FILE.csv (or -)");
    if (options_.to.empty()) return env_.Usage("import: --to=DIR is required");
    if (options_.shop == 0) return env_.Usage("import: --shop=N is required (N > 0)");
    base_.shop = options_.shop;
    absl::StatusOr<engine::Source> source =
        engine::ParseSource(options_.source.empty() ? "import" : options_.source);
    if (!source.ok()) return env_.Usage(absl::StrCat("import: --source: ", source.status().message()));
    base_.source = *source;
    absl::StatusOr<engine::ConnectMode> mode =
        engine::ParseConnectMode(options_.mode.empty() ? "if_absent" : options_.mode);
    if (!mode.ok()) return env_.Usage(absl::StrCat("import: --mode: ", mode.status().message()));
    base_.mode = *mode;

    const std::string& path = options_.args[0];
    std::ifstream file;
    std::istream* in = &std::cin;
    if (path != "-") {
      file.open(path, std::ios::binary);
      if (!file) return env_.Usage(absl::StrCat("import: cannot open '", path, "'"));
      in = &file;
    }
    ImportRowReader reader(in, base_);
    if (absl::Status s = reader.ReadHeader(path); !s.ok()) return env_.Usage(s.message());

    start_ = std::chrono::steady_clock::now();
    const bool existing = env_.fs->Exists(persistence::JoinPath(options_.to, "META"));
    if (!existing) {
      if (absl::Status s = CheckNewDataDir(env_.fs, options_.to); !s.ok()) {
        return env_.Fail("import", absl::StrCat(s.message(), " (and it is not an attrib data "
                                                              "directory: it has no META)"));
      }
      return IntoNewDir(reader);
    }
    if (options_.email_policy.has_value() || options_.shards.has_value()) {
      // META decides for an existing directory; a flag that disagrees is a mistake.
      absl::StatusOr<persistence::DataDirMeta> meta = persistence::ReadMeta(env_.fs, options_.to);
      if (!meta.ok()) return env_.Fail("import", meta.status());
      if ((options_.email_policy.has_value() && *options_.email_policy != meta->email_policy) ||
          (options_.shards.has_value() && *options_.shards != meta->shard_count)) {
        return env_.Usage(absl::StrCat(
            "import: ", options_.to, " exists with email policy ",
            engine::EmailPolicyName(meta->email_policy), " and ", meta->shard_count,
            " shards; --email-policy and --shards only apply to a new directory"));
      }
    }
    return options_.dry_run ? DryRunExisting(reader) : IntoExistingDir(reader);
  }

 private:
  engine::EngineOptions NewEngineOptions(engine::MutationSink* sink) const {
    engine::EngineOptions eo;
    eo.email_policy = options_.email_policy.value_or(engine::EmailPolicy::kProvider);
    eo.shard_count = options_.shards.value_or(256);
    eo.order_window_ms = options_.order_window_ms;
    eo.clock = env_.clock;
    eo.sink = sink;
    return eo;
  }

  int IntoNewDir(ImportRowReader& reader) {
    const uint32_t shards = options_.shards.value_or(256);
    if (shards == 0 || shards > 65536 || (shards & (shards - 1)) != 0) {
      return env_.Usage(absl::StrCat("import: --shards: ", shards,
                                     " is not a power of two in [1, 65536]"));
    }
    CountingSink counter;
    engine::Engine engine(NewEngineOptions(&counter));
    ApplyRows(reader, engine, &tally_, env_);
    if (options_.dry_run) {
      return Report(absl::StrCat("dry run: nothing was written; ", options_.to,
                                 " would be a new data directory with ",
                                 engine.Stats().connections, " connections"));
    }
    absl::StatusOr<WrittenDataDir> written =
        WriteNewDataDir(env_.fs, options_.to, engine, counter.count(), env_.clock->NowMs(),
                        options_.order_window_ms);
    if (!written.ok()) {
      Report("");
      return env_.Fail("import", written.status());
    }
    return Report(absl::StrCat("created ", options_.to, ": ", written->connections,
                               " connections (email policy ",
                               engine::EmailPolicyName(engine.email_policy()), ", ",
                               engine.shard_count(), " shards, snapshot ",
                               written->snapshot.path, "); attribd continues its log at seq ",
                               written->snapshot.newest_fence + 1));
  }

  int DryRunExisting(ImportRowReader& reader) {
    persistence::RecoveryOptions ro;
    ro.archive_dir = options_.archive;
    absl::StatusOr<LoadedDataDir> loaded =
        LoadDataDir(env_.fs, options_.to, ro, options_.order_window_ms);
    if (!loaded.ok()) return env_.Fail("import", loaded.status());
    for (const std::string& w : loaded->report.warnings) env_.Warn("import", w);
    ApplyRows(reader, *loaded->engine, &tally_, env_);
    return Report(absl::StrCat("dry run: nothing was written to ", options_.to));
  }

  int IntoExistingDir(ImportRowReader& reader) {
    absl::StatusOr<persistence::DataDirMeta> meta = persistence::ReadMeta(env_.fs, options_.to);
    if (!meta.ok()) return env_.Fail("import", meta.status());
    persistence::DurabilityOptions d;
    d.data_dir = options_.to;
    d.meta = *meta;
    // Speed: no fsync per batch; the snapshot at the end flushes and syncs the log,
    // and nothing is acknowledged to anyone before it.
    d.fsync = persistence::FsyncPolicy::kNever;
    d.snapshot_every_bytes = 0;
    d.wal_archive = options_.archive;
    absl::StatusOr<std::unique_ptr<persistence::Durability>> durability =
        persistence::Durability::Open(env_.fs, d);
    if (!durability.ok()) {
      return env_.Fail("import", absl::StrCat(
                                     "cannot open ", options_.to, ": ",
                                     durability.status().message(),
                                     absl::IsFailedPrecondition(durability.status())
                                         ? " (while attribd runs, import through it with "
                                           "attribctl import)"
                                         : ""));
    }
    engine::EngineOptions eo;
    eo.email_policy = meta->email_policy;
    eo.shard_count = meta->shard_count;
    eo.order_window_ms = options_.order_window_ms;
    eo.clock = env_.clock;
    eo.sink = durability->get();
    engine::Engine engine(eo);
    absl::StatusOr<persistence::RecoveryReport> report = (*durability)->RecoverAndStart(&engine);
    if (!report.ok()) return env_.Fail("import", report.status());
    for (const std::string& w : report->warnings) env_.Warn("import", w);
    ApplyRows(reader, engine, &tally_, env_);
    absl::StatusOr<persistence::SnapshotInfo> snapshot = (*durability)->SnapshotNow();
    const absl::Status shutdown = (*durability)->Shutdown(/*final_snapshot=*/false);
    if (!snapshot.ok() || !shutdown.ok()) {
      Report("");
      return env_.Fail("import", absl::StrCat(
                                     "the rows were appended to the log of ", options_.to,
                                     " but ", !snapshot.ok() ? "the snapshot" : "closing the log",
                                     " failed: ",
                                     (!snapshot.ok() ? snapshot.status() : shutdown).message(),
                                     "; run `attrib-restore verify ", options_.to, "`"));
    }
    return Report(absl::StrCat("imported into ", options_.to, ": ", engine.Stats().connections,
                               " connections now; snapshot ", snapshot->path, " (seq ",
                               snapshot->newest_fence, ")"));
  }

  // The report (import_rows.h) and `outcome` on stdout, the throughput on stderr;
  // returns the exit code for the rows.
  int Report(absl::string_view outcome) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    WriteImportReport(&tally_, options_.json, *env_.out, [&](JsonObject& summary) {
      summary.Bool("dry_run", options_.dry_run).Str("data_dir", options_.to);
    });
    if (!options_.json && !outcome.empty()) *env_.out << outcome << "\n";
    env_.out->flush();
    *env_.err << "attrib-restore: import: " << tally_.rows << " rows in "
              << absl::StrFormat("%.2f", seconds) << " s";
    if (seconds > 0 && tally_.rows > 0) {
      *env_.err << absl::StrFormat(" (%.2fM rows/minute)", tally_.rows / seconds * 60 / 1e6);
    }
    *env_.err << "\n";
    return tally_.rejections.empty() ? kExitOk : kExitFailed;
  }

  const RestoreOptions& options_;
  const RestoreEnv& env_;
  engine::ConnectRequest base_;
  ImportTally tally_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

int RunOfflineImport(const RestoreOptions& options, const RestoreEnv& env) {
  return OfflineImport(options, env).Run();
}

}  // namespace attrib::tools
