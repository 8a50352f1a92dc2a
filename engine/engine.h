// engine/engine.h
//
// The attribution engine: every operation of SPEC §3-§5 on top of the sharded
// connection store, the shop settings and the remembered orders. Inputs are
// validated here (every error names the field); rules are in rules.h; each change
// is described by a Mutation handed to the MutationSink before the call returns,
// and Apply() replays such values.
//
// Thread-safety: every public method may be called from any thread. Lock order, the
// only one used: order shard -> connection shard (two at most: a link or merge locks
// both customers' primary-key shards, lower shard index first) -> identifier index
// shards (ascending index; identity_index.h) -> settings or affiliate directory
// (leaves, never held together, never taken while an index shard is held). An affiliate put releases the directory's lock
// before it touches connections (on_customer_becomes_affiliate). Two threads connecting
// the same customer with if_absent serialize on the key's shard: exactly one wins.
//
// Time: read from the injected Clock only to stamp new changes (connected_at
// default, attribution time default, Mutation::made_at). Apply() never reads it.
#ifndef ATTRIB_ENGINE_ENGINE_H_
#define ATTRIB_ENGINE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/affiliate_directory.h"
#include "engine/affiliate_rules.h"
#include "engine/canonical_email.h"
#include "engine/clock.h"
#include "engine/connection_list.h"
#include "engine/connection_store.h"
#include "engine/identity_index.h"
#include "engine/identity_types.h"
#include "engine/mutation.h"
#include "engine/order_window.h"
#include "engine/settings_registry.h"
#include "engine/types.h"

namespace attrib::engine {

struct EngineOptions {
  uint32_t shard_count = 256;  // Power of two in [1, 65536].
  EmailPolicy email_policy = EmailPolicy::kProvider;
  TimeMs order_window_ms = 120 * kMsPerDay;  // > 0. Refunds come up to 120 days late.
  const Clock* clock = nullptr;            // Null: SystemClock. Must outlive the Engine.
  MutationSink* sink = nullptr;            // Null: none. Must outlive the Engine.
};

// Status payload key carrying the current affiliate id (decimal) on the
// AlreadyExists error of an if_absent connect, for clients that need it as a number.
inline constexpr absl::string_view kCurrentAffiliatePayload = "attrib/current_affiliate";
// Batch lookups are capped so one request cannot hold shard locks for long.
inline constexpr size_t kMaxBatchLookup = 10'000;

struct ConnectRequest {
  ShopId shop = 0;
  std::string email;  // May be empty when external_id is set.
  std::optional<std::string> external_id;  // Issue 12: with email, both are linked.
  AffiliateId affiliate = 0;
  Source source = Source::kApi;
  ConnectMode mode = ConnectMode::kIfAbsent;
  std::optional<TimeMs> connected_at;  // Default: now.
  std::optional<std::string> name;     // Default: keep the replaced connection's name.
};

// --- The affiliate directory (issue 12; engine_affiliates.cc).
struct PutAffiliateRequest {
  ShopId shop = 0;
  AffiliateId id = 0;
  std::string name;                      // Replaces the stored one.
  std::vector<std::string> emails;       // As entered; replaces the stored ones.
  std::optional<AffiliateStatus> status;  // Default: keep (a new entry: active).
  std::optional<TimeMs> created_at;      // A new entry: default now; else ignored.
};

struct PutAffiliateResult {
  Affiliate affiliate;  // As stored now.
  bool created = false;
  // on_customer_becomes_affiliate = disconnect: the connections of the affiliate's
  // emails to other affiliates that this put removed.
  std::vector<Connection> removed_connections;
};

struct AffiliateInfo {
  Affiliate affiliate;
  uint64_t connections = 0;  // Connected customers (any status).
};

struct AffiliatePage {
  std::vector<AffiliateInfo> items;
  std::string next_cursor;  // Empty: last page.
};

struct ConnectResult {
  enum class Outcome : uint8_t { kCreated, kUnchanged, kReplaced };
  Outcome outcome = Outcome::kCreated;
  Connection connection;               // As stored now.
  AffiliateId previous_affiliate = 0;  // kReplaced: the connection replaced.
  // kReplaced under if_absent: why the old connection no longer counted.
  InactiveReason previous_inactive = InactiveReason::kActive;
  IdentityChange identity;  // Email and external id given: what linking them did.
};

struct DisconnectResult {
  Connection removed;
};

struct LookupResult {
  bool found = false;
  Connection connection;      // When found.
  ConnectionStatus status;    // When found: at the requested time.
};

// One batch lookup item; `status` is not OK only for an invalid email.
struct BatchLookupItem {
  absl::Status status;
  LookupResult result;
};

struct AttributeRequest {
  ShopId shop = 0;
  std::string order_id;
  std::optional<std::string> email;
  std::optional<std::string> external_id;  // Issue 12 (auto_link_identifiers).
  std::optional<AffiliateId> referral_affiliate;
  std::optional<bool> customer_is_new;
  std::optional<TimeMs> ordered_at;  // Default: now.
};

struct AttributeResult {
  AttributionDecision decision;
  bool duplicate = false;  // The order id was seen before: decision is the first one.
  IdentityChange identity;  // Email and external id given: the link or merge made.
};

struct ReverseResult {
  AttributionDecision decision;  // After the reversal.
  bool uncounted = false;        // This call un-counted the order from a connection.
  bool already_reversed = false;
};

// A fuzzy snapshot's fences: the sink's sequence number when each piece was copied
// (under its lock). Replaying mutation `seq` applies each of its parts only if
// seq > the fence of the piece that part touches, so a snapshot taken while writes
// continue plus the log after its oldest fence rebuilds the exact state.
struct SnapshotFences {
  uint64_t settings = 0;
  uint64_t affiliates = 0;  // The affiliate directory (0: older snapshots, none).
  uint64_t identities = 0;  // The identifier index (0: older snapshots, none).
  std::vector<uint64_t> connection_shards;  // Indexed like ConnectionStore shards.
  std::vector<uint64_t> order_shards;       // Indexed like OrderWindow shards.
};

// A connection as a snapshot sees it: ConnectionView (types.h), and the record as
// the store holds it (engine/record_format.h) with the KeyHash() of its key, which a
// snapshot file copies verbatim so that a restore is a copy, not a re-encoding. The
// record names its (shop, affiliate) pair by an owner index: see OwnerKey.
struct EncodedConnection {
  uint64_t key_hash = 0;
  absl::string_view bytes;
};

// The (shop, affiliate) pair of owner index i is element i of the list that
// SnapshotVisitor::Owners() shows. Indexes are only ever appended, never moved or
// reused (owner_table.h), so a list taken after the connection shards covers every
// index their records hold.
struct OwnerKey {
  ShopId shop = 0;
  AffiliateId affiliate = 0;
};

// Receives a snapshot from Engine::CaptureSnapshot(). Each call runs under the lock
// of what it shows, so keep it to copying bytes into a buffer.
class SnapshotVisitor {
 public:
  virtual ~SnapshotVisitor() = default;
  virtual void Settings(ShopId shop, const ShopSettings& settings) = 0;
  virtual void SettingsDone(uint64_t fence) = 0;
  // The affiliate directory, after the settings, under the directory's lock.
  virtual void AffiliateRecord(const Affiliate&) {}
  virtual void AffiliatesDone(uint64_t /*fence*/) {}
  // The identifier index: each customer that has aliases, every index shard locked.
  virtual void CustomerIdentifiersRecord(ShopId /*shop*/, const CustomerIdentifiers&) {}
  virtual void IdentitiesDone(uint64_t /*fence*/) {}
  virtual void BeginConnectionShard(uint32_t index, uint64_t fence) = 0;
  virtual void ConnectionRecord(const ConnectionView& c, const EncodedConnection& encoded) = 0;
  virtual void EndConnectionShard(uint32_t index) = 0;
  // Once, after every connection shard and before the order shards (no lock held).
  virtual void Owners(absl::Span<const OwnerKey> owners) = 0;
  // Records in the shard's retention (FIFO) order.
  virtual void BeginOrderShard(uint32_t index, uint64_t fence, TimeMs high_water) = 0;
  virtual void Order(const OrderRecord& order) = 0;
  virtual void EndOrderShard(uint32_t index) = 0;
};

// Appends records in the store's encoding to one empty shard, under its lock; see
// Engine::RestoreEncodedShard. The caller has checked every record: well formed
// (record_format.h: flags, lengths, no dead bit), `key_hash` = KeyHash of its key
// and of this shard, its owner index < the owner map's size, its key not yet added.
// The loader trusts that (a snapshot's checksums guarantee the writer's bytes).
class EncodedShardLoader {
 public:
  EncodedShardLoader(const EncodedShardLoader&) = delete;
  EncodedShardLoader& operator=(const EncodedShardLoader&) = delete;

  void Add(uint64_t key_hash, absl::string_view record) {
    const uint32_t snapshot_owner = record::Load32(record.data() + record::kOffOwner);
    ++owner_counts_[snapshot_owner];
    const uint32_t ref = shard_->AppendEncoded(record, owner_map_[snapshot_owner]);
    // The table insert lags kLag records behind the copy, its bucket prefetched
    // meanwhile: without it a restore waits for one cache miss per record.
    shard_->Prefetch(key_hash);
    Pending& slot = pending_[added_ % kLag];
    if (added_ >= kLag) shard_->IndexAppended(slot.hash, slot.ref);
    slot = Pending{key_hash, ref};
    ++added_;
  }

 private:
  friend class Engine;
  static constexpr size_t kLag = 8;
  struct Pending {
    uint64_t hash;
    uint32_t ref;
  };

  EncodedShardLoader(Shard* shard, absl::Span<const uint32_t> owner_map,
                     absl::Span<int64_t> owner_counts)
      : shard_(shard), owner_map_(owner_map), owner_counts_(owner_counts) {}
  // Inserts what still lags, in order.
  void Flush() {
    for (size_t i = added_ > kLag ? added_ - kLag : 0; i < added_; ++i) {
      shard_->IndexAppended(pending_[i % kLag].hash, pending_[i % kLag].ref);
    }
    added_ = 0;
  }

  Shard* const shard_;  // Locked by Engine::RestoreEncodedShard for the loader's life.
  const absl::Span<const uint32_t> owner_map_;
  const absl::Span<int64_t> owner_counts_;
  Pending pending_[kLag];
  size_t added_ = 0;
};

struct EngineStats {
  size_t connections = 0;
  size_t remembered_orders = 0;
  size_t shops_with_settings = 0;
  size_t affiliates = 0;  // Directory entries, all shops.
  StoreMemory memory;
};

class Engine {
 public:
  explicit Engine(const EngineOptions& options);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  EmailPolicy email_policy() const { return store_.policy(); }
  TimeMs NowMs() const { return clock_->NowMs(); }

  // --- Connections (SPEC §3) ---
  absl::StatusOr<ConnectResult> Connect(const ConnectRequest& request);
  absl::StatusOr<DisconnectResult> Disconnect(ShopId shop, absl::string_view email);
  absl::StatusOr<DisconnectResult> Disconnect(ShopId shop, const CustomerRef& customer);
  absl::StatusOr<LookupResult> Lookup(ShopId shop, absl::string_view email,
                                      std::optional<TimeMs> at = std::nullopt) const;
  // At most kMaxBatchLookup emails; one item per email, in order.
  absl::StatusOr<std::vector<BatchLookupItem>> LookupBatch(
      ShopId shop, absl::Span<const absl::string_view> emails,
      std::optional<TimeMs> at = std::nullopt) const;
  // The allocation-free read path under Lookup and LookupBatch (the server uses it
  // directly): validates like LookupBatch, then calls fn(i, item) exactly once per
  // email i, in no particular order. The item's strings point into the store and
  // are valid only during the call; fn may run under a shard lock, so it must be
  // quick and must not call the Engine.
  using LookupItemFn = absl::FunctionRef<void(size_t, const LookupItemView&)>;
  absl::Status LookupEach(ShopId shop, absl::Span<const absl::string_view> emails,
                          std::optional<TimeMs> at, LookupItemFn fn) const;

  // Lookups announced ahead (the server reads many pipelined requests at once): a
  // PreparedKey holds the canonical key and its hash, computed once. PrepareKey
  // also prefetches the key's table bucket, PrefetchRecords (called after every key
  // of a batch was prepared) its candidate records, so the two dependent cache
  // misses of many lookups overlap. LookupPrepared is then a single-email
  // LookupEach that reuses the key; it validates as LookupEach does.
  struct PreparedKey {
    bool valid = false;  // The email canonicalized; else LookupPrepared reports why.
    ShopId shop = 0;
    uint64_t hash = 0;
    CanonicalBuffer canonical;
  };
  void PrepareKey(ShopId shop, absl::string_view email, PreparedKey* key) const;
  void PrefetchRecords(const PreparedKey& key) const;
  absl::Status LookupPrepared(const PreparedKey& key, absl::string_view email,
                              std::optional<TimeMs> at, LookupItemFn fn) const;
  absl::StatusOr<ListPage> List(const ListRequest& request) const;
  absl::StatusOr<uint64_t> CountShop(ShopId shop) const;
  absl::StatusOr<uint64_t> CountAffiliate(ShopId shop, AffiliateId affiliate) const;
  absl::StatusOr<absl::flat_hash_map<AffiliateId, uint64_t>> CountsByAffiliate(
      ShopId shop) const;

  // --- Settings (SPEC §4) ---
  absl::StatusOr<ShopSettings> GetSettings(ShopId shop) const;
  absl::StatusOr<ShopSettings> UpdateSettings(ShopId shop, const ShopSettingsPatch& patch);

  // --- The affiliate directory (issue 12) ---
  // Create or update. Every error names the field (name, emails[i] with the
  // canonicalization rule that failed, status); an email of another affiliate of the
  // shop is AlreadyExists. Logged as one PutAffiliate, then (setting
  // on_customer_becomes_affiliate = disconnect) one RemoveConnection per removed
  // connection.
  absl::StatusOr<PutAffiliateResult> PutAffiliate(const PutAffiliateRequest& request);
  // Sets the status of an existing entry (disable, or enable again); NotFound if none.
  absl::StatusOr<PutAffiliateResult> SetAffiliateStatus(ShopId shop, AffiliateId id,
                                                        AffiliateStatus status);
  absl::StatusOr<AffiliateInfo> GetAffiliate(ShopId shop, AffiliateId id) const;
  // List and search (AffiliateQuery: email as entered here, canonicalized).
  absl::StatusOr<AffiliatePage> SearchAffiliates(const AffiliateQuery& query) const;
  const AffiliateDirectory& affiliates() const { return affiliates_; }

  // --- Customers and identifiers (issue 12; engine_identity.cc) ---
  // The customer any identifier names; NotFound when it has neither a connection
  // nor a linked identifier.
  absl::StatusOr<CustomerInfo> GetCustomer(ShopId shop, const CustomerRef& customer) const;
  absl::StatusOr<LookupResult> LookupCustomer(ShopId shop, const CustomerRef& customer,
                                              std::optional<TimeMs> at = std::nullopt) const;
  // Links `identifier` (exactly one of email/external_id; unknown so far) to the
  // customer `customer` names. AlreadyExists (identifier_in_use) when it names a
  // customer already; FailedPrecondition when a limit (8 emails, 1 external id) would
  // be passed. Logged as LinkIdentifier.
  absl::StatusOr<CustomerInfo> LinkIdentifier(ShopId shop, const CustomerRef& customer,
                                              const CustomerRef& identifier);
  // Unlinks an alias: it becomes its own customer, without connection. Refused
  // (FailedPrecondition) for a customer's last identifier and for its primary key.
  absl::StatusOr<CustomerInfo> UnlinkIdentifier(ShopId shop, const CustomerRef& identifier);
  absl::StatusOr<IdentityChange> MergeCustomers(const MergeRequest& request);
  // Checks the identifier index against itself and the connections (attrib-restore
  // verify): every alias points to a primary that lists it, no identifier is in two
  // customers, no connection sits at an alias, the limits hold. Sets *customers to
  // the customers that have aliases. Run it on a quiet engine (it reads piece by
  // piece).
  absl::Status CheckIdentities(uint64_t* customers) const;

  // --- Orders (SPEC §5) ---
  absl::StatusOr<AttributeResult> Attribute(const AttributeRequest& request);
  absl::StatusOr<ReverseResult> Reverse(ShopId shop, absl::string_view order_id);
  absl::StatusOr<AttributionDecision> Explain(ShopId shop, absl::string_view order_id);

  // --- Replay, snapshots and inspection ---
  // Applies a mutation made by an engine with the same email policy (and, with
  // fences, the same shard count). Never reads the clock or the settings; does not
  // call the sink. With `fences`, only the parts newer than their piece's fence.
  absl::Status Apply(const Mutation& mutation, uint64_t seq = 0,
                     const SnapshotFences* fences = nullptr);
  // Shows the whole state to `visitor`, one piece (settings, each connection shard,
  // each order shard) at a time under that piece's lock, with fence = current_seq()
  // read under the same lock. Readers are never blocked; a writer waits at most for
  // one shard's copy.
  void CaptureSnapshot(const std::function<uint64_t()>& current_seq,
                       SnapshotVisitor* visitor) const;
  // Loading a snapshot into an empty engine (no sink calls).
  void RestoreConnection(const Connection& c);
  // Restores a whole connection shard at once: `produce(add)` calls add(c) for each
  // of the shard's connections (about `count`, unique keys; `c` may be reused between
  // calls). The shard is locked once, its table sized up front, no key is looked up
  // first. A connection that does not belong to shard `index`, or a shard that is not
  // empty, takes the normal path. Restores of different shards may run in parallel.
  using ConnectionSink = std::function<void(const Connection&)>;
  void RestoreConnectionShard(uint32_t index, size_t count,
                              const std::function<void(const ConnectionSink& add)>& produce);
  // The fast restore of records in the store's own encoding (EncodedConnection), as
  // snapshots hold them: no decoding, canonicalizing or hashing per record.
  // 1. InternOwners(snapshot's owner list) once: result[i] is this engine's index of
  //    the snapshot's owner i.
  // 2. RestoreEncodedShard() per shard (different shards may run in parallel):
  //    produce(loader) calls loader.Add() for each of the shard's `count` records
  //    and returns its status, which is returned. Each record's owner index is
  //    translated through owner_map and counted in owner_counts (indexed like the
  //    snapshot's list; one array per thread). FailedPrecondition if the shard is not
  //    empty.
  // 3. AddOwnerCounts(owner_map, counts) once per counts array, after its shards.
  std::vector<uint32_t> InternOwners(absl::Span<const OwnerKey> owners);
  absl::Status RestoreEncodedShard(uint32_t index, size_t count,
                                   absl::Span<const uint32_t> owner_map,
                                   absl::Span<int64_t> owner_counts,
                                   absl::FunctionRef<absl::Status(EncodedShardLoader&)> produce);
  void AddOwnerCounts(absl::Span<const uint32_t> owner_map,
                      absl::Span<const int64_t> owner_counts);
  void RestoreSettings(ShopId shop, const ShopSettings& settings);
  void RestoreAffiliate(const Affiliate& affiliate) { affiliates_.Restore(affiliate); }
  void RestoreIdentifiers(ShopId shop, const CustomerIdentifiers& c) { identity_.Restore(shop, c); }
  const IdentityIndex& identity() const { return identity_; }
  void RestoreOrder(const OrderRecord& order, TimeMs shard_high_water);
  uint32_t shard_count() const { return store_.shard_count(); }
  EngineStats Stats() const;
  // Connections in each store shard (index = shard), for the metrics.
  std::vector<size_t> ConnectionsPerShard() const { return store_.ShardSizes(); }
  const ConnectionStore& store() const { return store_; }
  const SettingsRegistry& settings() const { return settings_; }
  const OrderWindow& orders() const { return orders_; }

 private:
  void Emit(Mutation m) const;
  // The parts of an order mutation: the order part when `orders` is set, the
  // connection part when `editor` is set. Live operations and replay share them.
  void ApplyRecordOrder(const RecordOrder& op, OrderShard* orders, const OrderKey& key,
                        KeyEditor* editor) const;
  static void ApplyReverseOrder(const ReverseOrder& op, OrderShard* orders,
                                const OrderKey& key, KeyEditor* editor);
  // The directory's standing of `affiliate` for the customer with these emails.
  AffiliateStanding Standing(ShopId shop, AffiliateId affiliate,
                             absl::Span<const std::string> customer_emails,
                             const ShopSettings& settings) const;
  // on_customer_becomes_affiliate = disconnect, after `a` was put.
  std::vector<Connection> DisconnectCustomersOf(const Affiliate& a, TimeMs now);
  // A request's customer identifiers, validated: the email canonicalized, the
  // external id as its key (identity_index.h).
  struct CustomerKeys {
    bool has_email = false;
    CanonicalEmail email;
    std::string external_id;  // Key (kExternalIdPrefix + id); empty: none.
    bool both() const { return has_email && !external_id.empty(); }
    // The identifier that finds the customer: the email when given.
    const std::string& key() const { return has_email ? email.canonical : external_id; }
  };
  absl::StatusOr<CustomerKeys> CustomerKeysOf(const CustomerRef& ref) const;
  // Runs fn(editor, primary) under the connection-shard lock of the primary key of
  // identifier `id`, re-resolved under that lock (retrying if a merge moved it).
  void MutateCustomer(ShopId shop, absl::string_view id,
                      absl::FunctionRef<void(KeyEditor&, absl::string_view primary)> fn);
  // The canonical emails of the customer with this primary key (self-referral).
  std::vector<std::string> CustomerEmails(ShopId shop, absl::string_view primary) const;
  // Joins the customers of keys `a` (the email side, or `into`) and `b`: links the
  // unknown one, or merges. `keep` for manual merges; `manual_link` refuses merges.
  struct JoinOptions {
    IdentityCause cause = IdentityCause::kManual;
    std::string order_id;
    bool manual_link = false;   // Refuse (error) when `b` is known.
    bool manual_merge = false;  // Errors instead of not_joined; both must be known.
    std::optional<MergeKeep> keep;
  };
  absl::StatusOr<IdentityChange> JoinIdentifiers(ShopId shop, absl::string_view a,
                                                 absl::string_view b,
                                                 const JoinOptions& options);
  absl::Status ApplyIdentity(const Mutation& m, uint64_t seq, const SnapshotFences* fences);
  bool ConnectionPartDue(ShopId shop, absl::string_view canonical, uint64_t seq,
                         const SnapshotFences* fences) const;
  bool OrderPartDue(ShopId shop, absl::string_view order_id, uint64_t seq,
                    const SnapshotFences* fences) const;

  const Clock* const clock_;
  MutationSink* const sink_;
  ConnectionStore store_;
  SettingsRegistry settings_;
  AffiliateDirectory affiliates_;
  IdentityIndex identity_;
  OrderWindow orders_;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_ENGINE_H_
