// tools/attribctl_commands.cc: the attribctl subcommands that talk to a server,
// except import (see the header).
#include "tools/attribctl_commands.h"

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "engine/engine.h"
#include "tools/attribctl_output.h"

namespace attrib::tools {
namespace {

using CallFn = absl::FunctionRef<absl::StatusOr<net::Reply>(net::Client&)>;
using PrintFn = absl::FunctionRef<void(wire::Response::Reader)>;

// A reply of another kind than the request's: a server that does not follow the
// protocol. Treated like a broken connection.
int UnexpectedReply(absl::string_view what) {
  std::cerr << "attribctl: " << what
            << ": the server sent a reply of the wrong kind (protocol mismatch?)\n";
  return kExitUnreachable;
}

}  // namespace

// `client` is reused when given (pages of list --all, chunks of a batch lookup).
int CallOnce(const CtlOptions& options, absl::string_view what, wire::Response::Which kind,
             CallFn call, PrintFn print, std::unique_ptr<net::Client>* client,
             absl::string_view email) {
  const Output out(options.json);
  std::unique_ptr<net::Client> own;
  std::unique_ptr<net::Client>& conn = client != nullptr ? *client : own;
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<net::Client>> opened = OpenClient(options);
    if (!opened.ok()) {
      out.Error(what, opened.status());
      return ExitCodeFor(opened.status());
    }
    conn = *std::move(opened);
  }
  absl::StatusOr<net::Reply> reply = call(*conn);
  if (!reply.ok()) {
    out.Error(what, reply.status(), email);
    return ExitCodeFor(reply.status());
  }
  const wire::Response::Reader response = reply->get();
  if (response.which() != kind) return UnexpectedReply(what);
  print(response);
  return kExitOk;
}

int ForEachPage(const CtlOptions& options, std::string cursor, PageFn page) {
  std::unique_ptr<net::Client> client;
  for (;;) {
    std::string next;
    if (const int rc = page(cursor, &next, &client); rc != kExitOk) return rc;
    if (next.empty()) return kExitOk;
    if (!options.all) {
      Output(options.json).NextCursor(next);
      return kExitOk;
    }
    cursor = std::move(next);
  }
}

namespace {

int ExpectArgs(const CtlOptions& options, absl::string_view command, size_t count,
               absl::string_view names) {
  if (options.args.size() == count) return kExitOk;
  return UsageError(absl::StrCat(command, ": expected ", count == 0 ? "no arguments" : names,
                                 ", got ", options.args.size(), " argument(s)"));
}

absl::StatusOr<bool> ParseBool(absl::string_view key, absl::string_view value) {
  const std::string v = absl::AsciiStrToLower(value);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return absl::InvalidArgumentError(
      absl::StrCat(key, ": '", value, "' is not a boolean (true or false)"));
}

absl::StatusOr<uint32_t> ParseU32(absl::string_view key, absl::string_view value) {
  uint32_t n = 0;
  if (value.empty() || !std::all_of(value.begin(), value.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(value, &n)) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": '", value, "' is not a number"));
  }
  return n;
}

constexpr absl::string_view kSettingKeys[] = {
    "connections_enabled", "auto_connect", "auto_connect_new_customers_only",
    "validity_days", "validity_mode", "validity_max_orders", "precedence",
    "require_registered_affiliates", "block_self_referrals", "on_customer_becomes_affiliate",
    "auto_link_identifiers", "merge_conflict", "customer_directory"};

// KEY=VALUE arguments -> a patch; each key at most once.
absl::StatusOr<engine::ShopSettingsPatch> ParsePatch(absl::Span<const std::string> args) {
  engine::ShopSettingsPatch patch;
  std::vector<std::string> seen;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("settings set: expected KEY=VALUE, got '", arg, "'"));
    }
    const std::string key = arg.substr(0, eq);
    const absl::string_view value = absl::string_view(arg).substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return absl::InvalidArgumentError(absl::StrCat("settings set: ", key, " given twice"));
    }
    seen.push_back(key);
    absl::Status status;
    auto take = [&status](auto parsed, auto& field) {
      if (parsed.ok()) {
        field = *parsed;
      } else {
        status = parsed.status();
      }
    };
    if (key == "connections_enabled") {
      take(ParseBool(key, value), patch.connections_enabled);
    } else if (key == "auto_connect") {
      take(ParseBool(key, value), patch.auto_connect);
    } else if (key == "auto_connect_new_customers_only") {
      take(ParseBool(key, value), patch.auto_connect_new_customers_only);
    } else if (key == "validity_days") {
      take(ParseU32(key, value), patch.validity_days);
    } else if (key == "validity_mode") {
      take(engine::ParseValidityMode(value), patch.validity_mode);
    } else if (key == "validity_max_orders") {
      take(ParseU32(key, value), patch.validity_max_orders);
    } else if (key == "precedence") {
      take(engine::ParsePrecedence(value), patch.precedence);
    } else if (key == "require_registered_affiliates") {
      take(ParseBool(key, value), patch.require_registered_affiliates);
    } else if (key == "block_self_referrals") {
      take(ParseBool(key, value), patch.block_self_referrals);
    } else if (key == "on_customer_becomes_affiliate") {
      take(engine::ParseCustomerBecomesAffiliate(value), patch.on_customer_becomes_affiliate);
    } else if (key == "auto_link_identifiers") {
      take(ParseBool(key, value), patch.auto_link_identifiers);
    } else if (key == "merge_conflict") {
      take(engine::ParseMergeConflictRule(value), patch.merge_conflict);
    } else if (key == "customer_directory") {
      take(ParseBool(key, value), patch.customer_directory);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "settings set: unknown key '", key, "' (keys: ", absl::StrJoin(kSettingKeys, ", "),
          ")"));
    }
    if (!status.ok()) return status;
  }
  return patch;
}

}  // namespace

// ----------------------------------------------------------------- Connections

int RunConnect(const CtlOptions& options) {
  engine::ConnectRequest r;
  if (options.args.size() == 2) {
    ATTRIBCTL_ASSIGN_OR_USAGE(affiliate, ParseId("AFFILIATE", options.args[1]));
    r.affiliate = affiliate;
  } else if (options.args.size() == 1 && options.affiliate.has_value()) {
    r.affiliate = *options.affiliate;
  } else if (options.args.size() == 1 && !options.external_id.empty()) {
    // connect --external-id=X AFFILIATE: by external id alone.
    ATTRIBCTL_ASSIGN_OR_USAGE(affiliate, ParseId("AFFILIATE", options.args[0]));
    r.affiliate = affiliate;
  } else {
    return UsageError("connect: expected EMAIL AFFILIATE");
  }
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  ATTRIBCTL_ASSIGN_OR_USAGE(
      source, engine::ParseSource(options.source.empty() ? "manual" : options.source));
  ATTRIBCTL_ASSIGN_OR_USAGE(
      mode, engine::ParseConnectMode(options.mode.empty() ? "if_absent" : options.mode));
  ATTRIBCTL_ASSIGN_OR_USAGE(at, ParseOptionalTimeMs("--connected-at", options.connected_at));
  r.shop = shop;
  if (options.args.size() == 2 || options.external_id.empty()) r.email = options.args[0];
  if (!options.external_id.empty()) r.external_id = options.external_id;
  r.source = source;
  r.mode = mode;
  if (at != 0) r.connected_at = at;
  r.name = options.name;
  return CallOnce(
      options, "connect", wire::Response::CONNECT,
      [&](net::Client& c) { return c.Connect(r); },
      [&](wire::Response::Reader reply) {
        Output(options.json).Connected(reply.getConnect());
        PrintIdentityChange(options, reply.getConnect().getIdentity());
      });
}

int RunDisconnect(const CtlOptions& options) {
  if (!options.external_id.empty() && options.args.empty()) {
    ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
    return CallOnce(
        options, "disconnect", wire::Response::DISCONNECT,
        [&](net::Client& c) {
          return c.DisconnectCustomer(shop, engine::CustomerRef{std::nullopt, options.external_id});
        },
        [&](wire::Response::Reader reply) {
          Output(options.json).Disconnected(reply.getDisconnect());
        });
  }
  if (int rc = ExpectArgs(options, "disconnect", 1, "EMAIL"); rc != kExitOk) return rc;
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  return CallOnce(
      options, "disconnect", wire::Response::DISCONNECT,
      [&](net::Client& c) { return c.Disconnect(shop, options.args[0]); },
      [&](wire::Response::Reader reply) {
        Output(options.json).Disconnected(reply.getDisconnect());
      });
}

int RunLookup(const CtlOptions& options) {
  if (!options.external_id.empty() && options.args.size() <= 1) {
    // lookup --external-id=X [EMAIL]: the customer by external id (issue 12).
    ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
    ATTRIBCTL_ASSIGN_OR_USAGE(at, ParseOptionalTimeMs("--at", options.at));
    engine::CustomerRef ref{std::nullopt, options.external_id};
    if (!options.args.empty()) ref.email = options.args[0];
    const std::string what = absl::StrCat("external_id:", options.external_id);
    return CallOnce(
        options, absl::StrCat("lookup ", what), wire::Response::LOOKUP,
        [&](net::Client& c) { return c.LookupCustomer(shop, ref, at); },
        [&](wire::Response::Reader reply) { Output(options.json).Lookup(what, reply.getLookup()); });
  }
  if (options.args.empty()) return UsageError("lookup: expected EMAIL... or -");
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  ATTRIBCTL_ASSIGN_OR_USAGE(at, ParseOptionalTimeMs("--at", options.at));
  std::vector<std::string> emails;
  for (const std::string& arg : options.args) {
    if (arg != "-") {
      emails.push_back(arg);
      continue;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!absl::StripAsciiWhitespace(line).empty()) emails.push_back(line);
    }
  }
  const Output out(options.json);
  if (emails.size() == 1 && options.args[0] != "-") {
    return CallOnce(
        options, absl::StrCat("lookup ", emails[0]), wire::Response::LOOKUP,
        [&](net::Client& c) { return c.Lookup(shop, emails[0], at); },
        [&](wire::Response::Reader reply) { out.Lookup(emails[0], reply.getLookup()); },
        nullptr, emails[0]);
  }
  // Many emails: batches of the server's maximum, on one connection.
  std::unique_ptr<net::Client> client;
  bool all_valid = true;
  for (size_t begin = 0; begin < emails.size(); begin += engine::kMaxBatchLookup) {
    const auto chunk = absl::MakeConstSpan(emails).subspan(begin, engine::kMaxBatchLookup);
    const int rc = CallOnce(
        options, "lookup", wire::Response::LOOKUP_BATCH,
        [&](net::Client& c) { return c.LookupBatch(shop, chunk, at); },
        [&](wire::Response::Reader reply) {
          const auto items = reply.getLookupBatch();
          for (size_t i = 0; i < chunk.size() && i < items.size(); ++i) {
            const wire::BatchItem::Reader item = items[static_cast<uint>(i)];
            if (item.isError()) {
              all_valid = false;
              out.Error(absl::StrCat("lookup ", chunk[i]), net::ErrorStatus(item.getError()),
                        chunk[i]);
            } else {
              out.Lookup(chunk[i], item.getResult());
            }
          }
          if (items.size() != chunk.size()) all_valid = false;
        },
        &client);
    if (rc != kExitOk) return rc;
  }
  return all_valid ? kExitOk : kExitFailed;
}

int RunList(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "list", 0, ""); rc != kExitOk) return rc;
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  ATTRIBCTL_ASSIGN_OR_USAGE(at, ParseOptionalTimeMs("--at", options.at));
  engine::ListRequest r;
  r.shop = shop;
  r.affiliate = options.affiliate;
  r.email_prefix = options.prefix;
  if (!options.source.empty()) {
    ATTRIBCTL_ASSIGN_OR_USAGE(source, engine::ParseSource(options.source));
    r.source = source;
  }
  r.limit = options.limit;
  if (at != 0) r.at = at;
  const Output out(options.json);
  return ForEachPage(options, options.cursor,
                     [&](const std::string& cursor, std::string* next,
                         std::unique_ptr<net::Client>* client) {
    r.cursor = cursor;
    return CallOnce(
        options, "list", wire::Response::LIST, [&](net::Client& c) { return c.List(r); },
        [&](wire::Response::Reader reply) {
          const wire::ListResult::Reader page = reply.getList();
          for (wire::ListItem::Reader item : page.getItems()) out.ListItem(item);
          next->assign(page.getNextCursor().begin(), page.getNextCursor().size());
        },
        client);
  });
}

int RunCount(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "count", 0, ""); rc != kExitOk) return rc;
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  const uint64_t affiliate = options.affiliate.value_or(0);
  return CallOnce(
      options, "count", wire::Response::COUNT,
      [&](net::Client& c) { return c.Count(shop, affiliate); },
      [&](wire::Response::Reader reply) {
        Output(options.json).Count(shop, affiliate, reply.getCount());
      });
}

// -------------------------------------------------------------------- Settings

int RunSettings(const CtlOptions& options) {
  const std::vector<std::string>& args = options.args;
  if (args.empty() || (args[0] != "get" && args[0] != "set")) {
    return UsageError("settings: expected `get` or `set KEY=VALUE...`");
  }
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  auto print = [&](wire::Response::Reader reply) {
    Output(options.json).Settings(shop, reply.getSettings());
  };
  if (args[0] == "get") {
    if (args.size() != 1) return UsageError("settings get: takes no arguments");
    return CallOnce(
        options, "settings get", wire::Response::SETTINGS,
        [&](net::Client& c) { return c.GetSettings(shop); }, print);
  }
  if (args.size() < 2) return UsageError("settings set: expected KEY=VALUE...");
  ATTRIBCTL_ASSIGN_OR_USAGE(patch, ParsePatch(absl::MakeConstSpan(args).subspan(1)));
  return CallOnce(
      options, "settings set", wire::Response::SETTINGS,
      [&](net::Client& c) { return c.PutSettings(shop, patch); }, print);
}

// ---------------------------------------------------------------------- Orders

int RunAttribute(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "attribute", 1, "ORDER_ID"); rc != kExitOk) return rc;
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  ATTRIBCTL_ASSIGN_OR_USAGE(ordered_at, ParseOptionalTimeMs("--ordered-at", options.ordered_at));
  engine::AttributeRequest r;
  r.shop = shop;
  r.order_id = options.args[0];
  if (!options.email.empty()) r.email = options.email;
  if (!options.external_id.empty()) r.external_id = options.external_id;
  if (options.referral != 0) r.referral_affiliate = options.referral;
  r.name = options.name;  // The customer directory's name (issue 12).
  if (options.customer_is_new == "yes") {
    r.customer_is_new = true;
  } else if (options.customer_is_new == "no") {
    r.customer_is_new = false;
  } else if (!options.customer_is_new.empty()) {
    return UsageError(absl::StrCat("--new: expected yes or no, got '",
                                   options.customer_is_new, "'"));
  }
  if (ordered_at != 0) r.ordered_at = ordered_at;
  return CallOnce(
      options, "attribute", wire::Response::ATTRIBUTE,
      [&](net::Client& c) { return c.Attribute(r); },
      [&](wire::Response::Reader reply) {
        Output(options.json).Attributed(reply.getAttribute());
        PrintIdentityChange(options, reply.getAttribute().getIdentity());
      });
}

int RunReverse(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "reverse", 1, "ORDER_ID"); rc != kExitOk) return rc;
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  return CallOnce(
      options, "reverse", wire::Response::REVERSE,
      [&](net::Client& c) { return c.Reverse(shop, options.args[0]); },
      [&](wire::Response::Reader reply) { Output(options.json).Reversed(reply.getReverse()); });
}

int RunExplain(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "explain", 1, "ORDER_ID"); rc != kExitOk) return rc;
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  return CallOnce(
      options, "explain", wire::Response::EXPLAIN,
      [&](net::Client& c) { return c.Explain(shop, options.args[0]); },
      [&](wire::Response::Reader reply) { Output(options.json).Explained(reply.getExplain()); });
}

// ---------------------------------------------------------------------- Server

int RunStats(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "stats", 0, ""); rc != kExitOk) return rc;
  return CallOnce(
      options, "stats", wire::Response::STATS, [](net::Client& c) { return c.Stats(); },
      [&](wire::Response::Reader reply) { Output(options.json).Stats(reply.getStats()); });
}

int RunPing(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "ping", 0, ""); rc != kExitOk) return rc;
  absl::Duration rtt;
  return CallOnce(
      options, "ping", wire::Response::PONG,
      [&](net::Client& c) {
        const absl::Time start = absl::Now();
        absl::StatusOr<net::Reply> reply = c.Ping();
        rtt = absl::Now() - start;
        return reply;
      },
      [&](wire::Response::Reader) { Output(options.json).Pong(options.server, rtt); });
}

int RunSnapshot(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "snapshot", 0, ""); rc != kExitOk) return rc;
  return CallOnce(
      options, "snapshot", wire::Response::SNAPSHOT,
      [](net::Client& c) { return c.Snapshot(); },
      [&](wire::Response::Reader) { Output(options.json).SnapshotDone(); });
}

int RunPromote(const CtlOptions& options) {
  if (int rc = ExpectArgs(options, "promote", 0, "[--force]"); rc != kExitOk) return rc;
  return CallOnce(
      options, "promote", wire::Response::PROMOTE,
      [&](net::Client& c) { return c.Promote(options.force); },
      [&](wire::Response::Reader reply) { Output(options.json).Promoted(reply.getPromote()); });
}

}  // namespace attrib::tools
