// net/server.h
//
// The TCP server of the attrib protocol. One io_context per thread; a connection
// lives on one thread for its whole life. Per connection: read in large chunks,
// decode every complete frame in the buffer, execute each (RequestHandler), and write
// all the replies of that batch with one write; replies leave in request order.
//
// Limits (all from ServerOptions, set by attribd flags):
//  - a frame over max_frame_bytes, or a malformed frame: an error reply, then close;
//  - max_connections: a connection over the limit gets a resource_exhausted error
//    frame and is closed; the others are not affected;
//  - max_queued_output_bytes: a client that does not read its replies stops being
//    read (no new requests executed) until its queued replies drain;
//  - idle_timeout: a connection with no read or write progress for that long is
//    closed; if it holds part of a request frame, a deadline_exceeded error frame
//    says so first (unless its replies are stuck unread: then it is just closed).
// Closing after a final reply (an error frame, a failed auth, shutdown's
// unavailable frame, the connection limit's frame): a lingering close
// (net/lingering_close.h, bounded by options.linger), so that request bytes still
// arriving do not make the kernel reset the connection and discard the reply. A
// lingering connection still counts as open (it holds a descriptor) for at most
// linger.timeout; refused connections linger at most max_refused_lingering at once
// (more are closed at once, best effort). A connection whose client closed first
// (EOF) closes at once, as before.
// Durability: the reply of a write request (Session::wait_for_seq) is held until
// NotifyDurable() reports its sequence number durable; every later reply of the same
// connection queues behind it, so replies keep request order. Reads on other
// connections never wait. Every thread samples its held replies every 250 ms: the
// age of the oldest is ServerFacts::oldest_durability_wait_ms (the `stats` reply
// and /metrics), and one held past durability_stall_warning while the log has
// nothing left to commit is logged as a stall.
// TLS (tls_cert_file and tls_key_file set): every connection first completes a TLS
// handshake (TLS 1.2 at least, no compression, OpenSSL 3's default ciphers) within
// idle_timeout, or is closed; then the same protocol runs inside TLS. A client that
// does not speak TLS fails the handshake and is closed; nobody else notices. Over
// the connection limit, a TLS port closes the connection without the error frame
// (sending it would need a handshake first; the close lingers all the same, so the
// client's handshake reads EOF, not a reset). The plain-TCP path is unchanged: one
// branch per read and per write decides the stream, no virtual call, no allocation.
// Shutdown(): stop accepting, stop reading, finish writing the replies of requests
// already executed, then an unavailable error frame (id 0: the requests without a
// reply were not executed), close every connection (lingering if request bytes are
// unread; a quiet one at once, so idle clients do not hold the stop), stop the
// threads.
//
// Boost.Asio stays inside server.cc: this header is cheap to include.
//
// Thread-safety: Start() once; Shutdown(), Facts() and bound_address() from any
// thread (Facts() concurrently with Start() only from Start's thread: the per-thread
// byte counters it sums are created there); Wait() from one thread.
#ifndef ATTRIB_NET_SERVER_H_
#define ATTRIB_NET_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/frame.h"
#include "net/handler.h"
#include "net/linger_options.h"

namespace attrib::net {

struct ServerOptions {
  std::string listen = "127.0.0.1:7411";  // host:port, [v6]:port; port 0 = any free.
  int threads = 0;                        // 0: one per core.
  FrameLimits frame_limits;
  size_t max_connections = 10'000;
  size_t max_queued_output_bytes = 4 << 20;
  absl::Duration idle_timeout = absl::Minutes(5);
  size_t read_chunk_bytes = 64 << 10;
  absl::Duration drain_timeout = absl::Seconds(10);  // Shutdown's bound on draining.
  LingerOptions linger;               // The close after a final reply.
  size_t max_refused_lingering = 64;  // Refused connections lingering at once.
  // The durability watch: a reply held longer than this while `durability` says the
  // log has nothing left to commit is a stall, logged as a warning (at most one line
  // per thread per 10 s). Null `durability`: no such check (the gauge still works).
  absl::Duration durability_stall_warning = absl::Seconds(1);
  DurabilityHooks* durability = nullptr;
  // TLS: PEM certificate chain and private key; both empty = plain TCP. These are
  // the one place net/ reads files: Start() loads them through asio::ssl::context
  // (OpenSSL), and fails with InvalidArgument naming the flag when they are
  // unreadable or do not belong together.
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
};

// Parses "host:port" / "[v6]:port" (host must be a numeric address or "localhost").
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address);
// Whether the host of a listen address is a loopback address (127.0.0.0/8, ::1).
bool IsLoopbackHost(absl::string_view host);
// Loads options.tls_cert_file and tls_key_file as Start() will and checks that the
// key belongs to the certificate, without serving: attribd calls it before the
// (possibly long) recovery so that a bad file fails the start at once. OK when TLS
// is off.
absl::Status CheckTlsFiles(const ServerOptions& options);

class Server {
 public:
  // `handler` must outlive the server.
  Server(RequestHandler* handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads.
  absl::Status Start();
  // The address actually bound ("127.0.0.1:40123"), after Start().
  std::string bound_address() const;
  // Idempotent.
  void Shutdown();
  // Blocks until the threads have exited (after Shutdown()).
  void Wait();
  ServerFacts Facts() const;
  // The log is durable up to `seq`: replies of write requests that waited for it
  // leave. Any thread (the log's commit thread calls it); calls may arrive out of
  // order (the largest value counts), and may come before Start() (attribd reports
  // what recovery made durable before it serves).
  void NotifyDurable(uint64_t seq);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attrib::net

#endif  // ATTRIB_NET_SERVER_H_
