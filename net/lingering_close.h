// net/lingering_close.h
//
// The lingering close of a TCP connection, for every listener that answers with a
// final reply (an error, or a response that says "Connection: close") and then
// closes: the attrib protocol server (net/server_connection.cc, net/server.cc), the
// /metrics HTTP listener (net/metrics_http.cc), and the HTTP API listener to come
// (issue 13) — call LingeringClose() after the last reply was written, instead of
// close().
//
// Why: closing a socket while request bytes are still unread (in the receive buffer,
// or still arriving: the rest of an oversized frame, garbage, pipelined requests)
// makes the kernel answer with a reset, and a reset can discard the final reply
// before the client has read it: the client sees "connection reset" and cannot tell
// an error reply from a crashed server. A lingering close (nginx `lingering_close`)
// shuts down only the sending side (the client reads the reply, then EOF), keeps
// reading and discarding what the client still sends, and closes once the client
// closes its side, or after `timeout`, or after `max_bytes` were discarded, whichever
// comes first: a client that streams garbage forever holds the socket for at most
// `timeout` and costs no memory beyond one small object (the bytes are read into one
// fixed per-thread buffer and dropped).
//
// TLS: the caller has already written its final reply through the TLS stream; the
// lingering then works on the TCP socket under it (the bytes discarded are not
// decrypted, and no close_notify is sent: every attrib reply is a complete frame).
//
// PRIVATE to the listeners in net/ (it includes <boost/asio.hpp>).
//
// Thread-safety: call on the thread that runs the socket's io_context (a strand of
// one); `on_closed` runs on that thread too, once, after the socket is closed (not
// if the io_context is stopped and destroyed first: then the socket just closes).
#ifndef ATTRIB_NET_LINGERING_CLOSE_H_
#define ATTRIB_NET_LINGERING_CLOSE_H_

#include <utility>  // Before asio (g++ 12 + C++20).

#include <functional>

#include <boost/asio.hpp>

#include "net/linger_options.h"

namespace attrib::net {

// Shuts down the sending side of `socket` (its final reply must be fully written),
// reads and discards until EOF, an error, `options.timeout` or `options.max_bytes`,
// then closes it and calls `on_closed` (may be empty). Pending operations on the
// socket must have completed or been cancelled.
void LingeringClose(boost::asio::ip::tcp::socket socket, const LingerOptions& options,
                    std::function<void()> on_closed);

}  // namespace attrib::net

#endif  // ATTRIB_NET_LINGERING_CLOSE_H_
