// engine/engine_replay.cc: the Engine's replay (Apply with snapshot fences),
// snapshot capture and restore. See engine.h and mutation.h for the contracts.
#include <string>
#include <vector>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"

namespace attrib::engine {
namespace {

absl::Status ReplayMismatch(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("replay: ", what));
}

}  // namespace

bool Engine::ConnectionPartDue(ShopId shop, absl::string_view canonical, uint64_t seq,
                               const SnapshotFences* fences) const {
  if (fences == nullptr) return true;
  const uint32_t shard = store_.ShardOf(KeyHash(shop, canonical));
  return shard >= fences->connection_shards.size() ||
         seq > fences->connection_shards[shard];
}

bool Engine::OrderPartDue(ShopId shop, absl::string_view order_id, uint64_t seq,
                          const SnapshotFences* fences) const {
  if (fences == nullptr) return true;
  const uint32_t shard = orders_.ShardIndex(shop, order_id);
  return shard >= fences->order_shards.size() || seq > fences->order_shards[shard];
}

absl::Status Engine::Apply(const Mutation& mutation, uint64_t seq,
                           const SnapshotFences* fences) {
  struct Visitor {
    Engine* e;
    uint64_t seq;
    const SnapshotFences* fences;
    const Mutation& m;

    // Customer identifiers: engine_identity.cc.
    absl::Status operator()(const engine::LinkIdentifier&) {
      return e->ApplyIdentity(m, seq, fences);
    }
    absl::Status operator()(const engine::UnlinkIdentifier&) {
      return e->ApplyIdentity(m, seq, fences);
    }
    absl::Status operator()(const engine::MergeCustomers&) {
      return e->ApplyIdentity(m, seq, fences);
    }

    absl::Status operator()(const PutCustomerEntry& op) {  // engine_customers.cc.
      return e->ApplyCustomerEntry(op, seq, fences);
    }

    absl::Status operator()(const SetConnection& op) {
      const Connection& c = op.connection;
      if (c.shop == 0 || c.affiliate == 0 || c.canonical_email.empty()) {
        return ReplayMismatch("SetConnection with an empty shop, affiliate or email");
      }
      if (!e->ConnectionPartDue(c.shop, c.canonical_email, seq, fences)) {
        return absl::OkStatus();
      }
      e->store_.Mutate(c.shop, c.canonical_email, [&](KeyEditor& ed) { ed.Put(c); });
      return absl::OkStatus();
    }
    absl::Status operator()(const RemoveConnection& op) {
      if (!e->ConnectionPartDue(op.shop, op.canonical_email, seq, fences)) {
        return absl::OkStatus();
      }
      return e->store_.Mutate(op.shop, op.canonical_email, [&](KeyEditor& ed) {
        if (!ed.current()) {
          return ReplayMismatch(absl::StrCat("removes ", op.canonical_email, " of shop ",
                                             op.shop, ", which does not exist"));
        }
        ed.Erase();
        return absl::OkStatus();
      });
    }
    absl::Status operator()(const PutSettings& op) {
      if (fences != nullptr && seq <= fences->settings) return absl::OkStatus();
      e->settings_.Update(op.shop, [&](const ShopSettings&) { return op.settings; },
                          [](const ShopSettings&) {});
      return absl::OkStatus();
    }
    absl::Status operator()(const engine::PutAffiliate& op) {
      if (fences != nullptr && seq <= fences->affiliates) return absl::OkStatus();
      if (op.affiliate.shop == 0 || op.affiliate.id == 0) {
        return ReplayMismatch("PutAffiliate with an empty shop or id");
      }
      e->affiliates_.Restore(op.affiliate);
      return absl::OkStatus();
    }
    absl::Status operator()(const PutWebhookEndpoint& op) {
      if (fences != nullptr && seq <= fences->webhooks) return absl::OkStatus();
      if (op.endpoint.shop == 0 || op.endpoint.id == 0) {
        return ReplayMismatch("PutWebhookEndpoint with an empty shop or id");
      }
      e->webhooks_.Restore(op.endpoint);
      return absl::OkStatus();
    }
    absl::Status operator()(const RemoveWebhookEndpoint& op) {
      if (fences != nullptr && seq <= fences->webhooks) return absl::OkStatus();
      e->webhooks_.Erase(op.id);
      return absl::OkStatus();
    }
    absl::Status operator()(const RecordOrder& op) {
      const std::string& order_id = op.decision.order_id;
      if (e->OrderPartDue(op.shop, order_id, seq, fences)) {
        absl::Status s = e->orders_.With(op.shop, order_id,
                                         [&](OrderShard& orders, const OrderKey& key) {
          if (orders.Contains(key)) {
            return ReplayMismatch(absl::StrCat("order '", order_id, "' is recorded twice"));
          }
          e->ApplyRecordOrder(op, &orders, key, nullptr);
          return absl::OkStatus();
        });
        if (!s.ok()) return s;
      }
      const bool touches = op.new_connection.has_value() || op.counters.has_value();
      if (!touches ||
          !e->ConnectionPartDue(op.shop, op.decision.canonical_email, seq, fences)) {
        return absl::OkStatus();
      }
      return e->store_.Mutate(op.shop, op.decision.canonical_email, [&](KeyEditor& ed) {
        if (op.counters && !ed.current()) {
          return ReplayMismatch(
              absl::StrCat("order '", order_id, "' counts against a missing connection"));
        }
        e->ApplyRecordOrder(op, nullptr, OrderKey{}, &ed);
        return absl::OkStatus();
      });
    }
    absl::Status operator()(const ReverseOrder& op) {
      if (e->OrderPartDue(op.shop, op.order_id, seq, fences)) {
        absl::Status s = e->orders_.With(op.shop, op.order_id,
                                         [&](OrderShard& orders, const OrderKey& key) {
          if (!orders.Contains(key)) {
            return absl::NotFoundError(absl::StrCat(
                "replay: reverses order '", op.order_id, "', which is not remembered"));
          }
          ApplyReverseOrder(op, &orders, key, nullptr);
          return absl::OkStatus();
        });
        if (!s.ok()) return s;
      }
      if (!op.counters || op.canonical_email.empty() ||
          !e->ConnectionPartDue(op.shop, op.canonical_email, seq, fences)) {
        return absl::OkStatus();
      }
      return e->store_.Mutate(op.shop, op.canonical_email, [&](KeyEditor& ed) {
        if (!ed.current()) {
          return ReplayMismatch(absl::StrCat("reverse of '", op.order_id,
                                             "' un-counts a missing connection"));
        }
        ApplyReverseOrder(op, nullptr, OrderKey{}, &ed);
        return absl::OkStatus();
      });
    }
  };
  return std::visit(Visitor{this, seq, fences, mutation}, mutation.op);
}

void Engine::CaptureSnapshot(const std::function<uint64_t()>& current_seq,
                             SnapshotVisitor* visitor) const {
  settings_.ForEachLocked([&](ShopId shop, const ShopSettings& s) {
    visitor->Settings(shop, s);
  }, [&] { visitor->SettingsDone(current_seq()); });
  affiliates_.ForEachLocked([&](const Affiliate& a) { visitor->AffiliateRecord(a); },
                            [&] { visitor->AffiliatesDone(current_seq()); });
  identity_.ForEachLocked(
      [&](ShopId shop, const CustomerIdentifiers& c) {
        visitor->CustomerIdentifiersRecord(shop, c);
      },
      [&] { visitor->IdentitiesDone(current_seq()); });
  webhooks_.ForEachLocked([&](const WebhookEndpoint& e) { visitor->WebhookEndpointRecord(e); },
                          [&] { visitor->WebhookEndpointsDone(current_seq()); });
  customers_.ForEachLocked(
      [&](ShopId shop, absl::string_view key, const CustomerEntry& e) {
        visitor->CustomerEntryRecord(shop, key, e);
      },
      [&] { visitor->CustomersDone(current_seq()); });
  for (uint32_t i = 0; i < store_.shard_count(); ++i) {
    bool begun = false;
    store_.ForEachInShard(
        i,
        [&](const Shard& shard, record::View v) {
          CanonicalBuffer buf;
          const ConnectionView c = shard.ViewOf(v, &buf);
          visitor->ConnectionRecord(
              c, EncodedConnection{KeyHash(c.shop, c.canonical_email), v.bytes()});
        },
        [&] {
          // Called first, under the same lock: the fence of this shard.
          visitor->BeginConnectionShard(i, current_seq());
          begun = true;
        });
    if (begun) visitor->EndConnectionShard(i);
  }
  // After the shards: indexes are only appended, so this covers all they hold.
  const OwnerTable& owner_table = store_.owners();
  std::vector<OwnerKey> owners(owner_table.size());
  for (size_t i = 0; i < owners.size(); ++i) {
    const OwnerTable::Owner& o = owner_table.Get(static_cast<uint32_t>(i));
    owners[i] = OwnerKey{o.shop, o.affiliate};
  }
  visitor->Owners(owners);
  for (uint32_t i = 0; i < orders_.shard_count(); ++i) {
    orders_.ReadShard(i, [&](const OrderShard& shard) {
      visitor->BeginOrderShard(i, current_seq(), shard.high_water());
      shard.ForEach([&](const OrderRecord& r) { visitor->Order(r); });
      visitor->EndOrderShard(i);
    });
  }
}

void Engine::RestoreConnection(const Connection& c) {
  store_.Mutate(c.shop, c.canonical_email, [&](KeyEditor& ed) { ed.Put(c); });
}

void Engine::RestoreConnectionShard(
    uint32_t index, size_t count, const std::function<void(const ConnectionSink& add)>& produce) {
  // Owners interned once per shard, counted in one addition each at the end.
  absl::flat_hash_map<std::pair<ShopId, AffiliateId>, std::pair<uint32_t, int64_t>> owners;
  std::vector<Connection> elsewhere;
  store_.WithShard(index, [&](Shard& shard, OwnerTable& table) {
    const bool fresh = shard.size() == 0;
    shard.Reserve(count);
    produce([&](const Connection& c) {
      const uint64_t hash = KeyHash(c.shop, c.canonical_email);
      if (!fresh || store_.ShardOf(hash) != index) {
        elsewhere.push_back(c);
        return;
      }
      auto [it, inserted] = owners.try_emplace(std::make_pair(c.shop, c.affiliate));
      if (inserted) it->second.first = table.Intern(c.shop, c.affiliate);
      ++it->second.second;
      shard.BulkInsert(hash, c, it->second.first);
    });
    for (const auto& [key, owner] : owners) table.AddConnections(owner.first, owner.second);
  });
  for (const Connection& c : elsewhere) RestoreConnection(c);
}

std::vector<uint32_t> Engine::InternOwners(absl::Span<const OwnerKey> owners) {
  std::vector<uint32_t> map(owners.size());
  OwnerTable& table = store_.mutable_owners();
  for (size_t i = 0; i < owners.size(); ++i) {
    map[i] = table.Intern(owners[i].shop, owners[i].affiliate);
  }
  return map;
}

absl::Status Engine::RestoreEncodedShard(
    uint32_t index, size_t count, absl::Span<const uint32_t> owner_map,
    absl::Span<int64_t> owner_counts,
    absl::FunctionRef<absl::Status(EncodedShardLoader&)> produce) {
  absl::Status status;
  store_.WithShard(index, [&](Shard& shard, OwnerTable&) {
    if (shard.size() != 0) {
      status = absl::FailedPreconditionError(absl::StrCat(
          "restore: connection shard ", index, " already holds ", shard.size(), " records"));
      return;
    }
    shard.Reserve(count);
    EncodedShardLoader loader(&shard, owner_map, owner_counts);
    status = produce(loader);
    loader.Flush();
  });
  return status;
}

void Engine::AddOwnerCounts(absl::Span<const uint32_t> owner_map,
                            absl::Span<const int64_t> owner_counts) {
  OwnerTable& table = store_.mutable_owners();
  for (size_t i = 0; i < owner_counts.size() && i < owner_map.size(); ++i) {
    if (owner_counts[i] != 0) table.AddConnections(owner_map[i], owner_counts[i]);
  }
}

void Engine::RestoreSettings(ShopId shop, const ShopSettings& settings) {
  settings_.Update(shop, [&](const ShopSettings&) { return settings; },
                   [](const ShopSettings&) {});
}

void Engine::RestoreOrder(const OrderRecord& order, TimeMs shard_high_water) {
  orders_.With(order.shop, order.decision.order_id,
               [&](OrderShard& orders, const OrderKey& key) {
                 orders.Restore(key, order, shard_high_water);
               });
}

}  // namespace attrib::engine
