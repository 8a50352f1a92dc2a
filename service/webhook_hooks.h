// service/webhook_hooks.h
//
// What the service layer needs from the webhook deliverer and the change feed
// (issue 13), as functions the executable wires (tools/attribd.cc), so that the
// service depends on neither (it knows the engine, not files or sockets):
//   new_secret   a fresh endpoint secret ("whsec_...", OpenSSL's RNG)
//   check_url    OK or InvalidArgument "url: ..." (scheme, loopback-only http, ...)
//   delivery     an endpoint's live delivery state (nullopt: no deliverer runs)
//   created      endpoint `id` was created by the change numbered <= `seq`: its
//                delivery starts after `seq` (saved before the reply, so that the
//                endpoint receives every change acknowledged after its creation)
//   changed      the endpoints changed: start, restart or stop deliverers
//   read_changes committed changes from a sequence number (OutOfRange: older than
//                the log kept)
// Any may be empty: the operations that need it are then Unimplemented.
//
// Thread-safety: the functions are called from any request thread, concurrently.
#ifndef ATTRIB_SERVICE_WEBHOOK_HOOKS_H_
#define ATTRIB_SERVICE_WEBHOOK_HOOKS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/mutation.h"
#include "engine/webhook_endpoints.h"

namespace attrib::service {

// One delivery attempt, as the endpoint's GET shows it.
struct WebhookAttempt {
  uint64_t seq = 0;
  std::string event_id;     // "evt_<seq>"
  engine::TimeMs at = 0;    // When it was made.
  int http_status = 0;      // 0: no reply (`error` says why).
  std::string error;        // Empty on success.
};

struct WebhookDelivery {
  uint64_t cursor = 0;      // Next sequence number to deliver.
  uint64_t delivered = 0;   // Since the deliverer started.
  uint64_t attempts = 0;
  uint32_t failures = 0;    // Consecutive failures of the current event.
  std::string last_error;
  std::vector<WebhookAttempt> recent;  // Newest last.
};

struct WebhookEndpointInfo {
  engine::WebhookEndpoint endpoint;
  std::optional<WebhookDelivery> delivery;
};

struct Change {
  uint64_t seq = 0;
  engine::Mutation mutation;
};

struct WebhookHooks {
  std::function<absl::StatusOr<std::string>()> new_secret;
  std::function<absl::Status(absl::string_view url)> check_url;
  std::function<std::optional<WebhookDelivery>(uint64_t id)> delivery;
  std::function<void(uint64_t id, uint64_t seq)> created;
  std::function<void()> changed;
  std::function<absl::StatusOr<std::vector<Change>>(uint64_t from, size_t max)> read_changes;
  // How long a rotated-out secret keeps signing.
  engine::TimeMs secret_overlap_ms = 24 * 3'600'000;
};

// The shop a change belongs to (every mutation has one).
engine::ShopId ShopOfChange(const engine::Mutation& m);

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_WEBHOOK_HOOKS_H_
