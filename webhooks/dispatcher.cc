// webhooks/dispatcher.cc: webhook delivery in attribd (see the header).
#include "webhooks/dispatcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "persistence/log_reader.h"

namespace attrib::webhooks {

struct Dispatcher::Running {
  engine::WebhookEndpoint config;
  std::vector<std::string> secrets;
  std::unique_ptr<persistence::ChangeFeed> feed;
  std::unique_ptr<Deliverer> deliverer;
  std::atomic<uint64_t> saved_cursor{0};  // What a restart resumes from.
};

Dispatcher::Dispatcher(engine::Engine* engine, persistence::FileSystem* fs,
                       persistence::WebhookCursors* cursors, std::function<uint64_t()> durable,
                       DispatcherOptions options)
    : engine_(engine),
      fs_(fs),
      cursors_(cursors),
      durable_(std::move(durable)),
      options_(std::move(options)) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() { thread_ = std::thread([this] { Loop(); }); }

void Dispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::map<uint64_t, std::unique_ptr<Running>> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(running_);
  }
  for (auto& [id, r] : all) Retire(std::move(r));
}

void Dispatcher::Changed() {
  absl::MutexLock lock(&mu_);
  changed_ = true;
}

void Dispatcher::NotifyDurable() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, r] : running_) r->deliverer->NotifyDurable();
}

std::optional<DeliveryStatus> Dispatcher::Status(uint64_t endpoint_id) const {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(endpoint_id);
  if (it == running_.end()) return std::nullopt;
  return it->second->deliverer->Status();
}

DispatcherStats Dispatcher::Stats() const {
  DispatcherStats s;
  for (const engine::WebhookEndpoint& e : engine_->webhooks().List(0)) {
    ++(e.enabled ? s.endpoints_enabled : s.endpoints_disabled);
  }
  const uint64_t durable = durable_();
  absl::MutexLock lock(&mu_);
  s.delivered = retired_delivered_;
  s.attempts = retired_attempts_;
  for (const auto& [id, r] : running_) {
    const DeliveryStatus d = r->deliverer->Status();
    s.delivered += d.delivered;
    s.attempts += d.attempts;
    if (!d.disabled && durable + 1 > d.cursor) s.max_lag = std::max(s.max_lag, durable + 1 - d.cursor);
  }
  s.failed = s.attempts - s.delivered;
  s.disabled = disabled_.load(std::memory_order_relaxed);
  return s;
}

void Dispatcher::Retire(std::unique_ptr<Running> r) {
  r->deliverer->Stop();
  const DeliveryStatus d = r->deliverer->Status();
  absl::MutexLock lock(&mu_);
  retired_delivered_ += d.delivered;
  retired_attempts_ += d.attempts;
}

void Dispatcher::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const auto woken = [this] {
        mu_.AssertHeld();
        return stop_ || changed_;
      };
      // Also once a second: rotated-out secrets expire, the registry may have moved.
      mu_.AwaitWithTimeout(absl::Condition(&woken), absl::Seconds(1));
      if (stop_) return;
      changed_ = false;
    }
    Reconcile();
  }
}

void Dispatcher::OnDisabled(const engine::WebhookEndpoint& e, const DeliveryStatus& status) {
  // Already disabled (by the retention limit, or by request): keep that reason.
  const std::optional<engine::WebhookEndpoint> now = engine_->webhooks().Get(e.shop, e.id);
  if (!now || !now->enabled) return;
  disabled_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<engine::WebhookEndpoint> d =
      engine_->DisableWebhookEndpoint(e.shop, e.id, status.disabled_reason);
  if (!d.ok()) {
    log::Error("webhooks ep_%d: storing the disabled state failed: %s", e.id,
               d.status().message());
  }
  Changed();
}

std::unique_ptr<Dispatcher::Running> Dispatcher::Launch(const engine::WebhookEndpoint& e,
                                                        const std::vector<std::string>& secrets) {
  auto r = std::make_unique<Running>();
  r->config = e;
  r->secrets = secrets;
  absl::StatusOr<std::optional<uint64_t>> saved = cursors_->Load(e.id);
  uint64_t cursor;
  if (!saved.ok()) {
    log::Error("webhooks ep_%d: %s; delivery starts at the log's end", e.id,
               saved.status().message());
    saved = std::optional<uint64_t>();
  }
  if (saved->has_value()) {
    cursor = **saved;
  } else {
    cursor = durable_() + 1;
    if (absl::Status s = cursors_->Save(e.id, cursor); !s.ok()) {
      log::Error("webhooks ep_%d: saving its first cursor: %s", e.id, s.message());
    }
  }
  r->saved_cursor.store(cursor, std::memory_order_relaxed);
  r->feed = std::make_unique<persistence::ChangeFeed>(fs_, options_.wal_dir, options_.archive_dir);
  Endpoint endpoint;
  endpoint.id = absl::StrCat("ep_", e.id);
  endpoint.shop = e.shop;
  endpoint.url = e.url;
  endpoint.event_types = engine::WebhookEventNames(e.event_mask);
  endpoint.secrets = secrets;
  DelivererOptions o = options_.deliverer;
  o.seed ^= e.id * 0x9E3779B97F4A7C15ull;
  Running* raw = r.get();
  const engine::WebhookEndpoint config = e;
  r->deliverer = std::make_unique<Deliverer>(
      std::move(endpoint), cursor, r->feed.get(), durable_,
      [this, raw, id = e.id](uint64_t c) {
        absl::Status s = cursors_->Save(id, c);
        if (s.ok()) raw->saved_cursor.store(c, std::memory_order_relaxed);
        return s;
      },
      [this, config](const DeliveryStatus& status) { OnDisabled(config, status); }, o);
  return r;
}

void Dispatcher::Reconcile() {
  const engine::TimeMs now = absl::ToUnixMillis(options_.deliverer.now());
  const std::vector<engine::WebhookEndpoint> endpoints = engine_->webhooks().List(0);
  std::vector<std::unique_ptr<Running>> stop;
  std::vector<uint64_t> deleted;
  std::vector<std::pair<engine::WebhookEndpoint, std::vector<std::string>>> start;
  {
    absl::MutexLock lock(&mu_);
    std::map<uint64_t, const engine::WebhookEndpoint*> wanted;
    for (const engine::WebhookEndpoint& e : endpoints) wanted[e.id] = &e;
    for (auto it = running_.begin(); it != running_.end();) {
      auto w = wanted.find(it->first);
      const bool keep = w != wanted.end() && w->second->enabled &&
                        w->second->url == it->second->config.url &&
                        w->second->event_mask == it->second->config.event_mask &&
                        engine::WebhookSigningSecrets(*w->second, now) == it->second->secrets &&
                        !it->second->deliverer->Status().disabled;
      if (keep) {
        ++it;
        continue;
      }
      if (w == wanted.end()) deleted.push_back(it->first);
      stop.push_back(std::move(it->second));
      it = running_.erase(it);
    }
    for (const engine::WebhookEndpoint& e : endpoints) {
      if (e.enabled && running_.find(e.id) == running_.end()) {
        start.emplace_back(e, engine::WebhookSigningSecrets(e, now));
      }
    }
  }
  // Outside the lock: a deliverer's thread may be calling back into Changed().
  for (std::unique_ptr<Running>& r : stop) Retire(std::move(r));
  for (uint64_t id : deleted) {
    if (absl::Status s = cursors_->Remove(id); !s.ok()) {
      log::Warning("webhooks ep_%d: removing its cursor: %s", id, s.message());
    }
  }
  for (auto& [e, secrets] : start) {
    std::unique_ptr<Running> r = Launch(e, secrets);
    if (absl::Status s = r->deliverer->Start(); !s.ok()) {
      log::Warning("webhooks ep_%d (%s): endpoint disabled: %s", e.id, e.url, s.message());
      DeliveryStatus status;
      status.disabled_reason = std::string(s.message());
      OnDisabled(e, status);
      continue;
    }
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stop_;
      if (!stopping) running_[e.id] = std::move(r);
    }
    if (stopping) Retire(std::move(r));
  }
}

uint64_t Dispatcher::RetainUpTo(uint64_t floor) {
  absl::StatusOr<std::vector<persistence::SegmentInfo>> segments =
      persistence::ListSegments(fs_, options_.wal_dir);
  if (!segments.ok()) return floor;
  // Bytes of the segments (all records <= floor) that hold seq >= cursor.
  const auto held_bytes = [&](uint64_t cursor) {
    uint64_t bytes = 0;
    for (size_t i = 0; i + 1 < segments->size(); ++i) {
      const uint64_t last = (*segments)[i + 1].first_seq - 1;
      if (last >= cursor && last <= floor) {
        absl::StatusOr<uint64_t> size = fs_->FileSize((*segments)[i].path);
        if (size.ok()) bytes += *size;
      }
    }
    return bytes;
  };
  // Copied under the lock, judged outside it (file sizes are system calls, and the
  // commit thread takes this lock to wake the deliverers).
  std::vector<std::pair<engine::WebhookEndpoint, uint64_t>> cursors;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, r] : running_) {
      cursors.emplace_back(r->config, r->saved_cursor.load(std::memory_order_relaxed));
    }
  }
  std::vector<std::pair<engine::WebhookEndpoint, std::string>> give_up;
  uint64_t up_to = floor;
  {
    for (const auto& [config, cursor] : cursors) {
      if (cursor == 0 || cursor > floor) continue;
      const uint64_t bytes = held_bytes(cursor);
      if (bytes > options_.max_retained_log_bytes) {
        give_up.emplace_back(
            config,
            absl::StrCat("delivery fell too far behind: the ", bytes,
                         " bytes of log from seq ", cursor, " it still needed exceed "
                         "--webhook_max_retained_log_bytes=", options_.max_retained_log_bytes,
                         " and were released"));
        continue;
      }
      up_to = std::min(up_to, cursor - 1);
    }
  }
  for (const auto& [e, reason] : give_up) {
    log::Warning("webhooks ep_%d (%s): endpoint disabled: %s", e.id, e.url, reason);
    DeliveryStatus status;
    status.disabled_reason = reason;
    OnDisabled(e, status);
  }
  return up_to;
}

}  // namespace attrib::webhooks
