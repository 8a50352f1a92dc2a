// tools/restore_history.h
//
// `attrib-restore history DIR --shop N --email E|--external-id X [--archive A]
// [--json]`: every change to one customer's connection that is still in the log
// (wal/, and the archive when given), oldest first. E is canonicalized under the
// directory's META policy, so any spelling of the address finds the customer; X
// names a customer by its external id (issue 12), and the customer is followed
// through its identifier links, unlinks and merges either way.
//
// One line per log record that touches (shop, canonical email):
//   seq 42  2024-01-31T12:00:00.123Z  connect shop 1 jane@x.com -> affiliate 7
//     (import, connected ...)  [affiliate none -> 7]
// (one line): the sequence number, when the change was made, the record
// (persistence::DescribeMutation: for connects also the source and connected-at),
// then the old and new affiliate. Records: connects, reassignments and disconnects
// of the key; orders of the customer (counted against the connection, or creating or
// moving it: [affiliate 7 -> 9]); reversals; affiliate directory entries (puts,
// disables) that carry the customer's email, and the disconnect such a put caused
// (on_customer_becomes_affiliate=disconnect: "the customer became affiliate 9"). An
// order or directory change that left the connection as it was shows
// [connection unchanged].
// --json: one object per change {"seq","made_at","time","change","old_affiliate",
// "new_affiliate"} (0 = none), then {"changes":N,"log_from_seq":F,...}.
//
// The log does not reach back forever: snapshots compact it. When it starts after
// seq 1, history says so, and shows the customer as the oldest snapshot holds them
// ("as of seq F: ..."), so the first logged change has a starting point.
//
// Reads without a lock (safe next to a running attribd). Exit: 0 (also when there
// is no change: "no change in the log"), 1 a segment or snapshot cannot be read or
// is corrupt (the changes found before the damage are printed), 2 usage (e.g. an
// invalid email, naming the rule).
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_HISTORY_H_
#define ATTRIB_TOOLS_RESTORE_HISTORY_H_

#include "tools/restore_common.h"

namespace attrib::tools {

int RunHistory(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_HISTORY_H_
