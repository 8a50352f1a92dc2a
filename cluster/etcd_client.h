// cluster/etcd_client.h
//
// A minimal client of etcd v3's JSON gateway (the grpc-gateway every etcd 3.4 member
// serves on its client URL: POST /v3/<service>/<method> with a JSON body), over
// HTTP/1.1 with Boost.Beast, parsed with RapidJSON. Chosen over gRPC because Debian's
// etcd 3.4 serves it on loopback with no generated code and no extra packages;
// it is what issue 16 needs (lease grant, keepalive, revoke, kv range and txn).
//
// Endpoints: several members' "host:port"; a call goes to the endpoint that answered
// last, and on a connection error or time-out tries the next ones in turn, so the
// client follows the cluster through the loss of a member. Every call is bounded by
// `timeout` per endpoint (connect, write and read).
//
// etcd's JSON: int64 fields are decimal strings; keys and values are base64.
//
// Thread-safety: Post() may be called from any thread (each call has its own
// io_context and socket; the preferred endpoint is an atomic).
#ifndef ATTRIB_CLUSTER_ETCD_CLIENT_H_
#define ATTRIB_CLUSTER_ETCD_CLIENT_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"

namespace attrib::cluster {

struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // "127.0.0.1:2379", ...
  absl::Duration timeout = absl::Seconds(2);
};

// "a:1,b:2" -> {"a:1", "b:2"}; InvalidArgument "etcd_endpoints: ..." when empty or
// an entry is not host:port.
absl::StatusOr<std::vector<std::string>> ParseEndpoints(absl::string_view list);

class EtcdClient {
 public:
  explicit EtcdClient(EtcdClientOptions options);

  // POSTs `body` (JSON) to `path` ("/v3/kv/range"). The parsed reply on HTTP 200;
  // otherwise: Unavailable when no endpoint answered, or the etcd error (its HTTP
  // status mapped to a code, its message kept: "etcd /v3/lease/revoke: requested
  // lease not found").
  absl::StatusOr<rapidjson::Document> Post(absl::string_view path, absl::string_view body);

 private:
  const EtcdClientOptions options_;
  std::atomic<size_t> preferred_{0};
};

// Helpers for etcd's JSON: a member as int64 (etcd writes them as strings; absent =
// 0) and base64 text.
int64_t JsonInt64(const rapidjson::Value& object, const char* name);
std::string Base64(absl::string_view bytes);
absl::StatusOr<std::string> FromBase64(absl::string_view text);

}  // namespace attrib::cluster

#endif  // ATTRIB_CLUSTER_ETCD_CLIENT_H_
