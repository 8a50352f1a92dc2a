// tools/restore_common.h
//
// What the attrib-restore subcommands share: their options (main fills them once
// from the flags; tests fill them directly and call the Run* functions), where they
// write (RestoreEnv), progress on a terminal, and walking an engine's connections in
// (shop, canonical email) order.
//
// Every Run* function of tools/restore_*.h returns the tool's exit code
// (tools/cli_values.h): 0 ok, 1 a problem found (a check failed, rows rejected,
// connections merged, an I/O or data error), 2 usage error. Results go to env.out,
// errors to env.err as "attrib-restore: <subcommand>: <message>".
//
// Thread-safety: single-threaded, like the tool.
#ifndef ATTRIB_TOOLS_RESTORE_COMMON_H_
#define ATTRIB_TOOLS_RESTORE_COMMON_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/canonical_email.h"
#include "engine/engine.h"
#include "engine/types.h"
#include "persistence/file_system.h"
#include "tools/cli_values.h"

namespace attrib::tools {

struct RestoreOptions {
  std::vector<std::string> args;  // Positional arguments after the subcommand name.
  std::string to;                 // restore/rekey/import: the target directory.
  // The directory attribd's --wal-archive points at: verify, restore and history
  // read archived log segments from it; import (into an existing directory) moves
  // the segments its snapshot covers there instead of deleting them.
  std::string archive;
  uint64_t shop = 0;   // 0: not given.
  std::string email;   // history.
  std::string external_id;  // history, instead of email.
  std::string format;  // export: csv | jsonl.
  std::string out;     // export: the output file; empty or "-": env.out.
  uint64_t until_seq = 0;      // restore: 0 = not given.
  int64_t until_time_ms = 0;   // restore: 0 = not given.
  std::optional<engine::EmailPolicy> email_policy;  // rekey; import into a new dir.
  std::optional<uint32_t> shards;  // Import into a new dir (default 256).
  // The engine's order window for replay (attribd --order_window): remembered
  // orders are evicted by it while the log is replayed.
  engine::TimeMs order_window_ms = 120 * engine::kMsPerDay;  // As attribd's default.
  std::string source;  // import: default import.
  std::string mode;    // import: if_absent (default) | reassign.
  bool dry_run = false;
  bool records = false;  // inspect: every record of a snapshot.
  bool json = false;     // import: the report as JSON Lines.
};

struct RestoreEnv {
  persistence::FileSystem* fs = persistence::PosixFileSystem();
  std::ostream* out = nullptr;  // Results. Must be set.
  std::ostream* err = nullptr;  // Errors, warnings, progress. Must be set.
  bool progress = false;        // Show progress on *err (stderr is a terminal).
  // "Now" for the created_at of written snapshots and connect's default time.
  const engine::Clock* clock = engine::SystemClock::Get();

  // Prints "attrib-restore: <what>: <message>"; returns kExitFailed.
  int Fail(absl::string_view what, const absl::Status& status) const;
  int Fail(absl::string_view what, absl::string_view message) const;
  // Prints "attrib-restore: <message>" and a pointer to --help; returns kExitUsage.
  int Usage(absl::string_view message) const;
  // Prints "attrib-restore: <what>: WARNING: <message>".
  void Warn(absl::string_view what, absl::string_view message) const;
};

// A one-line progress display on env.err ("\r<what>: <done> of <total> ..."),
// redrawn at most four times a second; nothing unless env.progress.
class Progress {
 public:
  Progress(const RestoreEnv& env, std::string what);
  ~Progress() { Finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `unit`: "rows", "connections", ... `total` 0: unknown.
  void Update(uint64_t done, uint64_t total, absl::string_view unit);
  // Erases the line (once).
  void Finish();

 private:
  std::ostream* const err_;
  const bool enabled_;
  const std::string what_;
  absl::Time last_ = absl::InfinitePast();
  bool shown_ = false;
};

// Calls fn for every connection of `engine` (only those of `shop` unless it is 0),
// in (shop, canonical email) byte order. Memory: the keys only (about 24 bytes plus
// the canonical email per connection), not copies of the connections. The engine
// must not change meanwhile (an offline tool's engine).
void ForEachConnectionSorted(const engine::Engine& engine, engine::ShopId shop,
                             const std::function<void(const engine::Connection&)>& fn);

// One human line of a record, for inspect and history, e.g.
//   shop 1 janedoe@gmail.com (Jane.Doe@gmail.com): affiliate 42, source manual,
//   connected 2024-01-31T12:00:00Z, name "Jane", 3 orders, last order 2024-02-01T...
// Names are printed as JSON strings (quoted, control characters escaped).
std::string ConnectionLine(const engine::Connection& c);
std::string SettingsLine(engine::ShopId shop, const engine::ShopSettings& s);
std::string OrderLine(const engine::OrderRecord& o);
//   shop 1 affiliate 7 "Ann Lee": active, created 2026-12-01T20:00:00Z, emails a@x.com
std::string AffiliateLine(const engine::Affiliate& a);

// A CSV field per RFC 4180: quoted (with '"' doubled) when it holds ',', '"', CR or
// LF, as is otherwise.
std::string CsvField(absl::string_view text);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_COMMON_H_
