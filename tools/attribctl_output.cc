// tools/attribctl_output.cc: human and JSON printing of results (see the header).
#include "tools/attribctl_output.h"

#include <cmath>
#include <iostream>
#include <optional>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/engine.h"
#include "engine/types.h"
#include "engine/utf8.h"
#include "tools/attribctl_common.h"

namespace attrib::tools {
namespace {

absl::string_view View(capnp::Text::Reader text) {
  return absl::string_view(text.begin(), text.size());
}

// Wire enums mirror the engine's numerically (net/attrib.capnp); the engine names
// them (and says "unknown" for a value from a newer server).
absl::string_view SourceName(wire::Source s) {
  return engine::SourceName(static_cast<engine::Source>(s));
}
absl::string_view ActivityName(wire::Activity a) {
  return engine::InactiveReasonName(static_cast<engine::InactiveReason>(a));
}
absl::string_view ReasonName(wire::Reason r) {
  return engine::ReasonName(static_cast<engine::Reason>(r));
}

absl::string_view OutcomeName(wire::ConnectResult::Outcome o) {
  switch (o) {
    case wire::ConnectResult::Outcome::CREATED: return "created";
    case wire::ConnectResult::Outcome::UNCHANGED: return "unchanged";
    case wire::ConnectResult::Outcome::REPLACED: return "replaced";
  }
  return "unknown";
}

void PrintLine(const std::string& line) { std::cout << line << '\n'; }

// "jane@x.com (Jane@X.com)".
std::string Who(wire::Connection::Reader c) {
  return absl::StrCat(View(c.getCanonicalEmail()), " (", View(c.getEnteredEmail()), ")");
}

// "order A-1: affiliate 42 (connected)" and the decision's facts as tags.
std::string DecisionLine(wire::Decision::Reader d, std::vector<std::string> tags) {
  std::string line = absl::StrCat("order ", View(d.getOrderId()), ": ");
  if (d.getAffiliate() != 0) {
    absl::StrAppend(&line, "affiliate ", d.getAffiliate(), " (", ReasonName(d.getReason()),
                    ")");
  } else {
    absl::StrAppend(&line, "no affiliate");
  }
  if (d.getConnectionActivity() != wire::Activity::ACTIVE) {
    tags.push_back(absl::StrCat("connection ", ActivityName(d.getConnectionActivity())));
  }
  if (d.getCounted()) tags.push_back("counted");
  if (d.getConnectionCreated()) tags.push_back("connection created");
  if (d.getConnectionMoved()) {
    tags.push_back(absl::StrCat("connection moved from affiliate ", d.getPreviousAffiliate()));
  }
  if (d.getReversed()) tags.push_back("reversed");
  if (d.getOrderNumberInConnection() != 0) {
    tags.push_back(absl::StrCat("order ", d.getOrderNumberInConnection(), " of the connection"));
  }
  if (d.getReason() == wire::Reason::SELF_REFERRAL) {
    tags.push_back(absl::StrCat("self-referral of affiliate ", d.getRefusedAffiliate(),
                                ": not credited"));
  } else if (d.getReferralRefused() != wire::ReferralRefusal::NONE) {
    tags.push_back(absl::StrCat("referral refused: ",
                                engine::ReferralRefusalName(static_cast<engine::ReferralRefusal>(
                                    d.getReferralRefused()))));
  }
  if (d.getRefusedAffiliate() != 0 && d.getReason() != wire::Reason::SELF_REFERRAL) {
    tags.push_back(absl::StrCat("refused affiliate ", d.getRefusedAffiliate()));
  }
  if (d.getCanonicalEmail().size() > 0) {
    tags.push_back(absl::StrCat("customer ", View(d.getCanonicalEmail())));
  }
  tags.push_back(absl::StrCat("at ", IsoTime(d.getOrderedAt())));
  // The customer directory's part (issue 12), last: the earlier tags keep their places.
  if (d.getOrderNumberForCustomer() != 0) {
    tags.push_back(absl::StrCat("order ", d.getOrderNumberForCustomer(), " for the customer"));
  }
  if (d.getNewCustomerSource() == wire::NewCustomerSource::DIRECTORY) {
    tags.push_back(d.getOrderNumberForCustomer() == 1 ? "new customer (directory)"
                                                      : "returning customer (directory)");
  }
  absl::StrAppend(&line, " [", absl::StrJoin(tags, "; "), "]");
  return line;
}

}  // namespace

// ------------------------------------------------------------------------ JSON
// JsonString, JsonObject, ErrorJson: tools/json_writer.cc.

std::string ConnectionJson(wire::Connection::Reader c) {
  return JsonObject()
      .Uint("shop", c.getShop())
      .Str("canonical_email", View(c.getCanonicalEmail()))
      .Str("entered_email", View(c.getEnteredEmail()))
      .Uint("affiliate", c.getAffiliate())
      .Str("source", SourceName(c.getSource()))
      .Int("connected_at", c.getConnectedAt())
      .Str("name", View(c.getName()))
      .Uint("order_count", c.getOrderCount())
      .Int("last_order_at", c.getLastOrderAt())
      .Done();
}

std::string StatusJson(wire::Status::Reader s) {
  return JsonObject()
      .Str("activity", ActivityName(s.getActivity()))
      .Int("expires_at", s.getExpiresAt())
      .Uint("orders_remaining", s.getOrdersRemaining())
      .Done();
}

std::string DecisionJson(wire::Decision::Reader d) {
  return JsonObject()
      .Str("order_id", View(d.getOrderId()))
      .Int("ordered_at", d.getOrderedAt())
      .Uint("affiliate", d.getAffiliate())
      .Str("reason", ReasonName(d.getReason()))
      .Str("connection_activity", ActivityName(d.getConnectionActivity()))
      .Bool("counted", d.getCounted())
      .Bool("connection_created", d.getConnectionCreated())
      .Bool("connection_moved", d.getConnectionMoved())
      .Uint("previous_affiliate", d.getPreviousAffiliate())
      .Str("canonical_email", View(d.getCanonicalEmail()))
      .Bool("reversed", d.getReversed())
      .Str("referral_refused", engine::ReferralRefusalName(
                                   static_cast<engine::ReferralRefusal>(d.getReferralRefused())))
      .Uint("refused_affiliate", d.getRefusedAffiliate())
      .Uint("order_number_in_connection", d.getOrderNumberInConnection())
      .Str("new_customer_source",
           engine::NewCustomerSourceName(
               static_cast<engine::NewCustomerSource>(d.getNewCustomerSource())))
      .Uint("order_number_for_customer", d.getOrderNumberForCustomer())
      .Done();
}

std::string SettingsJson(wire::Settings::Reader s) {
  return JsonObject()
      .Bool("connections_enabled", s.getConnectionsEnabled())
      .Bool("auto_connect", s.getAutoConnect())
      .Bool("auto_connect_new_customers_only", s.getAutoConnectNewCustomersOnly())
      .Uint("validity_days", s.getValidityDays())
      .Str("validity_mode", engine::ValidityModeName(
                                static_cast<engine::ValidityMode>(s.getValidityMode())))
      .Uint("validity_max_orders", s.getValidityMaxOrders())
      .Str("precedence",
           engine::PrecedenceName(static_cast<engine::Precedence>(s.getPrecedence())))
      .Bool("require_registered_affiliates", s.getRequireRegisteredAffiliates())
      .Bool("block_self_referrals", s.getBlockSelfReferrals())
      .Str("on_customer_becomes_affiliate",
           engine::CustomerBecomesAffiliateName(static_cast<engine::CustomerBecomesAffiliate>(
               s.getOnCustomerBecomesAffiliate())))
      .Done();
}

// ----------------------------------------------------------------------- Human

std::string ConnectionLine(wire::Connection::Reader c, wire::Status::Reader s) {
  std::string line = absl::StrCat(Who(c), ": affiliate ", c.getAffiliate(), ", ",
                                  ActivityName(s.getActivity()), "; source ",
                                  SourceName(c.getSource()), ", connected ",
                                  IsoTime(c.getConnectedAt()), ", ", c.getOrderCount(),
                                  c.getOrderCount() == 1 ? " order" : " orders");
  if (c.getLastOrderAt() != 0) absl::StrAppend(&line, ", last order ", IsoTime(c.getLastOrderAt()));
  if (s.getExpiresAt() != 0) {
    absl::StrAppend(&line, s.getActivity() == wire::Activity::EXPIRED ? ", expired " : ", expires ",
                    IsoTime(s.getExpiresAt()));
  }
  if (s.getOrdersRemaining() != 0) {
    absl::StrAppend(&line, ", ", s.getOrdersRemaining(), " orders remaining");
  }
  if (c.getName().size() > 0) absl::StrAppend(&line, ", name ", JsonString(View(c.getName())));
  return line;
}

void Output::Connected(wire::ConnectResult::Reader r) const {
  const wire::Connection::Reader c = r.getConnection();
  if (json_) {
    JsonObject o;
    o.Str("outcome", OutcomeName(r.getOutcome())).Raw("connection", ConnectionJson(c));
    if (r.getOutcome() == wire::ConnectResult::Outcome::REPLACED) {
      o.Uint("previous_affiliate", r.getPreviousAffiliate())
          .Str("previous_activity", ActivityName(r.getPreviousActivity()));
    }
    return PrintLine(o.Done());
  }
  std::string tag(OutcomeName(r.getOutcome()));
  if (r.getOutcome() == wire::ConnectResult::Outcome::REPLACED) {
    absl::StrAppend(&tag, " affiliate ", r.getPreviousAffiliate());
    if (r.getPreviousActivity() != wire::Activity::ACTIVE) {
      absl::StrAppend(&tag, ", ", ActivityName(r.getPreviousActivity()));
    }
  }
  PrintLine(absl::StrCat("connected ", Who(c), " to affiliate ", c.getAffiliate(), " [", tag,
                         "]"));
}

void Output::Disconnected(wire::Connection::Reader removed) const {
  if (json_) return PrintLine(JsonObject().Raw("disconnected", ConnectionJson(removed)).Done());
  PrintLine(absl::StrCat("disconnected ", Who(removed), " from affiliate ",
                         removed.getAffiliate()));
}

void Output::Lookup(absl::string_view query, wire::LookupResult::Reader r) const {
  if (json_) {
    JsonObject o;
    o.Str("email", query).Bool("found", r.getFound());
    if (r.getFound()) {
      o.Raw("connection", ConnectionJson(r.getConnection()))
          .Raw("status", StatusJson(r.getStatus()));
    }
    return PrintLine(o.Done());
  }
  if (!r.getFound()) return PrintLine(absl::StrCat(query, ": not connected"));
  PrintLine(ConnectionLine(r.getConnection(), r.getStatus()));
}

void Output::ListItem(wire::ListItem::Reader item) const {
  if (json_) {
    return PrintLine(JsonObject()
                         .Raw("connection", ConnectionJson(item.getConnection()))
                         .Raw("status", StatusJson(item.getStatus()))
                         .Done());
  }
  PrintLine(ConnectionLine(item.getConnection(), item.getStatus()));
}

void Output::NextCursor(absl::string_view cursor) const {
  if (json_) return PrintLine(JsonObject().Str("next_cursor", cursor).Done());
  std::cerr << "next page: --cursor=" << cursor << " (or --all for every page)\n";
}

void Output::Count(uint64_t shop, uint64_t affiliate, wire::CountResult::Reader r) const {
  if (json_) {
    JsonObject o;
    o.Uint("shop", shop);
    if (affiliate != 0) o.Uint("affiliate", affiliate);
    o.Uint("connections", r.getConnections());
    if (affiliate == 0) {
      std::string list = "[";
      for (wire::AffiliateCount::Reader a : r.getByAffiliate()) {
        if (list.size() > 1) list += ",";
        list += JsonObject()
                    .Uint("affiliate", a.getAffiliate())
                    .Uint("connections", a.getConnections())
                    .Done();
      }
      o.Raw("by_affiliate", list + "]");
    }
    return PrintLine(o.Done());
  }
  if (affiliate != 0) {
    return PrintLine(absl::StrCat("shop ", shop, ", affiliate ", affiliate, ": ",
                                  r.getConnections(), " connections"));
  }
  PrintLine(absl::StrCat("shop ", shop, ": ", r.getConnections(), " connections"));
  for (wire::AffiliateCount::Reader a : r.getByAffiliate()) {
    PrintLine(absl::StrCat("  affiliate ", a.getAffiliate(), ": ", a.getConnections()));
  }
}

void Output::Settings(uint64_t shop, wire::Settings::Reader s) const {
  if (json_) {
    return PrintLine(JsonObject().Uint("shop", shop).Raw("settings", SettingsJson(s)).Done());
  }
  // The same key=value spelling `settings set` accepts.
  PrintLine(absl::StrCat("connections_enabled=", s.getConnectionsEnabled() ? "true" : "false"));
  PrintLine(absl::StrCat("auto_connect=", s.getAutoConnect() ? "true" : "false"));
  PrintLine(absl::StrCat("auto_connect_new_customers_only=",
                         s.getAutoConnectNewCustomersOnly() ? "true" : "false"));
  PrintLine(absl::StrCat("validity_days=", s.getValidityDays()));
  PrintLine(absl::StrCat("validity_mode=", engine::ValidityModeName(static_cast<engine::ValidityMode>(
                                               s.getValidityMode()))));
  PrintLine(absl::StrCat("validity_max_orders=", s.getValidityMaxOrders()));
  PrintLine(absl::StrCat("precedence=", engine::PrecedenceName(
                                            static_cast<engine::Precedence>(s.getPrecedence()))));
  PrintLine(absl::StrCat("require_registered_affiliates=",
                         s.getRequireRegisteredAffiliates() ? "true" : "false"));
  PrintLine(absl::StrCat("block_self_referrals=", s.getBlockSelfReferrals() ? "true" : "false"));
  PrintLine(absl::StrCat("on_customer_becomes_affiliate=",
                         engine::CustomerBecomesAffiliateName(
                             static_cast<engine::CustomerBecomesAffiliate>(
                                 s.getOnCustomerBecomesAffiliate()))));
  PrintLine(absl::StrCat("auto_link_identifiers=", s.getAutoLinkIdentifiers() ? "true" : "false"));
  PrintLine(absl::StrCat("merge_conflict=",
                         engine::MergeConflictRuleName(
                             static_cast<engine::MergeConflictRule>(s.getMergeConflict()))));
  PrintLine(absl::StrCat("customer_directory=", s.getCustomerDirectory() ? "true" : "false"));
}

void Output::Attributed(wire::AttributeResult::Reader r) const {
  if (json_) {
    return PrintLine(JsonObject()
                         .Raw("decision", DecisionJson(r.getDecision()))
                         .Bool("duplicate", r.getDuplicate())
                         .Done());
  }
  std::vector<std::string> tags;
  if (r.getDuplicate()) tags.push_back("duplicate: the first decision, nothing changed");
  PrintLine(DecisionLine(r.getDecision(), std::move(tags)));
}

void Output::Reversed(wire::ReverseResult::Reader r) const {
  if (json_) {
    return PrintLine(JsonObject()
                         .Raw("decision", DecisionJson(r.getDecision()))
                         .Bool("uncounted", r.getUncounted())
                         .Bool("already_reversed", r.getAlreadyReversed())
                         .Done());
  }
  const wire::Decision::Reader d = r.getDecision();
  if (r.getAlreadyReversed()) {
    return PrintLine(absl::StrCat("order ", View(d.getOrderId()), ": already reversed"));
  }
  if (r.getUncounted()) {
    return PrintLine(absl::StrCat("order ", View(d.getOrderId()),
                                  ": reversed, un-counted from affiliate ", d.getAffiliate()));
  }
  PrintLine(absl::StrCat("order ", View(d.getOrderId()),
                         ": reversed (it was not counted against a connection)"));
}

void Output::Explained(wire::Decision::Reader d) const {
  if (json_) return PrintLine(JsonObject().Raw("decision", DecisionJson(d)).Done());
  PrintLine(DecisionLine(d, {}));
}

void Output::Stats(wire::StatsResult::Reader s) const {
  if (json_) {
    std::string ops = "[";
    for (wire::OperationCount::Reader op : s.getOperations()) {
      if (ops.size() > 1) ops += ",";
      ops += JsonObject()
                 .Str("operation", View(op.getOperation()))
                 .Str("result", View(op.getResult()))
                 .Uint("count", op.getCount())
                 .Done();
    }
    return PrintLine(JsonObject()
                         .Uint("connections", s.getConnections())
                         .Uint("remembered_orders", s.getRememberedOrders())
                         .Uint("open_clients", s.getOpenClients())
                         .Uint("accepted_clients", s.getAcceptedClients())
                         .Uint("rss_bytes", s.getRssBytes())
                         .Uint("store_table_bytes", s.getStoreTableBytes())
                         .Uint("store_arena_bytes", s.getStoreArenaBytes())
                         .Int("uptime_ms", s.getUptimeMs())
                         .Int("oldest_durability_wait_ms", s.getOldestDurabilityWaitMs())
                         .Raw("operations", ops + "]")
                         .Done());
  }
  auto mib = [](uint64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); };
  PrintLine(absl::StrCat("connections: ", s.getConnections()));
  PrintLine(absl::StrCat("remembered orders: ", s.getRememberedOrders()));
  PrintLine(absl::StrCat("clients: ", s.getOpenClients(), " open, ", s.getAcceptedClients(),
                         " accepted"));
  PrintLine(absl::StrCat("memory: rss ", mib(s.getRssBytes()), ", store table ",
                         mib(s.getStoreTableBytes()), ", store arena ",
                         mib(s.getStoreArenaBytes())));
  PrintLine(absl::StrCat("uptime: ", absl::FormatDuration(absl::Milliseconds(s.getUptimeMs()))));
  PrintLine(absl::StrCat("oldest reply waiting for durability: ",
                         s.getOldestDurabilityWaitMs() == 0
                             ? std::string("none")
                             : absl::FormatDuration(
                                   absl::Milliseconds(s.getOldestDurabilityWaitMs()))));
  if (s.getOperations().size() > 0) PrintLine("operations:");
  for (wire::OperationCount::Reader op : s.getOperations()) {
    PrintLine(absl::StrCat("  ", View(op.getOperation()), " ", View(op.getResult()), ": ",
                           op.getCount()));
  }
}

void Output::Pong(absl::string_view server, absl::Duration rtt) const {
  const double ms = absl::ToDoubleMilliseconds(rtt);
  if (json_) return PrintLine(JsonObject().Bool("pong", true).Double("rtt_ms", ms).Done());
  PrintLine(absl::StrFormat("pong from %s in %.3f ms", std::string(server), ms));
}

void Output::Promoted(wire::PromoteResult::Reader r) const {
  if (json_) {
    return PrintLine(JsonObject()
                         .Uint("epoch", r.getEpoch())
                         .Uint("seq", r.getSeq())
                         .Uint("applied_seq", r.getAppliedSeq())
                         .Uint("primary_seq", r.getPrimarySeq())
                         .Done());
  }
  PrintLine(absl::StrFormat(
      "promoted: primary of epoch %d; its log ends at record %d (applied %d of the %d its "
      "old primary had durable when last heard)",
      r.getEpoch(), r.getSeq(), r.getAppliedSeq(), r.getPrimarySeq()));
}

void Output::SnapshotDone() const {
  if (json_) return PrintLine(JsonObject().Bool("snapshot", true).Done());
  PrintLine("snapshot written");
}

void Output::Error(absl::string_view what, const absl::Status& status,
                   absl::string_view email) const {
  if (json_ && !net::IsConnectionError(status)) {
    JsonObject o;
    if (!email.empty()) o.Str("email", email);
    return PrintLine(o.Raw("error", ErrorJson(status)).Done());
  }
  std::cout.flush();
  std::cerr << "attribctl: " << what << ": " << status.message() << '\n';
}

}  // namespace attrib::tools
