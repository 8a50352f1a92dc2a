// service/service.h
//
// The protocol-neutral service layer: every operation a client can ask for, with
// typed requests and results, between the front ends (codecs: the native Cap'n Proto
// protocol in net/handler.cc, the HTTP/JSON API in http/) and the engine. What every
// front end must do the same way lives here, once:
//
// - Scope: who asks (service/scope.h). A shop-scoped caller asking about another
//   shop gets NotFound with the same message whether or not that shop has data; a
//   read-only caller gets PermissionDenied on writes; stats and snapshot need admin.
// - Durability: a write is refused (CanWrite's Unavailable) before the engine is
//   touched, so the state never runs ahead of the log; after it ran, Call::
//   wait_for_seq says which sequence number the log must be durable up to before
//   the reply may leave (LastAssignedSeq(): the write's own change and any
//   not-yet-durable change it saw). The front end holds the reply until then.
// - Counting and timing: Begin() .. Finish() bracket one request of any front end;
//   Finish() counts it per operation and result code and records its latency
//   (service/request_latency.h; pipelined native lookups are timed per batch).
//
// Lookups stay zero-copy: LookupEach / LookupPrepared hand the front end each result
// as a view into the store (engine::LookupItemView), which it encodes in place.
//
// Thread-safety: every method may be called from any thread, concurrently; the
// counters are relaxed atomics, the engine is thread-safe. A Call belongs to one
// request on one thread.
#ifndef ATTRIB_SERVICE_SERVICE_H_
#define ATTRIB_SERVICE_SERVICE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/histogram.h"
#include "common/status_code_name.h"
#include "engine/engine.h"
#include "service/durability_hooks.h"
#include "service/operation.h"
#include "service/request_latency.h"
#include "service/scope.h"
#include "service/webhook_hooks.h"

namespace attrib::service {

// Facts only the server knows, for the `stats` reply and the metrics.
struct ServerFacts {
  uint32_t open_clients = 0;
  uint64_t accepted_clients = 0;
  int64_t uptime_ms = 0;
  // Metrics only (kept after the first three: callers initialize those in order).
  uint64_t refused_clients = 0;  // Over --max_connections.
  uint64_t received_bytes = 0;   // From clients, since start.
  uint64_t sent_bytes = 0;       // To clients (replies written), since start.
  // How long the oldest reply still held for durability has waited (0: none).
  int64_t oldest_durability_wait_ms = 0;
};

// What attribctl promote reports (issue 16).
struct PromoteResult {
  uint64_t epoch = 0;        // The new primary's epoch.
  uint64_t seq = 0;          // Its log's last record when promoted.
  uint64_t applied_seq = 0;  // What the replica had applied when it stopped following.
  uint64_t primary_seq = 0;  // What it had last heard its primary had durable.
};

struct ServiceOptions {
  std::function<ServerFacts()> server_facts;  // May be empty.
  std::function<absl::Status()> snapshot;     // Empty: `snapshot` is unimplemented.
  DurabilityHooks* durability = nullptr;      // Null: in memory only.
  WebhookHooks webhooks;                      // Issue 13 (webhook_hooks.h).
  // Issue 16: make this replica the primary (force: even if it is behind what it
  // last heard). Empty: `promote` is unimplemented (no replication).
  std::function<absl::StatusOr<PromoteResult>(bool force)> promote;
};

// One request in flight (Begin() .. Finish()).
struct Call {
  Scope scope;
  // Set by write operations that passed CanWrite: the reply may leave only once the
  // log is durable up to this sequence number (0: no wait).
  uint64_t wait_for_seq = 0;
  bool prepared_lookup = false;  // Timed within a pipelined batch (request_latency.h).
  int64_t started = 0;
};

struct OperationCount {
  std::string operation;  // OperationName(), e.g. "lookup".
  std::string result;     // "ok" or the error code's name.
  uint64_t count = 0;
};

struct OperationLatency {
  std::string operation;  // As OperationCount::operation.
  metrics::HistogramSnapshot latency;
};

struct CountRequest {
  engine::ShopId shop = 0;
  engine::AffiliateId affiliate = 0;  // 0: the whole shop, with a breakdown.
};
struct CountResult {
  uint64_t connections = 0;
  // Whole-shop counts only: by connections descending, then affiliate ascending.
  // Two reads of a live store: under concurrent changes the total and the breakdown
  // may differ by the changes made in between.
  std::vector<std::pair<engine::AffiliateId, uint64_t>> by_affiliate;
};

struct StatsResult {
  uint64_t connections = 0;
  uint64_t remembered_orders = 0;
  bool has_server_facts = false;
  ServerFacts facts;
  uint64_t rss_bytes = 0;
  uint64_t store_table_bytes = 0;  // Shard tables plus the shared owner table.
  uint64_t store_arena_bytes = 0;
  std::vector<OperationCount> operations;  // Non-zero counts, by operation then code.
};

class Service {
 public:
  // `engine` must outlive the service.
  Service(engine::Engine* engine, ServiceOptions options);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  engine::Engine& engine() const { return *engine_; }
  DurabilityHooks* durability() const { return options_.durability; }

  // --- Bracketing every request (counting, latency).
  Call Begin(const Scope& scope, bool prepared_lookup = false) const {
    Call call;
    call.scope = scope;
    call.prepared_lookup = prepared_lookup;
    call.started = latency_.Start(prepared_lookup);
    return call;
  }
  void Finish(const Call& call, Operation operation, absl::StatusCode code) {
    const size_t op = static_cast<size_t>(operation);
    int c = static_cast<int>(code);
    if (c < 0 || c >= kStatusCodeCount) c = static_cast<int>(absl::StatusCode::kUnknown);
    counts_[op][static_cast<size_t>(c)].fetch_add(1, std::memory_order_relaxed);
    latency_.Finish(op, call.prepared_lookup, call.started);
  }
  // A batch of `lookups` prepared lookups is about to run on this thread (the native
  // front end's look-ahead): their time is measured together.
  void BeginLookupRun(size_t lookups) const {
    latency_.BeginLookupRun(lookups, static_cast<size_t>(Operation::kLookup));
  }

  // --- Connections.
  absl::StatusOr<engine::ConnectResult> Connect(Call& call, const engine::ConnectRequest& r);
  absl::StatusOr<engine::DisconnectResult> Disconnect(Call& call, engine::ShopId shop,
                                                      absl::string_view email);
  // Lookups of one or many emails (at most engine::kMaxBatchLookup): fn(i, item) once
  // per email, straight from the store (see Engine::LookupEach for its rules).
  absl::Status LookupEach(const Call& call, engine::ShopId shop,
                          absl::Span<const absl::string_view> emails,
                          std::optional<engine::TimeMs> at,
                          engine::Engine::LookupItemFn fn) const;
  // The look-ahead of pipelined lookups (Engine::PrepareKey and friends).
  void PrepareKey(engine::ShopId shop, absl::string_view email,
                  engine::Engine::PreparedKey* key) const {
    engine_->PrepareKey(shop, email, key);
  }
  void PrefetchRecords(const engine::Engine::PreparedKey& key) const {
    engine_->PrefetchRecords(key);
  }
  absl::Status LookupPrepared(const Call& call, const engine::Engine::PreparedKey& key,
                              absl::string_view email, std::optional<engine::TimeMs> at,
                              engine::Engine::LookupItemFn fn) const;
  absl::StatusOr<engine::ListPage> List(const Call& call, const engine::ListRequest& r) const;
  absl::StatusOr<CountResult> Count(const Call& call, const CountRequest& r) const;

  // --- Settings.
  absl::StatusOr<engine::ShopSettings> GetSettings(const Call& call, engine::ShopId shop) const;
  absl::StatusOr<engine::ShopSettings> PutSettings(Call& call, engine::ShopId shop,
                                                   const engine::ShopSettingsPatch& patch);

  // --- Orders.
  absl::StatusOr<engine::AttributeResult> Attribute(Call& call,
                                                    const engine::AttributeRequest& r);
  absl::StatusOr<engine::ReverseResult> Reverse(Call& call, engine::ShopId shop,
                                                absl::string_view order_id);
  absl::StatusOr<engine::AttributionDecision> Explain(const Call& call, engine::ShopId shop,
                                                      absl::string_view order_id);

  // --- The affiliate directory (issue 12). Results carry the affiliate's
  // connected-customer count (`connections`).
  absl::StatusOr<engine::PutAffiliateResult> PutAffiliate(Call& call,
                                                          const engine::PutAffiliateRequest& r,
                                                          uint64_t* connections);
  absl::StatusOr<engine::PutAffiliateResult> SetAffiliateStatus(Call& call, engine::ShopId shop,
                                                                engine::AffiliateId id,
                                                                engine::AffiliateStatus status,
                                                                uint64_t* connections);
  absl::StatusOr<engine::AffiliateInfo> GetAffiliate(const Call& call, engine::ShopId shop,
                                                     engine::AffiliateId id) const;
  absl::StatusOr<engine::AffiliatePage> SearchAffiliates(
      const Call& call, const engine::AffiliateQuery& query) const;

  // --- Webhook endpoints (issue 13). The secret is generated here; a create or a
  // rotation returns it, a Get or List never shows it (`secret` cleared).
  absl::StatusOr<engine::WebhookEndpoint> CreateWebhookEndpoint(
      Call& call, engine::WebhookEndpointRequest r);
  absl::StatusOr<engine::WebhookEndpoint> UpdateWebhookEndpoint(
      Call& call, engine::ShopId shop, uint64_t id, const engine::WebhookEndpointPatch& p);
  absl::StatusOr<engine::WebhookEndpoint> RotateWebhookSecret(Call& call, engine::ShopId shop,
                                                              uint64_t id);
  absl::Status DeleteWebhookEndpoint(Call& call, engine::ShopId shop, uint64_t id);
  absl::StatusOr<WebhookEndpointInfo> GetWebhookEndpoint(const Call& call, engine::ShopId shop,
                                                         uint64_t id) const;
  absl::StatusOr<std::vector<WebhookEndpointInfo>> ListWebhookEndpoints(
      const Call& call, engine::ShopId shop) const;

  // --- The change feed: up to `max` committed changes with seq >= from, in order;
  // an admin sees every shop's, a shop key only its shop's (the others are
  // skipped, their sequence numbers are gaps). *next: where to continue.
  absl::StatusOr<std::vector<Change>> Changes(const Call& call, uint64_t from, size_t max,
                                              uint64_t* next) const;

  // --- Customers and identifiers (issue 12; service_identity.cc).
  absl::StatusOr<engine::DisconnectResult> DisconnectCustomer(Call& call, engine::ShopId shop,
                                                              const engine::CustomerRef& c);
  absl::StatusOr<engine::LookupResult> LookupCustomer(const Call& call, engine::ShopId shop,
                                                      const engine::CustomerRef& c,
                                                      std::optional<engine::TimeMs> at) const;
  absl::StatusOr<engine::CustomerInfo> GetCustomer(const Call& call, engine::ShopId shop,
                                                   const engine::CustomerRef& c) const;
  absl::StatusOr<engine::CustomerInfo> LinkIdentifier(Call& call, engine::ShopId shop,
                                                      const engine::CustomerRef& customer,
                                                      const engine::CustomerRef& identifier);
  absl::StatusOr<engine::CustomerInfo> UnlinkIdentifier(Call& call, engine::ShopId shop,
                                                        const engine::CustomerRef& identifier);
  absl::StatusOr<engine::IdentityChange> MergeCustomers(Call& call,
                                                        const engine::MergeRequest& r);

  // --- The customer directory (issue 12; service_customers.cc; engine.h
  // "customer directory"). Reads need read scope on the shop, the put write scope
  // (and waits for durability like every write: call.wait_for_seq).
  // One customer: identifiers, connection, directory entry; NotFound if unknown.
  absl::StatusOr<engine::CustomerRecord> GetCustomerRecord(const Call& call, engine::ShopId shop,
                                                           const engine::CustomerRef& c) const;
  // Paged search (engine::CustomerQuery: email_prefix | name_prefix | external_id,
  // limit 1..500, cursor from the previous page's next_cursor).
  absl::StatusOr<engine::CustomerPage> SearchCustomers(const Call& call,
                                                       const engine::CustomerQuery& q) const;
  // Sets the customer's directory name (creates its entry); FailedPrecondition
  // customer_directory_off when the shop has the directory off.
  absl::StatusOr<engine::CustomerRecord> PutCustomerName(Call& call, engine::ShopId shop,
                                                         const engine::CustomerRef& c,
                                                         absl::string_view name);

  // --- Server.
  absl::StatusOr<StatsResult> Stats(const Call& call) const;
  absl::Status Snapshot(const Call& call);
  // Admin only (issue 16, manual failover).
  absl::StatusOr<PromoteResult> Promote(const Call& call, bool force);
  // Before a read (issue 16): OK, or why a replica refuses it (DurabilityHooks::
  // CanRead: its lag, or `min_seq` not applied; with `may_wait` it waits for it up
  // to --replica_read_wait, holding the calling thread).
  absl::Status CanRead(uint64_t min_seq, bool may_wait) const {
    if (options_.durability == nullptr) return absl::OkStatus();
    return options_.durability->CanRead(min_seq, may_wait);
  }
  // Anyone may ping: OK.
  absl::Status Ping(const Call& call) const { return absl::OkStatus(); }
  // Ready: recovered (the service exists only after recovery) and writes are not
  // refused (CanWrite). The reason when not.
  absl::Status Ready() const;

  // Requests handled so far, by operation and result (non-zero counts only).
  std::vector<OperationCount> OperationCounts() const;
  // Execution time per operation: every operation, plus "undecodable"/"unknown"
  // once seen.
  std::vector<OperationLatency> OperationLatencies() const;

 private:
  // The scope and durability checks of a write to `shop`, then `run()`, then the
  // sequence number its reply waits for.
  // (Defined here: service.cc, service_identity.cc and service_customers.cc use it.)
  template <typename Fn>
  auto Write(Call& call, engine::ShopId shop, absl::string_view operation, Fn run)
      -> decltype(run()) {
    if (absl::Status s = CheckWrite(call.scope, shop, operation); !s.ok()) return s;
    if (options_.durability == nullptr) return run();
    // Refused before the engine is touched: the state never runs ahead of the log.
    if (absl::Status s = options_.durability->CanWrite(); !s.ok()) return s;
    auto result = run();
    call.wait_for_seq = options_.durability->LastAssignedSeq();
    return result;
  }

  engine::Engine* const engine_;
  const ServiceOptions options_;
  // [operation][code].
  std::array<std::array<std::atomic<uint64_t>, kStatusCodeCount>, kOperationCount> counts_{};
  RequestLatency<kOperationCount> latency_;
};

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_SERVICE_H_
