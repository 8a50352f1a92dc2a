// persistence/snapshot_load.cc: reading snapshots: LoadSnapshot (restore into an
// engine, shards in parallel), ReadSnapshotInfo (verify only) and
// ReadSnapshotRecords (offline tools). See snapshot.h.
//
// The file is mapped, not copied (FileSystem::MapFile). Every checksum is verified
// (IndexSnapshot, on the restoring threads) before the first record is restored,
// so a damaged file leaves the engine untouched. Connection and order shards are
// then restored by a few threads that take whole shards from a shared counter: a
// key's shard in the file is its shard in the engine (same shard count, stable
// hash), so the threads never contend for a shard lock.
//
// Version 2 connection records are the store's own records: a shard is restored by
// copying them into its arena and inserting their stored key hashes
// (Engine::RestoreEncodedShard), each record checked for form first, never decoded,
// canonicalized or hashed. That check (lengths, flags, owner index, shard) keeps the
// engine's memory safe whatever bytes a checksum lets through; that the stored
// hash is the key's is guaranteed by the checksums over the writer's bytes, and
// checked record by record by ReadSnapshotInfo (attrib-restore verify), which
// derives every key. Version 1 records are decoded and re-encoded.
//
// An order shard's high-water mark is restored through its records
// (Engine::RestoreOrder); a shard with a mark but no records cannot occur (the
// order that raised the mark is the newest and is never evicted by its own insert).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "engine/canonical_email.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_reader.h"

namespace attrib::persistence {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string PolicyName(uint8_t policy) {
  if (policy == static_cast<uint8_t>(engine::EmailPolicy::kProvider) ||
      policy == static_cast<uint8_t>(engine::EmailPolicy::kStandard)) {
    return std::string(engine::EmailPolicyName(static_cast<engine::EmailPolicy>(policy)));
  }
  return absl::StrCat("unknown (", policy, ")");
}

SnapshotInfo InfoOf(const std::string& path, const SnapshotIndex& index) {
  SnapshotInfo info;
  info.path = path;
  info.fences = index.fences;
  info.oldest_fence = index.oldest_fence;
  info.newest_fence = index.newest_fence;
  info.connections = index.connections;
  info.settings = index.settings;
  info.orders = index.orders;
  info.affiliates = index.affiliates;
  info.identities = index.identities;
  info.bytes = index.bytes;
  info.created_at_ms = index.header.created_at_ms;
  info.email_policy = index.header.email_policy;
  info.shard_count = index.header.connection_shards;
  return info;
}

// Decodes blocks [range.first, range.second) of one kind, calling use(record).
template <typename Record, typename Use>
absl::Status DecodeRange(const SnapshotIndex& index, std::pair<size_t, size_t> range,
                         Record* record, Use&& use) {
  for (size_t b = range.first; b < range.second; ++b) {
    const SnapshotBlock& block = index.blocks[b];
    absl::Status s;
    if constexpr (std::is_same_v<Record, engine::Connection>) {
      s = DecodeBlockRecords(
          index, block, [&](snapshot_codec::RecordDecoder& d) { return d.ReadConnection(record); },
          [&] { use(block); });
    } else {
      s = DecodeBlockRecords(
          index, block, [&](snapshot_codec::RecordDecoder& d) { return d.ReadOrder(record); },
          [&] { use(block); });
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<engine::OwnerKey>> DecodeOwners(const SnapshotIndex& index) {
  std::vector<engine::OwnerKey> owners;
  owners.reserve(index.owners);
  engine::OwnerKey owner;
  for (size_t b = index.owner_blocks.first; b < index.owner_blocks.second; ++b) {
    absl::Status s = DecodeBlockRecords(
        index, index.blocks[b],
        [&](snapshot_codec::RecordDecoder& d) { return d.ReadOwner(&owner); },
        [&] { owners.push_back(owner); });
    if (!s.ok()) return s;
  }
  return owners;
}

// Version 2 connections of shard range `range` as Connections (offline tools):
// every derived key is checked against the stored hash.
absl::Status DecodeEncodedRange(const SnapshotIndex& index, std::pair<size_t, size_t> range,
                                absl::Span<const engine::OwnerKey> owners,
                                engine::Connection* c,
                                const std::function<void(const engine::Connection&)>& fn) {
  const auto policy = static_cast<engine::EmailPolicy>(index.header.email_policy);
  std::string error;
  for (size_t b = range.first; b < range.second; ++b) {
    absl::Status s = ForEachEncodedConnection(
        index, index.blocks[b], [&](uint64_t key_hash, absl::string_view record) {
          if (!snapshot_codec::DecodeEncodedConnection(record, owners, policy, c, &error)) {
            return absl::DataLossError(absl::StrCat("the entered email does not canonicalize: ",
                                                    error));
          }
          if (engine::KeyHash(c->shop, c->canonical_email) != key_hash) {
            return absl::DataLossError("the stored key hash is not the key's");
          }
          if (fn) fn(*c);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status DecodeSettings(
    const SnapshotIndex& index,
    const std::function<void(engine::ShopId, const engine::ShopSettings&)>& fn) {
  engine::ShopId shop = 0;
  engine::ShopSettings settings;
  for (size_t b = index.settings_blocks.first; b < index.settings_blocks.second; ++b) {
    absl::Status s = DecodeBlockRecords(
        index, index.blocks[b],
        [&](snapshot_codec::RecordDecoder& d) { return d.ReadSettings(&shop, &settings); },
        [&] {
          if (fn) fn(shop, settings);
        });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status DecodeAffiliates(const SnapshotIndex& index,
                              const std::function<void(const engine::Affiliate&)>& fn) {
  engine::Affiliate a;
  for (size_t b = index.affiliate_blocks.first; b < index.affiliate_blocks.second; ++b) {
    absl::Status s = DecodeBlockRecords(
        index, index.blocks[b], [&](snapshot_codec::RecordDecoder& d) { return d.ReadAffiliate(&a); },
        [&] {
          if (fn) fn(a);
        });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status DecodeWebhooks(const SnapshotIndex& index,
                            const std::function<void(const engine::WebhookEndpoint&)>& fn) {
  engine::WebhookEndpoint e;
  for (size_t b = index.webhook_blocks.first; b < index.webhook_blocks.second; ++b) {
    absl::Status s = DecodeBlockRecords(
        index, index.blocks[b],
        [&](snapshot_codec::RecordDecoder& d) { return d.ReadWebhookEndpoint(&e); },
        [&] {
          if (fn) fn(e);
        });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The customer directory blocks (version 5).
absl::Status DecodeCustomers(
    const SnapshotIndex& index,
    const std::function<void(engine::ShopId, const std::string&, const engine::CustomerEntry&)>&
        fn) {
  engine::ShopId shop = 0;
  std::string key;
  engine::CustomerEntry e;
  for (size_t b = index.customer_blocks.first; b < index.customer_blocks.second; ++b) {
    absl::Status s = DecodeBlockRecords(
        index, index.blocks[b],
        [&](snapshot_codec::RecordDecoder& d) { return d.ReadCustomerEntry(&shop, &key, &e); },
        [&] {
          if (fn) fn(shop, key, e);
        });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The identity blocks (version 4): settings per shop, and customers.
struct IdentitySection {
  absl::flat_hash_map<engine::ShopId, snapshot_codec::IdentityRecord> settings;
  std::vector<std::pair<engine::ShopId, engine::CustomerIdentifiers>> customers;
  // `s` with the shop's identity settings (the defaults when it has none).
  void Apply(engine::ShopId shop, engine::ShopSettings* s) const {
    const auto it = settings.find(shop);
    if (it == settings.end()) return;
    s->auto_link_identifiers = it->second.auto_link_identifiers;
    s->merge_conflict = it->second.merge_conflict;
    s->customer_directory = it->second.customer_directory;
  }
};

absl::StatusOr<IdentitySection> DecodeIdentities(const SnapshotIndex& index) {
  IdentitySection out;
  snapshot_codec::IdentityRecord r;
  for (size_t b = index.identity_blocks.first; b < index.identity_blocks.second; ++b) {
    absl::Status s = DecodeBlockRecords(
        index, index.blocks[b], [&](snapshot_codec::RecordDecoder& d) { return d.ReadIdentity(&r); },
        [&] {
          if (r.kind == kIdentityKindSettings) {
            out.settings[r.shop] = r;
          } else {
            out.customers.emplace_back(r.shop, r.customer);
          }
        });
    if (!s.ok()) return s;
  }
  return out;
}

// Reads, verifies and decodes every record in file order (no engine).
absl::StatusOr<SnapshotInfo> ReadAll(
    FileSystem* fs, const std::string& path,
    const std::function<void(engine::ShopId, const engine::ShopSettings&)>& fn_settings,
    const std::function<void(const engine::Connection&)>& fn_connection,
    const std::function<void(const engine::OrderRecord&)>& fn_order,
    const std::function<void(const engine::Affiliate&)>& fn_affiliate,
    const std::function<void(engine::ShopId, const engine::CustomerIdentifiers&)>&
        fn_customer) {
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::unique_ptr<FileContents>> file = fs->MapFile(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<SnapshotIndex> index = IndexSnapshot(BaseName(path), (*file)->bytes());
  if (!index.ok()) return index.status();
  absl::StatusOr<IdentitySection> identities = DecodeIdentities(*index);
  if (!identities.ok()) return identities.status();
  if (absl::Status s = DecodeSettings(*index,
                                      [&](engine::ShopId shop, const engine::ShopSettings& st) {
                                        engine::ShopSettings full = st;
                                        identities->Apply(shop, &full);
                                        if (fn_settings) fn_settings(shop, full);
                                      });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = DecodeAffiliates(*index, fn_affiliate); !s.ok()) return s;
  if (absl::Status s = DecodeWebhooks(*index, nullptr); !s.ok()) return s;
  if (absl::Status s = DecodeCustomers(*index, nullptr); !s.ok()) return s;
  if (fn_customer) {
    for (const auto& [shop, c] : identities->customers) fn_customer(shop, c);
  }
  absl::StatusOr<std::vector<engine::OwnerKey>> owners = DecodeOwners(*index);
  if (!owners.ok()) return owners.status();
  engine::Connection c;
  for (const auto& range : index->connection_shards) {
    absl::Status s =
        index->header.version >= 2
            ? DecodeEncodedRange(*index, range, *owners, &c, fn_connection)
            : DecodeRange(*index, range, &c, [&](const SnapshotBlock&) {
                if (fn_connection) fn_connection(c);
              });
    if (!s.ok()) return s;
  }
  engine::OrderRecord r;
  for (const auto& range : index->order_shards) {
    absl::Status s = DecodeRange(*index, range, &r, [&](const SnapshotBlock&) {
      if (fn_order) fn_order(r);
    });
    if (!s.ok()) return s;
  }
  SnapshotInfo info = InfoOf(path, *index);
  info.seconds = SecondsSince(start);
  return info;
}

absl::Status CheckMatches(const SnapshotIndex& index, const engine::Engine& e) {
  const SnapshotHeader& h = index.header;
  if (h.email_policy != static_cast<uint8_t>(e.email_policy())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot ", index.name, " was written under email policy ", PolicyName(h.email_policy),
        ", the engine uses ", PolicyName(static_cast<uint8_t>(e.email_policy())),
        " (re-key with attrib-restore rekey)"));
  }
  if (h.connection_shards != e.shard_count() || h.order_shards != e.orders().shard_count()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot ", index.name, " has ", h.connection_shards, " connection shards and ",
        h.order_shards, " order shards, the engine has ", e.shard_count(), " and ",
        e.orders().shard_count()));
  }
  const engine::EngineStats stats = e.Stats();
  if (stats.connections != 0 || stats.remembered_orders != 0 ||
      stats.shops_with_settings != 0 || stats.affiliates != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading snapshot ", index.name, " needs an empty engine; this one holds ",
        stats.connections, " connections, ", stats.remembered_orders, " orders and ",
        stats.shops_with_settings, " shops' settings"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SnapshotInfo> ReadSnapshotInfo(FileSystem* fs, const std::string& path) {
  return ReadAll(fs, path, nullptr, nullptr, nullptr, nullptr, nullptr);
}

absl::Status ReadSnapshotRecords(
    FileSystem* fs, const std::string& path,
    const std::function<void(engine::ShopId, const engine::ShopSettings&)>& fn_settings,
    const std::function<void(const engine::Connection&)>& fn_connection,
    const std::function<void(const engine::OrderRecord&)>& fn_order,
    const std::function<void(const engine::Affiliate&)>& fn_affiliate,
    const std::function<void(engine::ShopId, const engine::CustomerIdentifiers&)>&
        fn_customer) {
  return ReadAll(fs, path, fn_settings, fn_connection, fn_order, fn_affiliate, fn_customer)
      .status();
}

absl::StatusOr<SnapshotInfo> LoadSnapshot(FileSystem* fs, const std::string& path,
                                          engine::Engine* engine,
                                          const LoadSnapshotOptions& options) {
  const Clock::time_point start = Clock::now();
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  absl::StatusOr<std::unique_ptr<FileContents>> file = fs->MapFile(path);
  if (!file.ok()) return file.status();
  const double read_seconds = SecondsSince(start);

  const Clock::time_point verify_start = Clock::now();
  absl::StatusOr<SnapshotIndex> index_or =
      IndexSnapshot(BaseName(path), (*file)->bytes(), threads);
  if (!index_or.ok()) return index_or.status();
  const SnapshotIndex& index = *index_or;
  if (absl::Status s = CheckMatches(index, *engine); !s.ok()) return s;
  absl::StatusOr<std::vector<engine::OwnerKey>> owners = DecodeOwners(index);
  if (!owners.ok()) return owners.status();
  const double verify_seconds = SecondsSince(verify_start);
  if (options.accept) {
    if (absl::Status s = options.accept(InfoOf(path, index)); !s.ok()) return s;
  }

  const Clock::time_point restore_start = Clock::now();
  absl::StatusOr<IdentitySection> identities = DecodeIdentities(index);
  if (!identities.ok()) return identities.status();
  absl::Status status = DecodeSettings(index, [&](engine::ShopId shop,
                                                  const engine::ShopSettings& s) {
    engine::ShopSettings full = s;
    identities->Apply(shop, &full);
    engine->RestoreSettings(shop, full);
  });
  if (!status.ok()) return status;
  status = DecodeAffiliates(index, [&](const engine::Affiliate& a) { engine->RestoreAffiliate(a); });
  if (!status.ok()) return status;
  status = DecodeWebhooks(
      index, [&](const engine::WebhookEndpoint& e) { engine->RestoreWebhookEndpoint(e); });
  if (!status.ok()) return status;
  for (const auto& [shop, c] : identities->customers) engine->RestoreIdentifiers(shop, c);
  status = DecodeCustomers(index, [&](engine::ShopId shop, const std::string& key,
                                      const engine::CustomerEntry& e) {
    engine->RestoreCustomerEntry(shop, key, e);
  });
  if (!status.ok()) return status;
  const std::vector<uint32_t> owner_map = engine->InternOwners(*owners);
  const bool encoded = index.header.version >= 2;

  // Work items: connection shards 0..n-1, then order shards 0..m-1.
  const size_t connection_items = index.connection_shards.size();
  const size_t items = connection_items + index.order_shards.size();
  threads = static_cast<int>(std::min<size_t>(threads, items));
  // Per thread: connections counted per owner, added to the engine's owner table
  // once at the end (not per shard: the threads would contend on those counters).
  std::vector<std::vector<int64_t>> owner_counts(threads);
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  absl::Status first_error;  // Guarded by mu.
  std::atomic<bool> failed{false};
  const auto worker = [&](int t) {
    engine::Connection c;
    engine::OrderRecord r;
    owner_counts[t].assign(owner_map.size(), 0);
    for (size_t i; !failed.load(std::memory_order_relaxed) &&
                   (i = next.fetch_add(1, std::memory_order_relaxed)) < items;) {
      absl::Status s;
      if (i >= connection_items) {
        s = DecodeRange(index, index.order_shards[i - connection_items], &r,
                        [&](const SnapshotBlock& b) { engine->RestoreOrder(r, b.high_water); });
      } else if (const auto range = index.connection_shards[i]; range.first < range.second) {
        size_t count = 0;
        for (size_t b = range.first; b < range.second; ++b) count += index.blocks[b].count;
        const uint32_t shard = index.blocks[range.first].shard;
        if (encoded) {
          // Copies of the store's records: the hot loop of a restart.
          s = engine->RestoreEncodedShard(
              shard, count, owner_map, absl::MakeSpan(owner_counts[t]),
              [&](engine::EncodedShardLoader& loader) {
                for (size_t b = range.first; b < range.second; ++b) {
                  absl::Status bs = ForEachEncodedConnection(
                      index, index.blocks[b], [&](uint64_t hash, absl::string_view record) {
                        loader.Add(hash, record);
                        return absl::OkStatus();
                      });
                  if (!bs.ok()) return bs;
                }
                return absl::OkStatus();
              });
        } else {
          // Version 1: decoded straight into the engine under one lock with the
          // table sized up front; `c` is reused: no allocation per record.
          engine->RestoreConnectionShard(
              shard, count, [&](const engine::Engine::ConnectionSink& add) {
                s = DecodeRange(index, range, &c, [&](const SnapshotBlock&) { add(c); });
              });
        }
      }
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) first_error = s;
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);  // This thread works too.
  for (std::thread& t : pool) t.join();
  for (const std::vector<int64_t>& counts : owner_counts) {
    engine->AddOwnerCounts(owner_map, counts);
  }
  if (failed.load()) {
    absl::MutexLock lock(&mu);
    return first_error;
  }

  SnapshotInfo info = InfoOf(path, index);
  info.read_seconds = read_seconds;
  info.verify_seconds = verify_seconds;
  info.restore_seconds = SecondsSince(restore_start);
  info.seconds = SecondsSince(start);
  return info;
}

}  // namespace attrib::persistence
