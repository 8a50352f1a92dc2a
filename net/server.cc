// net/server.cc: the acceptor, the I/O threads and shutdown (see server.h). One
// connection's logic is in server_connection.cc.
#include "net/server.h"

#include "net/server_connection.h"  // First: <utility> before <boost/asio.hpp>.
#include "net/lingering_close.h"
#include "net/listen_socket.h"

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace attrib::net {

namespace asio = boost::asio;
using boost::system::error_code;
using internal::Connection;
using internal::Registry;

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: '", address, "' ", why, " (expected host:port or [v6]:port)"));
  };
  HostPort out;
  absl::string_view port;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return bad("has no ]:port");
    }
    out.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad("has no port");
    out.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(port, &p) || p > 65535) return bad("has an invalid port");
  out.port = static_cast<uint16_t>(p);
  if (out.host == "localhost") out.host = "127.0.0.1";
  error_code ec;
  asio::ip::make_address(out.host, ec);
  if (ec) return bad("has a host that is not a numeric address");
  return out;
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost") return true;
  error_code ec;
  const asio::ip::address a = asio::ip::make_address(std::string(host), ec);
  return !ec && a.is_loopback();
}

namespace {

// A connection over max_connections: the resource_exhausted error frame, then a
// lingering close, so that a request the client sent at once does not turn the
// close into a reset that discards the frame. On a TLS port no frame (it would need
// a handshake: CPU and a round trip spent on a connection refused because the
// server is overloaded), only the lingering close: the client's handshake sees EOF.
// At most max_refused_lingering linger at once; beyond, a flood is closed at once.
// On the socket's thread.
void SendRefusal(internal::ServerShared* shared, asio::ip::tcp::socket socket) {
  error_code ignored;
  if (shared->refused_lingering.fetch_add(1) >= shared->options.max_refused_lingering) {
    shared->refused_lingering.fetch_sub(1);
    socket.close(ignored);
    return;
  }
  auto done = [shared] { shared->refused_lingering.fetch_sub(1); };
  if (shared->tls) {
    LingeringClose(std::move(socket), shared->options.linger, std::move(done));
    return;
  }
  capnp::MallocMessageBuilder message(64);
  RequestHandler::BuildError(
      0, wire::ErrorCode::RESOURCE_EXHAUSTED,
      absl::StrCat("server: ", shared->options.max_connections,
                   " connections are open, the limit; try again later"),
      &message);
  const kj::Array<capnp::word> words = EncodeFrame(message);
  auto bytes = std::make_shared<std::string>(words.asChars().begin(), words.asChars().size());
  auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
  asio::async_write(*sock, asio::buffer(*bytes),
                    [shared, sock, bytes, done](const error_code& ec, size_t) {
                      if (ec) {
                        error_code ignored;
                        sock->close(ignored);
                        done();
                        return;
                      }
                      LingeringClose(std::move(*sock), shared->options.linger, done);
                    });
}

}  // namespace

struct Server::Impl {
  internal::ServerShared shared;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<Registry>> registries;  // One per context.
  // Set (release) once `contexts` and `registries` are built and never change again:
  // NotifyDurable, which may come from the log's commit thread before and during
  // Start() (a replica commits as soon as it follows), reads them only after.
  std::atomic<bool> contexts_ready{false};
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> retry_timer;  // Accept errors (EMFILE...).
  std::vector<std::thread> threads;
  size_t next_context = 0;
  std::string bound;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
  // Rate limit of the refused / accept-error log lines (acceptor thread only): a
  // flood logs one line per kLogEvery with the count, not one line per connection.
  static constexpr std::chrono::seconds kLogEvery{10};
  std::chrono::steady_clock::time_point last_refused_log{};
  uint64_t refused_logged = 0;
  std::chrono::steady_clock::time_point last_accept_error_log{};
  // One durability-watch timer per context (WatchDurability). Declared after
  // `contexts`, so destroyed before them.
  static constexpr std::chrono::milliseconds kWatchPeriod{250};
  std::vector<std::unique_ptr<asio::steady_timer>> watch_timers;

  void Accept();
  void Refuse(asio::ip::tcp::socket socket);
  // On context i's thread, every kWatchPeriod: the oldest held reply's time into the
  // registry (the gauge), and the stall warning.
  void WatchDurability(size_t i);
};

void Server::Impl::WatchDurability(size_t i) {
  Registry& registry = *registries[i];
  const auto now = std::chrono::steady_clock::now();
  Connection* oldest = nullptr;
  for (Connection* c : registry.waiting) {
    if (oldest == nullptr || c->oldest_held_since() < oldest->oldest_held_since()) oldest = c;
  }
  registry.oldest_held_since_ns.store(
      oldest == nullptr
          ? 0
          : std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     oldest->oldest_held_since().time_since_epoch())
                                     .count()),
      std::memory_order_relaxed);
  DurabilityHooks* const hooks = shared.options.durability;
  if (oldest != nullptr && hooks != nullptr &&
      now - oldest->oldest_held_since() >
          absl::ToChronoNanoseconds(shared.options.durability_stall_warning) &&
      now - registry.last_stall_log >= kLogEvery) {
    const uint64_t durable = hooks->DurableSeq();
    if (durable >= hooks->LastAssignedSeq()) {
      // Nothing left to commit, so no commit will ever release this reply.
      registry.last_stall_log = now;
      log::Warning(
          "durability: a reply has waited %.1f s for log seq %d, but the log has nothing "
          "left to commit (durable up to %d; this server was told %d): replies are "
          "stalled (%d connection(s) on this thread wait)",
          std::chrono::duration<double>(now - oldest->oldest_held_since()).count(),
          oldest->oldest_held_seq(), durable, shared.durable_seq.load(),
          registry.waiting.size());
    }
  }
  asio::steady_timer& timer = *watch_timers[i];
  timer.expires_after(kWatchPeriod);
  timer.async_wait([this, i](const error_code& ec) {
    if (!ec && !shared.stopping.load()) WatchDurability(i);
  });
}

void Server::Impl::Accept() {
  const size_t index = next_context++ % contexts.size();
  acceptor->async_accept(*contexts[index], [this, index](const error_code& ec,
                                                         asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || shared.stopping.load()) return;
    if (ec) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_accept_error_log >= kLogEvery) {
        last_accept_error_log = now;
        log::Error("accept on %s failed: %s (retrying every 100 ms)", bound, ec.message());
      }
      // Out of file descriptors and the like: retry shortly instead of spinning.
      retry_timer->expires_after(std::chrono::milliseconds(100));
      retry_timer->async_wait([this](const error_code& e) {
        if (!e && !shared.stopping.load()) Accept();
      });
      return;
    }
    shared.accepted.fetch_add(1);
    if (shared.open.load() >= shared.options.max_connections) {
      Refuse(std::move(socket));
    } else {
      shared.open.fetch_add(1);
      auto conn = std::make_shared<Connection>(std::move(socket), &shared,
                                               registries[index].get());
      asio::post(*contexts[index], [conn] { conn->Start(); });
    }
    Accept();
  });
}

void Server::Impl::Refuse(asio::ip::tcp::socket socket) {
  const uint64_t refused = shared.refused.fetch_add(1) + 1;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refused_log >= kLogEvery) {
    last_refused_log = now;
    log::Warning("refused %d connection(s): %d are open, the --max_connections limit",
                 refused - refused_logged, shared.options.max_connections);
    refused_logged = refused;
  }
  // On the socket's own thread: the write and the lingering close that follows.
  asio::post(socket.get_executor(), [shared = &shared, sock = std::move(socket)]() mutable {
    SendRefusal(shared, std::move(sock));
  });
}

Server::Server(RequestHandler* handler, ServerOptions options) : impl_(new Impl) {
  impl_->shared.handler = handler;
  impl_->shared.options = std::move(options);
}

Server::~Server() {
  Shutdown();
  Wait();
}

namespace {

// The server's TLS settings and its certificate and key (ServerOptions::tls_*).
absl::StatusOr<std::unique_ptr<asio::ssl::context>> MakeTlsContext(
    const ServerOptions& options) {
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.tls_cert_file.empty() ? "tls_cert" : "tls_key",
        ": TLS needs both --tls_cert and --tls_key (PEM files)"));
  }
  namespace ssl = asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 at least; no compression (CRIME); OpenSSL 3's default cipher list.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                   ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  // The one place net/ reads files: OpenSSL loads the PEM files itself.
  ctx->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_cert: cannot load a PEM certificate chain from ", options.tls_cert_file,
        ": ", ec.message()));
  }
  ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec && ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ec.clear();  // A valid key, of another certificate: said below.
  }
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("tls_key: cannot load a PEM private key from ",
                                                   options.tls_key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_key: ", options.tls_key_file, " is not the private key of the certificate in ",
        options.tls_cert_file));
  }
  return ctx;
}

}  // namespace

absl::Status CheckTlsFiles(const ServerOptions& options) {
  if (!options.tls()) return absl::OkStatus();
  return MakeTlsContext(options).status();
}

absl::Status Server::Start() {
  Impl& m = *impl_;
  absl::StatusOr<HostPort> hp = ParseHostPort(m.shared.options.listen);
  if (!hp.ok()) return hp.status();
  if (m.shared.options.tls()) {
    absl::StatusOr<std::unique_ptr<asio::ssl::context>> tls =
        MakeTlsContext(m.shared.options);
    if (!tls.ok()) return tls.status();
    m.shared.tls = *std::move(tls);
  }
  int threads = m.shared.options.threads;
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < threads; ++i) {
    m.contexts.push_back(std::make_unique<asio::io_context>(1));
    m.registries.push_back(std::make_unique<Registry>());
    m.guards.push_back(asio::make_work_guard(*m.contexts.back()));
  }
  m.contexts_ready.store(true, std::memory_order_release);
  m.acceptor.emplace(*m.contexts[0]);
  m.retry_timer.emplace(*m.contexts[0]);
  absl::StatusOr<std::string> bound =
      internal::OpenListenSocket("listen", m.shared.options.listen, &*m.acceptor);
  if (!bound.ok()) return bound.status();
  m.bound = *std::move(bound);
  m.Accept();
  for (size_t i = 0; i < m.contexts.size(); ++i) {
    m.watch_timers.push_back(std::make_unique<asio::steady_timer>(*m.contexts[i]));
    asio::post(*m.contexts[i], [&m, i] { m.WatchDurability(i); });
  }
  for (auto& ctx : m.contexts) {
    m.threads.emplace_back([c = ctx.get()] { c->run(); });
  }
  return absl::OkStatus();
}

std::string Server::bound_address() const { return impl_->bound; }

void Server::Shutdown() {
  Impl& m = *impl_;
  {
    absl::MutexLock lock(&m.shutdown_mu);
    if (m.shut_down) return;
    m.shut_down = true;
  }
  m.shared.stopping.store(true);
  if (m.contexts.empty()) return;  // Never started.
  // Stop accepting, then ask every connection (on its own thread) to drain.
  asio::post(*m.contexts[0], [&m] {
    error_code ignored;
    m.acceptor->close(ignored);
    m.retry_timer->cancel();
  });
  for (size_t i = 0; i < m.contexts.size(); ++i) {
    asio::post(*m.contexts[i], [registry = m.registries[i].get(),
                                timer = m.watch_timers[i].get()] {
      timer->cancel();
      const std::vector<Connection*> live(registry->all.begin(), registry->all.end());
      for (Connection* c : live) c->Drain();
    });
  }
  // Wait (bounded) until every connection has finished writing and closed.
  {
    absl::MutexLock lock(&m.shared.mu);
    const auto all_closed = [&m] { return m.shared.open.load() == 0; };
    m.shared.mu.AwaitWithTimeout(absl::Condition(&all_closed),
                                 m.shared.options.drain_timeout);
  }
  for (auto& g : m.guards) g.reset();
  for (auto& ctx : m.contexts) ctx->stop();
}

void Server::Wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

void Server::NotifyDurable(uint64_t seq) {
  Impl& m = *impl_;
  uint64_t prev = m.shared.durable_seq.load();
  while (prev < seq && !m.shared.durable_seq.compare_exchange_weak(prev, seq)) {
  }
  // Before Start() built the contexts no connection can be waiting: the value above
  // is what new connections read.
  if (!m.contexts_ready.load(std::memory_order_acquire)) return;
  for (size_t i = 0; i < m.contexts.size(); ++i) {
    asio::post(*m.contexts[i], [registry = m.registries[i].get()] {
      const std::vector<Connection*> waiting(registry->waiting.begin(),
                                             registry->waiting.end());
      for (Connection* c : waiting) c->OnDurable();
    });
  }
}

ServerFacts Server::Facts() const {
  ServerFacts f;
  f.open_clients = impl_->shared.open.load();
  f.accepted_clients = impl_->shared.accepted.load();
  f.refused_clients = impl_->shared.refused.load(std::memory_order_relaxed);
  int64_t oldest_ns = 0;
  for (const auto& registry : impl_->registries) {  // Constant after Start().
    f.received_bytes += registry->received_bytes.load(std::memory_order_relaxed);
    f.sent_bytes += registry->sent_bytes.load(std::memory_order_relaxed);
    const int64_t since = registry->oldest_held_since_ns.load(std::memory_order_relaxed);
    if (since != 0 && (oldest_ns == 0 || since < oldest_ns)) oldest_ns = since;
  }
  if (oldest_ns != 0) {
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    f.oldest_durability_wait_ms = std::max<int64_t>(0, (now_ns - oldest_ns) / 1'000'000);
  }
  f.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - impl_->started)
                    .count();
  return f;
}

}  // namespace attrib::net
