// tools/restore_import.h
//
// `attrib-restore import FILE.csv|- --to DIR --shop N [--source import]
// [--mode if_absent|reassign] [--dry-run] [--json] [--archive A]
// [--email-policy P --shards S (new directory only)]`: the offline bulk load. The
// CSV, the per-row rules and the report are those of `attribctl import`
// (tools/import_rows.h); every row is an engine connect (source `import` unless
// --source says otherwise, mode if_absent unless --mode, connected_at from the CSV
// when given, else now).
//
// Into an EXISTING data directory (it has META): the directory is opened as attribd
// opens it (persistence::Durability: its lock, so a running attribd makes the import
// refuse, saying so; full recovery), every change is appended to its log (no fsync
// per row), and one snapshot at the end makes everything durable (it flushes the
// log first) and lets retention drop the segments it covers: deleted, or moved to
// --archive when given (give attribd's --wal-archive, or the archive loses them).
// Into a NEW directory (absent or empty): the rows go into an in-memory engine with
// --email-policy (default provider) and --shards (default 256), and the directory
// is written as `restore --to` writes one (tools/restore_data_dir.h): one snapshot
// fenced at the number of changes made, verified by recovering it.
// --dry-run: nothing is written and no lock is taken: the rows are applied to the
// directory's state recovered read-only (or to an empty engine for a new
// directory), and the report says what would happen.
//
// Throughput is reported on stderr (rows per minute). Progress on a terminal.
// Exit: 0 no row rejected; 1 some rows rejected, or the directory could not be
// opened, recovered or written; 2 usage error (flags, CSV header).
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_IMPORT_H_
#define ATTRIB_TOOLS_RESTORE_IMPORT_H_

#include "tools/restore_common.h"

namespace attrib::tools {

// (Named apart from attribctl's RunImport, its online counterpart.)
int RunOfflineImport(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_IMPORT_H_
