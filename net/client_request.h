// net/client_request.h
//
// What the client's typed calls share (client_calls.cc, client_affiliates.cc):
// copying a string_view into a text field, and building a Request with a fresh id
// that is then sent with Client::Call. Internal to attrib_client.
//
// Thread-safety: as Client (one thread at a time).
#ifndef ATTRIB_NET_CLIENT_REQUEST_H_
#define ATTRIB_NET_CLIENT_REQUEST_H_

#include <cstring>

#include "net/client.h"

namespace attrib::net::internal {

// Text setters take a NUL-terminated kj::StringPtr; a string_view need not be one,
// so the text is initialized to its size and copied.
inline void CopyInto(capnp::Text::Builder text, absl::string_view value) {
  if (!value.empty()) std::memcpy(text.begin(), value.data(), value.size());
}

// Builds a Request with a fresh id, lets `fill` set the operation, and calls it.
template <typename Fill>
absl::StatusOr<Reply> BuildAndCall(Client& client, Fill fill) {
  capnp::MallocMessageBuilder message;
  wire::Request::Builder request = message.initRoot<wire::Request>();
  request.setId(client.NextId());
  if (client.min_seq() != 0) request.setMinSeq(client.min_seq());
  fill(request);
  return client.Call(message);
}

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_CLIENT_REQUEST_H_
