// tools/restore_common.cc: what the attrib-restore subcommands share (see the header).
#include "tools/restore_common.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/shard.h"
#include "tools/cli_values.h"
#include "tools/json_writer.h"

namespace attrib::tools {

int RestoreEnv::Fail(absl::string_view what, const absl::Status& status) const {
  return Fail(what, status.message());
}

int RestoreEnv::Fail(absl::string_view what, absl::string_view message) const {
  *err << "attrib-restore: " << what << ": " << message << "\n";
  err->flush();
  return kExitFailed;
}

int RestoreEnv::Usage(absl::string_view message) const {
  *err << "attrib-restore: " << message << "\n(attrib-restore --help shows the usage)\n";
  err->flush();
  return kExitUsage;
}

void RestoreEnv::Warn(absl::string_view what, absl::string_view message) const {
  *err << "attrib-restore: " << what << ": WARNING: " << message << "\n";
}

Progress::Progress(const RestoreEnv& env, std::string what)
    : err_(env.err), enabled_(env.progress), what_(std::move(what)) {}

void Progress::Update(uint64_t done, uint64_t total, absl::string_view unit) {
  if (!enabled_) return;
  const absl::Time now = absl::Now();
  if (now - last_ < absl::Milliseconds(250)) return;
  last_ = now;
  shown_ = true;
  *err_ << "\r" << what_ << ": " << done;
  if (total != 0) {
    *err_ << " of " << total << " " << unit << " (" << (100 * done / total) << "%)";
  } else {
    *err_ << " " << unit;
  }
  *err_ << "   " << std::flush;
}

void Progress::Finish() {
  if (!shown_) return;
  shown_ = false;
  // Erase the line, so the report that follows starts clean.
  *err_ << "\r\033[K" << std::flush;
}

void ForEachConnectionSorted(const engine::Engine& engine, engine::ShopId shop,
                             const std::function<void(const engine::Connection&)>& fn) {
  // The keys are collected into one byte arena with small fixed entries: a sort of
  // 10M keys then costs ~0.5 GB instead of the several GB of materialized copies.
  struct Key {
    engine::ShopId shop;
    uint64_t offset;
    uint32_t size;
  };
  std::string arena;
  std::vector<Key> keys;
  keys.reserve(engine.store().size());
  for (uint32_t i = 0; i < engine.store().shard_count(); ++i) {
    engine.store().ForEachInShard(i, [&](const engine::Shard& s, engine::record::View v) {
      const engine::ShopId key_shop = s.ShopOf(v);
      if (shop != 0 && key_shop != shop) return;
      engine::CanonicalBuffer buf;
      const absl::string_view canonical = s.CanonicalOf(v, &buf);
      keys.push_back({key_shop, arena.size(), static_cast<uint32_t>(canonical.size())});
      arena.append(canonical.data(), canonical.size());
    });
  }
  const auto text = [&arena](const Key& k) {
    return absl::string_view(arena.data() + k.offset, k.size);
  };
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.shop != b.shop) return a.shop < b.shop;
    return text(a) < text(b);
  });
  for (const Key& k : keys) {
    std::optional<engine::Connection> c = engine.store().Get(k.shop, text(k));
    if (c) fn(*c);
  }
}

std::string ConnectionLine(const engine::Connection& c) {
  std::string line = absl::StrCat("shop ", c.shop, " ", c.canonical_email);
  if (c.entered_email != c.canonical_email) absl::StrAppend(&line, " (", c.entered_email, ")");
  absl::StrAppend(&line, ": affiliate ", c.affiliate, ", source ", engine::SourceName(c.source),
                  ", connected ", IsoTime(c.connected_at));
  if (!c.name.empty()) absl::StrAppend(&line, ", name ", JsonString(c.name));
  absl::StrAppend(&line, ", ", c.order_count, c.order_count == 1 ? " order" : " orders");
  if (c.last_order_at != 0) absl::StrAppend(&line, ", last order ", IsoTime(c.last_order_at));
  return line;
}

std::string SettingsLine(engine::ShopId shop, const engine::ShopSettings& s) {
  return absl::StrCat("shop ", shop, ": connections_enabled=", s.connections_enabled ? "true" : "false",
                      " auto_connect=", s.auto_connect ? "true" : "false",
                      " auto_connect_new_customers_only=",
                      s.auto_connect_new_customers_only ? "true" : "false",
                      " validity_days=", s.validity_days,
                      " validity_mode=", engine::ValidityModeName(s.validity_mode),
                      " validity_max_orders=", s.validity_max_orders,
                      " precedence=", engine::PrecedenceName(s.precedence),
                      " require_registered_affiliates=",
                      s.require_registered_affiliates ? "true" : "false",
                      " block_self_referrals=", s.block_self_referrals ? "true" : "false",
                      " on_customer_becomes_affiliate=",
                      engine::CustomerBecomesAffiliateName(s.on_customer_becomes_affiliate));
}

std::string AffiliateLine(const engine::Affiliate& a) {
  std::string line = absl::StrCat("shop ", a.shop, " affiliate ", a.id, " ", JsonString(a.name),
                                  ": ", engine::AffiliateStatusName(a.status), ", created ",
                                  IsoTime(a.created_at), ", emails");
  if (a.emails.empty()) line += " (none)";
  for (const std::string& e : a.emails) absl::StrAppend(&line, " ", e);
  return line;
}

std::string OrderLine(const engine::OrderRecord& o) {
  const engine::AttributionDecision& d = o.decision;
  std::string line = absl::StrCat("shop ", o.shop, " order ", JsonString(d.order_id), " at ",
                                  IsoTime(d.ordered_at), ": ");
  if (d.affiliate != 0) {
    absl::StrAppend(&line, "affiliate ", d.affiliate, " (", engine::ReasonName(d.reason), ")");
  } else {
    absl::StrAppend(&line, "no affiliate");
  }
  if (d.connection_inactive != engine::InactiveReason::kActive) {
    absl::StrAppend(&line, ", connection ", engine::InactiveReasonName(d.connection_inactive));
  }
  if (d.counted) absl::StrAppend(&line, ", counted");
  if (d.connection_created) absl::StrAppend(&line, ", connected the customer");
  if (d.connection_moved) {
    absl::StrAppend(&line, ", moved the customer from affiliate ", d.previous_affiliate);
  }
  if (d.reversed) absl::StrAppend(&line, ", reversed");
  if (d.order_number_in_connection != 0) {
    absl::StrAppend(&line, ", order ", d.order_number_in_connection, " of the connection");
  }
  if (d.referral_refused != engine::ReferralRefusal::kNone) {
    absl::StrAppend(&line, ", referral refused (", engine::ReferralRefusalName(d.referral_refused),
                    ")");
  }
  if (d.refused_affiliate != 0) absl::StrAppend(&line, ", refused affiliate ", d.refused_affiliate);
  if (!d.canonical_email.empty()) absl::StrAppend(&line, "; customer ", d.canonical_email);
  return line;
}

std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace attrib::tools
