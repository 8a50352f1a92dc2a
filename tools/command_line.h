// tools/command_line.h
//
// Splits a tool's command line into positional arguments and Abseil flags, for
// attribctl and attrib-restore. Flags are parsed here rather than by
// absl::ParseCommandLine, which exits with status 1 on a bad flag value: for these
// tools 1 means "the operation found a problem", and a bad flag is a usage error
// (2, tools/cli_values.h) with a message naming the flag.
//
// Accepted forms: "--flag-name=value", "--flag_name value", "--bool", "--nobool",
// "-flag=value"; names may be kebab-case (the documented spelling) or snake_case
// (Abseil's). "--" ends the flags: everything after it is positional.
//
// Thread-safety: call from main only (it sets the process's flag values).
#ifndef ATTRIB_TOOLS_COMMAND_LINE_H_
#define ATTRIB_TOOLS_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace attrib::tools {

struct CommandLine {
  std::vector<std::string> positional;     // Subcommand name first.
  absl::flat_hash_set<std::string> given;  // Flag names (snake_case) on the line.
};

// Sets the flags named on the line; InvalidArgument naming an unknown flag, a flag
// without its value, or a value the flag does not accept.
absl::StatusOr<CommandLine> ParseCommandLine(int argc, char** argv);

// Whether --help (-help, -h) appears before any "--".
bool WantsHelp(int argc, char** argv);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_COMMAND_LINE_H_
