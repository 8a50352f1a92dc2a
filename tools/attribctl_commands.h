// tools/attribctl_commands.h
//
// The attribctl subcommands that talk to a server, one function each: they read
// their positional arguments and flags from CtlOptions, make one synchronous call
// (list --all and lookup of many emails make several), print the results through
// Output and return the process exit code (tools/attribctl_common.h). `import` is
// in attribctl_import.h.
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_ATTRIBCTL_COMMANDS_H_
#define ATTRIB_TOOLS_ATTRIBCTL_COMMANDS_H_

#include "tools/attribctl_common.h"

namespace attrib::tools {

// Connections (SPEC §3).
int RunConnect(const CtlOptions& options);     // EMAIL AFFILIATE
int RunDisconnect(const CtlOptions& options);  // EMAIL
int RunLookup(const CtlOptions& options);      // EMAIL... | -
int RunList(const CtlOptions& options);
int RunCount(const CtlOptions& options);

// Settings (SPEC §4).
int RunSettings(const CtlOptions& options);    // get | set KEY=VALUE...

// Orders (SPEC §5).
int RunAttribute(const CtlOptions& options);   // ORDER_ID
int RunReverse(const CtlOptions& options);     // ORDER_ID
int RunExplain(const CtlOptions& options);     // ORDER_ID

// Server.
int RunStats(const CtlOptions& options);
int RunPing(const CtlOptions& options);
int RunSnapshot(const CtlOptions& options);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBCTL_COMMANDS_H_
