// tools/restore_point_in_time.h
//
// `attrib-restore restore DIR --to NEW [--until-seq N | --until-time T]
// [--archive A]`: rebuilds the state of DIR (newest usable snapshot + the log
// after it, archived segments included when --archive is given) and writes it as
// the new data directory NEW (tools/restore_data_dir.h: one snapshot, verified by
// recovering it). DIR is only read (no lock).
//
//  --until-seq N   the state right after the change with sequence number N: the
//                  newest snapshot whose fences are all <= N, then the log up to N.
//                  A snapshot that holds changes past N cannot be used, so N before
//                  the snapshots needs the log from further back (an older snapshot,
//                  or the archive: give --archive).
//  --until-time T  the state after the last change made at or before T (RFC 3339
//                  or ms since the epoch): the log is scanned for the first change
//                  made after T, and the restore is --until-seq of the one before it
//                  (so snapshots are chosen by their fences, which are exact; a
//                  snapshot's creation time is not: it may hold changes made while it
//                  was being written). Changes are stamped when made, by the clock of
//                  the server that made them. When the oldest change still in the
//                  log was already made after T and older ones were compacted away,
//                  the state at T cannot be known: an error says so.
//  neither         everything (a compacted copy of DIR).
// When the log ends before the restore point, everything there is is restored, with
// a warning saying where the log ends.
//
// NEW must not exist or be empty; it gets DIR's META (email policy, shard count).
// attribd started on NEW continues the log after the restored state's last sequence
// number.
//
// Exit: 0 written and verified, 1 DIR cannot be recovered to that point or NEW
// cannot be written, 2 usage.
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_POINT_IN_TIME_H_
#define ATTRIB_TOOLS_RESTORE_POINT_IN_TIME_H_

#include "tools/restore_common.h"

namespace attrib::tools {

int RunRestore(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_POINT_IN_TIME_H_
