// cluster/etcd_coordinator.cc: leadership on etcd (see the header).
#include "cluster/etcd_coordinator.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace attrib::cluster {
namespace {

// A kv entry of a range reply as a Leader.
absl::StatusOr<Leader> ParseLeader(const rapidjson::Value& kv) {
  Leader out;
  if (!kv.IsObject() || !kv.HasMember("value") || !kv["value"].IsString()) {
    return absl::InternalError("etcd: leader key without a value");
  }
  absl::StatusOr<std::string> address = FromBase64(kv["value"].GetString());
  if (!address.ok()) return address.status();
  out.address = *std::move(address);
  out.epoch = static_cast<uint64_t>(JsonInt64(kv, "create_revision"));
  out.lease = JsonInt64(kv, "lease");
  return out;
}

// The first kv of a range reply (`range` is its response_range, or the reply).
absl::StatusOr<std::optional<Leader>> FirstLeader(const rapidjson::Value& range) {
  if (!range.IsObject() || !range.HasMember("kvs") || !range["kvs"].IsArray() ||
      range["kvs"].Empty()) {
    return std::optional<Leader>();
  }
  absl::StatusOr<Leader> leader = ParseLeader(range["kvs"][0]);
  if (!leader.ok()) return leader.status();
  return std::optional<Leader>(*std::move(leader));
}

}  // namespace

EtcdCoordinator::EtcdCoordinator(EtcdCoordinatorOptions options)
    : options_(std::move(options)), client_(options_.client) {}

std::string EtcdCoordinator::LeaderKey(absl::string_view group) const {
  return absl::StrCat(options_.prefix, group, "/leader");
}

absl::StatusOr<Leadership> EtcdCoordinator::Campaign(absl::string_view group,
                                                     absl::string_view address,
                                                     absl::Duration ttl, Leader* current) {
  const int64_t seconds =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(ttl))));
  absl::StatusOr<rapidjson::Document> grant =
      client_.Post("/v3/lease/grant", absl::StrCat("{\"TTL\":", seconds, "}"));
  if (!grant.ok()) return grant.status();
  const int64_t lease = JsonInt64(*grant, "ID");
  const int64_t granted = JsonInt64(*grant, "TTL");
  if (lease == 0 || granted <= 0) {
    return absl::InternalError("etcd /v3/lease/grant: no lease in the reply");
  }
  const std::string key = Base64(LeaderKey(group));
  const std::string txn = absl::StrCat(
      "{\"compare\":[{\"key\":\"", key,
      "\",\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
      "\"success\":[{\"request_put\":{\"key\":\"", key, "\",\"value\":\"", Base64(address),
      "\",\"lease\":\"", lease, "\"}}],\"failure\":[{\"request_range\":{\"key\":\"", key,
      "\"}}]}");
  absl::StatusOr<rapidjson::Document> reply = client_.Post("/v3/kv/txn", txn);
  if (!reply.ok()) {
    (void)client_.Post("/v3/lease/revoke", absl::StrCat("{\"ID\":\"", lease, "\"}"));
    return reply.status();
  }
  const bool succeeded = reply->HasMember("succeeded") && (*reply)["succeeded"].IsBool() &&
                         (*reply)["succeeded"].GetBool();
  if (succeeded) {
    const uint64_t epoch =
        static_cast<uint64_t>(JsonInt64((*reply)["header"], "revision"));
    return Leadership{epoch, lease, absl::Seconds(granted)};
  }
  std::optional<Leader> holder;
  if (reply->HasMember("responses") && (*reply)["responses"].IsArray() &&
      !(*reply)["responses"].Empty() &&
      (*reply)["responses"][0].HasMember("response_range")) {
    absl::StatusOr<std::optional<Leader>> l =
        FirstLeader((*reply)["responses"][0]["response_range"]);
    if (!l.ok()) return l.status();
    holder = *l;
  }
  if (holder.has_value() && holder->lease == lease) {
    // Our own put, committed by a member whose answer was lost.
    return Leadership{holder->epoch, lease, absl::Seconds(granted)};
  }
  (void)client_.Post("/v3/lease/revoke", absl::StrCat("{\"ID\":\"", lease, "\"}"));
  if (!holder.has_value()) {
    return absl::UnavailableError("etcd: the leader key changed during the campaign; retry");
  }
  if (current != nullptr) *current = *holder;
  return absl::FailedPreconditionError(absl::StrCat("coordinator: group ", group,
                                                    " is led by ", holder->address,
                                                    " (epoch ", holder->epoch, ")"));
}

absl::Status EtcdCoordinator::KeepAlive(int64_t lease) {
  absl::StatusOr<rapidjson::Document> reply =
      client_.Post("/v3/lease/keepalive", absl::StrCat("{\"ID\":\"", lease, "\"}"));
  if (!reply.ok()) return reply.status();
  const rapidjson::Value& result =
      reply->HasMember("result") ? (*reply)["result"] : static_cast<rapidjson::Value&>(*reply);
  if (JsonInt64(result, "TTL") <= 0) {
    return absl::NotFoundError(absl::StrCat("coordinator: lease ", lease, " has expired"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Leader>> EtcdCoordinator::CurrentLeader(absl::string_view group) {
  absl::StatusOr<rapidjson::Document> reply = client_.Post(
      "/v3/kv/range", absl::StrCat("{\"key\":\"", Base64(LeaderKey(group)), "\"}"));
  if (!reply.ok()) return reply.status();
  return FirstLeader(*reply);
}

absl::Status EtcdCoordinator::Resign(int64_t lease) {
  absl::StatusOr<rapidjson::Document> reply =
      client_.Post("/v3/lease/revoke", absl::StrCat("{\"ID\":\"", lease, "\"}"));
  if (!reply.ok() && reply.status().message().find("not found") != absl::string_view::npos) {
    return absl::OkStatus();  // Already gone: the goal of resigning.
  }
  return reply.status();
}

}  // namespace attrib::cluster
