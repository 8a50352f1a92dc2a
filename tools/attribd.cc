// tools/attribd.cc
//
// attribd: the attrib server. Wires the engine (engine/) to the request handler and
// the TCP server (net/); see README.md "Running attribd" and SPEC §6, §8.
//
// Startup prints exactly one line on stdout (tests and scripts read it):
//   attribd: listening on 127.0.0.1:7411 (threads 2, ...); try: attribctl ...
// With --metrics_listen the parenthesis ends with ", metrics on 127.0.0.1:9411".
// SIGTERM / SIGINT: stop accepting, finish the requests already read, exit 0.
//
// Thread-safety: main() owns everything; a dedicated thread waits for the signals,
// and another sorts the list order once after recovery.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "engine/engine.h"
#include "http/http_server.h"
#include "net/handler.h"
#include "net/metrics_http.h"
#include "net/server.h"
#include "persistence/durability.h"
#include "persistence/file_system.h"
#include "service/api_keys.h"
#include "service/service.h"
#include "tools/attribd_metrics.h"
#include "tools/attribd_replication.h"
#include "tools/attribd_webhooks.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7411",
          "Address to serve on: host:port or [v6]:port (port 0 picks a free port). A "
          "non-loopback address needs --auth_token_file, or --insecure.");
ABSL_FLAG(std::string, data_dir, "./data",
          "Data directory: write-ahead log (wal/), snapshots (snapshots/), META, LOCK. One "
          "server per directory.");
ABSL_FLAG(std::string, fsync, "always",
          "always: a write is acknowledged once fdatasync'ed (group commit: one fdatasync "
          "per batch); interval: fdatasync at most every 100 ms (a machine crash may lose "
          "~100 ms of acknowledged writes); never: left to the OS.");
ABSL_FLAG(uint64_t, wal_segment_bytes, 64 << 20,
          "Log segment size; segments roll at this size so that snapshots can delete (or "
          "archive) whole files.");
ABSL_FLAG(bool, wal_preallocate, true,
          "Reserve each log segment's disk blocks (--wal_segment_bytes) when it is "
          "created, so that a durable commit's fdatasync does not also wait for block "
          "allocation (2-3x faster commits on ext4). Turn off on file systems where "
          "reserving is slow or disk space is very tight.");
ABSL_FLAG(uint64_t, snapshot_every_bytes, 256 << 20,
          "Take a snapshot once this many log bytes were written since the last one, so "
          "restart replays a bounded log (0: only on request and at shutdown).");
ABSL_FLAG(std::string, wal_archive, "",
          "Move log segments covered by snapshots here instead of deleting them "
          "(point-in-time restore with attrib-restore). Same file system as --data_dir.");
ABSL_FLAG(std::string, recover, "strict",
          "strict: corruption in the data directory stops the start with file and offset; "
          "point-in-time: keep the valid prefix and move the rest to DATA/quarantine/.");
ABSL_FLAG(int, threads, 0, "I/O threads (one io_context each); 0 = one per core.");
ABSL_FLAG(std::string, email_policy, "provider",
          "Email canonicalization policy: provider (gmail dots, +tags at providers that "
          "ignore them) or standard (case and googlemail only). Server-wide.");
ABSL_FLAG(std::string, api_keys_file, "",
          "API keys with scopes, for both protocols (README \"API keys\"): one per line, "
          "NAME sha256:HEX admin|shop:N read-write|read-only. Clients then authenticate "
          "(native `auth`, HTTP `Authorization: Bearer`) and act within their key's "
          "scope. Reloaded on SIGHUP (a bad file keeps the old keys, with an error line).");
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding the shared secret; when set, every connection must send `auth` "
          "with it first. Required to listen on a non-loopback address.");
ABSL_FLAG(bool, insecure, false,
          "Allow a non-loopback --listen without an auth token (anyone who can reach the "
          "port can read and change every connection).");
ABSL_FLAG(uint32_t, max_frame_bytes, 1 << 20,
          "Largest request frame accepted; a larger one gets an error and the connection "
          "is closed, so one client cannot make the server buffer unbounded input.");
ABSL_FLAG(uint32_t, max_connections, 10'000,
          "Open client connections at most; more get a resource_exhausted error frame and "
          "are closed, so a flood of connections cannot exhaust file descriptors.");
ABSL_FLAG(uint32_t, max_queued_output_bytes, 4 << 20,
          "Replies queued for one client at most before the server stops reading its "
          "requests, so a client that does not read cannot grow server memory.");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Minutes(5),
          "A connection without read or write progress for this long is closed, so "
          "abandoned connections do not hold resources forever.");
ABSL_FLAG(uint32_t, shards, 256,
          "Shards of the connection store (a power of two): more shards, less lock "
          "contention between writers.");
ABSL_FLAG(absl::Duration, order_window, absl::Hours(24 * 120),
          "How long (in order time) order ids are remembered for idempotency, reverse "
          "and explain: 120 days by default because refund and chargeback periods run "
          "30-120 days, and a refund of a forgotten order cannot un-count it (not_found). "
          "Costs ~50 bytes per remembered order (a shop with 100k orders a day: ~0.6 GB "
          "for 120 days).");
ABSL_FLAG(std::string, log_level, "info",
          "error, warning, info or debug: the least severe event logged to stderr (one "
          "line each, with level and timestamp). info logs start, recovery, snapshots, "
          "refused connections and I/O errors, never individual requests.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics over HTTP at http://ADDR/metrics (host:port, port 0 "
          "picks a free port; the startup line says which). Empty: off. Metrics show "
          "volumes and timings, never emails; a non-loopback address is allowed with a "
          "warning.");
ABSL_FLAG(uint32_t, metrics_max_connections, 8,
          "Scrape connections open at once at most (lingering ones included); more get "
          "503 and are closed, so a flood on the metrics port cannot exhaust "
          "descriptors or memory.");
ABSL_FLAG(absl::Duration, metrics_read_timeout, absl::Seconds(10),
          "A metrics connection that sends no complete request for this long (also "
          "between keep-alive requests) is closed, so silent ones do not hold a slot.");
ABSL_FLAG(uint32_t, metrics_max_header_bytes, 8 << 10,
          "Largest HTTP request header accepted on the metrics port (a scrape needs a "
          "few hundred bytes), bounding what one connection makes attribd buffer.");
ABSL_FLAG(std::string, http_listen, "127.0.0.1:7412",
          "Serve the HTTP/JSON API (README \"HTTP API\") at http://ADDR (host:port; port 0 "
          "picks a free port; the startup line says which). Empty: off. Left at its "
          "default while --listen's port is 0 (tests), it picks a free port too. A "
          "non-loopback address needs --auth_token_file (or --insecure), as --listen does.");
ABSL_FLAG(uint32_t, http_max_header_bytes, 16 << 10,
          "Largest HTTP request header (request line and headers) accepted, 431 beyond: "
          "bounds what one API connection makes attribd buffer before it is answered.");
ABSL_FLAG(uint32_t, http_max_body_bytes, 1 << 20,
          "Largest HTTP request body accepted, 413 beyond: the largest request, a "
          "batch lookup of 10,000 emails, is ~0.5 MB; more is a mistake or an attack.");
ABSL_FLAG(absl::Duration, http_request_timeout, absl::Seconds(10),
          "A whole HTTP request must arrive within this time (also the keep-alive idle "
          "limit), else the connection is closed: slow or silent clients do not hold "
          "connections and buffers.");
ABSL_FLAG(uint32_t, http_max_connections, 1024,
          "HTTP API connections open at once at most; more get a 503 and are closed, so "
          "a flood cannot exhaust descriptors or memory.");
ABSL_FLAG(std::string, http_cors_origin, "",
          "The one browser origin (e.g. https://admin.example.com) allowed to call the "
          "HTTP API cross-origin (CORS). Empty: no CORS headers at all, so other sites' "
          "pages cannot read API responses.");
ABSL_FLAG(std::string, http_allowed_hosts, "",
          "Comma-separated Host header values the HTTP API answers for besides the "
          "listen address and localhost/127.0.0.1/[::1] with its port (e.g. "
          "attrib.internal:7412). Other Hosts get 421: against DNS rebinding.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain (server certificate first): serve TLS instead of plain "
          "TCP, so tokens and customer emails do not cross the network in clear text. "
          "Needs --tls_key.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key of --tls_cert (unencrypted; keep it readable only by attribd).");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "On SIGTERM, how long to wait for replies still being written before exiting.");
ABSL_FLAG(absl::Duration, linger_timeout, absl::Seconds(5),
          "After a reply that ends a connection (an error, shutdown, the connection "
          "limit, an HTTP error), how long the server keeps reading and discarding what "
          "the client still sends before closing: closing with unread bytes makes the "
          "kernel reset the connection, which can destroy the reply before the client "
          "reads it. Bounds how long a client that keeps sending holds the socket; 0: "
          "close at once.");
ABSL_FLAG(uint64_t, linger_max_bytes, 4 << 20,
          "Bytes discarded at most during that lingering close (then it closes), so a "
          "client streaming garbage cannot keep the server reading; the bytes are read "
          "into one small per-thread buffer and dropped.");
ABSL_FLAG(uint32_t, linger_max_refused, 64,
          "Connections refused over --max_connections that linger at once (each holds a "
          "descriptor until its client closes or --linger_timeout); beyond, a flood is "
          "closed at once without waiting. attribd reserves this many descriptors.");
ABSL_FLAG(absl::Duration, durability_stall_warning, absl::Seconds(1),
          "A reply held for durability longer than this while the log has nothing left "
          "to commit is logged as a warning: replies are then stalled (a bug), and the "
          "log says so at once instead of clients timing out one by one. Replies "
          "normally wait one fdatasync (milliseconds).");

namespace {

using attrib::engine::Engine;
using attrib::engine::EngineOptions;

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("auth_token_file: cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("auth_token_file: ", path, " is empty"));
  }
  return token;
}

// The server's view of the durability layer.
class DurabilityAdapter final : public attrib::net::DurabilityHooks {
 public:
  DurabilityAdapter(attrib::persistence::Durability* d,
                    const attrib::tools::AttribdReplication* replication)
      : d_(d), replication_(replication) {}
  absl::Status CanWrite() override {
    if (absl::Status s = replication_->CanWrite(); !s.ok()) return s;
    return d_->CanWrite();
  }
  absl::Status CanRead(uint64_t min_seq, bool may_wait) override {
    return replication_->CanRead(min_seq, may_wait);
  }
  uint64_t LastAssignedSeq() override { return d_->last_assigned_seq(); }
  uint64_t DurableSeq() override {
    return std::min(d_->durable_seq(), replication_->AcknowledgedSeq());
  }

 private:
  attrib::persistence::Durability* d_;
  const attrib::tools::AttribdReplication* replication_;
};

int Fail(const absl::Status& s) {
  attrib::log::Error("%s", s.message());
  return 2;
}

// Each client connection is a file descriptor: raise the soft RLIMIT_NOFILE towards
// the hard limit so that --max_connections can actually be reached, and warn when
// even the hard limit is too low (accept() would then fail with EMFILE first).
// `client_fds`: --max_connections plus the refused connections that may linger.
void RaiseFileLimit(size_t client_fds) {
  constexpr rlim_t kSpareFds = 256;  // Log segments, snapshots, listen sockets, stdio.
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t want = static_cast<rlim_t>(client_fds) + kSpareFds;
  if (limit.rlim_cur < want) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? want : std::min(want, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < want) {
    attrib::log::Warning(
        "open file limit is %d, below --max_connections + --linger_max_refused + %d = "
        "%d: connections beyond "
        "the limit fail at accept (raise `ulimit -n` / LimitNOFILE=)",
        static_cast<uint64_t>(limit.rlim_cur), static_cast<uint64_t>(kSpareFds),
        static_cast<uint64_t>(want));
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("attrib server. See README.md; flags: --helpfull.");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil runs the mutex deadlock detector on every lock (3.5x the cost);
  // the tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  attrib::log::SetProgramName("attribd");
  {
    absl::StatusOr<attrib::log::Level> level =
        attrib::log::ParseLevel(absl::GetFlag(FLAGS_log_level));
    if (!level.ok()) return Fail(level.status());
    attrib::log::SetLevel(*level);
  }

  // Block the stop signals in every thread; one thread takes them with sigwait().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // Reloads the API keys (below).
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  EngineOptions engine_options;
  const absl::StatusOr<attrib::engine::EmailPolicy> policy =
      attrib::engine::ParseEmailPolicy(absl::GetFlag(FLAGS_email_policy));
  if (!policy.ok()) return Fail(policy.status());
  engine_options.email_policy = *policy;
  const uint32_t shards = absl::GetFlag(FLAGS_shards);
  if (shards == 0 || shards > 65536 || (shards & (shards - 1)) != 0) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("shards: ", shards, " is not a power of two in [1, 65536]")));
  }
  engine_options.shard_count = shards;
  const absl::Duration window = absl::GetFlag(FLAGS_order_window);
  if (window <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("order_window: must be > 0"));
  }
  engine_options.order_window_ms = absl::ToInt64Milliseconds(window);

  attrib::net::ServerOptions server_options;
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.threads = absl::GetFlag(FLAGS_threads);
  server_options.frame_limits.max_frame_bytes = absl::GetFlag(FLAGS_max_frame_bytes);
  server_options.max_connections = absl::GetFlag(FLAGS_max_connections);
  server_options.max_queued_output_bytes = absl::GetFlag(FLAGS_max_queued_output_bytes);
  server_options.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  server_options.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  server_options.linger.timeout = absl::GetFlag(FLAGS_linger_timeout);
  server_options.linger.max_bytes = absl::GetFlag(FLAGS_linger_max_bytes);
  server_options.max_refused_lingering = absl::GetFlag(FLAGS_linger_max_refused);
  if (server_options.linger.timeout < absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("linger_timeout: must be >= 0"));
  }
  server_options.durability_stall_warning = absl::GetFlag(FLAGS_durability_stall_warning);
  server_options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  server_options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  if (server_options.tls_cert_file.empty() != server_options.tls_key_file.empty()) {
    return Fail(absl::InvalidArgumentError(
        server_options.tls_cert_file.empty()
            ? "tls_cert: --tls_key was given without --tls_cert; TLS needs both"
            : "tls_key: --tls_cert was given without --tls_key; TLS needs both"));
  }
  if (server_options.frame_limits.max_frame_bytes < 64) {
    return Fail(absl::InvalidArgumentError("max_frame_bytes: must be >= 64"));
  }
  // Before recovery, which can take seconds: a bad certificate fails the start now.
  if (absl::Status s = attrib::net::CheckTlsFiles(server_options); !s.ok()) return Fail(s);
  attrib::net::MetricsHttpOptions metrics_options;
  metrics_options.max_connections = absl::GetFlag(FLAGS_metrics_max_connections);
  metrics_options.read_timeout = absl::GetFlag(FLAGS_metrics_read_timeout);
  metrics_options.max_request_header_bytes = absl::GetFlag(FLAGS_metrics_max_header_bytes);
  metrics_options.linger = server_options.linger;
  if (metrics_options.max_connections == 0) {
    return Fail(absl::InvalidArgumentError("metrics_max_connections: must be >= 1"));
  }
  if (metrics_options.max_request_header_bytes < 256) {
    return Fail(absl::InvalidArgumentError("metrics_max_header_bytes: must be >= 256"));
  }
  if (metrics_options.read_timeout <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("metrics_read_timeout: must be > 0"));
  }

  attrib::net::HandlerOptions handler_options;
  // The keys of both front ends: --api_keys_file, and --auth_token_file as one admin
  // read-write key. Loaded again on SIGHUP.
  const std::string token_file = absl::GetFlag(FLAGS_auth_token_file);
  const std::string keys_file = absl::GetFlag(FLAGS_api_keys_file);
  const auto load_keys = [&]() -> absl::StatusOr<std::vector<attrib::service::ApiKey>> {
    std::vector<attrib::service::ApiKey> keys;
    if (!keys_file.empty()) {
      std::ifstream in(keys_file);
      if (!in) return absl::NotFoundError(absl::StrCat("api_keys_file: cannot read ", keys_file));
      std::stringstream ss;
      ss << in.rdbuf();
      absl::StatusOr<std::vector<attrib::service::ApiKey>> file_keys =
          attrib::service::ParseApiKeys(ss.str());
      if (!file_keys.ok()) return file_keys.status();
      keys = *std::move(file_keys);
    }
    if (!token_file.empty()) {
      absl::StatusOr<std::string> token = ReadToken(token_file);
      if (!token.ok()) return token.status();
      attrib::service::ApiKey key;
      key.name = "auth_token_file";
      key.sha256 = attrib::service::Sha256(*token);
      keys.push_back(std::move(key));
    }
    return keys;
  };
  std::unique_ptr<attrib::service::ApiKeys> api_keys;
  if (!keys_file.empty() || !token_file.empty()) {
    absl::StatusOr<std::vector<attrib::service::ApiKey>> keys = load_keys();
    if (!keys.ok()) return Fail(keys.status());
    api_keys = std::make_unique<attrib::service::ApiKeys>(*std::move(keys));
    handler_options.api_keys = api_keys.get();
  }
  absl::StatusOr<attrib::net::HostPort> listen =
      attrib::net::ParseHostPort(server_options.listen);
  if (!listen.ok()) return Fail(listen.status());
  const bool loopback = attrib::net::IsLoopbackHost(listen->host);
  if (!loopback && api_keys == nullptr && !absl::GetFlag(FLAGS_insecure)) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        "listen: ", server_options.listen,
        " is not a loopback address; give --api_keys_file or --auth_token_file (or --insecure to serve "
        "everyone who can reach it)")));
  }
  if (!loopback && api_keys == nullptr) {
    attrib::log::Warning("serving %s without authentication (--insecure)",
                         server_options.listen);
  }
  if (!loopback && !server_options.tls()) {
    attrib::log::Warning(
        "serving %s WITHOUT TLS: the auth token and customer emails cross the network in "
        "clear text; give --tls_cert and --tls_key (README.md, TLS)",
        server_options.listen);
  }
  attrib::http::HttpServerOptions http_options;
  http_options.listen = absl::GetFlag(FLAGS_http_listen);
  if (http_options.listen == "127.0.0.1:7412" && listen->port == 0) {
    http_options.listen = "127.0.0.1:0";
  }
  http_options.max_header_bytes = absl::GetFlag(FLAGS_http_max_header_bytes);
  http_options.max_body_bytes = absl::GetFlag(FLAGS_http_max_body_bytes);
  http_options.request_timeout = absl::GetFlag(FLAGS_http_request_timeout);
  http_options.max_connections = absl::GetFlag(FLAGS_http_max_connections);
  http_options.cors_origin = absl::GetFlag(FLAGS_http_cors_origin);
  http_options.linger = server_options.linger;
  http_options.max_refused_lingering = server_options.max_refused_lingering;
  http_options.api_keys = api_keys.get();
  for (absl::string_view h : absl::StrSplit(absl::GetFlag(FLAGS_http_allowed_hosts), ',',
                                            absl::SkipWhitespace())) {
    http_options.allowed_hosts.emplace_back(absl::StripAsciiWhitespace(h));
  }
  if (!http_options.listen.empty()) {
    absl::StatusOr<attrib::net::HostPort> hp = attrib::net::ParseHostPort(http_options.listen);
    if (!hp.ok()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("http_listen: ", hp.status().message())));
    }
    if (!attrib::net::IsLoopbackHost(hp->host) && api_keys == nullptr &&
        !absl::GetFlag(FLAGS_insecure)) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          "http_listen: ", http_options.listen,
          " is not a loopback address; give --api_keys_file or --auth_token_file (or --insecure to serve "
          "everyone who can reach it)")));
    }
    if (http_options.max_header_bytes < 1024 || http_options.max_body_bytes < 1024 ||
        http_options.max_connections == 0 ||
        http_options.request_timeout <= absl::ZeroDuration()) {
      return Fail(absl::InvalidArgumentError(
          "http_max_header_bytes and http_max_body_bytes must be >= 1024, "
          "http_max_connections >= 1, http_request_timeout > 0"));
    }
  }
  // The HTTP listener's connections need descriptors too.
  RaiseFileLimit(server_options.max_connections + server_options.max_refused_lingering +
                 (http_options.listen.empty() ? 0 : http_options.max_connections));

  attrib::persistence::DurabilityOptions durability_options;
  durability_options.data_dir = absl::GetFlag(FLAGS_data_dir);
  durability_options.meta.email_policy = *policy;
  durability_options.meta.shard_count = shards;
  absl::StatusOr<attrib::persistence::FsyncPolicy> fsync =
      attrib::persistence::ParseFsyncPolicy(absl::GetFlag(FLAGS_fsync));
  if (!fsync.ok()) return Fail(fsync.status());
  durability_options.fsync = *fsync;
  durability_options.segment_bytes = absl::GetFlag(FLAGS_wal_segment_bytes);
  durability_options.preallocate_segments = absl::GetFlag(FLAGS_wal_preallocate);
  durability_options.snapshot_every_bytes = absl::GetFlag(FLAGS_snapshot_every_bytes);
  durability_options.wal_archive = absl::GetFlag(FLAGS_wal_archive);
  const std::string recover = absl::GetFlag(FLAGS_recover);
  if (recover != "strict" && recover != "point-in-time") {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("recover: '", recover, "' is not one of strict, point-in-time")));
  }
  durability_options.point_in_time_recovery = recover == "point-in-time";
  if (durability_options.segment_bytes < 4096) {
    return Fail(absl::InvalidArgumentError("wal_segment_bytes: must be >= 4096"));
  }
  attrib::tools::AttribdReplication replication;
  if (absl::Status s = replication.Configure(&durability_options); !s.ok()) return Fail(s);
  absl::StatusOr<std::unique_ptr<attrib::persistence::Durability>> durability =
      attrib::persistence::Durability::Open(attrib::persistence::PosixFileSystem(),
                                            durability_options);
  if (!durability.ok()) return Fail(durability.status());

  if (absl::Status s = replication.Bootstrap(attrib::persistence::PosixFileSystem(),
                                             (*durability)->data_dir());
      !s.ok()) {
    return Fail(s);
  }
  engine_options.sink = durability->get();
  engine_options.max_webhook_endpoints_per_shop = attrib::tools::WebhookMaxEndpointsPerShop();
  Engine engine(engine_options);
  absl::StatusOr<attrib::persistence::RecoveryReport> report =
      (*durability)->RecoverAndStart(&engine);
  if (!report.ok()) return Fail(report.status());
  for (const std::string& w : report->warnings) attrib::log::Warning("%s", w);
  const uint64_t recovered_connections = engine.Stats().connections;
  attrib::log::Info(
      "recovered %d connections (snapshot %s: %.2f s; %d log records replayed: %.2f s); "
      "the log continues at seq %d",
      recovered_connections, report->snapshot.empty() ? "none" : report->snapshot,
      report->snapshot_seconds, report->replayed, report->replay_seconds, report->next_seq);

  // Webhook delivery from the log (issue 13): started once the server runs.
  absl::StatusOr<std::unique_ptr<attrib::tools::AttribdWebhooks>> webhooks =
      attrib::tools::SetUpWebhooks(&engine, durability->get(),
                                   attrib::persistence::PosixFileSystem());
  if (!webhooks.ok()) return Fail(webhooks.status());
  attrib::webhooks::Dispatcher* dispatcher = (*webhooks)->dispatcher.get();

  attrib::net::Server* server_ptr = nullptr;
  handler_options.server_facts = [&server_ptr] {
    return server_ptr ? server_ptr->Facts() : attrib::net::ServerFacts{};
  };
  // On every way out, replication stops (it applies to the engine and the log)
  // before they go away.
  absl::Cleanup stop_replication = [&replication] { replication.Shutdown(); };
  if (absl::Status s = replication.Start(attrib::persistence::PosixFileSystem(),
                                         durability->get(), &engine);
      !s.ok()) {
    return Fail(s);
  }
  DurabilityAdapter hooks(durability->get(), &replication);
  const auto promote = [&replication](bool force)
      -> absl::StatusOr<attrib::service::PromoteResult> {
    absl::StatusOr<attrib::tools::AttribdReplication::PromoteResult> r =
        replication.Promote(force);
    if (!r.ok()) return r.status();
    return attrib::service::PromoteResult{r->epoch, r->seq, r->applied_seq, r->primary_seq};
  };
  handler_options.durability = &hooks;
  server_options.durability = &hooks;
  handler_options.snapshot = [d = durability->get()] { return d->SnapshotNow().status(); };
  // One service layer under both front ends: the same scopes, durability rules and
  // counters whichever protocol a request came in by.
  attrib::service::Service service(
      &engine, attrib::service::ServiceOptions{handler_options.server_facts,
                                               handler_options.snapshot, &hooks,
                                               (*webhooks)->hooks, promote});
  attrib::net::RequestHandler handler(&service, handler_options);
  attrib::net::Server server(&handler, server_options);
  server_ptr = &server;
  std::unique_ptr<attrib::http::HttpServer> http;
  if (!http_options.listen.empty()) {
    http = std::make_unique<attrib::http::HttpServer>(&service, http_options);
  }
  // The log's commit thread releases the held replies of both front ends.
  // With --sync_replicas, through the replicas' acknowledgements first.
  replication.SetDurableSink([&server, http = http.get(), dispatcher](uint64_t seq) {
    server.NotifyDurable(seq);
    if (http != nullptr) http->NotifyDurable(seq);
    dispatcher->NotifyDurable();
  });
  (*durability)->SetDurableCallback(
      [&replication](uint64_t seq) { replication.OnLocalDurable(seq); });
  if (absl::Status s = server.Start(); !s.ok()) return Fail(s);
  std::string http_note;
  if (http != nullptr) {
    if (absl::Status s = http->Start(); !s.ok()) {
      server.Shutdown();
      server.Wait();
      return Fail(s);
    }
    http_note = absl::StrCat(", http on http://", http->bound_address(), ", admin page http://",
                            http->bound_address(), "/admin/");
  }

  // The replication listener's welcome names the servers' addresses (a replica's
  // not_primary errors point there), so it starts once they listen.
  if (absl::Status s = replication.StartListener(
          server.bound_address(), http != nullptr ? http->bound_address() : "");
      !s.ok()) {
    server.Shutdown();
    server.Wait();
    if (http != nullptr) http->Shutdown();
    return Fail(s);
  }

  // Metrics: a separate HTTP server on its own thread, reading every layer's figures.
  attrib::tools::AttribdMetricsSources metrics_sources;
  metrics_sources.engine = &engine;
  metrics_sources.handler = &handler;
  metrics_sources.server = &server;
  metrics_sources.durability = durability->get();
  metrics_sources.webhooks = dispatcher;
  metrics_sources.recovery = *report;
  metrics_sources.recovered_connections = recovered_connections;
  metrics_sources.more = [&replication](attrib::metrics::MetricsText& m) {
    replication.WriteMetrics(m);
  };
  std::unique_ptr<attrib::net::MetricsHttpServer> metrics;
  std::string metrics_note;
  if (const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
      !metrics_listen.empty()) {
    metrics = std::make_unique<attrib::net::MetricsHttpServer>(
        metrics_listen,
        [&metrics_sources] { return attrib::tools::CollectAttribdMetrics(metrics_sources); },
        metrics_options);
    if (absl::Status s = metrics->Start(); !s.ok()) {
      server.Shutdown();
      server.Wait();
      return Fail(s);
    }
    absl::StatusOr<attrib::net::HostPort> hp = attrib::net::ParseHostPort(metrics_listen);
    if (hp.ok() && !attrib::net::IsLoopbackHost(hp->host)) {
      attrib::log::Warning(
          "metrics on non-loopback %s: anyone who can reach it sees request volumes and "
          "store sizes (no emails)",
          metrics_listen);
    }
    metrics_note = absl::StrCat(", metrics on ", metrics->bound_address());
  }
  metrics_note += replication.Describe();

  const std::string address = server.bound_address();
  std::printf(
      "attribd: listening on %s (threads %d, email policy %s, auth %s, tls %s, data dir "
      "%s, fsync %s%s%s); try: attribctl %s--server %s ping\n",
      address.c_str(),
      server_options.threads > 0 ? server_options.threads
                                 : static_cast<int>(std::thread::hardware_concurrency()),
      std::string(attrib::engine::EmailPolicyName(*policy)).c_str(),
      api_keys == nullptr ? "off" : keys_file.empty() ? "token" : "keys",
      server_options.tls() ? "on" : "off", absl::GetFlag(FLAGS_data_dir).c_str(),
      std::string(attrib::persistence::FsyncPolicyName(*fsync)).c_str(), metrics_note.c_str(),
      http_note.c_str(),
      server_options.tls() ? "--tls_ca=CA.pem " : "", address.c_str());
  std::fflush(stdout);
  dispatcher->Start();

  // Recovery leaves the list order of every shard to be sorted (list_index.h):
  // do it now, off the start path, so that no list page pays for it. Each shard is
  // taken under its shared lock in turn: lookups go on, a shard's writes wait for
  // its few milliseconds. Nothing to sort (and no log line) after an empty recovery.
  std::thread list_order_warmer;
  if (recovered_connections > 0) {
    list_order_warmer = std::thread([&engine, recovered_connections] {
      const auto start = std::chrono::steady_clock::now();
      engine.store().RefreshListOrders();
      attrib::log::Info(
          "list order of %d recovered connections sorted in %.2f s", recovered_connections,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    });
  }

  std::thread signal_waiter([&] {
    int sig = 0;
    for (;;) {
      sigwait(&stop_signals, &sig);
      if (sig != SIGHUP) break;
      if (api_keys == nullptr) {
        attrib::log::Warning("SIGHUP: no --api_keys_file or --auth_token_file to reload");
        continue;
      }
      absl::StatusOr<std::vector<attrib::service::ApiKey>> keys = load_keys();
      if (!keys.ok()) {
        attrib::log::Error("SIGHUP: keeping the current API keys: %s", keys.status().message());
        continue;
      }
      const size_t n = keys->size();
      api_keys->Replace(*std::move(keys));
      attrib::log::Info("SIGHUP: reloaded %d API keys", n);
    }
    attrib::log::Info("%s: draining and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Shutdown();
  });
  server.Wait();
  signal_waiter.join();
  if (http != nullptr) http->Shutdown();
  if (list_order_warmer.joinable()) list_order_warmer.join();
  replication.Shutdown();  // Stops following before the log closes.
  dispatcher->Stop();  // Each deliverer saves its cursor.
  if (metrics != nullptr) metrics->Shutdown();  // Before the sources it reads go away.
  // A final snapshot makes the next start fast; the log is flushed and closed.
  if (absl::Status s = (*durability)->Shutdown(/*final_snapshot=*/true); !s.ok()) {
    attrib::log::Error("shutdown: %s", s.message());
  }
  attrib::log::Info("stopped (%d connections served)", server.Facts().accepted_clients);
  return 0;
}
