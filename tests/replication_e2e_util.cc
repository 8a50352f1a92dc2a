// tests/replication_e2e_util.cc: see the header.
#include "tests/replication_e2e_util.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/http_client.h"

namespace attrib::testing {

std::string ReplicationAddress(const AttribdProcess& p) {
  const std::string key = "replication on ";
  const size_t at = p.banner().find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  const size_t end = p.banner().find_first_of(",) ", start);
  return p.banner().substr(start, end - start);
}

std::string Metric(const AttribdProcess& p, absl::string_view name) {
  HttpClient http(p.metrics_address());
  const std::string body = http.Send("GET", "/metrics").body;
  const std::string key = absl::StrCat("\n", name, " ");
  const size_t at = body.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return body.substr(start, body.find('\n', start) - start);
}

bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace attrib::testing
