// net/linger_options.h
//
// The bounds of a lingering close (net/lingering_close.h), in a header without
// Boost.Asio so that the listeners' option structs (net/server.h,
// net/metrics_http.h) can hold them. attribd sets them from --linger_timeout and
// --linger_max_bytes, for every listener alike.
//
// Thread-safety: a plain value.
#ifndef ATTRIB_NET_LINGER_OPTIONS_H_
#define ATTRIB_NET_LINGER_OPTIONS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace attrib::net {

struct LingerOptions {
  // Time a client gets to read the final reply and close while it still sends; the
  // most a connection lingers.
  absl::Duration timeout = absl::Seconds(5);
  // Bytes discarded at most; then the socket is closed (a reset may follow).
  size_t max_bytes = 4 << 20;
};

}  // namespace attrib::net

#endif  // ATTRIB_NET_LINGER_OPTIONS_H_
