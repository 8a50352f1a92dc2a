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
// RunSubcommands() is the shared main of both tools: help, flag parsing, the
// subcommand lookup and the usage errors, so the two CLIs behave alike.
//
// Thread-safety: call from main only (it sets the process's flag values).
#ifndef ATTRIB_TOOLS_COMMAND_LINE_H_
#define ATTRIB_TOOLS_COMMAND_LINE_H_

#include <iostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tools/cli_values.h"

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

// Prints "<program>: <message>", a blank line and the usage text on stderr; returns
// kExitUsage.
inline int PrintUsageError(absl::string_view program, absl::string_view usage,
                           absl::string_view message) {
  std::cerr << program << ": " << message << "\n\n" << usage;
  return kExitUsage;
}

// The main of a subcommand tool. `subcommands` is an array of structs with a `name`;
// `to_options(line)` builds the tool's options from the parsed flags (an error is a
// usage error); `run(subcommand, options)` runs the chosen one and returns the exit
// code. "help", --help and -h print `usage`.
template <typename Subcommand, size_t N, typename ToOptions, typename Run>
int RunSubcommands(int argc, char** argv, absl::string_view program, const std::string& usage,
                   const Subcommand (&subcommands)[N], ToOptions&& to_options, Run&& run) {
  absl::SetProgramUsageMessage(usage);
  if (WantsHelp(argc, argv)) {
    std::cout << usage;
    return kExitOk;
  }
  absl::StatusOr<CommandLine> line = ParseCommandLine(argc, argv);
  if (!line.ok()) return PrintUsageError(program, usage, line.status().message());
  if (line->positional.empty()) return PrintUsageError(program, usage, "no subcommand given");
  const std::string& name = line->positional[0];
  if (name == "help") {
    std::cout << usage;
    return kExitOk;
  }
  for (const Subcommand& subcommand : subcommands) {
    if (name != subcommand.name) continue;
    auto options = to_options(*line);
    if (!options.ok()) return PrintUsageError(program, usage, options.status().message());
    return run(subcommand, *options);
  }
  return PrintUsageError(program, usage, absl::StrCat("unknown subcommand '", name, "'"));
}

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_COMMAND_LINE_H_
