// tools/attrib_demo.cc
//
// An interactive, in-memory demo of the engine: one command per line on stdin,
// results on stdout. tools/run.sh starts it until the network server (attribd)
// exists. Nothing is persisted.
//
//   connect SHOP EMAIL AFFILIATE [reassign] [name=NAME...]
//   disconnect SHOP EMAIL        lookup SHOP EMAIL
//   attribute SHOP ORDER_ID [email=E] [referral=A] [new=true|false]
//   reverse SHOP ORDER_ID        explain SHOP ORDER_ID
//   list SHOP [affiliate=A] [prefix=P]     count SHOP
//   settings SHOP [key=value ...]          canonical EMAIL
//   advance DAYS (moves the demo's clock)  help | quit
//
// Thread-safety: single-threaded.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"

namespace attrib::engine {
namespace {

constexpr const char* kHelp =
    "commands:\n"
    "  connect SHOP EMAIL AFFILIATE [reassign] [name=NAME]\n"
    "  disconnect SHOP EMAIL | lookup SHOP EMAIL | count SHOP\n"
    "  attribute SHOP ORDER_ID [email=E] [referral=A] [new=true|false]\n"
    "  reverse SHOP ORDER_ID | explain SHOP ORDER_ID\n"
    "  list SHOP [affiliate=A] [prefix=P]\n"
    "  settings SHOP [connections_enabled=B auto_connect=B auto_connect_new_customers_only=B\n"
    "                 validity_days=N validity_mode=fixed|sliding validity_max_orders=N\n"
    "                 precedence=connection_first|referral_first|referral_takes_over]\n"
    "  canonical EMAIL | advance DAYS | help | quit\n";

std::string Describe(const Connection& c) {
  return absl::StrCat(c.entered_email, " (", c.canonical_email, ") -> affiliate ",
                      c.affiliate, ", source ", SourceName(c.source), ", connected_at ",
                      c.connected_at, ", orders ", c.order_count,
                      c.name.empty() ? "" : absl::StrCat(", name ", c.name));
}

std::string Describe(const AttributionDecision& d) {
  return absl::StrCat("order ", d.order_id, ": affiliate ", d.affiliate, ", reason ",
                      ReasonName(d.reason),
                      d.connection_inactive != InactiveReason::kActive
                          ? absl::StrCat(" (connection ",
                                         InactiveReasonName(d.connection_inactive), ")")
                          : "",
                      d.counted ? ", counted" : "",
                      d.connection_created ? ", connection created" : "",
                      d.connection_moved ? ", connection moved" : "",
                      d.previous_affiliate ? absl::StrCat(", previous affiliate ",
                                                          d.previous_affiliate)
                                           : "",
                      d.reversed ? ", reversed" : "");
}

absl::Status ParseBool(absl::string_view v, std::optional<bool>* out) {
  bool b;
  if (!absl::SimpleAtob(v, &b)) return absl::InvalidArgumentError(absl::StrCat("not a boolean: ", v));
  *out = b;
  return absl::OkStatus();
}

absl::Status ParseU32(absl::string_view v, std::optional<uint32_t>* out) {
  uint32_t n;
  if (!absl::SimpleAtoi(v, &n)) return absl::InvalidArgumentError(absl::StrCat("not a number: ", v));
  *out = n;
  return absl::OkStatus();
}

absl::StatusOr<ShopSettingsPatch> ParsePatch(const std::map<std::string, std::string>& kv) {
  ShopSettingsPatch p;
  for (const auto& [k, v] : kv) {
    absl::Status s;
    if (k == "connections_enabled") s = ParseBool(v, &p.connections_enabled);
    else if (k == "auto_connect") s = ParseBool(v, &p.auto_connect);
    else if (k == "auto_connect_new_customers_only") s = ParseBool(v, &p.auto_connect_new_customers_only);
    else if (k == "validity_days") s = ParseU32(v, &p.validity_days);
    else if (k == "validity_max_orders") s = ParseU32(v, &p.validity_max_orders);
    else if (k == "validity_mode") {
      auto m = ParseValidityMode(v);
      if (m.ok()) p.validity_mode = *m; else s = m.status();
    } else if (k == "precedence") {
      auto m = ParsePrecedence(v);
      if (m.ok()) p.precedence = *m; else s = m.status();
    } else {
      s = absl::InvalidArgumentError(absl::StrCat("unknown setting: ", k));
    }
    if (!s.ok()) return s;
  }
  return p;
}

// Runs one command line; returns the text to print.
std::string Run(Engine& engine, FakeClock& clock, const std::vector<std::string>& args) {
  const std::string& cmd = args[0];
  std::vector<std::string> pos;
  std::map<std::string, std::string> kv;
  for (size_t i = 1; i < args.size(); ++i) {
    const size_t eq = args[i].find('=');
    if (eq == std::string::npos) pos.push_back(args[i]);
    else kv[args[i].substr(0, eq)] = args[i].substr(eq + 1);
  }
  uint64_t shop = 0;
  if (cmd != "canonical" && cmd != "advance" && (pos.empty() || !absl::SimpleAtoi(pos[0], &shop))) {
    return "error: the first argument is the shop id (a number)";
  }
  const auto err = [](const absl::Status& s) { return absl::StrCat("error: ", s.message()); };
  if (cmd == "connect" && pos.size() >= 3) {
    ConnectRequest r;
    r.shop = shop;
    r.email = pos[1];
    if (!absl::SimpleAtoi(pos[2], &r.affiliate)) return "error: affiliate: not a number";
    if (pos.size() > 3 && pos[3] == "reassign") r.mode = ConnectMode::kReassign;
    r.source = Source::kManual;
    if (kv.count("name")) r.name = kv["name"];
    auto res = engine.Connect(r);
    if (!res.ok()) return err(res.status());
    const char* what[] = {"created", "unchanged", "replaced"};
    return absl::StrCat(what[static_cast<int>(res->outcome)], ": ", Describe(res->connection),
                        res->previous_affiliate ? absl::StrCat(" (was affiliate ", res->previous_affiliate, ")") : "");
  }
  if (cmd == "disconnect" && pos.size() == 2) {
    auto res = engine.Disconnect(shop, pos[1]);
    return res.ok() ? absl::StrCat("disconnected from affiliate ", res->removed.affiliate) : err(res.status());
  }
  if (cmd == "lookup" && pos.size() == 2) {
    auto res = engine.Lookup(shop, pos[1]);
    if (!res.ok()) return err(res.status());
    if (!res->found) return "not connected";
    return absl::StrCat(Describe(res->connection), ", ", InactiveReasonName(res->status.inactive));
  }
  if (cmd == "attribute" && pos.size() == 2) {
    AttributeRequest r;
    r.shop = shop;
    r.order_id = pos[1];
    if (kv.count("email")) r.email = kv["email"];
    if (kv.count("referral")) {
      uint64_t a;
      if (!absl::SimpleAtoi(kv["referral"], &a)) return "error: referral: not a number";
      r.referral_affiliate = a;
    }
    if (kv.count("new")) {
      absl::Status s = ParseBool(kv["new"], &r.customer_is_new);
      if (!s.ok()) return err(s);
    }
    auto res = engine.Attribute(r);
    if (!res.ok()) return err(res.status());
    return absl::StrCat(res->duplicate ? "duplicate: " : "", Describe(res->decision));
  }
  if (cmd == "reverse" && pos.size() == 2) {
    auto res = engine.Reverse(shop, pos[1]);
    if (!res.ok()) return err(res.status());
    return absl::StrCat(res->already_reversed ? "already reversed: " : "reversed: ",
                        Describe(res->decision), res->uncounted ? " (un-counted)" : "");
  }
  if (cmd == "explain" && pos.size() == 2) {
    auto res = engine.Explain(shop, pos[1]);
    return res.ok() ? Describe(*res) : err(res.status());
  }
  if (cmd == "list" && pos.size() == 1) {
    ListRequest r;
    r.shop = shop;
    r.limit = kMaxListPage;
    if (kv.count("prefix")) r.email_prefix = kv["prefix"];
    if (kv.count("affiliate")) {
      uint64_t a;
      if (!absl::SimpleAtoi(kv["affiliate"], &a)) return "error: affiliate: not a number";
      r.affiliate = a;
    }
    auto page = engine.List(r);
    if (!page.ok()) return err(page.status());
    std::vector<std::string> lines;
    for (const ListItem& it : page->items) {
      lines.push_back(absl::StrCat(Describe(it.connection), ", ", InactiveReasonName(it.status.inactive)));
    }
    lines.push_back(absl::StrCat(page->items.size(), " connection(s)"));
    return absl::StrJoin(lines, "\n");
  }
  if (cmd == "count" && pos.size() == 1) {
    std::string out = absl::StrCat(engine.CountShop(shop).value(), " connection(s)");
    for (const auto& [a, n] : engine.CountsByAffiliate(shop).value()) {
      absl::StrAppend(&out, "\n  affiliate ", a, ": ", n);
    }
    return out;
  }
  if (cmd == "settings" && pos.size() == 1) {
    auto patch = ParsePatch(kv);
    if (!patch.ok()) return err(patch.status());
    auto s = engine.UpdateSettings(shop, *patch);
    if (!s.ok()) return err(s.status());
    return absl::StrCat("connections_enabled=", s->connections_enabled, " auto_connect=", s->auto_connect,
                        " auto_connect_new_customers_only=", s->auto_connect_new_customers_only,
                        " validity_days=", s->validity_days, " validity_mode=", ValidityModeName(s->validity_mode),
                        " validity_max_orders=", s->validity_max_orders, " precedence=", PrecedenceName(s->precedence));
  }
  if (cmd == "canonical" && pos.size() == 1) {
    auto c = Canonicalize(pos[0], engine.email_policy());
    return c.ok() ? c->canonical : err(c.status());
  }
  if (cmd == "advance" && pos.size() == 1) {
    double days;
    if (!absl::SimpleAtod(pos[0], &days)) return "error: days: not a number";
    clock.Advance(static_cast<TimeMs>(days * kMsPerDay));
    return absl::StrCat("now ", clock.NowMs());
  }
  return absl::StrCat("error: unknown command or wrong arguments: ", cmd, " (try help)");
}

}  // namespace
}  // namespace attrib::engine

int main() {
  using namespace attrib::engine;
  // Debian's Abseil runs the mutex deadlock detector on every lock (3.5x the cost);
  // the tests keep it on, the executables do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  FakeClock clock(SystemClock::Get()->NowMs());
  EngineOptions options;
  options.clock = &clock;
  Engine engine(options);
  std::cout << "attrib engine demo (in memory; the network server comes with attribd).\n"
            << kHelp << std::flush;
  std::string line;
  while (std::cout << "> " << std::flush, std::getline(std::cin, line)) {
    std::vector<std::string> args = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (args.empty()) continue;
    if (args[0] == "quit" || args[0] == "exit") break;
    if (args[0] == "help") {
      std::cout << kHelp;
      continue;
    }
    std::cout << Run(engine, clock, args) << "\n";
  }
  return 0;
}
