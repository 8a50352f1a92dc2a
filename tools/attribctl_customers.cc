// tools/attribctl_customers.cc: `attribctl customer ...`, a customer's identifiers
// (issue 12), and how identity changes print (human lines or --json).
//
//   customer show ID               ID: an email, or external_id:X
//   customer link ID NEW_ID        NEW_ID (unknown so far) joins ID's customer
//   customer unlink ID             never the primary, never the last
//   customer merge INTO FROM [--keep=into|from|earliest]
//   customer name ID NAME          the customer directory's name (creates the entry)
//   customer search [--email=EMAIL_PREFIX | --prefix=NAME_PREFIX | --external-id=X]
//                   [--limit=N] [--cursor=C]
//                                  the directory, one page; "next cursor C" at the end
//
// Human output:
//   customer jane@example.com: emails jane@example.com j2@example.org; external_id
//     cus_1; connected to affiliate 7 (since 2026-12-01T20:00:00Z, 2 orders);
//     directory: name "Jane", 3 orders seen (first 2026-..., last 2026-...)  (one line)
//   merged customer bob@example.com into jane@example.com (moved bob@example.com;
//     lost connection to affiliate 9)
// JSON: {"customer":{"shop":1,"emails":[...],"external_id":"cus_1","connection":{...},
// "directory":{"name":"Jane","orders_seen":3,"first_order_at":...,"last_order_at":...}}}
// and for search {"customers":[{...},...],"next_cursor":"..."}
// and {"identity":{"linked":...,"merge":{...}}}.
//
// Thread-safety: single-threaded.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/attribctl_commands.h"
#include "tools/attribctl_output.h"

namespace attrib::tools {
namespace {

absl::string_view View(capnp::Text::Reader t) { return absl::string_view(t.begin(), t.size()); }

constexpr absl::string_view kExternalPrefix = "external_id:";

// An identifier as the command line writes it.
engine::CustomerRef RefOf(absl::string_view arg) {
  engine::CustomerRef ref;
  if (absl::StartsWith(arg, kExternalPrefix)) {
    ref.external_id = std::string(arg.substr(kExternalPrefix.size()));
  } else {
    ref.email = std::string(arg);
  }
  return ref;
}

std::string TextList(capnp::List<capnp::Text>::Reader list, bool json) {
  std::vector<std::string> items;
  for (capnp::Text::Reader t : list) {
    items.push_back(json ? JsonString(View(t)) : std::string(View(t)));
  }
  return json ? absl::StrCat("[", absl::StrJoin(items, ","), "]") : absl::StrJoin(items, " ");
}

std::string CustomerJson(wire::Customer::Reader c) {
  JsonObject o;
  o.Uint("shop", c.getShop()).Raw("emails", TextList(c.getEmails(), true));
  o.Str("external_id", View(c.getExternalId()));
  if (c.getConnected()) o.Raw("connection", ConnectionJson(c.getConnection()));
  if (c.getInDirectory()) {
    o.Raw("directory", JsonObject()
                           .Str("name", View(c.getName()))
                           .Uint("orders_seen", c.getOrdersSeen())
                           .Int("first_order_at", c.getFirstOrderAt())
                           .Int("last_order_at", c.getLastOrderAt())
                           .Done());
  }
  return o.Done();
}

std::string DirectoryText(wire::Customer::Reader c) {
  if (!c.getInDirectory()) return "; not in the directory";
  std::string line = c.hasName() ? absl::StrCat("; directory: name \"", View(c.getName()), "\"")
                                 : std::string("; directory: no name");
  if (c.getOrdersSeen() == 0) return line + ", no order seen";
  return absl::StrCat(line, ", ", c.getOrdersSeen(), " orders seen (first ",
                      IsoTime(c.getFirstOrderAt()), ", last ", IsoTime(c.getLastOrderAt()), ")");
}

void PrintCustomer(const Output& out, wire::Customer::Reader c) {
  if (out.json()) {
    std::cout << JsonObject().Raw("customer", CustomerJson(c)).Done() << '\n';
    return;
  }
  const std::string name = c.getEmails().size() > 0
                               ? std::string(View(c.getEmails()[0]))
                               : absl::StrCat(kExternalPrefix, View(c.getExternalId()));
  std::string line = absl::StrCat("customer ", name, ": emails ",
                                  c.getEmails().size() > 0 ? TextList(c.getEmails(), false)
                                                           : "(none)",
                                  "; external_id ",
                                  c.hasExternalId() ? View(c.getExternalId()) : "(none)");
  if (c.getConnected()) {
    const wire::Connection::Reader k = c.getConnection();
    absl::StrAppend(&line, "; connected to affiliate ", k.getAffiliate(), " (since ",
                    IsoTime(k.getConnectedAt()), ", ", k.getOrderCount(), " orders)");
  } else {
    line += "; not connected";
  }
  std::cout << line << DirectoryText(c) << '\n';
}

void PrintCustomerList(const Output& out, wire::CustomerList::Reader list) {
  if (out.json()) {
    std::vector<std::string> items;
    for (wire::Customer::Reader c : list.getItems()) items.push_back(CustomerJson(c));
    std::cout << JsonObject()
                     .Raw("customers", absl::StrCat("[", absl::StrJoin(items, ","), "]"))
                     .Str("next_cursor", View(list.getNextCursor()))
                     .Done()
              << '\n';
    return;
  }
  for (wire::Customer::Reader c : list.getItems()) PrintCustomer(out, c);
  if (list.hasNextCursor()) std::cout << "next cursor " << View(list.getNextCursor()) << '\n';
}

}  // namespace

void PrintIdentityChange(const CtlOptions& options, wire::IdentityChange::Reader c) {
  if (!c.getLinked() && !c.getMerged() && !c.hasNotJoined()) return;
  if (options.json) {
    JsonObject o;
    o.Bool("linked", c.getLinked()).Str("linked_identifier", View(c.getLinkedIdentifier()));
    if (c.getMerged()) {
      const wire::Merge::Reader m = c.getMerge();
      JsonObject mj;
      mj.Str("survivor", View(m.getSurvivor()))
          .Str("loser", View(m.getLoser()))
          .Raw("moved", TextList(m.getMoved(), true))
          .Bool("conflict", m.getConflict());
      if (m.getHasLostConnection()) mj.Raw("lost_connection", ConnectionJson(m.getLostConnection()));
      o.Raw("merge", mj.Done());
    }
    o.Str("not_joined", View(c.getNotJoined()));
    std::cout << JsonObject().Raw("identity", o.Done()).Done() << '\n';
    return;
  }
  if (c.getLinked()) std::cout << "linked " << View(c.getLinkedIdentifier()) << " to the customer\n";
  if (c.getMerged()) {
    const wire::Merge::Reader m = c.getMerge();
    std::cout << "merged customer " << View(m.getLoser()) << " into " << View(m.getSurvivor())
              << " (moved " << TextList(m.getMoved(), false);
    if (m.getConflict()) std::cout << "; both connected, merge_conflict decided";
    if (m.getHasLostConnection()) {
      std::cout << "; lost connection to affiliate " << m.getLostConnection().getAffiliate();
    }
    std::cout << ")\n";
  }
  if (c.hasNotJoined()) std::cout << "not joined: " << View(c.getNotJoined()) << '\n';
}

int RunCustomer(const CtlOptions& options) {
  const std::vector<std::string>& a = options.args;
  if (a.empty()) return UsageError("customer: expected show, link, unlink, merge, name or search");
  ATTRIBCTL_ASSIGN_OR_USAGE(shop, RequireShop(options));
  const std::string& verb = a[0];
  const Output out(options.json);
  const auto print = [&](wire::Response::Reader reply) { PrintCustomer(out, reply.getCustomer()); };
  if (verb == "show" && a.size() == 2) {
    return CallOnce(options, "customer show", wire::Response::CUSTOMER,
                    [&](net::Client& c) { return c.GetCustomer(shop, RefOf(a[1])); }, print);
  }
  if (verb == "name" && a.size() == 3) {
    return CallOnce(options, "customer name", wire::Response::CUSTOMER,
                    [&](net::Client& c) { return c.PutCustomer(shop, RefOf(a[1]), a[2]); }, print);
  }
  if (verb == "search" && a.size() == 1) {
    engine::CustomerQuery q;
    q.shop = shop;
    q.email_prefix = options.email;
    q.name_prefix = options.prefix;
    q.external_id = options.external_id;
    q.limit = options.limit;
    q.cursor = options.cursor;
    return CallOnce(options, "customer search", wire::Response::CUSTOMER_LIST,
                    [&](net::Client& c) { return c.SearchCustomers(q); },
                    [&](wire::Response::Reader reply) {
                      PrintCustomerList(out, reply.getCustomerList());
                    });
  }
  if (verb == "link" && a.size() == 3) {
    return CallOnce(options, "customer link", wire::Response::CUSTOMER,
                    [&](net::Client& c) { return c.LinkIdentifier(shop, RefOf(a[1]), RefOf(a[2])); },
                    print);
  }
  if (verb == "unlink" && a.size() == 2) {
    return CallOnce(options, "customer unlink", wire::Response::CUSTOMER,
                    [&](net::Client& c) { return c.UnlinkIdentifier(shop, RefOf(a[1])); }, print);
  }
  if (verb == "merge" && a.size() == 3) {
    engine::MergeRequest r;
    r.shop = shop;
    r.into = RefOf(a[1]);
    r.from = RefOf(a[2]);
    if (options.keep == "into") {
      r.keep = engine::MergeKeep::kInto;
    } else if (options.keep == "from") {
      r.keep = engine::MergeKeep::kFrom;
    } else if (options.keep == "earliest") {
      r.keep = engine::MergeKeep::kEarliest;
    } else if (!options.keep.empty()) {
      return UsageError(absl::StrCat("--keep: expected into, from or earliest, got '",
                                     options.keep, "'"));
    }
    return CallOnce(options, "customer merge", wire::Response::MERGE,
                    [&](net::Client& c) { return c.MergeCustomers(r); },
                    [&](wire::Response::Reader reply) {
                      const wire::IdentityChange::Reader m = reply.getMerge();
                      if (!m.getMerged() && !options.json) {
                        std::cout << "already one customer\n";
                        return;
                      }
                      PrintIdentityChange(options, m);
                    });
  }
  return UsageError(absl::StrCat("customer: expected show ID | link ID NEW_ID | unlink ID | "
                                 "merge INTO FROM | name ID NAME | search (got '", verb,
                                 "' with ", a.size() - 1,
                                 " arguments)"));
}

}  // namespace attrib::tools
