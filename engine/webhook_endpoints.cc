// engine/webhook_endpoints.cc: the webhook endpoint registry (see the header).
#include "engine/webhook_endpoints.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace attrib::engine {
namespace {

absl::Status NotFound(ShopId shop, uint64_t id) {
  return absl::NotFoundError(absl::StrCat("webhook endpoint ep_", id, " of shop ", shop,
                                          ": not found"));
}

}  // namespace

absl::StatusOr<uint32_t> WebhookEventMask(absl::string_view field,
                                          absl::Span<const std::string> names) {
  uint32_t mask = 0;
  for (const std::string& n : names) {
    const auto it = std::find(kWebhookEventTypes.begin(), kWebhookEventTypes.end(), n);
    if (it == kWebhookEventTypes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": unknown event type '", n, "' (one of ",
          absl::StrJoin(kWebhookEventTypes, ", "), ")"));
    }
    mask |= 1u << (it - kWebhookEventTypes.begin());
  }
  return mask;
}

std::vector<std::string> WebhookEventNames(uint32_t mask) {
  std::vector<std::string> out;
  for (size_t i = 0; i < kWebhookEventTypes.size(); ++i) {
    if (mask & (1u << i)) out.emplace_back(kWebhookEventTypes[i]);
  }
  return out;
}

bool WebhookWants(uint32_t mask, absl::string_view type) {
  if (mask == 0) return true;
  for (size_t i = 0; i < kWebhookEventTypes.size(); ++i) {
    if (kWebhookEventTypes[i] == type) return (mask & (1u << i)) != 0;
  }
  return false;
}

std::vector<std::string> WebhookSigningSecrets(const WebhookEndpoint& e, TimeMs now) {
  std::vector<std::string> out = {e.secret};
  if (!e.previous_secret.empty() && now < e.previous_secret_expires_at) {
    out.push_back(e.previous_secret);
  }
  return out;
}

absl::StatusOr<WebhookEndpoint> WebhookRegistry::Create(WebhookEndpoint e, Emit emit) {
  absl::MutexLock lock(&mu_);
  size_t of_shop = 0;
  for (const auto& [id, x] : endpoints_) of_shop += x.shop == e.shop ? 1 : 0;
  if (of_shop >= max_per_shop_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "shop ", e.shop, " has ", of_shop, " webhook endpoints, the most allowed "
        "(--webhook_max_endpoints_per_shop); delete one first"));
  }
  e.id = next_id_++;
  endpoints_[e.id] = e;
  version_.fetch_add(1, std::memory_order_acq_rel);
  emit(e);
  return e;
}

absl::StatusOr<WebhookEndpoint> WebhookRegistry::Modify(
    ShopId shop, uint64_t id, absl::FunctionRef<absl::Status(WebhookEndpoint&)> edit,
    Emit emit) {
  absl::MutexLock lock(&mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || it->second.shop != shop) return NotFound(shop, id);
  WebhookEndpoint copy = it->second;
  if (absl::Status s = edit(copy); !s.ok()) return s;
  copy.id = id;
  copy.shop = shop;
  it->second = copy;
  version_.fetch_add(1, std::memory_order_acq_rel);
  emit(copy);
  return copy;
}

absl::Status WebhookRegistry::Remove(ShopId shop, uint64_t id, absl::FunctionRef<void()> emit) {
  absl::MutexLock lock(&mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || it->second.shop != shop) return NotFound(shop, id);
  endpoints_.erase(it);
  version_.fetch_add(1, std::memory_order_acq_rel);
  emit();
  return absl::OkStatus();
}

std::optional<WebhookEndpoint> WebhookRegistry::Get(ShopId shop, uint64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || it->second.shop != shop) return std::nullopt;
  return it->second;
}

std::vector<WebhookEndpoint> WebhookRegistry::List(ShopId shop) const {
  absl::MutexLock lock(&mu_);
  std::vector<WebhookEndpoint> out;
  for (const auto& [id, e] : endpoints_) {
    if (shop == 0 || e.shop == shop) out.push_back(e);
  }
  return out;
}

void WebhookRegistry::Restore(const WebhookEndpoint& e) {
  absl::MutexLock lock(&mu_);
  endpoints_[e.id] = e;
  next_id_ = std::max(next_id_, e.id + 1);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void WebhookRegistry::Erase(uint64_t id) {
  absl::MutexLock lock(&mu_);
  endpoints_.erase(id);
  next_id_ = std::max(next_id_, id + 1);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void WebhookRegistry::ForEachLocked(absl::FunctionRef<void(const WebhookEndpoint&)> fn,
                                    absl::FunctionRef<void()> done) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, e] : endpoints_) fn(e);
  done();
}

}  // namespace attrib::engine
