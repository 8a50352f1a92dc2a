// tools/restore_inspect.h
//
// `attrib-restore inspect FILE [--records]`: shows one file of a data directory,
// recognized by its magic bytes:
//  - a log segment: its header, then one line per record,
//      seq 42 @4128 2024-01-31T12:00:00.123Z connect shop 1 jane@x.com -> ...
//    (sequence number, byte offset, the time the change was made, and
//    persistence::DescribeMutation), then how the segment ends (clean, torn or
//    corrupt, with the offset and the bytes after the last good record);
//  - a snapshot: its header fields, the fences (settings; min..max over the
//    connection and order shards; where replay starts), the counts; with --records
//    every settings, connection and remembered-order record as one line.
// Exit: 0 the file reads cleanly (a torn segment tail included: only recovery knows
// whether it is the newest segment), 1 it is corrupt or unreadable, 2 usage.
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_INSPECT_H_
#define ATTRIB_TOOLS_RESTORE_INSPECT_H_

#include "tools/restore_common.h"

namespace attrib::tools {

int RunInspect(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_INSPECT_H_
