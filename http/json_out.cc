// http/json_out.cc: JSON encodings of the engine's values (see json_out.h).
#include "http/json_out.h"

#include "absl/strings/numbers.h"
#include <cstdio>
#include <cstring>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/identity_index.h"

namespace attrib::http {

namespace {

// "2023-11-14T22:13:20.000Z" into buf (>= 32 bytes); returns the length. A civil-time
// conversion and one snprintf: absl::FormatTime costs several times more, and this
// runs for every time field of every response.
size_t FormatRfc3339(engine::TimeMs ms, char* buf) {
  const absl::CivilSecond cs =
      absl::ToCivilSecond(absl::FromUnixMillis(ms), absl::UTCTimeZone());
  const int frac = static_cast<int>(((ms % 1000) + 1000) % 1000);
  const int n = std::snprintf(buf, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              static_cast<long long>(cs.year()), cs.month(), cs.day(),
                              cs.hour(), cs.minute(), cs.second(), frac);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace

std::string Rfc3339(engine::TimeMs ms) {
  char buf[32];
  return std::string(buf, FormatRfc3339(ms, buf));
}

void JsonOut::Id(absl::string_view k, uint64_t id) {
  char buf[absl::numbers_internal::kFastToBufferSize];
  char* end = absl::numbers_internal::FastIntToBuffer(id, buf);
  Key(k);
  w_.String(buf, static_cast<rapidjson::SizeType>(end - buf));
}

void JsonOut::Time(absl::string_view k, engine::TimeMs ms) {
  Int(k, ms);
  char key[64];
  const size_t n = std::min(k.size(), sizeof(key) - 8);
  std::memcpy(key, k.data(), n);
  std::memcpy(key + n, "_rfc3339", 8);
  Key(absl::string_view(key, n + 8));
  if (ms == 0) {
    w_.Null();
    return;
  }
  char t[32];
  const size_t len = FormatRfc3339(ms, t);
  w_.String(t, static_cast<rapidjson::SizeType>(len));
}

void JsonOut::Connection(const engine::ConnectionView& c) {
  w_.StartObject();
  Id("shop", c.shop);
  if (engine::IsExternalIdKey(c.canonical_email)) {
    // Keyed by external id (issue 12): no email; the id without its key prefix.
    Str("canonical_email", "");
    Str("entered_email", "");
    Str("external_id", engine::ExternalIdOfKey(c.canonical_email));
  } else {
    Str("canonical_email", c.canonical_email);
    Str("entered_email", c.entered_email);
  }
  Id("affiliate", c.affiliate);
  Str("source", engine::SourceName(c.source));
  Time("connected_at", c.connected_at);
  Str("name", c.name);
  Uint("order_count", c.order_count);
  Time("last_order_at", c.last_order_at);
  w_.EndObject();
}

void JsonOut::Status(const engine::ConnectionStatus& s) {
  w_.StartObject();
  Str("activity", engine::InactiveReasonName(s.inactive));
  Time("expires_at", s.expires_at);
  Uint("orders_remaining", s.orders_remaining);
  w_.EndObject();
}

void JsonOut::Decision(const engine::AttributionDecision& d) {
  w_.StartObject();
  Str("order_id", d.order_id);
  Time("ordered_at", d.ordered_at);
  Id("affiliate", d.affiliate);
  Str("reason", engine::ReasonName(d.reason));
  Str("connection_activity", engine::InactiveReasonName(d.connection_inactive));
  Bool("counted", d.counted);
  Bool("connection_created", d.connection_created);
  Bool("connection_moved", d.connection_moved);
  Id("previous_affiliate", d.previous_affiliate);
  if (engine::IsExternalIdKey(d.canonical_email)) {
    Str("canonical_email", "");
    Str("external_id", engine::ExternalIdOfKey(d.canonical_email));
  } else {
    Str("canonical_email", d.canonical_email);
  }
  Bool("reversed", d.reversed);
  // The affiliate directory's and the customer directory's parts (issue 12).
  Str("referral_refused", engine::ReferralRefusalName(d.referral_refused));
  Id("refused_affiliate", d.refused_affiliate);
  Uint("order_number_in_connection", d.order_number_in_connection);
  Str("new_customer_source", engine::NewCustomerSourceName(d.new_customer_source));
  Uint("order_number_for_customer", d.order_number_for_customer);
  w_.EndObject();
}

void JsonOut::Settings(const engine::ShopSettings& s) {
  w_.StartObject();
  Bool("connections_enabled", s.connections_enabled);
  Bool("auto_connect", s.auto_connect);
  Bool("auto_connect_new_customers_only", s.auto_connect_new_customers_only);
  Uint("validity_days", s.validity_days);
  Str("validity_mode", engine::ValidityModeName(s.validity_mode));
  Uint("validity_max_orders", s.validity_max_orders);
  Str("precedence", engine::PrecedenceName(s.precedence));
  Bool("require_registered_affiliates", s.require_registered_affiliates);
  Bool("block_self_referrals", s.block_self_referrals);
  Str("on_customer_becomes_affiliate",
      engine::CustomerBecomesAffiliateName(s.on_customer_becomes_affiliate));
  Bool("auto_link_identifiers", s.auto_link_identifiers);
  Str("merge_conflict", engine::MergeConflictRuleName(s.merge_conflict));
  Bool("customer_directory", s.customer_directory);
  w_.EndObject();
}

}  // namespace attrib::http
