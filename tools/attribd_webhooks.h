// tools/attribd_webhooks.h
//
// attribd's webhook wiring (issue 13): the --webhook_* flags, the delivery cursors
// in DATA/webhooks/, the dispatcher (webhooks/dispatcher.h) and the service layer's
// hooks (service/webhook_hooks.h: secrets, URL checks, delivery state, the change
// feed). Kept out of attribd.cc, which wires everything else.
//
// Thread-safety: built and started by main(); the hooks are called from request
// threads (each change-feed read opens its own reader).
#ifndef ATTRIB_TOOLS_ATTRIBD_WEBHOOKS_H_
#define ATTRIB_TOOLS_ATTRIBD_WEBHOOKS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "persistence/durability.h"
#include "persistence/webhook_cursors.h"
#include "service/webhook_hooks.h"
#include "webhooks/dispatcher.h"

namespace attrib::tools {

// --webhook_max_endpoints_per_shop, for EngineOptions.
size_t WebhookMaxEndpointsPerShop();

struct AttribdWebhooks {
  std::unique_ptr<persistence::WebhookCursors> cursors;
  std::unique_ptr<webhooks::Dispatcher> dispatcher;
  service::WebhookHooks hooks;  // For ServiceOptions.
};

// Reads the flags (InvalidArgument naming a bad one), opens DATA/webhooks and
// registers the log retention hook. The dispatcher is started by the caller once
// the server runs (Start()), and stopped before the durability layer shuts down.
absl::StatusOr<std::unique_ptr<AttribdWebhooks>> SetUpWebhooks(engine::Engine* engine,
                                                               persistence::Durability* d,
                                                               persistence::FileSystem* fs);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBD_WEBHOOKS_H_
