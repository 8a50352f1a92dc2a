// http/api_test_harness.h
//
// TEST ONLY: the HTTP API codec in process, without sockets, for http/api*_test.cc:
// an engine on a fake clock (4 shards), the service over it (with the durability
// hooks a test gives, or none), the Api, and Call() to hand it one request.
//
// Thread-safety: one test thread.
#ifndef ATTRIB_HTTP_API_TEST_HARNESS_H_
#define ATTRIB_HTTP_API_TEST_HARNESS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "http/api.h"
#include "service/service.h"

namespace attrib::http {

class ApiHarness {
 public:
  // `durability` (may be null) must outlive the harness.
  ApiHarness(engine::TimeMs now, service::DurabilityHooks* durability)
      : clock_(now), engine_(Options(&clock_)),
        service_(&engine_, Service(durability)), api_(&service_) {}

  ApiResponse Call(absl::string_view method, absl::string_view target, std::string body = "",
                   service::Scope scope = service::Scope::Admin()) {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.body = &body;
    r.scope = scope;
    ApiResponse out;
    api_.Handle(r, &out);
    return out;
  }

 private:
  static engine::EngineOptions Options(const engine::Clock* clock) {
    engine::EngineOptions o;
    o.shard_count = 4;
    o.clock = clock;
    return o;
  }
  static service::ServiceOptions Service(service::DurabilityHooks* durability) {
    service::ServiceOptions o;
    o.durability = durability;
    return o;
  }

  engine::FakeClock clock_;
  engine::Engine engine_;
  service::Service service_;
  Api api_;
};

}  // namespace attrib::http

#endif  // ATTRIB_HTTP_API_TEST_HARNESS_H_
