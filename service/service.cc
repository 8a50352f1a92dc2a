// service/service.cc: the operations of the service layer (see service.h).
#include "service/service.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include <type_traits>
#include <variant>

namespace attrib::service {
namespace {

using engine::Engine;

// The process's resident set, from /proc/self/statm (pages). 0 if unreadable.
uint64_t ResidentBytes() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long size_pages = 0, resident_pages = 0;
  if (std::sscanf(buf, "%llu %llu", &size_pages, &resident_pages) != 2) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  return resident_pages * static_cast<uint64_t>(page > 0 ? page : 4096);
}

}  // namespace

Service::Service(engine::Engine* engine, ServiceOptions options)
    : engine_(engine), options_(std::move(options)) {}

absl::StatusOr<engine::ConnectResult> Service::Connect(Call& call,
                                                       const engine::ConnectRequest& r) {
  return Write(call, r.shop, "connect", [&] { return engine_->Connect(r); });
}

absl::StatusOr<engine::DisconnectResult> Service::Disconnect(Call& call, engine::ShopId shop,
                                                             absl::string_view email) {
  return Write(call, shop, "disconnect", [&] { return engine_->Disconnect(shop, email); });
}

absl::Status Service::LookupEach(const Call& call, engine::ShopId shop,
                                 absl::Span<const absl::string_view> emails,
                                 std::optional<engine::TimeMs> at,
                                 Engine::LookupItemFn fn) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->LookupEach(shop, emails, at, fn);
}

absl::Status Service::LookupPrepared(const Call& call, const Engine::PreparedKey& key,
                                     absl::string_view email,
                                     std::optional<engine::TimeMs> at,
                                     Engine::LookupItemFn fn) const {
  if (absl::Status s = CheckRead(call.scope, key.shop); !s.ok()) return s;
  return engine_->LookupPrepared(key, email, at, fn);
}

absl::StatusOr<engine::ListPage> Service::List(const Call& call,
                                               const engine::ListRequest& r) const {
  if (absl::Status s = CheckRead(call.scope, r.shop); !s.ok()) return s;
  return engine_->List(r);
}

absl::StatusOr<CountResult> Service::Count(const Call& call, const CountRequest& r) const {
  if (absl::Status s = CheckRead(call.scope, r.shop); !s.ok()) return s;
  CountResult result;
  if (r.affiliate != 0) {
    absl::StatusOr<uint64_t> n = engine_->CountAffiliate(r.shop, r.affiliate);
    if (!n.ok()) return n.status();
    result.connections = *n;
    return result;
  }
  absl::StatusOr<uint64_t> total = engine_->CountShop(r.shop);
  if (!total.ok()) return total.status();
  absl::StatusOr<absl::flat_hash_map<engine::AffiliateId, uint64_t>> by =
      engine_->CountsByAffiliate(r.shop);
  if (!by.ok()) return by.status();
  result.connections = *total;
  result.by_affiliate.assign(by->begin(), by->end());
  std::sort(result.by_affiliate.begin(), result.by_affiliate.end(),
            [](const auto& a, const auto& b) {
              return a.second != b.second ? a.second > b.second : a.first < b.first;
            });
  return result;
}

absl::StatusOr<engine::PutAffiliateResult> Service::PutAffiliate(
    Call& call, const engine::PutAffiliateRequest& r, uint64_t* connections) {
  absl::StatusOr<engine::PutAffiliateResult> result =
      Write(call, r.shop, "putAffiliate", [&] { return engine_->PutAffiliate(r); });
  if (result.ok()) *connections = engine_->store().CountAffiliate(r.shop, r.id);
  return result;
}

absl::StatusOr<engine::PutAffiliateResult> Service::SetAffiliateStatus(
    Call& call, engine::ShopId shop, engine::AffiliateId id, engine::AffiliateStatus status,
    uint64_t* connections) {
  absl::StatusOr<engine::PutAffiliateResult> result = Write(
      call, shop, "disableAffiliate", [&] { return engine_->SetAffiliateStatus(shop, id, status); });
  if (result.ok()) *connections = engine_->store().CountAffiliate(shop, id);
  return result;
}

absl::StatusOr<engine::AffiliateInfo> Service::GetAffiliate(const Call& call,
                                                           engine::ShopId shop,
                                                           engine::AffiliateId id) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->GetAffiliate(shop, id);
}

absl::StatusOr<engine::AffiliatePage> Service::SearchAffiliates(
    const Call& call, const engine::AffiliateQuery& query) const {
  if (absl::Status s = CheckRead(call.scope, query.shop); !s.ok()) return s;
  return engine_->SearchAffiliates(query);
}

absl::StatusOr<engine::ShopSettings> Service::GetSettings(const Call& call,
                                                          engine::ShopId shop) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->GetSettings(shop);
}

absl::StatusOr<engine::ShopSettings> Service::PutSettings(
    Call& call, engine::ShopId shop, const engine::ShopSettingsPatch& patch) {
  return Write(call, shop, "putSettings",
               [&] { return engine_->UpdateSettings(shop, patch); });
}

absl::StatusOr<engine::AttributeResult> Service::Attribute(Call& call,
                                                           const engine::AttributeRequest& r) {
  return Write(call, r.shop, "attribute", [&] { return engine_->Attribute(r); });
}

absl::StatusOr<engine::ReverseResult> Service::Reverse(Call& call, engine::ShopId shop,
                                                       absl::string_view order_id) {
  return Write(call, shop, "reverse", [&] { return engine_->Reverse(shop, order_id); });
}

absl::StatusOr<engine::AttributionDecision> Service::Explain(const Call& call,
                                                             engine::ShopId shop,
                                                             absl::string_view order_id) {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->Explain(shop, order_id);
}

absl::StatusOr<StatsResult> Service::Stats(const Call& call) const {
  if (absl::Status s = CheckAdmin(call.scope, "stats", /*write=*/false); !s.ok()) return s;
  const engine::EngineStats stats = engine_->Stats();
  StatsResult out;
  out.connections = stats.connections;
  out.remembered_orders = stats.remembered_orders;
  if (options_.server_facts) {
    out.has_server_facts = true;
    out.facts = options_.server_facts();
  }
  out.rss_bytes = ResidentBytes();
  out.store_table_bytes = stats.memory.table_bytes + stats.memory.owner_table_bytes;
  out.store_arena_bytes = stats.memory.arena_bytes;
  out.operations = OperationCounts();
  return out;
}

absl::Status Service::Snapshot(const Call& call) {
  if (absl::Status s = CheckAdmin(call.scope, "snapshot", /*write=*/true); !s.ok()) return s;
  if (!options_.snapshot) {
    return absl::UnimplementedError("snapshot: not available until the durability layer exists");
  }
  return options_.snapshot();
}

absl::StatusOr<PromoteResult> Service::Promote(const Call& call, bool force) {
  if (absl::Status s = CheckAdmin(call.scope, "promote", /*write=*/true); !s.ok()) return s;
  if (!options_.promote) {
    return absl::UnimplementedError("promote: this server has no replication");
  }
  return options_.promote(force);
}

absl::Status Service::Ready() const {
  if (options_.durability == nullptr) return absl::OkStatus();
  return options_.durability->CanWrite();
}

std::vector<OperationCount> Service::OperationCounts() const {
  std::vector<OperationCount> result;
  for (size_t op = 0; op < kOperationCount; ++op) {
    for (size_t code = 0; code < static_cast<size_t>(kStatusCodeCount); ++code) {
      // One load per counter, so a list's length and contents agree.
      const uint64_t n = counts_[op][code].load(std::memory_order_relaxed);
      if (n == 0) continue;
      result.push_back(OperationCount{
          std::string(OperationName(static_cast<Operation>(op))),
          std::string(StatusCodeName(static_cast<absl::StatusCode>(code))), n});
    }
  }
  return result;
}

std::vector<OperationLatency> Service::OperationLatencies() const {
  std::vector<OperationLatency> result;
  for (size_t op = 0; op < kOperationCount; ++op) {
    metrics::HistogramSnapshot latency = latency_.Read(op);
    const Operation o = static_cast<Operation>(op);
    if ((o == Operation::kUndecodable || o == Operation::kUnknown) && latency.count() == 0) {
      continue;
    }
    result.push_back(OperationLatency{std::string(OperationName(o)), latency});
  }
  return result;
}

}  // namespace attrib::service

// ---------------------------------------------------------------- Webhooks

namespace attrib::service {
namespace {

absl::Status NotConfigured(absl::string_view what) {
  return absl::UnimplementedError(absl::StrCat(what, ": webhooks are not available here"));
}

WebhookEndpointInfo Redacted(engine::WebhookEndpoint e, const WebhookHooks& hooks) {
  WebhookEndpointInfo info;
  const uint64_t id = e.id;
  e.secret.clear();
  e.previous_secret.clear();
  info.endpoint = std::move(e);
  if (hooks.delivery) info.delivery = hooks.delivery(id);
  return info;
}

}  // namespace

engine::ShopId ShopOfChange(const engine::Mutation& m) {
  return std::visit(
      [](const auto& op) -> engine::ShopId {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, engine::SetConnection>) {
          return op.connection.shop;
        } else if constexpr (std::is_same_v<T, engine::PutAffiliate>) {
          return op.affiliate.shop;
        } else if constexpr (std::is_same_v<T, engine::PutWebhookEndpoint>) {
          return op.endpoint.shop;
        } else {
          return op.shop;
        }
      },
      m.op);
}

absl::StatusOr<engine::WebhookEndpoint> Service::CreateWebhookEndpoint(
    Call& call, engine::WebhookEndpointRequest r) {
  const WebhookHooks& h = options_.webhooks;
  if (!h.new_secret || !h.check_url) return NotConfigured("createWebhookEndpoint");
  if (absl::Status s = CheckWrite(call.scope, r.shop, "createWebhookEndpoint"); !s.ok()) {
    return s;
  }
  if (absl::Status s = h.check_url(r.url); !s.ok()) return s;
  absl::StatusOr<std::string> secret = h.new_secret();
  if (!secret.ok()) return secret.status();
  r.secret = *std::move(secret);
  auto result = Write(call, r.shop, "createWebhookEndpoint",
                      [&] { return engine_->CreateWebhookEndpoint(r); });
  if (result.ok() && h.created) h.created(result->id, call.wait_for_seq);
  if (result.ok() && h.changed) h.changed();
  return result;
}

absl::StatusOr<engine::WebhookEndpoint> Service::UpdateWebhookEndpoint(
    Call& call, engine::ShopId shop, uint64_t id, const engine::WebhookEndpointPatch& p) {
  const WebhookHooks& h = options_.webhooks;
  if (!h.check_url) return NotConfigured("updateWebhookEndpoint");
  if (absl::Status s = CheckWrite(call.scope, shop, "updateWebhookEndpoint"); !s.ok()) return s;
  if (p.url) {
    if (absl::Status s = h.check_url(*p.url); !s.ok()) return s;
  }
  auto result = Write(call, shop, "updateWebhookEndpoint",
                      [&] { return engine_->UpdateWebhookEndpoint(shop, id, p); });
  if (!result.ok()) return result;
  if (h.changed) h.changed();
  return Redacted(*std::move(result), h).endpoint;
}

absl::StatusOr<engine::WebhookEndpoint> Service::RotateWebhookSecret(Call& call,
                                                                     engine::ShopId shop,
                                                                     uint64_t id) {
  const WebhookHooks& h = options_.webhooks;
  if (!h.new_secret) return NotConfigured("rotateWebhookSecret");
  if (absl::Status s = CheckWrite(call.scope, shop, "rotateWebhookSecret"); !s.ok()) return s;
  absl::StatusOr<std::string> secret = h.new_secret();
  if (!secret.ok()) return secret.status();
  auto result = Write(call, shop, "rotateWebhookSecret", [&] {
    return engine_->RotateWebhookSecret(shop, id, *secret, h.secret_overlap_ms);
  });
  if (!result.ok()) return result;
  if (h.changed) h.changed();
  result->previous_secret.clear();  // Shown once, when it was created or rotated in.
  return result;
}

absl::Status Service::DeleteWebhookEndpoint(Call& call, engine::ShopId shop, uint64_t id) {
  absl::Status s = Write(call, shop, "deleteWebhookEndpoint",
                         [&] { return engine_->DeleteWebhookEndpoint(shop, id); });
  if (s.ok() && options_.webhooks.changed) options_.webhooks.changed();
  return s;
}

absl::StatusOr<WebhookEndpointInfo> Service::GetWebhookEndpoint(const Call& call,
                                                                engine::ShopId shop,
                                                                uint64_t id) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  std::optional<engine::WebhookEndpoint> e = engine_->webhooks().Get(shop, id);
  if (!e) {
    return absl::NotFoundError(
        absl::StrCat("webhook endpoint ep_", id, " of shop ", shop, ": not found"));
  }
  return Redacted(*std::move(e), options_.webhooks);
}

absl::StatusOr<std::vector<WebhookEndpointInfo>> Service::ListWebhookEndpoints(
    const Call& call, engine::ShopId shop) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  std::vector<WebhookEndpointInfo> out;
  for (engine::WebhookEndpoint& e : engine_->webhooks().List(shop)) {
    out.push_back(Redacted(std::move(e), options_.webhooks));
  }
  return out;
}

absl::StatusOr<std::vector<Change>> Service::Changes(const Call& call, uint64_t from,
                                                     size_t max, uint64_t* next) const {
  if (!options_.webhooks.read_changes) return NotConfigured("changes");
  if (call.scope.admin) {
    absl::StatusOr<std::vector<Change>> r = options_.webhooks.read_changes(from, max);
    if (!r.ok()) return r.status();
    *next = r->empty() ? std::max<uint64_t>(from, 1) : r->back().seq + 1;
    return r;
  }
  // A shop key: read on past other shops' changes (bounded: a few batches).
  std::vector<Change> out;
  *next = std::max<uint64_t>(from, 1);
  for (int batch = 0; batch < 8 && out.size() < max; ++batch) {
    absl::StatusOr<std::vector<Change>> r = options_.webhooks.read_changes(*next, max);
    if (!r.ok()) return r.status();
    if (r->empty()) break;
    *next = r->back().seq + 1;
    for (Change& c : *r) {
      if (ShopOfChange(c.mutation) == call.scope.shop && out.size() < max) {
        out.push_back(std::move(c));
      } else if (out.size() >= max) {
        *next = std::min(*next, c.seq);
      }
    }
  }
  return out;
}

}  // namespace attrib::service
