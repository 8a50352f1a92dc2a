// webhooks/deliverer.cc: one endpoint's delivery loop (see the header).
#include "webhooks/deliverer.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "webhooks/events.h"
#include "webhooks/signature.h"

namespace attrib::webhooks {

Deliverer::Deliverer(Endpoint endpoint, uint64_t cursor, persistence::ChangeFeed* feed,
                     std::function<uint64_t()> durable,
                     std::function<absl::Status(uint64_t)> save_cursor,
                     std::function<void(const DeliveryStatus&)> on_disabled,
                     DelivererOptions options)
    : endpoint_(std::move(endpoint)),
      feed_(feed),
      durable_(std::move(durable)),
      save_cursor_(std::move(save_cursor)),
      on_disabled_(std::move(on_disabled)),
      options_(std::move(options)),
      sender_(options_.http) {
  status_.cursor = std::max<uint64_t>(cursor, 1);
  saved_cursor_ = status_.cursor;
}

Deliverer::~Deliverer() { Stop(); }

absl::Status Deliverer::Start() {
  absl::StatusOr<Url> url = ParseUrl(endpoint_.url, options_.allow_plain_http);
  if (!url.ok()) return url.status();
  url_ = *std::move(url);
  if (absl::StatusOr<std::string> probe = SignatureHeader(endpoint_.secrets, "probe", 0, "");
      !probe.ok()) {
    return probe.status();
  }
  last_save_ = options_.now();
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Deliverer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Deliverer::NotifyDurable() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

DeliveryStatus Deliverer::Status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

bool Deliverer::Wait(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  const auto done = [this] {
    mu_.AssertHeld();
    return stop_ || woken_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), d);
  woken_ = false;
  return !stop_;
}

void Deliverer::SaveCursor(bool force) {
  uint64_t cursor;
  {
    absl::MutexLock lock(&mu_);
    cursor = status_.cursor;
  }
  const absl::Time now = options_.now();
  if (cursor == saved_cursor_ || (!force && now - last_save_ < options_.cursor_save_interval)) {
    return;
  }
  if (absl::Status s = save_cursor_(cursor); !s.ok()) {
    log::Warning("webhooks %s: saving the cursor failed (retried later): %s", endpoint_.id,
                 s.message());
    return;
  }
  saved_cursor_ = cursor;
  last_save_ = now;
}

void Deliverer::Disable(std::string reason) {
  DeliveryStatus copy;
  {
    absl::MutexLock lock(&mu_);
    copy = status_;
  }
  copy.disabled = true;
  copy.disabled_reason = std::move(reason);
  log::Warning("webhooks %s (%s): endpoint disabled: %s", endpoint_.id, endpoint_.url,
               copy.disabled_reason);
  // Told before Status() shows it: whoever sees `disabled` may rely on on_disabled
  // having run (e.g. the disabled state stored).
  if (on_disabled_) on_disabled_(copy);
  absl::MutexLock lock(&mu_);
  status_.disabled = true;
  status_.disabled_reason = copy.disabled_reason;
}

bool Deliverer::DeliverOne(uint64_t seq, const std::string& id, const std::string& body) {
  std::mt19937_64 rng(options_.seed ^ seq);
  absl::Time failing_since = absl::InfiniteFuture();
  for (uint32_t failures = 0;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return false;
    }
    const absl::Time now = options_.now();
    const int64_t ts = absl::ToUnixSeconds(now);
    absl::StatusOr<std::string> signature = SignatureHeader(endpoint_.secrets, id, ts, body);
    absl::StatusOr<int> http = signature.ok()
                                   ? sender_.Post(url_,
                                                  {{"webhook-id", id},
                                                   {"webhook-timestamp", absl::StrCat(ts)},
                                                   {"webhook-signature", *signature}},
                                                  body)
                                   : absl::StatusOr<int>(signature.status());
    const AttemptResult result = Classify(http.ok() ? *http : 0, http.status());
    {
      absl::MutexLock lock(&mu_);
      ++status_.attempts;
      if (status_.recent.size() >= kRecentAttempts) status_.recent.erase(status_.recent.begin());
      status_.recent.push_back(AttemptRecord{
          seq, now, http.ok() ? *http : 0,
          result == AttemptResult::kDelivered
              ? std::string()
              : (http.ok() ? absl::StrCat("HTTP ", *http) : std::string(http.status().message()))});
      if (result == AttemptResult::kDelivered) {
        ++status_.delivered;
        status_.failures = 0;
        status_.last_error.clear();
        status_.cursor = seq + 1;
      } else {
        status_.failures = ++failures;
        status_.last_error = http.ok() ? absl::StrCat("HTTP ", *http)
                                       : std::string(http.status().message());
      }
    }
    if (result == AttemptResult::kDelivered) return true;
    if (result == AttemptResult::kGone) {
      Disable("the receiver answered 410 Gone");
      return false;
    }
    failing_since = std::min(failing_since, now);
    if (GiveUp(options_.retry, failing_since, now)) {
      Disable(absl::StrCat("every attempt failed for ",
                           absl::FormatDuration(options_.retry.give_up_after), " (last: ",
                           http.ok() ? absl::StrCat("HTTP ", *http)
                                     : std::string(http.status().message()),
                           ")"));
      return false;
    }
    SaveCursor(false);
    // Only a stop ends the wait early (a durable notification must not cut a
    // backoff short), so wait in a loop until the backoff has passed.
    const absl::Time until = options_.now() + Backoff(options_.retry, failures, rng());
    while (options_.now() < until) {
      if (!Wait(until - options_.now())) return false;
    }
  }
}

void Deliverer::Run() {
  for (;;) {
    uint64_t cursor;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
      cursor = status_.cursor;
    }
    absl::StatusOr<std::vector<persistence::ChangeRecord>> records =
        feed_->Read(cursor, durable_(), options_.read_batch);
    if (!records.ok()) {
      if (records.status().code() == absl::StatusCode::kOutOfRange) {
        Disable(absl::StrCat("events from seq ", cursor,
                             " left the log before they were delivered: ",
                             records.status().message()));
        break;
      }
      log::Error("webhooks %s: reading the log: %s", endpoint_.id, records.status().message());
      if (!Wait(absl::Seconds(1))) break;
      continue;
    }
    if (records->empty()) {
      SaveCursor(true);
      if (!Wait(absl::Seconds(1))) break;  // Woken by NotifyDurable.
      continue;
    }
    bool go_on = true;
    for (const persistence::ChangeRecord& r : *records) {
      std::optional<Event> event = EventOf(r.seq, r.mutation);
      const bool wanted =
          event.has_value() && event->shop == endpoint_.shop &&
          (endpoint_.event_types.empty() ||
           std::find(endpoint_.event_types.begin(), endpoint_.event_types.end(),
                     event->type) != endpoint_.event_types.end());
      if (!wanted) {
        absl::MutexLock lock(&mu_);
        status_.cursor = r.seq + 1;
        continue;
      }
      if (!DeliverOne(r.seq, event->id, event->body)) {
        go_on = false;
        break;
      }
      SaveCursor(false);
    }
    if (!go_on) break;
  }
  SaveCursor(true);
}

}  // namespace attrib::webhooks
