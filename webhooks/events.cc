// webhooks/events.cc: log records -> webhook events (see the header).
#include "webhooks/events.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/identity_index.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace attrib::webhooks {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, absl::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void Id(Writer& w, const char* key, uint64_t value) { Str(w, key, absl::StrCat(value)); }
void Bool(Writer& w, const char* key, bool value) {
  w.Key(key);
  w.Bool(value);
}
void Uint(Writer& w, const char* key, uint32_t value) {
  w.Key(key);
  w.Uint(value);
}
void Time(Writer& w, const char* key, engine::TimeMs ms) {
  w.Key(key);
  w.Int64(ms);
}

// An identifier key (identity_index.h) as the API names it: {"email": ...} or
// {"external_id": ...}, written as members of the current object with `prefix`.
void Identifier(Writer& w, const char* email_key, const char* external_key,
                absl::string_view key) {
  if (engine::IsExternalIdKey(key)) {
    Str(w, external_key, engine::ExternalIdOfKey(key));
  } else {
    Str(w, email_key, key);
  }
}
void Customer(Writer& w, const char* key, absl::string_view primary) {
  w.Key(key);
  w.StartObject();
  Identifier(w, "email", "external_id", primary);
  w.EndObject();
}

absl::string_view CauseName(engine::IdentityCause c) {
  switch (c) {
    case engine::IdentityCause::kManual: return "manual";
    case engine::IdentityCause::kOrder: return "order";
    case engine::IdentityCause::kConnect: return "connect";
  }
  return "unknown";
}

std::string Rfc3339(engine::TimeMs ms) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

void ConnectionData(Writer& w, const engine::Connection& c) {
  Str(w, "email", c.canonical_email);
  Str(w, "email_entered", c.entered_email);
  Id(w, "affiliate", c.affiliate);
  Str(w, "source", engine::SourceName(c.source));
  Time(w, "connected_at", c.connected_at);
  Str(w, "name", c.name);
  Uint(w, "order_count", c.order_count);
}

// Writes the envelope around `data` (which writes the members of "data").
template <typename Data>
Event Build(uint64_t seq, const engine::Mutation& m, uint64_t shop, const char* type,
            Data data) {
  Event e;
  e.id = EventId(seq);
  e.type = type;
  e.shop = shop;
  e.seq = seq;
  e.occurred_at = m.made_at;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "id", e.id);
  Str(w, "type", e.type);
  Id(w, "seq", seq);
  Id(w, "shop", shop);
  Time(w, "occurred_at", m.made_at);
  Str(w, "timestamp", Rfc3339(m.made_at));
  w.Key("data");
  w.StartObject();
  data(w);
  w.EndObject();
  w.EndObject();
  e.body.assign(buffer.GetString(), buffer.GetSize());
  return e;
}

}  // namespace

std::string EventId(uint64_t seq) { return absl::StrCat("evt_", seq); }

std::optional<Event> EventOf(uint64_t seq, const engine::Mutation& m) {
  // get_if chains, not std::visit: a record type added to Mutation later has no
  // event until it is given one here.
  if (const auto* set = std::get_if<engine::SetConnection>(&m.op)) {
    return Build(seq, m, set->connection.shop,
                 set->previous_affiliate == 0 ? "connection.created" : "connection.replaced",
                 [&](Writer& w) {
                   ConnectionData(w, set->connection);
                   Id(w, "previous_affiliate", set->previous_affiliate);
                 });
  }
  if (const auto* removed = std::get_if<engine::RemoveConnection>(&m.op)) {
    return Build(seq, m, removed->shop, "connection.removed", [&](Writer& w) {
      Str(w, "email", removed->canonical_email);
      Id(w, "previous_affiliate", removed->previous_affiliate);
      const bool became = removed->cause == engine::RemoveCause::kCustomerBecameAffiliate;
      Str(w, "cause", became ? "customer_became_affiliate" : "request");
      if (became) Id(w, "became_affiliate", removed->became_affiliate);
    });
  }
  if (const auto* order = std::get_if<engine::RecordOrder>(&m.op)) {
    const engine::AttributionDecision& d = order->decision;
    return Build(seq, m, order->shop, "order.attributed", [&](Writer& w) {
      Str(w, "order_id", d.order_id);
      Str(w, "email", d.canonical_email);
      Id(w, "affiliate", d.affiliate);
      Str(w, "reason", engine::ReasonName(d.reason));
      Str(w, "connection_status", engine::InactiveReasonName(d.connection_inactive));
      Time(w, "ordered_at", d.ordered_at);
      Bool(w, "counted", d.counted);
      Bool(w, "connection_created", d.connection_created);
      Bool(w, "connection_moved", d.connection_moved);
      Id(w, "previous_affiliate", d.previous_affiliate);
      Str(w, "referral_refused", engine::ReferralRefusalName(d.referral_refused));
      Id(w, "refused_affiliate", d.refused_affiliate);
      Uint(w, "order_number_in_connection", d.order_number_in_connection);
      Str(w, "new_customer_source", engine::NewCustomerSourceName(d.new_customer_source));
      Uint(w, "order_number_for_customer", d.order_number_for_customer);
    });
  }
  if (const auto* reversed = std::get_if<engine::ReverseOrder>(&m.op)) {
    return Build(seq, m, reversed->shop, "order.reversed", [&](Writer& w) {
      Str(w, "order_id", reversed->order_id);
      Str(w, "email", reversed->canonical_email);
      Bool(w, "uncounted", reversed->counters.has_value());
    });
  }
  if (const auto* settings = std::get_if<engine::PutSettings>(&m.op)) {
    const engine::ShopSettings& s = settings->settings;
    return Build(seq, m, settings->shop, "settings.updated", [&](Writer& w) {
      Bool(w, "connections_enabled", s.connections_enabled);
      Bool(w, "auto_connect", s.auto_connect);
      Bool(w, "auto_connect_new_customers_only", s.auto_connect_new_customers_only);
      Uint(w, "validity_days", s.validity_days);
      Str(w, "validity_mode", engine::ValidityModeName(s.validity_mode));
      Uint(w, "validity_max_orders", s.validity_max_orders);
      Str(w, "precedence", engine::PrecedenceName(s.precedence));
      Bool(w, "require_registered_affiliates", s.require_registered_affiliates);
      Bool(w, "block_self_referrals", s.block_self_referrals);
      Str(w, "on_customer_becomes_affiliate",
          engine::CustomerBecomesAffiliateName(s.on_customer_becomes_affiliate));
      Bool(w, "auto_link_identifiers", s.auto_link_identifiers);
      Str(w, "merge_conflict", engine::MergeConflictRuleName(s.merge_conflict));
      Bool(w, "customer_directory", s.customer_directory);
    });
  }
  if (const auto* put = std::get_if<engine::PutAffiliate>(&m.op)) {
    const engine::Affiliate& a = put->affiliate;
    return Build(seq, m, a.shop, put->created ? "affiliate.created" : "affiliate.updated",
                 [&](Writer& w) {
                   Id(w, "affiliate", a.id);
                   Str(w, "name", a.name);
                   w.Key("emails");
                   w.StartArray();
                   for (const std::string& e : a.emails) {
                     w.String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
                   }
                   w.EndArray();
                   Str(w, "status", engine::AffiliateStatusName(a.status));
                   Time(w, "created_at", a.created_at);
                 });
  }
  if (const auto* link = std::get_if<engine::LinkIdentifier>(&m.op)) {
    return Build(seq, m, link->shop, "customer.identifier_linked", [&](Writer& w) {
      Customer(w, "customer", link->primary);
      Identifier(w, "email", "external_id", link->identifier);
      Str(w, "cause", CauseName(link->cause));
      if (!link->order_id.empty()) Str(w, "order_id", link->order_id);
    });
  }
  if (const auto* unlink = std::get_if<engine::UnlinkIdentifier>(&m.op)) {
    return Build(seq, m, unlink->shop, "customer.identifier_unlinked", [&](Writer& w) {
      Customer(w, "customer", unlink->primary);
      Identifier(w, "email", "external_id", unlink->identifier);
    });
  }
  if (const auto* merge = std::get_if<engine::MergeCustomers>(&m.op)) {
    return Build(seq, m, merge->shop, "customer.merged", [&](Writer& w) {
      Customer(w, "survivor", merge->survivor);
      Customer(w, "merged", merge->loser);
      Str(w, "cause", CauseName(merge->cause));
      if (!merge->order_id.empty()) Str(w, "order_id", merge->order_id);
      Bool(w, "conflict", merge->conflict);
      if (merge->conflict) Str(w, "rule", engine::MergeConflictRuleName(merge->rule));
      if (merge->lost_connection.has_value()) {
        w.Key("lost_connection");
        w.StartObject();
        ConnectionData(w, *merge->lost_connection);
        w.EndObject();
      }
    });
  }
  return std::nullopt;
}

}  // namespace attrib::webhooks
