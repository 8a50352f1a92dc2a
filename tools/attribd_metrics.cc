// tools/attribd_metrics.cc: see attribd_metrics.h.
#include "tools/attribd_metrics.h"

#include <unistd.h>

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/metrics_text.h"

namespace attrib::tools {
namespace {

using metrics::MetricsText;
using metrics::MetricType;

void RequestMetrics(const net::RequestHandler& handler, MetricsText& m) {
  constexpr char kRequests[] = "attrib_requests_total";
  m.Family(kRequests, MetricType::kCounter,
           "Requests handled, by operation (the Request union's field name) and result "
           "(ok or the error code).");
  for (const net::OperationCount& c : handler.OperationCounts()) {
    m.Sample(kRequests, {{"op", c.operation}, {"result", c.result}}, c.count);
  }
  constexpr char kDuration[] = "attrib_request_duration_seconds";
  m.Family(kDuration, MetricType::kHistogram,
           "Time to execute a request on the server, by operation, until its reply is "
           "built (excludes waiting for fsync and the network; pipelined lookups are "
           "timed per batch and split evenly).");
  for (const net::OperationLatency& l : handler.OperationLatencies()) {
    m.Histogram(kDuration, {{"op", l.operation}}, l.latency);
  }
}

void ServerMetrics(const net::ServerFacts& f, MetricsText& m) {
  m.Gauge("attrib_connections_open", "Client TCP connections open now.", f.open_clients);
  m.Counter("attrib_connections_accepted_total", "Client TCP connections accepted.",
            f.accepted_clients);
  m.Counter("attrib_connections_refused_total",
            "Client TCP connections refused because --max_connections were open.",
            f.refused_clients);
  m.Counter("attrib_network_received_bytes_total", "Bytes received from clients.",
            f.received_bytes);
  m.Counter("attrib_network_sent_bytes_total", "Bytes of replies sent to clients.",
            f.sent_bytes);
  m.Gauge("attrib_uptime_seconds", "Seconds since the server started serving.",
          static_cast<double>(f.uptime_ms) / 1e3);
  m.Gauge("attrib_durability_oldest_wait_seconds",
          "How long the oldest reply still held for durability (the log's fdatasync) "
          "has waited; 0 when none waits. Normally milliseconds; growing: replies are "
          "stalled.",
          static_cast<double>(f.oldest_durability_wait_ms) / 1e3);
}

void StoreMetrics(const engine::Engine& engine, MetricsText& m) {
  constexpr char kShard[] = "attrib_store_connections";
  m.Family(kShard, MetricType::kGauge,
           "Customer-affiliate connections in the store, by store shard.");
  const std::vector<size_t> sizes = engine.ConnectionsPerShard();
  for (size_t i = 0; i < sizes.size(); ++i) {
    m.Sample(kShard, {{"shard", absl::StrCat(i)}}, uint64_t{sizes[i]});
  }
  const engine::EngineStats stats = engine.Stats();
  m.Gauge("attrib_store_remembered_orders",
          "Order ids remembered for idempotency, reverse and explain (--order_window).",
          stats.remembered_orders);
  constexpr char kMemory[] = "attrib_store_memory_bytes";
  m.Family(kMemory, MetricType::kGauge,
           "Memory of the connection store: hash tables, record arenas, and the "
           "(shop, affiliate) table they share.");
  m.Sample(kMemory, {{"part", "table"}}, uint64_t{stats.memory.table_bytes});
  m.Sample(kMemory, {{"part", "arena"}}, uint64_t{stats.memory.arena_bytes});
  m.Sample(kMemory, {{"part", "owner_table"}}, uint64_t{stats.memory.owner_table_bytes});
}

void DurabilityMetrics(const persistence::DurabilityStats& d, MetricsText& m) {
  m.Counter("attrib_wal_bytes_total", "Bytes written to the write-ahead log since start.",
            d.log_bytes_written);
  m.Gauge("attrib_wal_durable_seq", "Sequence number of the newest durable log record.",
          d.durable_seq);
  m.Counter("attrib_wal_fsyncs_total", "fdatasyncs of the write-ahead log since start.",
            d.fsyncs);
  constexpr char kFsync[] = "attrib_wal_fsync_duration_seconds";
  m.Family(kFsync, MetricType::kHistogram, "Time each write-ahead log fdatasync took.");
  m.Histogram(kFsync, {}, d.fsync_durations);
  m.Counter("attrib_snapshots_total", "Snapshots taken since start.", d.snapshots);
  const persistence::SnapshotInfo& s = d.last_snapshot;
  m.Gauge("attrib_snapshot_last_unix_seconds",
          "When the newest snapshot taken since start was made (0: none yet).",
          static_cast<double>(s.created_at_ms) / 1e3);
  m.Gauge("attrib_snapshot_last_duration_seconds",
          "How long writing the newest snapshot took (0: none yet).", s.seconds);
  m.Gauge("attrib_snapshot_last_bytes", "Size of the newest snapshot file (0: none yet).",
          s.bytes);
  m.Gauge("attrib_snapshot_last_connections",
          "Connections in the newest snapshot (0: none yet).", s.connections);
}

void RecoveryMetrics(const AttribdMetricsSources& s, MetricsText& m) {
  const persistence::RecoveryReport& r = s.recovery;
  m.Gauge("attrib_recovery_snapshot_load_seconds",
          "At start: time to load the snapshot (0: none).", r.snapshot_seconds);
  m.Gauge("attrib_recovery_snapshot_connections",
          "At start: connections in the snapshot loaded.", r.snapshot_connections);
  m.Gauge("attrib_recovery_replayed_records",
          "At start: log records replayed after the snapshot.", r.replayed);
  m.Gauge("attrib_recovery_replay_seconds", "At start: time to replay the log.",
          r.replay_seconds);
  m.Gauge("attrib_recovery_torn_bytes_dropped",
          "At start: bytes of a torn last log record cut off.", r.torn_bytes_dropped);
  m.Gauge("attrib_recovery_connections", "At start: connections in the store after recovery.",
          s.recovered_connections);
}

}  // namespace

uint64_t ProcessResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return 0;
  unsigned long long size_pages = 0, resident_pages = 0;
  const int fields = std::fscanf(f, "%llu %llu", &size_pages, &resident_pages);
  std::fclose(f);
  if (fields != 2) return 0;
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void WebhookMetrics(const webhooks::DispatcherStats& w, MetricsText& m) {
  m.Gauge("attrib_webhook_endpoints_enabled", "Webhook endpoints enabled (delivering).",
          static_cast<double>(w.endpoints_enabled));
  m.Gauge("attrib_webhook_endpoints_disabled",
          "Webhook endpoints disabled (by request, 410, retries exhausted or the log "
          "retention limit; the API shows the reason).",
          static_cast<double>(w.endpoints_disabled));
  m.Counter("attrib_webhook_deliveries_total", "Webhook events delivered (2xx) since start.",
            w.delivered);
  m.Counter("attrib_webhook_attempts_total", "Webhook POSTs made since start.", w.attempts);
  m.Counter("attrib_webhook_failed_attempts_total",
            "Webhook POSTs that failed (non-2xx, time-out, connection error) since start.",
            w.failed);
  m.Counter("attrib_webhook_endpoints_disabled_total",
            "Webhook endpoints that delivery disabled since start (410, retries "
            "exhausted, log retention limit).",
            w.disabled);
  m.Gauge("attrib_webhook_max_lag_records",
          "Log records between the durable end and the slowest enabled endpoint's cursor.",
          static_cast<double>(w.max_lag));
}

std::string CollectAttribdMetrics(const AttribdMetricsSources& sources) {
  MetricsText m;
  if (sources.handler != nullptr) RequestMetrics(*sources.handler, m);
  if (sources.server != nullptr) ServerMetrics(sources.server->Facts(), m);
  if (sources.engine != nullptr) StoreMetrics(*sources.engine, m);
  m.Gauge("attrib_process_resident_memory_bytes", "Resident set size of the process.",
          static_cast<double>(ProcessResidentBytes()));
  if (sources.durability != nullptr) DurabilityMetrics(sources.durability->Stats(), m);
  RecoveryMetrics(sources, m);
  if (sources.webhooks != nullptr) WebhookMetrics(sources.webhooks->Stats(), m);
  if (sources.more) sources.more(m);
  return m.Release();
}

}  // namespace attrib::tools
