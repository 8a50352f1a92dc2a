// engine/engine_identity.cc: the engine's customer-identifier operations (issue 12;
// see engine.h and identity_index.h): resolving an identifier to its customer's
// primary key, links, unlinks and merges, and their replay.
//
// Locking: a change to a customer's identifiers happens with the connection-shard
// lock of the customer's primary key held (both customers' for a link or merge:
// ConnectionStore::MutatePair, lower shard first), then the index shards (ascending),
// and the Mutation is emitted under all of them. Every writer resolves an identifier,
// locks the primary's shard, and re-resolves: if a merge moved it meanwhile, it
// retries (MutateCustomer). So two orders racing to link or merge the same customers
// serialize on the first primary's shard, and the second sees the first's result.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/rules.h"
#include "engine/validation.h"

namespace attrib::engine {
namespace {

absl::Status ReplayMismatch(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("replay: ", what));
}

// Empty when the customers' identifiers fit in one customer; else the rule broken.
std::string JoinRefusal(const CustomerIdentifiers& x, const CustomerIdentifiers& y) {
  const size_t emails = x.email_count() + y.email_count();
  if (emails > kMaxCustomerEmails) {
    return absl::StrCat("emails: together ", emails, " emails, over the limit of ",
                        kMaxCustomerEmails, " per customer");
  }
  if (x.has_external_id() && y.has_external_id()) {
    return "external_id: both have an external id (rule: at most one per customer)";
  }
  return std::string();
}

CustomerIdentifiers Single(absl::string_view key) {
  CustomerIdentifiers c;
  c.primary = std::string(key);
  return c;
}

}  // namespace

absl::StatusOr<Engine::CustomerKeys> Engine::CustomerKeysOf(const CustomerRef& ref) const {
  if (!ref.email && !ref.external_id) {
    return absl::InvalidArgumentError("customer: give an email, an external_id, or both");
  }
  CustomerKeys k;
  if (ref.email) {
    absl::StatusOr<CanonicalEmail> canon = Canonicalize(*ref.email, email_policy());
    if (!canon.ok()) return canon.status();
    k.has_email = true;
    k.email = *std::move(canon);
  }
  if (ref.external_id) {
    absl::StatusOr<std::string> key = ExternalIdKey(*ref.external_id);
    if (!key.ok()) return key.status();
    k.external_id = *std::move(key);
  }
  return k;
}

void Engine::MutateCustomer(ShopId shop, absl::string_view id,
                            absl::FunctionRef<void(KeyEditor&, absl::string_view)> fn) {
  std::string resolved;
  for (;;) {
    absl::string_view primary = id;
    if (identity_.PrimaryOf(shop, id, &resolved)) primary = resolved;
    bool done = false;
    store_.Mutate(shop, primary, [&](KeyEditor& editor) {
      std::string again;
      const bool alias = identity_.PrimaryOf(shop, id, &again);
      if (alias ? again != primary : primary != id) return;  // Merged meanwhile.
      fn(editor, primary);
      done = true;
    });
    if (done) return;
  }
}

std::vector<std::string> Engine::CustomerEmails(ShopId shop, absl::string_view primary) const {
  std::vector<std::string> out;
  if (!IsExternalIdKey(primary)) out.emplace_back(primary);
  if (identity_.empty()) return out;
  for (std::string& a : identity_.Get(shop, primary).aliases) {
    if (!IsExternalIdKey(a)) out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<IdentityChange> Engine::JoinIdentifiers(ShopId shop, absl::string_view a,
                                                       absl::string_view b,
                                                       const JoinOptions& opt) {
  for (;;) {
    const std::string pa = identity_.Resolve(shop, a);
    const std::string pb = identity_.Resolve(shop, b);
    if (pa == pb) return IdentityChange{};  // One customer already.
    const ShopSettings settings = settings_.Get(shop);  // A leaf: before the locks.
    const TimeMs now = clock_->NowMs();
    bool retry = false;
    absl::StatusOr<IdentityChange> out;
    store_.MutatePair(shop, pa, pb, [&](auto& edit) {
      if (identity_.Resolve(shop, a) != pa || identity_.Resolve(shop, b) != pb) {
        retry = true;
        return;
      }
      const std::optional<Connection> ca = edit(0).current();
      const std::optional<Connection> cb = edit(1).current();
      const CustomerIdentifiers ia = identity_.Get(shop, pa);
      const CustomerIdentifiers ib = identity_.Get(shop, pb);
      const bool a_known = ca.has_value() || !ia.aliases.empty();
      const bool b_known = cb.has_value() || !ib.aliases.empty();
      const auto refuse = [&](absl::StatusCode code, std::string why) {
        if (opt.manual_link || opt.manual_merge) {
          out = absl::Status(code, why);
        } else {
          IdentityChange change;
          change.not_joined = std::move(why);
          out = std::move(change);
        }
      };
      if (!opt.manual_merge && (!b_known || (!a_known && !opt.manual_link))) {
        // A link: the unknown identifier joins the known customer (both unknown: b
        // joins a).
        const std::string& target = !b_known ? pa : pb;
        const std::string& id = !b_known ? pb : pa;
        std::string why = JoinRefusal(!b_known ? ia : ib, Single(id));
        if (!why.empty()) {
          refuse(absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(why, " (linking ", DescribeIdentifierKey(id), " to ",
                              DescribeIdentifierKey(target), ")"));
          return;
        }
        identity_.Link(shop, target, id, [&] {
          engine::LinkIdentifier link{shop, target, id, opt.cause, opt.order_id, {}};
          // The customer directory: the linked identifier's entry joins the target's;
          // a customer with several identifiers gets an entry (search finds it by
          // any email), seeded with its connection's name.
          const std::optional<Connection>& tc = !b_known ? ca : cb;
          const CustomerEntry base{tc ? tc->name : std::string(), 0, 0, 0};
          customers_.Absorb(shop, target, id, settings.customer_directory ? &base : nullptr,
                            [&](const CustomerEntry* after, bool stored) {
                              if (stored) link.absorbed_entry = *after;
                              Emit(Mutation{now, std::move(link)});
                            });
        });
        IdentityChange change;
        change.linked = true;
        change.linked_identifier = id;
        out = std::move(change);
        return;
      }
      if (opt.manual_link) {
        out = absl::AlreadyExistsError(absl::StrCat(
            "identifier_in_use: ", DescribeIdentifierKey(b),
            " already names a customer of shop ", shop, " (merge the customers instead)"));
        return;
      }
      if (!a_known || !b_known) {
        out = absl::NotFoundError(absl::StrCat("not_found: shop ", shop,
                                               " has no customer with ",
                                               DescribeIdentifierKey(!a_known ? a : b)));
        return;
      }
      if (std::string why = JoinRefusal(ia, ib); !why.empty()) {
        refuse(absl::StatusCode::kFailedPrecondition,
               absl::StrCat("merge refused: ", why, " (", DescribeIdentifierKey(pa), " and ",
                            DescribeIdentifierKey(pb), ")"));
        return;
      }
      // Which connection survives (README "Customers and identifiers").
      const bool active_a = ca && EvaluateConnection(*ca, settings, now).active();
      const bool active_b = cb && EvaluateConnection(*cb, settings, now).active();
      const int earliest = ca && cb && cb->connected_at < ca->connected_at ? 1 : 0;
      MergeReport report;
      int keep = 0;
      report.rule = settings.merge_conflict;
      if (active_a && active_b && ca->affiliate != cb->affiliate) {
        report.conflict = true;
        if (opt.keep) {
          report.rule = *opt.keep == MergeKeep::kInto   ? MergeConflictRule::kKeepEmail
                        : *opt.keep == MergeKeep::kFrom ? MergeConflictRule::kKeepExternalId
                                                        : MergeConflictRule::kKeepEarliest;
        }
        switch (report.rule) {
          case MergeConflictRule::kKeepEarliest: keep = earliest; break;
          case MergeConflictRule::kKeepEmail: keep = 0; break;
          case MergeConflictRule::kKeepExternalId: keep = 1; break;
          case MergeConflictRule::kRefuse:
            refuse(absl::StatusCode::kFailedPrecondition,
                   absl::StrCat("merge_conflict=refuse: ", DescribeIdentifierKey(pa),
                                " is connected to affiliate ", ca->affiliate, " and ",
                                DescribeIdentifierKey(pb), " to affiliate ", cb->affiliate,
                                opt.manual_merge ? " (give keep to choose)" : ""));
            return;
        }
      } else if (active_a != active_b) {
        keep = active_a ? 0 : 1;
      } else if (ca && cb) {
        keep = earliest;
      } else {
        keep = cb && !ca ? 1 : 0;
      }
      report.survivor = keep == 0 ? pa : pb;
      report.loser = keep == 0 ? pb : pa;
      report.kept_connection = keep == 0 ? ca : cb;
      report.lost_connection = keep == 0 ? cb : ca;
      if (report.lost_connection) edit(keep == 0 ? 1 : 0).Erase();
      engine::MergeCustomers m{shop,   report.survivor, report.loser, report.lost_connection,
                       report.conflict, report.rule,    opt.cause,    opt.order_id, {}};
      identity_.Merge(shop, report.survivor, report.loser,
                      [&](absl::Span<const std::string> moved) {
                        report.moved.assign(moved.begin(), moved.end());
                        // The customer directory: the loser's entry joins the winner's.
                        const CustomerEntry base{
                            report.kept_connection ? report.kept_connection->name
                                                   : std::string(),
                            0, 0, 0};
                        customers_.Absorb(shop, report.survivor, report.loser,
                                          settings.customer_directory ? &base : nullptr,
                                          [&](const CustomerEntry* after, bool stored) {
                                            if (stored) m.absorbed_entry = *after;
                                            Emit(Mutation{now, std::move(m)});
                                          });
                      });
      IdentityChange change;
      change.merge = std::move(report);
      out = std::move(change);
    });
    if (!retry) return out;
  }
}

CustomerInfo CustomerInfoOf(ShopId shop, const CustomerIdentifiers& ids,
                    std::optional<Connection> connection) {
  CustomerInfo info;
  info.shop = shop;
  info.primary = ids.primary;
  const auto add = [&](const std::string& key) {
    if (IsExternalIdKey(key)) {
      info.external_id = std::string(ExternalIdOfKey(key));
    } else {
      info.emails.push_back(key);
    }
  };
  add(ids.primary);
  for (const std::string& k : ids.aliases) add(k);
  info.connection = std::move(connection);
  return info;
}

absl::StatusOr<CustomerInfo> Engine::GetCustomer(ShopId shop, const CustomerRef& ref) const {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(ref);
  if (!who.ok()) return who.status();
  const std::string primary = identity_.Resolve(shop, who->key());
  if (who->both() && identity_.Resolve(shop, who->external_id) != primary) {
    return absl::InvalidArgumentError(absl::StrCat(
        "customer: ", who->email.canonical, " and external_id ",
        ExternalIdOfKey(who->external_id), " name different customers of shop ", shop));
  }
  CustomerInfo info = CustomerInfoOf(shop, identity_.Get(shop, primary), store_.Get(shop, primary));
  if (!info.connection && info.emails.size() + (info.external_id.empty() ? 0 : 1) <= 1) {
    return absl::NotFoundError(absl::StrCat("not_found: shop ", shop,
                                            " has no customer with ",
                                            DescribeIdentifierKey(who->key())));
  }
  return info;
}

absl::StatusOr<LookupResult> Engine::LookupCustomer(ShopId shop, const CustomerRef& ref,
                                                    std::optional<TimeMs> at) const {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (at) {
    if (absl::Status s = ValidateTime("at", *at); !s.ok()) return s;
  }
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(ref);
  if (!who.ok()) return who.status();
  LookupResult r;
  std::optional<Connection> c = store_.Get(shop, identity_.Resolve(shop, who->key()));
  if (!c) return r;
  r.found = true;
  const ShopSettings settings = settings_.Get(shop);
  r.status = EvaluateConnection(*c, settings, at.value_or(clock_->NowMs()));
  JudgeByDirectory(shop, c->affiliate, settings, &r.status);
  r.connection = *std::move(c);
  return r;
}

absl::StatusOr<CustomerInfo> Engine::LinkIdentifier(ShopId shop, const CustomerRef& customer,
                                                    const CustomerRef& identifier) {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(customer);
  if (!who.ok()) return who.status();
  absl::StatusOr<CustomerKeys> id = CustomerKeysOf(identifier);
  if (!id.ok()) return id.status();
  if (id->both()) {
    return absl::InvalidArgumentError(
        "identifier: give exactly one of email or external_id to link");
  }
  JoinOptions join;
  join.manual_link = true;
  absl::StatusOr<IdentityChange> r = JoinIdentifiers(shop, who->key(), id->key(), join);
  if (!r.ok()) return r.status();
  return GetCustomer(shop, customer);
}

absl::StatusOr<CustomerInfo> Engine::UnlinkIdentifier(ShopId shop,
                                                      const CustomerRef& identifier) {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> keys = CustomerKeysOf(identifier);
  if (!keys.ok()) return keys.status();
  if (keys->both()) {
    return absl::InvalidArgumentError(
        "identifier: give exactly one of email or external_id to unlink");
  }
  const std::string& id = keys->key();
  const TimeMs now = clock_->NowMs();
  for (;;) {
    const std::string primary = identity_.Resolve(shop, id);
    if (primary == id) {
      if (identity_.Get(shop, id).aliases.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "last_identifier: ", DescribeIdentifierKey(id),
            " is its customer's only identifier (a customer keeps at least one)"));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "unlink_primary: ", DescribeIdentifierKey(id),
          " is its customer's primary key (the connection is keyed by it); unlink the "
          "other identifiers instead"));
    }
    bool retry = false;
    store_.Mutate(shop, primary, [&](KeyEditor&) {
      if (identity_.Resolve(shop, id) != primary) {
        retry = true;
        return;
      }
      identity_.Unlink(shop, primary, id, [&] {
        Emit(Mutation{now, engine::UnlinkIdentifier{shop, primary, id}});
      });
    });
    if (retry) continue;
    return CustomerInfoOf(shop, identity_.Get(shop, primary), store_.Get(shop, primary));
  }
}

absl::StatusOr<IdentityChange> Engine::MergeCustomers(const MergeRequest& req) {
  if (absl::Status s = ValidateId("shop", req.shop); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> into = CustomerKeysOf(req.into);
  if (!into.ok()) return into.status();
  absl::StatusOr<CustomerKeys> from = CustomerKeysOf(req.from);
  if (!from.ok()) return from.status();
  JoinOptions join;
  join.manual_merge = true;
  join.keep = req.keep;
  return JoinIdentifiers(req.shop, into->key(), from->key(), join);
}

absl::Status Engine::CheckIdentities(uint64_t* customers) const {
  absl::Status problem;
  uint64_t n = 0;
  std::vector<std::pair<ShopId, CustomerIdentifiers>> all;
  identity_.ForEachLocked([&](ShopId shop, const CustomerIdentifiers& c) { all.emplace_back(shop, c); },
                          [] {});
  for (const auto& entry : all) {
    // Not a structured binding: clang (the fuzz build) cannot capture one in a lambda.
    const ShopId shop = entry.first;
    const CustomerIdentifiers& c = entry.second;
    ++n;
    const auto fail = [&](absl::string_view what) {
      if (problem.ok()) {
        problem = absl::DataLossError(absl::StrCat("identifier index: shop ", shop, " customer ",
                                                   DescribeIdentifierKey(c.primary), ": ", what));
      }
    };
    if (identity_.Resolve(shop, c.primary) != c.primary) fail("its primary key is an alias");
    if (c.email_count() > kMaxCustomerEmails) fail("more than 8 emails");
    size_t external = IsExternalIdKey(c.primary) ? 1 : 0;
    for (const std::string& a : c.aliases) {
      external += IsExternalIdKey(a) ? 1 : 0;
      if (identity_.Resolve(shop, a) != c.primary) {
        fail(absl::StrCat("alias ", DescribeIdentifierKey(a), " points elsewhere"));
      }
      if (store_.Get(shop, a).has_value()) {
        fail(absl::StrCat("a connection sits at alias ", DescribeIdentifierKey(a)));
      }
    }
    if (external > 1) fail("more than one external id");
  }
  *customers = n;
  return problem;
}

// ---------------------------------------------------------------- Replay

absl::Status Engine::ApplyIdentity(const Mutation& m, uint64_t seq,
                                   const SnapshotFences* fences) {
  const bool index_due = fences == nullptr || seq > fences->identities;
  if (const auto* op = std::get_if<engine::LinkIdentifier>(&m.op)) {
    if (op->shop == 0 || op->primary.empty() || op->identifier.empty() ||
        op->primary == op->identifier) {
      return ReplayMismatch("LinkIdentifier with an empty shop or key, or a self-link");
    }
    if (!index_due) {
      ApplyAbsorbed(op->shop, op->primary, op->identifier, op->absorbed_entry, seq, fences);
      return absl::OkStatus();
    }
    if (identity_.HasEntry(op->shop, op->identifier) ||
        identity_.Resolve(op->shop, op->primary) != op->primary) {
      return ReplayMismatch(absl::StrCat("links ", DescribeIdentifierKey(op->identifier),
                                         ", which is linked already, or to an alias"));
    }
    identity_.Link(op->shop, op->primary, op->identifier, [] {});
    ApplyAbsorbed(op->shop, op->primary, op->identifier, op->absorbed_entry, seq, fences);
    return absl::OkStatus();
  }
  if (const auto* op = std::get_if<engine::UnlinkIdentifier>(&m.op)) {
    if (!index_due) return absl::OkStatus();
    if (op->primary == op->identifier ||
        identity_.Resolve(op->shop, op->identifier) != op->primary) {
      return ReplayMismatch(absl::StrCat("unlinks ", DescribeIdentifierKey(op->identifier),
                                         ", which is not an alias of ",
                                         DescribeIdentifierKey(op->primary)));
    }
    identity_.Unlink(op->shop, op->primary, op->identifier, [] {});
    return absl::OkStatus();
  }
  const auto& op = std::get<engine::MergeCustomers>(m.op);
  if (op.shop == 0 || op.survivor.empty() || op.loser.empty() || op.survivor == op.loser) {
    return ReplayMismatch("MergeCustomers with an empty shop or key, or a self-merge");
  }
  if (index_due) {
    if (identity_.Resolve(op.shop, op.loser) != op.loser ||
        identity_.Resolve(op.shop, op.survivor) != op.survivor) {
      return ReplayMismatch(absl::StrCat("merges ", DescribeIdentifierKey(op.loser), " into ",
                                         DescribeIdentifierKey(op.survivor),
                                         ", one of which is an alias"));
    }
    identity_.Merge(op.shop, op.survivor, op.loser, [](absl::Span<const std::string>) {});
  }
  ApplyAbsorbed(op.shop, op.survivor, op.loser, op.absorbed_entry, seq, fences);
  if (!op.lost_connection || !ConnectionPartDue(op.shop, op.loser, seq, fences)) {
    return absl::OkStatus();
  }
  return store_.Mutate(op.shop, op.loser, [&](KeyEditor& ed) {
    if (!ed.current()) {
      return ReplayMismatch(absl::StrCat("merge removes the connection of ",
                                         DescribeIdentifierKey(op.loser),
                                         ", which does not exist"));
    }
    ed.Erase();
    return absl::OkStatus();
  });
}

}  // namespace attrib::engine
