// tools/attribd_metrics.h
//
// What attribd's /metrics endpoint (--metrics_listen, net/metrics_http.h) shows: the
// figures of every layer, gathered here because tools/ is the one place that sees
// them all (engine/ has no I/O, persistence/ knows no sockets, net/ no files). Each
// scrape reads the sources afresh: relaxed counters, one short lock per store shard,
// the durability layer's stats, /proc/self/statm. README.md "Metrics" lists every
// metric with its labels and meaning.
//
// Thread-safety: CollectAttribdMetrics may be called from any thread while the
// sources live (it only calls their thread-safe accessors).
#ifndef ATTRIB_TOOLS_ATTRIBD_METRICS_H_
#define ATTRIB_TOOLS_ATTRIBD_METRICS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "common/metrics_text.h"
#include "engine/engine.h"
#include "net/handler.h"
#include "net/server.h"
#include "persistence/durability.h"
#include "persistence/recovery.h"
#include "webhooks/dispatcher.h"

namespace attrib::tools {

struct AttribdMetricsSources {
  const engine::Engine* engine = nullptr;
  const net::RequestHandler* handler = nullptr;
  const net::Server* server = nullptr;
  const persistence::Durability* durability = nullptr;
  const webhooks::Dispatcher* webhooks = nullptr;  // Null: no webhook metrics.
  // What recovery did at start (constant afterwards).
  persistence::RecoveryReport recovery;
  uint64_t recovered_connections = 0;  // In the store once recovery ended.
  // More families, written last (replication: tools/attribd_replication.h).
  std::function<void(metrics::MetricsText&)> more;
};

// The body of a /metrics reply (Prometheus text format 0.0.4).
std::string CollectAttribdMetrics(const AttribdMetricsSources& sources);

// The process's resident set in bytes, from /proc/self/statm; 0 if unreadable.
uint64_t ProcessResidentBytes();

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBD_METRICS_H_
