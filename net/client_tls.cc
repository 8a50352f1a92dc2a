// net/client_tls.cc: the client's byte channel, plain or TLS (see client_tls.h).
#include "net/client_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace attrib::net::internal {
namespace {

// Blocks SIGPIPE for one OpenSSL call (it writes with write(), not send() with
// MSG_NOSIGNAL) and discards a SIGPIPE the call raised, so a server that closed
// gives an error, not a dead process. errno survives for SSL_get_error().
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    const int saved_errno = errno;
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

// The oldest OpenSSL error of this thread as text, and the queue cleared.
std::string OpenSslError(absl::string_view fallback) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return std::string(fallback);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char addr[16];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

}  // namespace

int PollUntil(int fd, short events, absl::Time deadline, short* revents) {
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    const int64_t ms = std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(ms));
    if (n > 0) {
      *revents = p.revents;
      return 1;
    }
    if (n < 0 && errno != EINTR) return -1;
  }
}

IoResult PlainWrite(int fd, const char* data, size_t size) {
  for (;;) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n >= 0) return IoResult{IoResult::kDone, static_cast<size_t>(n), {}};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult{IoResult::kWantWrite, 0, {}};
    if (errno == EPIPE || errno == ECONNRESET) return IoResult{IoResult::kClosed, 0, {}};
    return IoResult{IoResult::kError, 0, std::strerror(errno)};
  }
}

IoResult PlainRead(int fd, char* data, size_t size) {
  for (;;) {
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n > 0) return IoResult{IoResult::kDone, static_cast<size_t>(n), {}};
    if (n == 0 || errno == ECONNRESET) return IoResult{IoResult::kClosed, 0, {}};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult{IoResult::kWantRead, 0, {}};
    return IoResult{IoResult::kError, 0, std::strerror(errno)};
  }
}

absl::StatusOr<std::unique_ptr<TlsChannel>> TlsChannel::Handshake(
    int fd, absl::string_view host, absl::string_view address, const ClientOptions& options,
    absl::Time deadline) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError(absl::StrCat("tls: ", OpenSslError("SSL_CTX_new failed")));
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A server that closes without close_notify ends the stream like EOF: every reply
  // is a complete frame, so truncation is visible anyway.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Partial writes: a large pipelined batch goes out record by record, so reads can
  // interleave (see Client::WriteAll). Moving buffer: a retried write may come from
  // a reallocated std::string holding the same bytes.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const std::string ca = options.tls_ca_file;
  if (!ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
      const std::string why = OpenSslError("no certificates");
      SSL_CTX_free(ctx);
      return absl::InvalidArgumentError(
          absl::StrCat("tls_ca: cannot load PEM CA certificates from ", ca, ": ", why));
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    const std::string why = OpenSslError("unknown error");
    SSL_CTX_free(ctx);
    return absl::InternalError(absl::StrCat("tls: cannot load the system CAs: ", why));
  }
  SSL* ssl = SSL_new(ctx);
  std::unique_ptr<TlsChannel> channel(new TlsChannel(ctx, ssl));
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    return absl::InternalError(absl::StrCat("tls: ", OpenSslError("SSL_new failed")));
  }
  // The certificate must name what was dialled: an IP address in its SAN, or the DNS
  // name (also sent as SNI).
  const std::string h(host);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (IsIpLiteral(h)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, h.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, h.c_str(), 0);
    SSL_set_tlsext_host_name(ssl, h.c_str());
  }
  for (;;) {
    int rc;
    int err;
    {
      SigpipeGuard guard;
      ERR_clear_error();
      rc = SSL_connect(ssl);
      err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, rc);
    }
    if (rc == 1) return channel;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      short revents = 0;
      const int ready =
          PollUntil(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, &revents);
      if (ready == 0) {
        return absl::DeadlineExceededError(absl::StrCat(
            "tls: handshake with ", address, ": no answer within ",
            absl::FormatDuration(options.timeout)));
      }
      if (ready > 0) continue;
      return absl::UnavailableError(
          absl::StrCat("tls: handshake with ", address, ": poll: ", std::strerror(errno)));
    }
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      ERR_clear_error();
      return absl::UnavailableError(absl::StrCat(
          "tls: certificate verify failed: ", X509_verify_cert_error_string(verify),
          " (server ", address, ", CA ", ca.empty() ? "the system's default" : ca, ")"));
    }
    const std::string why =
        err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN
            ? OpenSslError(errno != 0 ? std::strerror(errno) : "the server closed the connection")
            : OpenSslError("protocol error");
    return absl::UnavailableError(
        absl::StrCat("tls: handshake failed with ", address, ": ", why,
                     " (is the server started with --tls_cert?)"));
  }
}

TlsChannel::~TlsChannel() {
  if (ssl_ != nullptr) {
    SigpipeGuard guard;
    SSL_shutdown(ssl_);  // One close_notify, not waiting for the server's.
    SSL_free(ssl_);
  }
  SSL_CTX_free(ctx_);
  ERR_clear_error();
}

IoResult TlsChannel::Result(int rc, bool writing) {
  if (rc > 0) return IoResult{IoResult::kDone, static_cast<size_t>(rc), {}};
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      return IoResult{IoResult::kWantRead, 0, {}};
    case SSL_ERROR_WANT_WRITE:
      return IoResult{IoResult::kWantWrite, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
      return IoResult{IoResult::kClosed, 0, {}};
    case SSL_ERROR_SYSCALL:
      if (saved_errno == 0 || saved_errno == EPIPE || saved_errno == ECONNRESET) {
        ERR_clear_error();
        return IoResult{IoResult::kClosed, 0, {}};
      }
      return IoResult{IoResult::kError, 0, OpenSslError(std::strerror(saved_errno))};
    default:
      return IoResult{IoResult::kError, 0,
                      absl::StrCat("tls: ", OpenSslError(writing ? "write failed"
                                                                 : "read failed"))};
  }
}

IoResult TlsChannel::Write(const char* data, size_t size) {
  SigpipeGuard guard;
  ERR_clear_error();
  errno = 0;
  const int n = static_cast<int>(std::min<size_t>(size, 1 << 30));
  return Result(SSL_write(ssl_, data, n), /*writing=*/true);
}

IoResult TlsChannel::Read(char* data, size_t size) {
  SigpipeGuard guard;
  ERR_clear_error();
  errno = 0;
  const int n = static_cast<int>(std::min<size_t>(size, 1 << 30));
  return Result(SSL_read(ssl_, data, n), /*writing=*/false);
}

}  // namespace attrib::net::internal
