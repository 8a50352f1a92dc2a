// tools/attribd_webhooks.cc: attribd's webhook wiring and flags (see the header).
#include "tools/attribd_webhooks.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "persistence/change_feed.h"
#include "webhooks/events.h"
#include "webhooks/http_sender.h"
#include "webhooks/signature.h"

ABSL_FLAG(absl::Duration, webhook_retry_period, absl::Hours(72),
          "How long a webhook endpoint may fail (5xx, time-outs, connection errors) "
          "without one success before it is disabled (the reason in the API, a log line, "
          "attrib_webhook_endpoints_disabled_total): 3 days, as the platforms do, covers "
          "a receiver down over a weekend.");
ABSL_FLAG(absl::Duration, webhook_first_backoff, absl::Seconds(5),
          "Wait before the first retry of a failed webhook delivery; it doubles per "
          "failure (+-20% jitter) up to --webhook_max_backoff, so a struggling receiver "
          "is not hammered.");
ABSL_FLAG(absl::Duration, webhook_max_backoff, absl::Hours(1),
          "Longest wait between two delivery attempts of a failing webhook endpoint, so "
          "a receiver that comes back is served again within this time.");
ABSL_FLAG(absl::Duration, webhook_timeout, absl::Seconds(10),
          "Bound on each connect, TLS handshake, write and read of a webhook delivery: a "
          "receiver that hangs costs this long per attempt, never a stuck thread.");
ABSL_FLAG(bool, webhook_allow_http_to_non_loopback, false,
          "Allow plain http:// webhook URLs to hosts other than loopback. Off: such URLs "
          "are refused (422), since a webhook carries customer emails and its signature "
          "in clear text; use https.");
ABSL_FLAG(std::string, webhook_ca, "",
          "PEM file of the CAs that verify HTTPS webhook receivers instead of the "
          "system's (tests, private CAs).");
ABSL_FLAG(uint64_t, webhook_max_retained_log_bytes, uint64_t{4} << 30,
          "Log bytes kept at most for one lagging webhook endpoint beyond what snapshots "
          "need; an endpoint further behind is disabled with the reason instead of "
          "filling the disk.");
ABSL_FLAG(uint32_t, webhook_max_endpoints_per_shop, 16,
          "Webhook endpoints one shop may have: each runs a delivery thread and a "
          "connection, so one shop cannot make attribd start unbounded threads.");

namespace attrib::tools {

size_t WebhookMaxEndpointsPerShop() {
  return absl::GetFlag(FLAGS_webhook_max_endpoints_per_shop);
}

absl::StatusOr<std::unique_ptr<AttribdWebhooks>> SetUpWebhooks(engine::Engine* engine,
                                                               persistence::Durability* d,
                                                               persistence::FileSystem* fs) {
  webhooks::DispatcherOptions o;
  o.deliverer.retry.give_up_after = absl::GetFlag(FLAGS_webhook_retry_period);
  o.deliverer.retry.first_backoff = absl::GetFlag(FLAGS_webhook_first_backoff);
  o.deliverer.retry.max_backoff = absl::GetFlag(FLAGS_webhook_max_backoff);
  o.deliverer.http.timeout = absl::GetFlag(FLAGS_webhook_timeout);
  o.deliverer.http.ca_file = absl::GetFlag(FLAGS_webhook_ca);
  o.deliverer.allow_plain_http = absl::GetFlag(FLAGS_webhook_allow_http_to_non_loopback);
  o.deliverer.seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  o.max_retained_log_bytes = absl::GetFlag(FLAGS_webhook_max_retained_log_bytes);
  o.wal_dir = d->data_dir().wal_dir();
  o.archive_dir = d->wal_archive();
  if (o.deliverer.retry.give_up_after <= absl::ZeroDuration() ||
      o.deliverer.retry.first_backoff <= absl::ZeroDuration() ||
      o.deliverer.retry.max_backoff < o.deliverer.retry.first_backoff ||
      o.deliverer.http.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "webhook_retry_period, webhook_first_backoff and webhook_timeout must be > 0, "
        "webhook_max_backoff >= webhook_first_backoff");
  }
  auto w = std::make_unique<AttribdWebhooks>();
  w->cursors = std::make_unique<persistence::WebhookCursors>(
      fs, persistence::JoinPath(d->data_dir().path(), "webhooks"));
  if (absl::Status s = w->cursors->Open(); !s.ok()) return s;
  const bool allow_http = o.deliverer.allow_plain_http;
  const std::string wal_dir = o.wal_dir, archive_dir = o.archive_dir;
  w->dispatcher = std::make_unique<webhooks::Dispatcher>(
      engine, fs, w->cursors.get(), [d] { return d->durable_seq(); }, std::move(o));
  webhooks::Dispatcher* dispatcher = w->dispatcher.get();
  d->SetLogRetentionHook([dispatcher](uint64_t floor) { return dispatcher->RetainUpTo(floor); });

  service::WebhookHooks& h = w->hooks;
  h.new_secret = [] { return webhooks::GenerateSecret(); };
  h.check_url = [allow_http](absl::string_view url) {
    return webhooks::ParseUrl(url, allow_http).status();
  };
  h.created = [cursors = w->cursors.get()](uint64_t id, uint64_t seq) {
    if (absl::Status s = cursors->Save(id, seq + 1); !s.ok()) {
      log::Error("webhooks ep_%d: saving its first cursor: %s", id, s.message());
    }
  };
  h.changed = [dispatcher] { dispatcher->Changed(); };
  h.delivery = [dispatcher](uint64_t id) -> std::optional<service::WebhookDelivery> {
    std::optional<webhooks::DeliveryStatus> s = dispatcher->Status(id);
    if (!s) return std::nullopt;
    service::WebhookDelivery out;
    out.cursor = s->cursor;
    out.delivered = s->delivered;
    out.attempts = s->attempts;
    out.failures = s->failures;
    out.last_error = s->last_error;
    for (const webhooks::AttemptRecord& a : s->recent) {
      out.recent.push_back(service::WebhookAttempt{a.seq, webhooks::EventId(a.seq),
                                                   absl::ToUnixMillis(a.at), a.http_status,
                                                   a.error});
    }
    return out;
  };
  h.read_changes = [fs, d, wal_dir, archive_dir](uint64_t from, size_t max)
      -> absl::StatusOr<std::vector<service::Change>> {
    persistence::ChangeFeed feed(fs, wal_dir, archive_dir);
    absl::StatusOr<std::vector<persistence::ChangeRecord>> r =
        feed.Read(from, d->durable_seq(), max);
    if (!r.ok()) return r.status();
    std::vector<service::Change> out;
    out.reserve(r->size());
    for (persistence::ChangeRecord& c : *r) {
      out.push_back(service::Change{c.seq, std::move(c.mutation)});
    }
    return out;
  };
  return w;
}

}  // namespace attrib::tools
