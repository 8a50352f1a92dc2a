// http/http_server.cc: the HTTP/1.1 listener of the JSON API (see http_server.h).
#include <utility>  // Before asio (g++ 12 + C++20).

#include "http/http_server.h"

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "net/lingering_close.h"
#include "absl/strings/string_view.h"
#include "http/admin_assets.h"
#include "http/api.h"
#include "net/listen_socket.h"

namespace attrib::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

class ApiConnection;

struct Shared {
  service::Service* service = nullptr;
  Api* api = nullptr;
  HttpServerOptions options;
  std::vector<std::string> hosts;  // Accepted Host values (lowercase).
  std::unordered_set<ApiConnection*> connections;  // I/O thread only.
  // Responses held for durability, by the seq they wait for (I/O thread only). The
  // entry keeps its connection alive: no I/O is pending on it meanwhile.
  std::multimap<uint64_t, std::shared_ptr<ApiConnection>> parked;
  std::atomic<uint64_t> durable_seq{0};
  std::atomic<size_t> refused_lingering{0};  // Refuse(): 503s still lingering.
  // Connections closed by CloseLingering() that still linger: they count against
  // max_connections (each holds a descriptor until its client closes or the bound).
  size_t lingering = 0;  // I/O thread only.
};

absl::string_view View(beast::string_view s) { return absl::string_view(s.data(), s.size()); }

class ApiConnection : public std::enable_shared_from_this<ApiConnection> {
 public:
  ApiConnection(tcp::socket socket, Shared* shared)
      : stream_(std::move(socket)), shared_(shared) {}
  void Start() {
    shared_->connections.insert(this);
    Read();
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    shared_->connections.erase(this);
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }
  // After a response that ends the connection: the client may still be sending (the
  // rest of a body over the limit, garbage), and closing now would reset the
  // connection and could discard the response; linger instead (bounded).
  void CloseLingering() {
    if (closed_) return;
    closed_ = true;
    shared_->connections.erase(this);
    stream_.expires_never();
    ++shared_->lingering;
    net::LingeringClose(stream_.release_socket(), shared_->options.linger,
                        [shared = shared_] { --shared->lingering; });
  }
  // The log became durable up to what the parked response waits for.
  void Release() {
    if (closed_ || !parked_) return;
    parked_ = false;
    Write();
  }

 private:
  void Read() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    // The whole request (header and body) must arrive within the timeout.
    stream_.expires_after(absl::ToChronoNanoseconds(shared_->options.request_timeout));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (closed_) return;
    extra_headers_.clear();
    keep_alive_ = false;
    head_ = http10_ = cors_ = false;
    cache_control_ = "no-store";
    if (ec == bhttp::error::header_limit) {
      return Fail(431, absl::ResourceExhaustedError(absl::StrCat(
                           "request header: over ", shared_->options.max_header_bytes,
                           " bytes (--http_max_header_bytes)")));
    }
    if (ec == bhttp::error::body_limit) {
      return Fail(413, absl::ResourceExhaustedError(absl::StrCat(
                           "request body: over ", shared_->options.max_body_bytes,
                           " bytes (--http_max_body_bytes)")));
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec) return Fail(400, absl::InvalidArgumentError(absl::StrCat("request: ", ec.message())));
    bhttp::request<bhttp::string_body>& req = parser_->get();
    keep_alive_ = req.keep_alive();
    http10_ = req.version() == 10;
    head_ = req.method() == bhttp::verb::head;
    Handle(req);
  }

  void Handle(bhttp::request<bhttp::string_body>& req) {
    const absl::string_view target = View(req.target());
    const absl::string_view path = target.substr(0, target.find('?'));
    const absl::string_view origin = View(req[bhttp::field::origin]);
    cors_ = !shared_->options.cors_origin.empty() && origin == shared_->options.cors_origin;
    if (!HostAllowed(req)) return;
    if (req.method() == bhttp::verb::options && cors_) return Preflight();
    if (path == "/admin" || absl::StartsWith(path, "/admin/")) return ServeAdmin(req, path);
    const bool open = path == "/healthz" || path == "/readyz" || path == "/v1/openapi.json";
    service::Scope scope = service::Scope::Admin();
    if (!open && shared_->options.api_keys != nullptr) {
      const absl::string_view auth = View(req[bhttp::field::authorization]);
      constexpr absl::string_view kBearer = "Bearer ";
      std::optional<service::Principal> who;
      if (absl::StartsWithIgnoreCase(auth, kBearer)) {
        who = shared_->options.api_keys->Authenticate(auth.substr(kBearer.size()));
      }
      if (!who.has_value()) {
        extra_headers_ += "WWW-Authenticate: Bearer\r\n";
        return Fail(401, absl::UnauthenticatedError(
                             "auth: this server needs `Authorization: Bearer <key>`"));
      }
      scope = who->scope;
    }
    if (!req.body().empty()) {
      const absl::string_view type = View(req[bhttp::field::content_type]);
      const absl::string_view media = absl::StripAsciiWhitespace(type.substr(0, type.find(';')));
      if (!absl::EqualsIgnoreCase(media, "application/json")) {
        return Fail(415, absl::InvalidArgumentError(absl::StrCat(
                             "Content-Type: a body must be application/json, not \"", type,
                             "\"")));
      }
    }
    ApiRequest request;
    request.method = View(req.method_string());
    request.target = target;
    request.content_type = View(req[bhttp::field::content_type]);
    request.body = &req.body();
    request.scope = scope;
    ApiResponse out;
    shared_->api->Handle(request, &out);
    Build(out);
    if (out.wait_for_seq > shared_->durable_seq.load(std::memory_order_acquire)) {
      parked_ = true;
      shared_->parked.emplace(out.wait_for_seq, shared_from_this());
      return;
    }
    Write();
  }

  bool HostAllowed(const bhttp::request<bhttp::string_body>& req) {
    const auto it = req.find(bhttp::field::host);
    if (it == req.end()) {
      Fail(400, absl::InvalidArgumentError("Host: required"));
      return false;
    }
    const std::string host = absl::AsciiStrToLower(View(it->value()));
    for (const std::string& h : shared_->hosts) {
      if (h == host) return true;
    }
    Fail(421, absl::PermissionDeniedError(
                  absl::StrCat("Host: \"", host, "\" is not a name this server answers for "
                               "(--http_allowed_hosts)")));
    return false;
  }

  // The admin page's files (admin_assets.h): no key needed, the page holds no data.
  void ServeAdmin(const bhttp::request<bhttp::string_body>& req, absl::string_view path) {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      extra_headers_ += "Allow: GET, HEAD\r\n";
      return Fail(405, absl::InvalidArgumentError(absl::StrCat(path, ": only GET and HEAD")));
    }
    if (path == "/admin") {
      extra_headers_ += "Location: /admin/\r\n";
      status_ = 308;
      content_type_ = nullptr;
      body_.clear();
      Finish();
      return Write();
    }
    const AdminAsset* asset = FindAdminAsset(path);
    if (asset == nullptr) {
      return Fail(404, absl::NotFoundError(absl::StrCat(path, ": no such file of the admin page")));
    }
    cache_control_ = nullptr;  // AdminAssetHeaders() says it.
    absl::StrAppend(&extra_headers_, AdminAssetHeaders(), "ETag: ", asset->etag, "\r\n");
    content_type_ = asset->content_type;
    if (View(req[bhttp::field::if_none_match]) == asset->etag) {
      // Content-Length as the 200 would have it, no body (as for HEAD).
      status_ = 304;
      body_.assign(asset->body.data(), asset->body.size());
      head_ = true;
      Finish();
      return Write();
    }
    status_ = 200;
    body_.assign(asset->body.data(), asset->body.size());
    Finish();
    Write();
  }

  void Preflight() {
    extra_headers_ +=
        "Access-Control-Allow-Methods: GET, POST, PUT, PATCH, DELETE\r\n"
        "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
        "Access-Control-Max-Age: 600\r\n";
    status_ = 204;
    content_type_ = nullptr;
    body_.clear();
    Finish();
    Write();
  }

  void Fail(int status, const absl::Status& why) {
    ApiResponse out;
    Problem(why, &out, status);
    // The stream may hold the rest of a request we did not read: close after this.
    if (status == 400 || status == 413 || status == 431) keep_alive_ = false;
    Build(out);
    Write();
  }

  void Build(ApiResponse& out) {
    status_ = out.status;
    content_type_ = out.content_type;
    if (out.allow != nullptr) absl::StrAppend(&extra_headers_, "Allow: ", out.allow, "\r\n");
    // Issue 16: a write's sequence number, for ?min_seq= reads on a replica.
    if (out.wait_for_seq != 0) {
      absl::StrAppend(&extra_headers_, "Attrib-Seq: ", out.wait_for_seq, "\r\n");
    }
    body_ = std::move(out.body);
    Finish();
  }

  // The response head, written by hand: a Beast header map would cost an allocation
  // per field on every response.
  void Finish() {
    const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status_));
    head_bytes_.clear();
    absl::StrAppend(&head_bytes_, "HTTP/1.1 ", status_, " ", View(reason), "\r\nServer: attribd\r\n");
    if (cache_control_ != nullptr) {
      absl::StrAppend(&head_bytes_, "Cache-Control: ", cache_control_, "\r\n");
    }
    if (content_type_ != nullptr) {
      absl::StrAppend(&head_bytes_, "Content-Type: ", content_type_, "\r\n");
    }
    if (cors_) {
      absl::StrAppend(&head_bytes_, "Access-Control-Allow-Origin: ",
                      shared_->options.cors_origin, "\r\nVary: Origin\r\n");
    }
    // HTTP/1.1 keeps a connection by default; an HTTP/1.0 keep-alive is said.
    if (!keep_alive_) {
      head_bytes_ += "Connection: close\r\n";
    } else if (http10_) {
      head_bytes_ += "Connection: keep-alive\r\n";
    }
    absl::StrAppend(&head_bytes_, extra_headers_, "Content-Length: ", body_.size(), "\r\n\r\n");
    if (head_) body_.clear();  // HEAD: the length GET would send, no body.
  }

  void Write() {
    stream_.expires_after(absl::ToChronoNanoseconds(shared_->options.request_timeout));
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_bytes_),
                                                       asio::buffer(body_)};
    asio::async_write(stream_, buffers,
                      [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (ec) return Close();
    if (!keep_alive_) return CloseLingering();
    Read();
  }

  beast::tcp_stream stream_;
  Shared* const shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  int status_ = 200;
  const char* content_type_ = nullptr;
  const char* cache_control_ = "no-store";  // Null: extra_headers_ says it.
  std::string extra_headers_;  // "Name: value\r\n" lines of this response.
  std::string head_bytes_;
  std::string body_;
  bool http10_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  bool cors_ = false;
  bool parked_ = false;
  bool closed_ = false;
};

// Answers a connection over the limit with a 503 and closes it, lingering (at most
// max_refused_lingering at once; beyond, a flood is closed at once).
void Refuse(tcp::socket socket, Shared* shared) {
  static const std::string kReply = [] {
    const std::string body =
        "{\"type\":\"urn:attrib:problem:unavailable\",\"title\":\"Service Unavailable\","
        "\"status\":503,\"detail\":\"connections: the server is at --http_max_connections\","
        "\"code\":\"unavailable\"}";
    return absl::StrCat("HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                        "application/problem+json\r\nConnection: close\r\nContent-Length: ",
                        body.size(), "\r\n\r\n", body);
  }();
  if (shared->refused_lingering.fetch_add(1) >= shared->options.max_refused_lingering) {
    shared->refused_lingering.fetch_sub(1);
    error_code ignored;
    socket.close(ignored);
    return;
  }
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*s, asio::buffer(kReply), [s, shared](error_code ec, size_t) {
    const auto done = [shared] { shared->refused_lingering.fetch_sub(1); };
    if (ec) {
      error_code ignored;
      s->close(ignored);
      done();
      return;
    }
    net::LingeringClose(std::move(*s), shared->options.linger, done);
  });
}

}  // namespace

struct HttpServer::Impl {
  Shared shared;
  std::unique_ptr<Api> api;
  asio::io_context context{1};
  std::optional<tcp::acceptor> acceptor;
  std::string bound;
  std::thread thread;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

  void Accept() {
    acceptor->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        if (shared.connections.size() + shared.lingering >= shared.options.max_connections) {
          Refuse(std::move(socket), &shared);
        } else {
          std::make_shared<ApiConnection>(std::move(socket), &shared)->Start();
        }
      }
      Accept();
    });
  }

  void ReleaseDurable() {
    const uint64_t durable = shared.durable_seq.load(std::memory_order_acquire);
    while (!shared.parked.empty() && shared.parked.begin()->first <= durable) {
      std::shared_ptr<ApiConnection> c = std::move(shared.parked.begin()->second);
      shared.parked.erase(shared.parked.begin());
      c->Release();
    }
  }
};

HttpServer::HttpServer(service::Service* service, HttpServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared.service = service;
  impl_->shared.options = std::move(options);
  impl_->api = std::make_unique<Api>(service);
  impl_->shared.api = impl_->api.get();
}

HttpServer::~HttpServer() { Shutdown(); }

absl::Status HttpServer::Start() {
  Impl& m = *impl_;
  m.acceptor.emplace(m.context);
  absl::StatusOr<std::string> bound =
      net::internal::OpenListenSocket("http_listen", m.shared.options.listen, &*m.acceptor);
  if (!bound.ok()) return bound.status();
  m.bound = *std::move(bound);
  const std::string port = m.bound.substr(m.bound.rfind(':') + 1);
  std::vector<std::string>& hosts = m.shared.hosts;
  hosts = {absl::AsciiStrToLower(m.bound), absl::StrCat("localhost:", port),
           absl::StrCat("127.0.0.1:", port), absl::StrCat("[::1]:", port)};
  const absl::string_view listen_host =
      absl::string_view(m.shared.options.listen)
          .substr(0, m.shared.options.listen.rfind(':'));
  if (!listen_host.empty()) hosts.push_back(absl::StrCat(absl::AsciiStrToLower(listen_host), ":", port));
  for (const std::string& h : m.shared.options.allowed_hosts) {
    hosts.push_back(absl::AsciiStrToLower(h));
  }
  m.Accept();
  m.started = true;
  m.thread = std::thread([&m] { m.context.run(); });
  return absl::OkStatus();
}

std::string HttpServer::bound_address() const { return impl_->bound; }

void HttpServer::NotifyDurable(uint64_t seq) {
  Impl& m = *impl_;
  uint64_t seen = m.shared.durable_seq.load(std::memory_order_relaxed);
  while (seen < seq && !m.shared.durable_seq.compare_exchange_weak(
                           seen, seq, std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
  if (!m.started || m.stopped) return;
  asio::post(m.context, [&m] { m.ReleaseDurable(); });
}

void HttpServer::Shutdown() {
  Impl& m = *impl_;
  if (!m.started || m.stopped.exchange(true)) return;
  asio::post(m.context, [&m] {
    error_code ignored;
    m.acceptor->close(ignored);
    const std::unordered_set<ApiConnection*> connections = m.shared.connections;
    for (ApiConnection* c : connections) c->Close();
    m.shared.parked.clear();
    m.context.stop();
  });
  m.thread.join();
}

}  // namespace attrib::http
