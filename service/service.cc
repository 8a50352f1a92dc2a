// service/service.cc: the operations of the service layer (see service.h).
#include "service/service.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

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
