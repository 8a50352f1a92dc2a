// tools/restore_rekey.cc: `attrib-restore rekey` (see the header).
#include "tools/restore_rekey.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "tools/cli_values.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

using Key = std::pair<engine::ShopId, std::string>;

std::string Brief(const engine::Connection& c) {
  return absl::StrCat(c.entered_email, " (affiliate ", c.affiliate, ", ",
                      engine::SourceName(c.source), ", connected ", IsoTime(c.connected_at),
                      ")");
}

}  // namespace

absl::StatusOr<RekeyResult> Rekey(const engine::Engine& source, engine::EmailPolicy policy,
                                  engine::TimeMs order_window_ms, const RestoreEnv& env) {
  RekeyResult r;
  engine::EngineOptions eo;
  eo.shard_count = source.shard_count();
  eo.email_policy = policy;
  eo.order_window_ms = order_window_ms;
  r.engine = std::make_unique<engine::Engine>(eo);

  // The old keys remembered orders refer to; their new keys come from the
  // connections that hold them.
  absl::flat_hash_map<Key, std::string> order_keys;
  source.orders().ForEach([&](const engine::OrderRecord& o) {
    if (!o.decision.canonical_email.empty()) {
      order_keys.try_emplace(Key(o.shop, o.decision.canonical_email), std::string());
    }
  });

  // Connections, in (shop, old key) order so that ties are decided the same way on
  // every run.
  std::map<Key, std::vector<engine::Connection>> dropped;  // New key -> losers.
  Progress progress(env, "rekey");
  const uint64_t total = source.store().size();
  ForEachConnectionSorted(source, 0, [&](const engine::Connection& c) {
    if ((++r.connections_in & 0xfff) == 0) progress.Update(r.connections_in, total, "connections");
    absl::StatusOr<engine::CanonicalEmail> canonical = engine::Canonicalize(c.entered_email, policy);
    if (!canonical.ok()) {
      ++r.unkeyable;
      env.Warn("rekey", absl::StrCat("shop ", c.shop, " ", c.entered_email, " (affiliate ",
                                     c.affiliate, ") is dropped: the new policy rejects it: ",
                                     canonical.status().message()));
      return;
    }
    engine::Connection n = c;
    n.canonical_email = canonical->canonical;
    if (n.canonical_email != c.canonical_email) ++r.rekeyed;
    if (auto it = order_keys.find(Key(c.shop, c.canonical_email)); it != order_keys.end()) {
      it->second = n.canonical_email;
    }
    std::optional<engine::Connection> existing = r.engine->store().Get(n.shop, n.canonical_email);
    if (existing) {
      // Newest connected_at wins; a tie keeps the one already there.
      const bool replace = n.connected_at > existing->connected_at;
      dropped[Key(n.shop, n.canonical_email)].push_back(replace ? *existing : n);
      if (!replace) return;
    }
    r.engine->RestoreConnection(n);
  });
  progress.Finish();
  for (auto& [key, losers] : dropped) {
    std::optional<engine::Connection> kept = r.engine->store().Get(key.first, key.second);
    if (!kept) return absl::InternalError("rekey: a merged connection disappeared");
    r.merges.push_back({*std::move(kept), std::move(losers)});
  }

  source.settings().ForEach([&](engine::ShopId shop, const engine::ShopSettings& s) {
    r.engine->RestoreSettings(shop, s);
  });

  // The affiliate directory holds canonical emails only: each is canonicalized again
  // under the new policy (exact from standard to provider; from provider to standard
  // the removed dots and +tags cannot come back). An email the new policy rejects, or
  // that two entries now share, is dropped with a warning.
  std::vector<engine::Affiliate> affiliates;
  source.affiliates().ForEachLocked(
      [&](const engine::Affiliate& a) { affiliates.push_back(a); }, [] {});
  std::sort(affiliates.begin(), affiliates.end(), [](const auto& x, const auto& y) {
    return std::pair(x.shop, x.id) < std::pair(y.shop, y.id);
  });
  std::set<Key> taken;
  for (engine::Affiliate a : affiliates) {
    std::vector<std::string> emails;
    for (const std::string& e : a.emails) {
      absl::StatusOr<engine::CanonicalEmail> canonical = engine::Canonicalize(e, policy);
      const std::string why = !canonical.ok() ? std::string(canonical.status().message())
                              : taken.contains(Key(a.shop, canonical->canonical))
                                  ? std::string("another affiliate has it now")
                                  : std::string();
      if (!why.empty()) {
        env.Warn("rekey", absl::StrCat("shop ", a.shop, " affiliate ", a.id, ": email ", e,
                                       " is dropped: ", why));
        continue;
      }
      if (std::find(emails.begin(), emails.end(), canonical->canonical) != emails.end()) continue;
      taken.insert(Key(a.shop, canonical->canonical));
      emails.push_back(std::move(canonical->canonical));
    }
    a.emails = std::move(emails);
    r.engine->RestoreAffiliate(a);
  }

  for (uint32_t i = 0; i < source.orders().shard_count(); ++i) {
    std::vector<engine::OrderRecord> records;
    engine::TimeMs high_water = 0;
    source.orders().ReadShard(i, [&](const engine::OrderShard& shard) {
      high_water = shard.high_water();
      records.reserve(shard.size());
      shard.ForEach([&](const engine::OrderRecord& o) { records.push_back(o); });
    });
    for (engine::OrderRecord& o : records) {
      std::string& key = o.decision.canonical_email;
      if (!key.empty()) {
        auto it = order_keys.find(Key(o.shop, key));
        if (it != order_keys.end() && !it->second.empty()) {
          key = it->second;
        } else if (absl::StatusOr<engine::CanonicalEmail> c = engine::Canonicalize(key, policy);
                   c.ok()) {
          key = c->canonical;
        }
      }
      r.engine->RestoreOrder(o, high_water);
    }
  }
  return r;
}

int RunRekey(const RestoreOptions& options, const RestoreEnv& env) {
  if (options.args.size() != 1) return env.Usage("rekey: expected one data directory");
  if (options.to.empty()) return env.Usage("rekey: --to=NEW is required");
  if (!options.email_policy.has_value()) {
    return env.Usage("rekey: --email-policy=provider|standard is required");
  }
  if (absl::Status s = CheckNewDataDir(env.fs, options.to); !s.ok()) return env.Fail("rekey", s);
  persistence::RecoveryOptions ro;
  ro.archive_dir = options.archive;
  absl::StatusOr<LoadedDataDir> loaded =
      LoadDataDir(env.fs, options.args[0], ro, options.order_window_ms);
  if (!loaded.ok()) return env.Fail("rekey", loaded.status());
  for (const std::string& w : loaded->report.warnings) env.Warn("rekey", w);
  const engine::EmailPolicy from = loaded->dir->meta().email_policy;
  if (from == *options.email_policy) {
    env.Warn("rekey", absl::StrCat(options.args[0], " is already under email policy ",
                                   engine::EmailPolicyName(from),
                                   ": NEW will be a compacted copy"));
  }
  absl::StatusOr<RekeyResult> result =
      Rekey(*loaded->engine, *options.email_policy, options.order_window_ms, env);
  if (!result.ok()) return env.Fail("rekey", result.status());
  std::ostream& out = *env.out;
  uint64_t merged_away = 0;
  for (const RekeyMerge& m : result->merges) {
    out << "merged shop " << m.kept.shop << " " << m.kept.canonical_email << ": kept "
        << Brief(m.kept) << "; dropped ";
    for (size_t i = 0; i < m.dropped.size(); ++i) {
      out << (i > 0 ? ", " : "") << Brief(m.dropped[i]);
    }
    out << "\n";
    merged_away += m.dropped.size();
  }
  absl::StatusOr<WrittenDataDir> written =
      WriteNewDataDir(env.fs, options.to, *result->engine, loaded->last_seq(),
                      env.clock->NowMs(), options.order_window_ms);
  if (!written.ok()) return env.Fail("rekey", written.status());
  out << "rekeyed " << options.args[0] << " (" << engine::EmailPolicyName(from) << ") into "
      << options.to << " (" << engine::EmailPolicyName(*options.email_policy) << "): "
      << result->connections_in << " connections in, " << result->rekeyed
      << " with a new key, " << result->merges.size() << " merges (" << merged_away
      << " connections dropped), " << result->unkeyable << " rejected by the new policy; "
      << written->connections << " connections out\n"
      << "  start attribd on it with --email-policy=" << engine::EmailPolicyName(*options.email_policy)
      << "\n";
  out.flush();
  return result->merges.empty() && result->unkeyable == 0 ? kExitOk : kExitFailed;
}

}  // namespace attrib::tools
