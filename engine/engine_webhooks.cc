// engine/engine_webhooks.cc: the Engine's webhook endpoint operations (issue 13; see
// engine.h and webhook_endpoints.h).
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/validation.h"

namespace attrib::engine {
namespace {

absl::Status ValidateUrl(absl::string_view url) {
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError("url: must start with http:// or https://");
  }
  return ValidateText("url", url, kMaxWebhookUrlBytes, false);
}

}  // namespace

absl::StatusOr<WebhookEndpoint> Engine::CreateWebhookEndpoint(const WebhookEndpointRequest& r) {
  if (absl::Status s = ValidateId("shop", r.shop); !s.ok()) return s;
  if (absl::Status s = ValidateUrl(r.url); !s.ok()) return s;
  absl::StatusOr<uint32_t> mask = WebhookEventMask("event_types", r.event_types);
  if (!mask.ok()) return mask.status();
  if (r.secret.empty()) return absl::InvalidArgumentError("secret: required");
  const TimeMs now = clock_->NowMs();
  WebhookEndpoint e;
  e.shop = r.shop;
  e.url = r.url;
  e.event_mask = *mask;
  e.enabled = r.enabled;
  e.secret = r.secret;
  e.created_at = e.updated_at = now;
  return webhooks_.Create(std::move(e), [&](const WebhookEndpoint& stored) {
    Emit(Mutation{now, PutWebhookEndpoint{stored, true}});
  });
}

absl::StatusOr<WebhookEndpoint> Engine::UpdateWebhookEndpoint(ShopId shop, uint64_t id,
                                                              const WebhookEndpointPatch& p) {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (p.url) {
    if (absl::Status s = ValidateUrl(*p.url); !s.ok()) return s;
  }
  uint32_t mask = 0;
  if (p.event_types) {
    absl::StatusOr<uint32_t> m = WebhookEventMask("event_types", *p.event_types);
    if (!m.ok()) return m.status();
    mask = *m;
  }
  const TimeMs now = clock_->NowMs();
  return webhooks_.Modify(
      shop, id,
      [&](WebhookEndpoint& e) {
        if (p.url) e.url = *p.url;
        if (p.event_types) e.event_mask = mask;
        if (p.enabled) {
          e.enabled = *p.enabled;
          if (*p.enabled) e.disabled_reason.clear();
        }
        e.updated_at = now;
        return absl::OkStatus();
      },
      [&](const WebhookEndpoint& e) { Emit(Mutation{now, PutWebhookEndpoint{e, false}}); });
}

absl::StatusOr<WebhookEndpoint> Engine::RotateWebhookSecret(ShopId shop, uint64_t id,
                                                            std::string secret,
                                                            TimeMs keep_old_ms) {
  if (secret.empty()) return absl::InvalidArgumentError("secret: required");
  const TimeMs now = clock_->NowMs();
  return webhooks_.Modify(
      shop, id,
      [&](WebhookEndpoint& e) {
        e.previous_secret = e.secret;
        e.previous_secret_expires_at = now + keep_old_ms;
        e.secret = secret;
        e.updated_at = now;
        return absl::OkStatus();
      },
      [&](const WebhookEndpoint& e) { Emit(Mutation{now, PutWebhookEndpoint{e, false}}); });
}

absl::StatusOr<WebhookEndpoint> Engine::DisableWebhookEndpoint(ShopId shop, uint64_t id,
                                                               absl::string_view reason) {
  const TimeMs now = clock_->NowMs();
  return webhooks_.Modify(
      shop, id,
      [&](WebhookEndpoint& e) {
        e.enabled = false;
        e.disabled_reason = std::string(reason.substr(0, kMaxWebhookReasonBytes));
        e.updated_at = now;
        return absl::OkStatus();
      },
      [&](const WebhookEndpoint& e) { Emit(Mutation{now, PutWebhookEndpoint{e, false}}); });
}

absl::Status Engine::DeleteWebhookEndpoint(ShopId shop, uint64_t id) {
  const TimeMs now = clock_->NowMs();
  return webhooks_.Remove(shop, id,
                          [&] { Emit(Mutation{now, RemoveWebhookEndpoint{shop, id}}); });
}

}  // namespace attrib::engine
