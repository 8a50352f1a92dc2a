// tools/attrib_restore.cc
//
// attrib-restore: the offline tool on a data directory (SPEC §8). `main` parses the
// flags into a RestoreOptions and dispatches over a table of subcommands; each is a
// Run* function of tools/restore_*.h (which the tests call directly).
//
// Exit status: 0 ok, 1 a problem found (verification failed, rows rejected,
// connections merged, a directory that cannot be read or written), 2 usage error.
//
// Thread-safety: a single-threaded program.
#include <unistd.h>

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/cli_values.h"
#include "tools/command_line.h"
#include "tools/restore_common.h"
#include "tools/restore_export.h"
#include "tools/restore_history.h"
#include "tools/restore_import.h"
#include "tools/restore_inspect.h"
#include "tools/restore_point_in_time.h"
#include "tools/restore_rekey.h"
#include "tools/restore_verify.h"

ABSL_FLAG(std::string, to, "", "restore/rekey/import: the target data directory.");
ABSL_FLAG(std::string, archive, "",
          "The directory attribd's --wal-archive points at: verify, restore, export and "
          "history also read the log segments archived there; import (into an existing "
          "directory) moves the segments its snapshot covers there instead of deleting them.");
ABSL_FLAG(uint64_t, shop, 0, "export: only this shop; import/history: the shop (> 0).");
ABSL_FLAG(std::string, email, "", "history: the customer's email (any spelling).");
ABSL_FLAG(std::string, external_id, "",
          "history: the customer's external id (instead of --email; issue 12).");
ABSL_FLAG(std::string, format, "", "export: csv or jsonl.");
ABSL_FLAG(std::string, out, "", "export: the output file (default stdout).");
ABSL_FLAG(uint64_t, until_seq, 0,
          "restore: the state right after the change with this sequence number.");
ABSL_FLAG(std::string, until_time, "",
          "restore: the state after the last change made at or before this time (ms since "
          "the epoch or RFC 3339, 2024-01-31T12:00:00Z).");
ABSL_FLAG(std::string, email_policy, "",
          "rekey: the new policy (provider | standard); import into a new directory: its "
          "policy (default provider).");
ABSL_FLAG(uint32_t, shards, 0, "import into a new directory: its shard count (default 256).");
ABSL_FLAG(absl::Duration, order_window, absl::Hours(24 * 120),
          "How long remembered orders are kept while the log is replayed (default 120 days, "
          "as attribd's): give attribd's --order_window, or a restored state may remember "
          "other orders than the server.");
ABSL_FLAG(std::string, source, "", "import: the connections' source (default import).");
ABSL_FLAG(std::string, mode, "", "import: if_absent (default) or reassign.");
ABSL_FLAG(bool, dry_run, false, "import: report what would happen; write nothing.");
ABSL_FLAG(bool, records, false, "inspect: print every record of a snapshot.");
ABSL_FLAG(bool, json, false, "import/history: JSON Lines output.");

namespace attrib::tools {
namespace {

struct Subcommand {
  const char* name;
  const char* synopsis;
  int (*run)(const RestoreOptions& options, const RestoreEnv& env);
};

constexpr Subcommand kSubcommands[] = {
    {"verify", "DIR [--archive=A]\n"
               "      Checks every snapshot and log segment (checksums, sequence continuity)\n"
               "      and recovers the directory read-only; prints a summary.",
     RunVerify},
    {"inspect", "FILE [--records]\n"
                "      A log segment (one line per record) or a snapshot (header, fences,\n"
                "      counts; --records: every record).",
     RunInspect},
    {"restore", "DIR --to=NEW [--until-seq=N | --until-time=T] [--archive=A]\n"
                "      Writes the state of DIR (at a sequence number or time) as a new\n"
                "      data directory.",
     RunRestore},
    {"export", "DIR [--shop=N] --format=csv|jsonl [--out=FILE]\n"
               "      The connections, by shop then canonical email.",
     RunExport},
    {"import", "FILE.csv|- --to=DIR --shop=N [--dry-run] [--source=import]\n"
               "      [--mode=if_absent|reassign] [--json] [--email-policy=P --shards=S]\n"
               "      Offline bulk load with attribctl import's CSV and report; DIR is an\n"
               "      existing data directory (not in use by attribd) or a new one.",
     RunOfflineImport},
    {"history", "DIR --shop=N --email=E|--external-id=X [--archive=A] [--json]\n"
                "      Every change to one customer's connection still in the log.",
     RunHistory},
    {"rekey", "DIR --to=NEW --email-policy=provider|standard\n"
              "      A copy keyed under another email policy; reports addresses that merge.",
     RunRekey},
};

std::string UsageText() {
  std::string text =
      "Usage: attrib-restore [FLAGS] SUBCOMMAND [ARGS...]\n"
      "Offline tool on an attrib data directory. Flags are written --name=value or\n"
      "--name value, anywhere on the line. Only import (into an existing directory)\n"
      "takes the directory's lock; every other subcommand reads without it.\n"
      "Common flags: --order-window=168h (attribd's), --archive=DIR (attribd's\n"
      "--wal-archive).\n\nSubcommands:\n";
  for (const Subcommand& s : kSubcommands) absl::StrAppend(&text, "  ", s.name, " ", s.synopsis, "\n");
  absl::StrAppend(&text,
                  "\nExit status: 0 ok; 1 a problem found (verify failed, rows rejected,\n"
                  "connections merged, a directory that cannot be read or written);\n"
                  "2 usage error.\n");
  return text;
}

absl::StatusOr<RestoreOptions> OptionsFromFlags(const CommandLine& line) {
  RestoreOptions o;
  o.args.assign(line.positional.begin() + 1, line.positional.end());
  o.to = absl::GetFlag(FLAGS_to);
  o.archive = absl::GetFlag(FLAGS_archive);
  o.shop = absl::GetFlag(FLAGS_shop);
  if (line.given.contains("shop") && o.shop == 0) {
    return absl::InvalidArgumentError("--shop: must be > 0");
  }
  o.email = absl::GetFlag(FLAGS_email);
  o.external_id = absl::GetFlag(FLAGS_external_id);
  o.format = absl::GetFlag(FLAGS_format);
  o.out = absl::GetFlag(FLAGS_out);
  o.until_seq = absl::GetFlag(FLAGS_until_seq);
  if (line.given.contains("until_seq") && o.until_seq == 0) {
    return absl::InvalidArgumentError("--until-seq: must be > 0 (sequence numbers start at 1)");
  }
  if (const std::string t = absl::GetFlag(FLAGS_until_time); !t.empty()) {
    absl::StatusOr<int64_t> ms = ParseTimeMs("--until-time", t);
    if (!ms.ok()) return ms.status();
    o.until_time_ms = *ms;
  }
  if (const std::string p = absl::GetFlag(FLAGS_email_policy); !p.empty()) {
    absl::StatusOr<engine::EmailPolicy> policy = engine::ParseEmailPolicy(p);
    if (!policy.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--email-policy: ", policy.status().message()));
    }
    o.email_policy = *policy;
  }
  if (line.given.contains("shards")) o.shards = absl::GetFlag(FLAGS_shards);
  const absl::Duration window = absl::GetFlag(FLAGS_order_window);
  if (window <= absl::ZeroDuration()) return absl::InvalidArgumentError("--order-window: must be > 0");
  o.order_window_ms = absl::ToInt64Milliseconds(window);
  o.source = absl::GetFlag(FLAGS_source);
  o.mode = absl::GetFlag(FLAGS_mode);
  o.dry_run = absl::GetFlag(FLAGS_dry_run);
  o.records = absl::GetFlag(FLAGS_records);
  o.json = absl::GetFlag(FLAGS_json);
  return o;
}


}  // namespace
}  // namespace attrib::tools

int main(int argc, char** argv) {
  using namespace attrib::tools;  // NOLINT: main only.
  return RunSubcommands(argc, argv, "attrib-restore", UsageText(), kSubcommands,
                        OptionsFromFlags,
                        [](const Subcommand& subcommand, const RestoreOptions& options) {
                          RestoreEnv env;
                          env.out = &std::cout;
                          env.err = &std::cerr;
                          env.progress = ::isatty(STDERR_FILENO) == 1;
                          return subcommand.run(options, env);
                        });
}
