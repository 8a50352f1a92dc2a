// tools/attribctl.cc
//
// attribctl: the command-line client of attrib. `main` parses the flags into a
// CtlOptions and dispatches over a table of subcommands; each gets the positional
// arguments after its name. `canonical` works offline; every other subcommand talks
// to a server (tools/attribctl_commands.h, tools/attribctl_import.h) and prints its
// results through tools/attribctl_output.h (human lines, or JSON Lines with --json).
//
// Exit status: 0 ok, 1 the server answered with an error (or an email was invalid,
// or import rows were rejected), 2 usage error, 3 the server could not be reached or
// the connection was lost (tools/attribctl_common.h).
//
// Thread-safety: a single-threaded program.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/canonical_email.h"
#include "kj/exception.h"
#include "net/client.h"
#include "tools/attribctl_commands.h"
#include "tools/attribctl_common.h"
#include "tools/attribctl_import.h"
#include "tools/command_line.h"

ABSL_FLAG(std::string, email_policy, "provider",
          "Canonicalization policy of `canonical`: provider or standard (SPEC §2). "
          "Use the policy the server runs with, or the keys will not match.");
ABSL_FLAG(std::string, server, std::string(attrib::tools::kDefaultServer),
          "The server, host:port ([v6]:port for IPv6).");
ABSL_FLAG(std::string, token_file, "",
          "File holding the auth token (the server's --auth-token-file); a trailing "
          "newline is ignored.");
ABSL_FLAG(bool, tls, false,
          "Speak TLS to the server (attribd --tls_cert); its certificate is verified "
          "against --tls_ca, or the system's CAs, and must name the --server host.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM bundle of the CAs to trust for the server's certificate (implies --tls); "
          "for a self-signed server certificate, the certificate itself.");
ABSL_FLAG(bool, json, false, "Machine output: one JSON object per result line.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "Longest wait to connect, or for the server to take or answer a request "
          "(e.g. 5s, 500ms).");
ABSL_FLAG(uint64_t, shop, 0, "The shop id (> 0); required by every shop operation.");
ABSL_FLAG(uint64_t, affiliate, 0, "list/count: only this affiliate's connections.");
ABSL_FLAG(std::string, source, "",
          "connect/import: the connection's source (manual | api | import | referral; "
          "default manual for connect, import for import). list: only this source.");
ABSL_FLAG(std::string, mode, "", "connect/import: if_absent (default) or reassign.");
ABSL_FLAG(std::string, name, "", "connect: the customer's name.");
ABSL_FLAG(std::string, connected_at, "",
          "connect: when the connection was made (ms since epoch, or "
          "2024-01-31T12:00:00Z); default now.");
ABSL_FLAG(std::string, at, "", "lookup/list: evaluate status at this time; default now.");
ABSL_FLAG(std::string, email, "", "attribute: the customer's email.");
ABSL_FLAG(uint64_t, referral, 0, "attribute: the affiliate of the order's link/coupon.");
ABSL_FLAG(std::string, customer_is_new, "", "attribute: yes or no (default unknown).");
ABSL_FLAG(std::string, ordered_at, "", "attribute: the order's time; default now.");
ABSL_FLAG(std::string, prefix, "", "list: canonical-email prefix.");
ABSL_FLAG(std::string, cursor, "", "list: start after this cursor (from a previous page).");
ABSL_FLAG(uint32_t, limit, 0, "list: page size (default 100, at most 1000).");
ABSL_FLAG(bool, all, false, "list: follow cursors and print every page.");
ABSL_FLAG(uint32_t, pipeline, 256, "import: requests in flight without a reply.");
ABSL_FLAG(bool, force, false,
          "promote: even if the replica has not applied what it last heard its primary "
          "had durable (those writes are then lost to the new primary).");
ABSL_FLAG(uint64_t, min_seq, 0,
          "Reads: answer only once the server has applied this log sequence number (a "
          "write's seq, read-your-writes on a replica); 0: no wait.");
ABSL_FLAG(std::string, external_id, "",
          "connect/disconnect/lookup/attribute: the customer's external id (the shop "
          "platform's customer id; issue 12), alone or with the email.");
ABSL_FLAG(std::string, keep, "",
          "customer merge: into, from or earliest: the connection kept when both are "
          "active (default: the shop's merge_conflict rule).");
ABSL_FLAG(std::string, status, "",
          "affiliate put: active or disabled (default: keep; a new one is active). "
          "affiliate list/search: only this status.");

namespace attrib::tools {
namespace {

struct Subcommand {
  const char* name;
  const char* synopsis;  // Arguments and one line of help, for the usage text.
  int (*run)(const CtlOptions& options);
};

int RunCanonical(const CtlOptions& options);

constexpr Subcommand kSubcommands[] = {
    {"connect", "--shop=N EMAIL AFFILIATE [--name=NAME] [--mode=if_absent|reassign]\n"
                "      [--source=manual] [--connected-at=TIME]   Connects a customer.",
     RunConnect},
    {"disconnect", "--shop=N EMAIL   Removes a customer's connection.", RunDisconnect},
    {"lookup", "--shop=N [--at=TIME] EMAIL... | -\n"
               "      A customer's connection; several emails (or '-': one per line on\n"
               "      stdin) are looked up in batches.",
     RunLookup},
    {"attribute", "--shop=N ORDER_ID [--email=E] [--referral=AFFILIATE]\n"
                  "      [--customer-is-new=yes|no] [--ordered-at=TIME]   Attributes an order.",
     RunAttribute},
    {"reverse", "--shop=N ORDER_ID   Un-counts a refunded/cancelled order.", RunReverse},
    {"explain", "--shop=N ORDER_ID   The recorded decision for an order.", RunExplain},
    {"list", "--shop=N [--affiliate=A] [--prefix=P] [--source=S] [--at=TIME]\n"
             "      [--cursor=C] [--limit=N] [--all]   A shop's connections, in\n"
             "      canonical-email order; the next page's cursor goes to stderr.",
     RunList},
    {"count", "--shop=N [--affiliate=A]   Connections of a shop (per affiliate) or of\n"
              "      one affiliate.",
     RunCount},
    {"settings", "--shop=N get | set KEY=VALUE...   Shop settings: connections_enabled,\n"
                 "      auto_connect, auto_connect_new_customers_only (true|false),\n"
                 "      validity_days, validity_max_orders (numbers), validity_mode\n"
                 "      (fixed|sliding), precedence (connection_first|referral_first|\n"
                 "      referral_takes_over), require_registered_affiliates,\n"
                 "      block_self_referrals (true|false), on_customer_becomes_affiliate\n"
                 "      (keep|disconnect). Prints the settings in the same KEY=VALUE form.",
     RunSettings},
    {"affiliate", "--shop=N put ID [EMAIL...] --name=NAME [--status=active|disabled]\n"
                  "      | get ID | disable ID | enable ID\n"
                  "      | list [--status=S] [--cursor=C] [--limit=N] [--all]\n"
                  "      | search [--prefix=NAME] [--email=E] [--affiliate=ID] [--status=S]\n"
                  "      The shop's affiliate directory: names, emails (self-referral\n"
                  "      protection), status; each with its connected-customer count.",
     RunAffiliate},
    {"customer", "--shop=N show ID | link ID NEW_ID | unlink ID | merge INTO FROM\n"
                 "      [--keep=into|from|earliest] | name ID NAME\n"
                 "      | search [--email=PREFIX | --prefix=NAME_PREFIX | --external-id=X]\n"
                 "        [--limit=N] [--cursor=C]\n"
                 "      A customer's identifiers and directory record: ID is an email or\n"
                 "      external_id:X (issue 12).",
     RunCustomer},
    {"stats", "   Server statistics.", RunStats},
    {"ping", "   Round trip to the server.", RunPing},
    {"snapshot", "   Asks the server to write a snapshot now.", RunSnapshot},
    {"promote", "[--force]   Makes the replica at --server the primary (manual failover,\n"
                "      issue 16): it stops following, takes a higher epoch and accepts\n"
                "      writes. Refused unless it has applied all its primary had durable.",
     RunPromote},
    {"import", "--shop=N FILE.csv|- [--source=import] [--mode=if_absent|reassign]\n"
               "      [--pipeline=256]   Streams a CSV with a header row (columns email,\n"
               "      affiliate_id, optional name, connected_at) as connects; reports\n"
               "      created/replaced/unchanged/rejected rows, each rejection with its line.",
     RunImport},
    {"canonical", "[--email-policy=provider|standard] EMAIL... | -\n"
                  "      Prints '<email>\\t<canonical>' or '<email>\\terror: <message>' per\n"
                  "      email, offline; '-' reads one email per line from stdin.",
     RunCanonical},
};

std::string UsageText() {
  std::string text =
      "Usage: attribctl [FLAGS] SUBCOMMAND [ARGS...]\n"
      "Flags are written --name=value or --name value (--token-file or --token_file),\n"
      "anywhere on the line; put `--` before arguments that start with '-'.\n"
      "Server flags: --server=HOST:PORT (default 127.0.0.1:7411), --token-file=PATH,\n"
      "--tls (verify with the system CAs) or --tls-ca=CA.pem (implies --tls),\n"
      "--timeout=30s, --json (one JSON object per result line). TIME is ms since the\n"
      "epoch or RFC 3339 (2024-01-31T12:00:00Z).\n\nSubcommands:\n";
  for (const Subcommand& s : kSubcommands) {
    absl::StrAppend(&text, "  ", s.name, " ", s.synopsis, "\n");
  }
  absl::StrAppend(&text,
                  "\nExit status: 0 ok; 1 the server answered with an error (e.g. not_found,\n"
                  "already_connected; for import: some rows were rejected); 2 usage error;\n"
                  "3 cannot reach the server, or the connection was lost.\n"
                  "A write sent to a replica is answered not_primary with the primary's\n"
                  "address: attribctl sends it there once and says so on stderr.\n");
  return text;
}

}  // namespace

int UsageError(absl::string_view message) {
  return PrintUsageError("attribctl", UsageText(), message);
}

namespace {

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

int RunCanonical(const CtlOptions& options) {
  const std::vector<std::string>& args = options.args;
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

// The flags' values as the subcommands see them.
absl::StatusOr<CtlOptions> OptionsFromFlags(const CommandLine& line) {
  CtlOptions o;
  o.args.assign(line.positional.begin() + 1, line.positional.end());
  o.server = absl::GetFlag(FLAGS_server);
  if (absl::Status s = net::SplitHostPort(o.server).status(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", s.message()));
  }
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return absl::InvalidArgumentError(absl::StrCat("--token-file: cannot read '", path, "'"));
    std::stringstream content;
    content << file.rdbuf();
    o.token = content.str();
    while (!o.token.empty() && (o.token.back() == '\n' || o.token.back() == '\r')) {
      o.token.pop_back();
    }
    if (o.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--token-file: '", path, "' is empty"));
    }
  }
  o.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  o.tls = absl::GetFlag(FLAGS_tls) || !o.tls_ca.empty();
  if (!o.tls_ca.empty() && !std::ifstream(o.tls_ca)) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-ca: cannot read '", o.tls_ca, "'"));
  }
  o.timeout = absl::GetFlag(FLAGS_timeout);
  if (o.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout: must be positive");
  }
  o.json = absl::GetFlag(FLAGS_json);
  o.shop = absl::GetFlag(FLAGS_shop);
  if (line.given.contains("affiliate")) {
    o.affiliate = absl::GetFlag(FLAGS_affiliate);
    if (*o.affiliate == 0) return absl::InvalidArgumentError("--affiliate: must be > 0");
  }
  o.source = absl::GetFlag(FLAGS_source);
  o.mode = absl::GetFlag(FLAGS_mode);
  if (line.given.contains("name")) o.name = absl::GetFlag(FLAGS_name);
  o.connected_at = absl::GetFlag(FLAGS_connected_at);
  o.at = absl::GetFlag(FLAGS_at);
  o.email = absl::GetFlag(FLAGS_email);
  o.referral = absl::GetFlag(FLAGS_referral);
  o.customer_is_new = absl::GetFlag(FLAGS_customer_is_new);
  o.ordered_at = absl::GetFlag(FLAGS_ordered_at);
  o.prefix = absl::GetFlag(FLAGS_prefix);
  o.cursor = absl::GetFlag(FLAGS_cursor);
  o.limit = absl::GetFlag(FLAGS_limit);
  o.all = absl::GetFlag(FLAGS_all);
  o.pipeline = absl::GetFlag(FLAGS_pipeline);
  o.email_policy = absl::GetFlag(FLAGS_email_policy);
  o.status = absl::GetFlag(FLAGS_status);
  o.external_id = absl::GetFlag(FLAGS_external_id);
  o.keep = absl::GetFlag(FLAGS_keep);
  o.force = absl::GetFlag(FLAGS_force);
  o.min_seq = absl::GetFlag(FLAGS_min_seq);
  return o;
}

}  // namespace
}  // namespace attrib::tools

int main(int argc, char** argv) {
  using namespace attrib::tools;  // NOLINT: main only.
  return RunSubcommands(
      argc, argv, "attribctl", UsageText(), kSubcommands, OptionsFromFlags,
      [](const Subcommand& subcommand, const CtlOptions& options) {
        try {
          return subcommand.run(options);
        } catch (const kj::Exception& e) {
          // Reading a reply field the server encoded wrongly.
          std::cout.flush();
          std::cerr << "attribctl: " << subcommand.name << ": malformed reply from the server: "
                    << e.getDescription().cStr() << "\n";
          return kExitUnreachable;
        }
      });
}
