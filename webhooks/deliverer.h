// webhooks/deliverer.h
//
// Delivers one endpoint's webhook events from the write-ahead log: at least once,
// in log order (so in order per customer, and per shop), signed (signature.h), with
// retries (retry_policy.h), on a thread of its own so that a dead or slow receiver
// never slows request serving, commits, or other endpoints.
//
// The loop: read the next records from `cursor` (persistence/change_feed.h, never
// past what is durable), turn each into its event (events.h), skip those of other
// shops or of types the endpoint did not ask for, and POST the rest one at a time;
// an event that fails is retried (the same webhook-id, a fresh timestamp and
// signature) until it is delivered, the receiver answers 410 (disabled at once), or
// the endpoint has failed for `give_up_after` (disabled). Ordering choice: strictly
// in log order per endpoint; a failing event holds back the later ones of its
// endpoint (head-of-line), which is what keeps a customer's events in order.
//
// Progress: the cursor (the next sequence number to deliver) is handed to
// `save_cursor` at most every `cursor_save_interval` and when the deliverer stops;
// after a crash delivery resumes from the last saved cursor, so events after it may
// be delivered again, with the same webhook-id (at least once).
//
// Thread-safety: Start/Stop from the owner; NotifyDurable and Status from any thread.
#ifndef ATTRIB_WEBHOOKS_DELIVERER_H_
#define ATTRIB_WEBHOOKS_DELIVERER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "persistence/change_feed.h"
#include "webhooks/http_sender.h"
#include "webhooks/retry_policy.h"

namespace attrib::webhooks {

struct Endpoint {
  std::string id;   // "ep_1": in logs, metrics and the API.
  uint64_t shop = 0;
  std::string url;
  std::vector<std::string> event_types;  // Empty: every type.
  std::vector<std::string> secrets;      // Each signs (rotation); at least one.
};

// One POST of an event, kept for the API (the newest kRecentAttempts).
struct AttemptRecord {
  uint64_t seq = 0;
  absl::Time at;
  int http_status = 0;  // 0: no reply.
  std::string error;    // Empty: delivered.
};
inline constexpr size_t kRecentAttempts = 10;

struct DeliveryStatus {
  uint64_t cursor = 0;      // Next sequence number to deliver.
  uint64_t delivered = 0;   // Events delivered (2xx) since Start.
  uint64_t attempts = 0;    // POSTs made since Start.
  uint32_t failures = 0;    // Consecutive failed attempts of the current event.
  std::string last_error;   // Of the last failed attempt; empty after a success.
  bool disabled = false;
  std::string disabled_reason;  // "receiver answered 410 Gone", ...
  std::vector<AttemptRecord> recent;  // Newest last, at most kRecentAttempts.
};

struct DelivererOptions {
  RetryPolicy retry;
  HttpSenderOptions http;
  bool allow_plain_http = false;
  size_t read_batch = 256;
  absl::Duration cursor_save_interval = absl::Milliseconds(200);
  std::function<absl::Time()> now = [] { return absl::Now(); };
  uint64_t seed = 1;  // Backoff jitter.
};

class Deliverer {
 public:
  // `feed` reads the log; `durable` gives its durable sequence number;
  // `save_cursor(cursor)` makes progress durable (OK or why not); `on_disabled(status)`
  // is told when the endpoint is disabled, before Status() says so. All must outlive
  // the Deliverer.
  Deliverer(Endpoint endpoint, uint64_t cursor, persistence::ChangeFeed* feed,
            std::function<uint64_t()> durable,
            std::function<absl::Status(uint64_t)> save_cursor,
            std::function<void(const DeliveryStatus&)> on_disabled, DelivererOptions options);
  ~Deliverer();  // Stop().
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  // InvalidArgument when the URL or a secret is unacceptable (nothing started).
  absl::Status Start();
  void Stop();
  // The log's durable sequence number advanced: wake the loop.
  void NotifyDurable();
  DeliveryStatus Status() const;

 private:
  void Run();
  // Delivers one event until delivered, disabled or stopped; false when it must stop.
  bool DeliverOne(uint64_t seq, const std::string& id, const std::string& body);
  void SaveCursor(bool force);
  // Waits up to `d` or until stopped / woken; false when stopped.
  bool Wait(absl::Duration d);
  void Disable(std::string reason);

  const Endpoint endpoint_;
  Url url_;
  persistence::ChangeFeed* const feed_;
  const std::function<uint64_t()> durable_;
  const std::function<absl::Status(uint64_t)> save_cursor_;
  const std::function<void(const DeliveryStatus&)> on_disabled_;
  const DelivererOptions options_;
  HttpSender sender_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  DeliveryStatus status_ ABSL_GUARDED_BY(mu_);
  uint64_t saved_cursor_ = 0;  // Delivery thread only.
  absl::Time last_save_;       // Delivery thread only.
  std::thread thread_;
};

}  // namespace attrib::webhooks

#endif  // ATTRIB_WEBHOOKS_DELIVERER_H_
