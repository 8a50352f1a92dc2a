// tools/attribctl.cc
//
// attribctl: the command-line client of attrib. `main` is a dispatcher over a table
// of subcommands; each subcommand gets the positional arguments after its name and
// reads the flags it needs. For now the only subcommand is the offline `canonical`,
// which prints the canonical form of emails (SPEC §2) without a server.
//
// Exit status: 0 when every request succeeded, 1 when one failed (e.g. an invalid
// email), 2 on a usage error (unknown subcommand or flag, missing arguments).
//
// Thread-safety: a single-threaded program.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/canonical_email.h"

ABSL_FLAG(std::string, email_policy, "provider",
          "Canonicalization policy of `canonical`: provider or standard (SPEC §2). "
          "Use the policy the server runs with, or the keys will not match.");

namespace attrib::tools {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Subcommand {
  const char* name;
  const char* synopsis;  // Arguments and one line of help, for the usage text.
  int (*run)(const std::vector<std::string>& args);
};

int RunCanonical(const std::vector<std::string>& args);

constexpr Subcommand kSubcommands[] = {
    {"canonical", "[--email-policy=provider|standard] EMAIL... | -\n"
                  "      Prints '<email>\\t<canonical>' or '<email>\\terror: <message>' per\n"
                  "      email, offline; '-' reads one email per line from stdin.",
     RunCanonical},
};

std::string UsageText() {
  std::string text =
      "Usage: attribctl [FLAGS] SUBCOMMAND [ARGS...]\n"
      "Flags are written --name=value (--email-policy or --email_policy); put `--`\n"
      "before arguments that start with '-'.\n\nSubcommands:\n";
  for (const Subcommand& s : kSubcommands) {
    absl::StrAppend(&text, "  ", s.name, " ", s.synopsis, "\n");
  }
  return text;
}

int UsageError(absl::string_view message) {
  std::cerr << "attribctl: " << message << "\n\n" << UsageText();
  return kExitUsage;
}

// Prints one result line; returns whether the email is valid.
bool PrintCanonical(absl::string_view input, engine::EmailPolicy policy) {
  engine::CanonicalBuffer canonical;
  const absl::Status status = engine::CanonicalizeInto(input, policy, &canonical);
  if (status.ok()) {
    std::cout << input << '\t' << canonical.view() << '\n';
  } else {
    std::cout << input << "\terror: " << status.message() << '\n';
  }
  return status.ok();
}

int RunCanonical(const std::vector<std::string>& args) {
  if (args.empty()) return UsageError("canonical: no email given");
  const absl::StatusOr<engine::EmailPolicy> policy =
      engine::ParseEmailPolicy(absl::GetFlag(FLAGS_email_policy));
  if (!policy.ok()) return UsageError(policy.status().message());
  bool all_valid = true;
  for (const std::string& arg : args) {
    if (arg != "-") {
      all_valid &= PrintCanonical(arg, *policy);
      continue;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files.
      all_valid &= PrintCanonical(line, *policy);
    }
  }
  std::cout.flush();
  return all_valid ? kExitOk : kExitFailed;
}

// absl flag names are snake_case; the documented spelling is kebab-case. Rewrites
// the name part of every "--flag-name[=value]" before "--" to snake_case.
std::vector<std::string> NormalizeFlagNames(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') continue;
    for (size_t j = arg.find_first_not_of('-'); j < arg.size() && arg[j] != '='; ++j) {
      if (arg[j] == '-') arg[j] = '_';
    }
  }
  return args;
}

// The first flag absl does not know, or "". absl::ParseCommandLine would exit with
// status 1 on it, which here means "an email was invalid".
std::string UnknownFlag(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    absl::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    absl::string_view name = arg.substr(0, arg.find('='));
    if (absl::FindCommandLineFlag(name) != nullptr) continue;
    const absl::CommandLineFlag* negated =
        absl::StartsWith(name, "no") ? absl::FindCommandLineFlag(name.substr(2)) : nullptr;
    if (negated != nullptr && negated->IsOfType<bool>()) continue;  // --nofoo.
    // absl's own usage flags are not in the registry.
    for (absl::string_view usage_flag : {"helpfull", "helpshort", "helppackage", "helpon",
                                         "helpmatch", "version", "only_check_args"}) {
      if (name == usage_flag) name = "";
    }
    if (!name.empty()) return args[i];
  }
  return "";
}

}  // namespace
}  // namespace attrib::tools

int main(int argc, char** argv) {
  using namespace attrib::tools;  // NOLINT: main only.
  absl::SetProgramUsageMessage(UsageText());
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--help" || args[i] == "-help" || args[i] == "-h") {
      std::cout << UsageText();
      return kExitOk;
    }
  }
  if (const std::string flag = UnknownFlag(args); !flag.empty()) {
    return UsageError(absl::StrCat("unknown flag '", flag, "'"));
  }
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  const std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  if (positional.size() < 2) return UsageError("no subcommand given");
  const absl::string_view name = positional[1];
  for (const Subcommand& subcommand : kSubcommands) {
    if (name == subcommand.name) {
      return subcommand.run(std::vector<std::string>(positional.begin() + 2, positional.end()));
    }
  }
  return UsageError(absl::StrCat("unknown subcommand '", name, "'"));
}
