// net/client_tls.h
//
// PRIVATE to the client library (net/client.cc, net/client_tls.cc): the byte
// channel under a Client. Plain TCP is send()/recv() on the non-blocking socket;
// TLS is OpenSSL over the same socket (TlsChannel), with the server's certificate
// verified by default against the CA bundle given (or the system's default CAs) and
// against the host dialled (IP address or DNS name).
//
// Both report one non-blocking attempt as an IoResult, so the Client's waiting,
// timeout and interleaved-read logic is the same for both.
// SIGPIPE: plain writes use MSG_NOSIGNAL; OpenSSL writes with write(), so every
// OpenSSL call runs with SIGPIPE blocked and a SIGPIPE it raised is discarded.
//
// Thread-safety: a TlsChannel belongs to one Client, used by one thread at a time.
#ifndef ATTRIB_NET_CLIENT_TLS_H_
#define ATTRIB_NET_CLIENT_TLS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/client.h"

struct ssl_st;
struct ssl_ctx_st;

namespace attrib::net::internal {

// Waits for `events` on fd until `deadline`: 1 ready (revents set), 0 timed out,
// -1 poll failed (errno set). EINTR restarts the wait with the time left.
int PollUntil(int fd, short events, absl::Time deadline, short* revents);

// One non-blocking read or write attempt.
struct IoResult {
  enum Kind { kDone, kWantRead, kWantWrite, kClosed, kError };
  Kind kind = kDone;
  size_t bytes = 0;   // kDone: bytes moved (> 0).
  std::string error;  // kError: what failed, for the message.
};

// send()/recv() on a plain non-blocking socket (EINTR retried).
IoResult PlainWrite(int fd, const char* data, size_t size);
IoResult PlainRead(int fd, char* data, size_t size);

class TlsChannel {
 public:
  // TLS client handshake on the connected non-blocking `fd` (not owned), until
  // `deadline`. Verifies the certificate chain against options.tls_ca_file (a PEM
  // bundle; the system's default verify paths when empty) and that it names `host`.
  // Errors: InvalidArgument "tls_ca: ..." for an unreadable bundle; Unavailable
  // "tls: certificate verify failed: <why> (server <address>)" or "tls: handshake
  // failed with <address>: <why>"; DeadlineExceeded when the server does not answer.
  static absl::StatusOr<std::unique_ptr<TlsChannel>> Handshake(int fd,
                                                               absl::string_view host,
                                                               absl::string_view address,
                                                               const ClientOptions& options,
                                                               absl::Time deadline);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  // A write that returned kWantRead/kWantWrite must be retried with the same bytes
  // (SSL_write's rule); partial writes are enabled, so kDone may move fewer bytes.
  IoResult Write(const char* data, size_t size);
  IoResult Read(char* data, size_t size);

 private:
  TlsChannel(ssl_ctx_st* ctx, ssl_st* ssl) : ctx_(ctx), ssl_(ssl) {}
  IoResult Result(int rc, bool writing);

  ssl_ctx_st* const ctx_;  // Owned.
  ssl_st* const ssl_;      // Owned.
};

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_CLIENT_TLS_H_
