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

#include "absl/functional/function_ref.h"
#include "tools/attribctl_common.h"

namespace attrib::tools {

// Connects (or reuses *client), makes one call, checks the reply kind, prints it;
// returns the exit code. `email`, when set, names the email in a JSON error object.
// Shared by the subcommands here and attribctl_affiliates.cc.
int CallOnce(const CtlOptions& options, absl::string_view what, wire::Response::Which kind,
             absl::FunctionRef<absl::StatusOr<net::Reply>(net::Client&)> call,
             absl::FunctionRef<void(wire::Response::Reader)> print,
             std::unique_ptr<net::Client>* client = nullptr, absl::string_view email = "");

// Pages of a list: page(cursor, &next, &client) fetches and prints one page (through
// CallOnce with `client`) and sets the next page's cursor; repeated while there is
// one and --all is given, else the next cursor is printed (Output::NextCursor).
using PageFn = absl::FunctionRef<int(const std::string& cursor, std::string* next,
                                     std::unique_ptr<net::Client>* client)>;
int ForEachPage(const CtlOptions& options, std::string cursor, PageFn page);

// Usage errors of argument parsing travel as InvalidArgument statuses.
#define ATTRIBCTL_ASSIGN_OR_USAGE(lhs, expr)                          \
  auto lhs##_or = (expr);                                             \
  if (!lhs##_or.ok()) return UsageError(lhs##_or.status().message()); \
  auto lhs = *std::move(lhs##_or)

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

// The affiliate directory (attribctl_affiliates.cc).
int RunAffiliate(const CtlOptions& options);  // put|get|disable|enable|list|search ...
// Customer identifiers (attribctl_customers.cc).
int RunCustomer(const CtlOptions& options);  // show|link|unlink|merge ...
// After connect/attribute: what linking the email and external id did.
void PrintIdentityChange(const CtlOptions& options, wire::IdentityChange::Reader c);

// Server.
int RunStats(const CtlOptions& options);
int RunPing(const CtlOptions& options);
int RunSnapshot(const CtlOptions& options);
int RunPromote(const CtlOptions& options);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBCTL_COMMANDS_H_
