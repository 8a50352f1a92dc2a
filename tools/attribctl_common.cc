// tools/attribctl_common.cc: argument parsers and client setup shared by the
// attribctl subcommands (see the header).
#include "tools/attribctl_common.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/types.h"

namespace attrib::tools {

absl::StatusOr<uint64_t> RequireShop(const CtlOptions& options) {
  if (options.shop == 0) return absl::InvalidArgumentError("--shop=N is required (N > 0)");
  return options.shop;
}

absl::StatusOr<std::unique_ptr<net::Client>> OpenClient(const CtlOptions& options) {
  net::ClientOptions client_options;
  client_options.timeout = options.timeout;
  client_options.auth_token = options.token;
  client_options.tls = options.tls;
  client_options.tls_ca_file = options.tls_ca;
  // Issue 16: a write sent to a replica goes once more, to the primary it names.
  client_options.on_follow = [](absl::string_view replica, absl::string_view primary) {
    std::cout.flush();
    std::cerr << "attribctl: not_primary: " << replica
              << " is a replica; sending to the primary at " << primary << '\n';
  };
  absl::StatusOr<std::unique_ptr<net::Client>> client =
      net::Client::Connect(options.server, client_options);
  if (client.ok() && options.min_seq != 0) (*client)->SetMinSeq(options.min_seq);
  return client;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return net::IsConnectionError(status) ? kExitUnreachable : kExitFailed;
}

}  // namespace attrib::tools
