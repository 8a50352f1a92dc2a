// webhooks/dispatcher.h
//
// Runs webhook delivery inside attribd: one Deliverer (deliverer.h, its own thread)
// per enabled endpoint of the engine's registry (engine/webhook_endpoints.h), each
// reading the log from its durable cursor (persistence/webhook_cursors.h).
//
// - A manager thread reconciles the running deliverers with the registry whenever it
//   changes (Changed(), or the registry's version moved: replay, a disable) and once
//   a second (a rotated-out secret stops signing when its 24 h are over): a new
//   endpoint starts at the cursor its creation saved (the changes after it; without
//   one, e.g. after a crash between the creation's commit and that save, at the
//   log's durable end), a changed one is
//   restarted from its saved cursor with the new URL / types / secrets, a disabled
//   or deleted one is stopped (a deleted one's cursor file is removed).
// - A deliverer that gives up (410, retries exhausted, its events left the log)
//   disables its endpoint through the engine, so the reason is durable and shown by
//   the API; a log line and the disabled counter say so too.
// - Log retention (Durability::SetLogRetentionHook): segments an enabled endpoint
//   still needs (from its saved cursor) are kept, up to `max_retained_log_bytes` per
//   endpoint; past that the endpoint is disabled with the reason, so one dead
//   receiver cannot fill the disk.
//
// Ordering: strictly log order per endpoint (deliverer.h); endpoints are
// independent of each other. Nothing here runs on a request or commit thread but
// Changed() and NotifyDurable(), which only wake threads.
//
// Thread-safety: every public method may be called from any thread.
#ifndef ATTRIB_WEBHOOKS_DISPATCHER_H_
#define ATTRIB_WEBHOOKS_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "persistence/change_feed.h"
#include "persistence/file_system.h"
#include "persistence/webhook_cursors.h"
#include "webhooks/deliverer.h"

namespace attrib::webhooks {

struct DispatcherOptions {
  DelivererOptions deliverer;  // For every endpoint (seed: mixed with the id).
  std::string wal_dir;         // DATA/wal
  std::string archive_dir;     // --wal_archive (empty: none)
  uint64_t max_retained_log_bytes = uint64_t{4} << 30;
};

struct DispatcherStats {
  uint64_t endpoints_enabled = 0;
  uint64_t endpoints_disabled = 0;
  uint64_t delivered = 0;     // Events delivered (2xx) since start.
  uint64_t attempts = 0;      // POSTs since start.
  uint64_t failed = 0;        // Failed attempts since start.
  uint64_t disabled = 0;      // Endpoints disabled by delivery since start.
  uint64_t max_lag = 0;       // Records between the durable end and the slowest cursor.
};

class Dispatcher {
 public:
  // All must outlive the dispatcher. `durable()`: the log's durable sequence number.
  Dispatcher(engine::Engine* engine, persistence::FileSystem* fs,
             persistence::WebhookCursors* cursors, std::function<uint64_t()> durable,
             DispatcherOptions options);
  ~Dispatcher();  // Stop().
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();
  void Stop();  // Stops every deliverer (each saves its cursor).
  void Changed();
  void NotifyDurable();
  std::optional<DeliveryStatus> Status(uint64_t endpoint_id) const;
  DispatcherStats Stats() const;
  // The log retention hook (see the header comment).
  uint64_t RetainUpTo(uint64_t floor);

 private:
  struct Running;
  void Loop();
  void Reconcile();
  std::unique_ptr<Running> Launch(const engine::WebhookEndpoint& e,
                                  const std::vector<std::string>& secrets);
  void OnDisabled(const engine::WebhookEndpoint& e, const DeliveryStatus& status);
  void Retire(std::unique_ptr<Running> r);

  engine::Engine* const engine_;
  persistence::FileSystem* const fs_;
  persistence::WebhookCursors* const cursors_;
  const std::function<uint64_t()> durable_;
  const DispatcherOptions options_;

  mutable absl::Mutex mu_;
  std::map<uint64_t, std::unique_ptr<Running>> running_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool changed_ ABSL_GUARDED_BY(mu_) = true;
  // Counts of deliverers that were stopped (the running ones add theirs).
  uint64_t retired_delivered_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t retired_attempts_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> disabled_{0};
  std::thread thread_;
};

}  // namespace attrib::webhooks

#endif  // ATTRIB_WEBHOOKS_DISPATCHER_H_
