// tools/restore_verify.h
//
// `attrib-restore verify DIR [--archive A]`: checks a data directory completely
// without changing it (no lock; safe next to a running attribd):
//  1. META is readable;
//  2. every snapshot verifies (every checksum, structure and record;
//     ReadSnapshotInfo) and was made under META's email policy and shard count;
//  3. every log segment (wal/, and the archive when given) verifies record by
//     record, each record's payload decodes, the header matches its name and META's
//     policy, and consecutive segments continue each other's sequence numbers;
//  4. a full read-only recovery (newest snapshot + log) succeeds.
// It prints a summary: META, each snapshot (fences, counts), each segment (sequence
// range, records, bytes, how it ends), the recovered state (connections, remembered
// orders, shops with settings, last sequence number), then "verify: ok" or
// "verify: N problem(s)". Each problem names the file and, where there is one, the
// byte offset.
//
// A torn tail on the newest segment is what a crash mid-append leaves; attribd cuts
// it off at start (reporting the bytes). verify reports it as a warning, not a
// problem. Leftover snapshot temp files and unrecognized names are warnings too.
//
// Exit: 0 no problem, 1 a problem, 2 usage.
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_VERIFY_H_
#define ATTRIB_TOOLS_RESTORE_VERIFY_H_

#include "tools/restore_common.h"

namespace attrib::tools {

int RunVerify(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_VERIFY_H_
