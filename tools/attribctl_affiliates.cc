// tools/attribctl_affiliates.cc: `attribctl affiliate ...`, the shop's affiliate
// directory (issue 12), and how its results print (human lines or --json).
//
//   affiliate put ID [EMAIL...] --name=NAME [--status=active|disabled]
//   affiliate get ID | disable ID | enable ID
//   affiliate list [--status=S] [--cursor=C] [--limit=N] [--all]
//   affiliate search [--prefix=NAME_PREFIX] [--email=E] [--affiliate=ID] [--status=S] ...
//
// Human output, one line per affiliate:
//   affiliate 7 "Ann Lee": active; emails ann@example.com annlee@gmail.com; created
//     2026-12-01T20:00:00Z; 3 connected customers                      (one line)
// put prefixes it with "created " or "updated ", and prints one line per connection
// it removed (on_customer_becomes_affiliate=disconnect):
//   removed connection jane@example.com (was affiliate 9): the customer became affiliate 7
// JSON: {"affiliate":{...},"created":true,"removed_connections":[{...}]} for put,
// get, disable and enable; one {"affiliate":{...}} per line for list and search, then
// {"next_cursor":...} when there is a next page (as `list`).
//
// Thread-safety: single-threaded.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/attribctl_commands.h"
#include "tools/attribctl_output.h"

namespace attrib::tools {
namespace {

absl::string_view View(capnp::Text::Reader t) { return absl::string_view(t.begin(), t.size()); }

absl::string_view StatusName(wire::AffiliateStatus s) {
  return engine::AffiliateStatusName(static_cast<engine::AffiliateStatus>(s));
}

std::string AffiliateJson(wire::Affiliate::Reader a) {
  std::string emails = "[";
  for (capnp::Text::Reader e : a.getEmails()) {
    if (emails.size() > 1) emails += ",";
    emails += JsonString(View(e));
  }
  emails += "]";
  return JsonObject()
      .Uint("shop", a.getShop())
      .Uint("id", a.getId())
      .Str("name", View(a.getName()))
      .Raw("emails", emails)
      .Str("status", StatusName(a.getStatus()))
      .Int("created_at", a.getCreatedAt())
      .Uint("connections", a.getConnections())
      .Done();
}

std::string AffiliateLine(wire::Affiliate::Reader a) {
  std::vector<std::string> emails;
  for (capnp::Text::Reader e : a.getEmails()) emails.emplace_back(View(e));
  return absl::StrCat("affiliate ", a.getId(), " ", JsonString(View(a.getName())), ": ",
                      StatusName(a.getStatus()), "; emails ",
                      emails.empty() ? "(none)" : absl::StrJoin(emails, " "), "; created ",
                      IsoTime(a.getCreatedAt()), "; ", a.getConnections(),
                      a.getConnections() == 1 ? " connected customer" : " connected customers");
}

void PrintResult(const Output& out, wire::AffiliateResult::Reader r, bool put) {
  if (out.json()) {
    std::string removed = "[";
    for (wire::Connection::Reader c : r.getRemovedConnections()) {
      if (removed.size() > 1) removed += ",";
      removed += ConnectionJson(c);
    }
    removed += "]";
    std::cout << JsonObject()
                     .Raw("affiliate", AffiliateJson(r.getAffiliate()))
                     .Bool("created", r.getCreated())
                     .Raw("removed_connections", removed)
                     .Done()
              << '\n';
    return;
  }
  std::cout << (put ? (r.getCreated() ? "created " : "updated ") : "")
            << AffiliateLine(r.getAffiliate()) << '\n';
  for (wire::Connection::Reader c : r.getRemovedConnections()) {
    std::cout << "removed connection " << View(c.getCanonicalEmail()) << " (was affiliate "
              << c.getAffiliate() << "): the customer became affiliate "
              << r.getAffiliate().getId() << '\n';
  }
}

absl::StatusOr<std::optional<engine::AffiliateStatus>> StatusOption(const CtlOptions& o) {
  if (o.status.empty()) return std::optional<engine::AffiliateStatus>();
  absl::StatusOr<engine::AffiliateStatus> s = engine::ParseAffiliateStatus(o.status);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", s.status().message()));
  }
  return std::optional<engine::AffiliateStatus>(*s);
}

int Put(const CtlOptions& options, uint64_t shop) {
  const std::vector<std::string>& args = options.args;
  if (args.size() < 2) return UsageError("affiliate put: expected ID [EMAIL...]");
  ATTRIBCTL_ASSIGN_OR_USAGE(id, ParseId("ID", args[1]));
  ATTRIBCTL_ASSIGN_OR_USAGE(status, StatusOption(options));
  engine::PutAffiliateRequest r;
  r.shop = shop;
  r.id = id;
  r.name = options.name.value_or("");
  r.emails.assign(args.begin() + 2, args.end());
  r.status = status;
  return CallOnce(
      options, "affiliate put", wire::Response::AFFILIATE,
      [&](net::Client& c) { return c.PutAffiliate(r); },
      [&](wire::Response::Reader reply) {
        PrintResult(Output(options.json), reply.getAffiliate(), /*put=*/true);
      });
}

// get, disable, enable: one ID.
int One(const CtlOptions& options, uint64_t shop) {
  const std::string& verb = options.args[0];
  if (options.args.size() != 2) return UsageError(absl::StrCat("affiliate ", verb, ": expected ID"));
  ATTRIBCTL_ASSIGN_OR_USAGE(id, ParseId("ID", options.args[1]));
  const std::string what = absl::StrCat("affiliate ", verb);
  const auto print = [&](wire::Response::Reader reply) {
    PrintResult(Output(options.json), reply.getAffiliate(), /*put=*/false);
  };
  if (verb == "get") {
    return CallOnce(options, what, wire::Response::AFFILIATE,
                    [&](net::Client& c) { return c.GetAffiliate(shop, id); }, print);
  }
  if (verb == "disable") {
    return CallOnce(options, what, wire::Response::AFFILIATE,
                    [&](net::Client& c) { return c.DisableAffiliate(shop, id); }, print);
  }
  // enable: put the entry back as it is, with status active.
  std::unique_ptr<net::Client> client;
  engine::PutAffiliateRequest r;
  const int rc = CallOnce(
      options, what, wire::Response::AFFILIATE,
      [&](net::Client& c) { return c.GetAffiliate(shop, id); },
      [&](wire::Response::Reader reply) {
        const wire::Affiliate::Reader a = reply.getAffiliate().getAffiliate();
        r.shop = shop;
        r.id = id;
        r.name = std::string(View(a.getName()));
        for (capnp::Text::Reader e : a.getEmails()) r.emails.emplace_back(View(e));
        r.status = engine::AffiliateStatus::kActive;
      },
      &client);
  if (rc != kExitOk) return rc;
  return CallOnce(options, what, wire::Response::AFFILIATE,
                  [&](net::Client& c) { return c.PutAffiliate(r); }, print, &client);
}

// list and search: pages like `list`.
int Search(const CtlOptions& options, uint64_t shop) {
  const std::string& verb = options.args[0];
  if (options.args.size() != 1) {
    return UsageError(absl::StrCat("affiliate ", verb, ": takes flags, not arguments"));
  }
  ATTRIBCTL_ASSIGN_OR_USAGE(status, StatusOption(options));
  engine::AffiliateQuery q;
  q.shop = shop;
  q.status = status;
  if (verb == "search") {
    q.name_prefix = options.prefix;
    q.email = options.email;
    q.id = options.affiliate.value_or(0);
  }
  q.limit = options.limit;
  const Output out(options.json);
  return ForEachPage(options, options.cursor,
                     [&](const std::string& cursor, std::string* next,
                         std::unique_ptr<net::Client>* client) {
    q.cursor = cursor;
    return CallOnce(
        options, absl::StrCat("affiliate ", verb), wire::Response::AFFILIATE_LIST,
        [&](net::Client& c) { return c.SearchAffiliates(q); },
        [&](wire::Response::Reader reply) {
          for (wire::Affiliate::Reader a : reply.getAffiliateList().getItems()) {
            if (out.json()) {
              std::cout << JsonObject().Raw("affiliate", AffiliateJson(a)).Done() << '\n';
            } else {
              std::cout << AffiliateLine(a) << '\n';
            }
          }
          *next = std::string(View(reply.getAffiliateList().getNextCursor()));
        },
        client);
  });
}

}  // namespace

int RunAffiliate(const CtlOptions& options) {
  if (options.args.empty()) {
    return UsageError("affiliate: expected put, get, disable, enable, list or search");
  }
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  const std::string& verb = options.args[0];
  if (verb == "put") return Put(options, shop);
  if (verb == "get" || verb == "disable" || verb == "enable") return One(options, shop);
  if (verb == "list" || verb == "search") return Search(options, shop);
  return UsageError(absl::StrCat("affiliate: unknown action '", verb,
                                 "' (put, get, disable, enable, list, search)"));
}

}  // namespace attrib::tools
