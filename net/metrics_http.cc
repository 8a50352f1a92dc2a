// net/metrics_http.cc: the /metrics HTTP server (see metrics_http.h).
#include <utility>  // Before asio (g++ 12 + C++20).

#include "net/metrics_http.h"

#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "net/lingering_close.h"
#include "net/listen_socket.h"

namespace attrib::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

class ScrapeConnection;

struct Shared {
  std::function<std::string()> collect;
  MetricsHttpOptions options;
  std::unordered_set<ScrapeConnection*> sessions;  // Metrics thread only.
  // Connections in their lingering close, after a final response (metrics thread
  // only). Those of sessions count toward max_connections (each holds a descriptor);
  // those refused with 503 are bounded apart, by max_connections too.
  size_t lingering = 0;
  size_t refusing = 0;
};

class ScrapeConnection : public std::enable_shared_from_this<ScrapeConnection> {
 public:
  ScrapeConnection(tcp::socket socket, Shared* shared)
      : stream_(std::move(socket)),
        shared_(shared),
        buffer_(shared->options.max_request_header_bytes) {}
  void Start() {
    shared_->sessions.insert(this);
    Read();
  }
  // Over max_connections: 503, then close (the connection was never a session).
  void Refuse() {
    refused_ = true;
    ++shared_->refusing;
    Reply(http::status::service_unavailable,
          "too many metrics connections (--metrics_max_connections); try again later\n",
          false, false);
  }
  // `linger`: a final response was written and the client may still be sending
  // (net/lingering_close.h); else close at once (it closed first, or is gone).
  void Close(bool linger) {
    if (closed_) return;
    closed_ = true;
    shared_->sessions.erase(this);
    // A refusal is counted from Refuse() on; a session counts as lingering from here.
    size_t* count = refused_ ? &shared_->refusing : &shared_->lingering;
    if (linger) {
      if (!refused_) ++*count;
      // release_socket() cancels the stream's timer; the socket leaves the stream.
      LingeringClose(stream_.release_socket(), shared_->options.linger,
                     [count] { --*count; });
      return;
    }
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (refused_) --*count;
  }

 private:
  void Read() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_request_header_bytes));
    parser_->body_limit(0);
    stream_.expires_after(absl::ToChronoNanoseconds(shared_->options.read_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (closed_) return;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      Reply(http::status::request_header_fields_too_large,
            "request header over --metrics_max_header_bytes\n", false, false);
      return;
    }
    if (ec == http::error::body_limit) {
      Reply(http::status::payload_too_large, "a metrics request has no body\n", false,
            false);
      return;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message &&
        ec != http::error::short_read) {
      // Not HTTP/1.x (a bad request line, header or length): say so, then close.
      Reply(http::status::bad_request, absl::StrCat("bad request: ", ec.message(), "\n"),
            false, false);
      return;
    }
    if (ec) {
      // EOF (the client closed), the read timeout (Beast closed the socket), a reset:
      // nobody to answer.
      Close(/*linger=*/false);
      return;
    }
    const http::request<http::empty_body>& request = parser_->get();
    absl::string_view target(request.target().data(), request.target().size());
    target = target.substr(0, target.find('?'));
    const bool keep_alive = request.keep_alive();
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      Reply(http::status::method_not_allowed, "only GET and HEAD\n", keep_alive, false);
    } else if (target != "/metrics") {
      Reply(http::status::not_found, "not found: the metrics are at /metrics\n", keep_alive,
            head);
    } else {
      Reply(http::status::ok, shared_->collect(), keep_alive, head);
    }
  }

  void Reply(http::status status, std::string body, bool keep_alive, bool head) {
    auto response = std::make_shared<http::response<http::string_body>>(status, 11);
    response->set(http::field::server, "attribd");
    response->set(http::field::content_type, status == http::status::ok
                                                 ? "text/plain; version=0.0.4; charset=utf-8"
                                                 : "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) response->set(http::field::allow, "GET, HEAD");
    response->keep_alive(keep_alive);
    // HEAD: the length of the body GET would send, and no body.
    response->content_length(body.size());
    if (!head) response->body() = std::move(body);
    stream_.expires_after(absl::ToChronoNanoseconds(shared_->options.read_timeout));
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response, keep_alive](error_code ec, size_t) {
                        if (ec || !keep_alive) {
                          self->Close(/*linger=*/!ec);
                        } else {
                          self->Read();
                        }
                      });
  }

  beast::tcp_stream stream_;
  Shared* const shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  bool closed_ = false;
  bool refused_ = false;
};

}  // namespace

struct MetricsHttpServer::Impl {
  std::string listen;
  Shared shared;
  asio::io_context context{1};
  std::optional<tcp::acceptor> acceptor;
  std::string bound;
  std::thread thread;
  bool started = false;
  bool stopped = false;

  void Accept() {
    acceptor->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        const size_t limit = shared.options.max_connections;
        if (shared.sessions.size() + shared.lingering < limit) {
          std::make_shared<ScrapeConnection>(std::move(socket), &shared)->Start();
        } else if (shared.refusing < limit) {
          std::make_shared<ScrapeConnection>(std::move(socket), &shared)->Refuse();
        } else {
          // A flood: beyond the refusals in progress, close at once.
          error_code ignored;
          socket.close(ignored);
        }
      }
      Accept();
    });
  }
};

MetricsHttpServer::MetricsHttpServer(std::string listen, std::function<std::string()> collect,
                                     MetricsHttpOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->shared.collect = std::move(collect);
  impl_->shared.options = options;
}

MetricsHttpServer::~MetricsHttpServer() { Shutdown(); }

absl::Status MetricsHttpServer::Start() {
  Impl& m = *impl_;
  m.acceptor.emplace(m.context);
  absl::StatusOr<std::string> bound =
      internal::OpenListenSocket("metrics_listen", m.listen, &*m.acceptor);
  if (!bound.ok()) return bound.status();
  m.bound = *std::move(bound);
  m.Accept();
  m.started = true;
  m.thread = std::thread([&m] { m.context.run(); });
  return absl::OkStatus();
}

std::string MetricsHttpServer::bound_address() const { return impl_->bound; }

void MetricsHttpServer::Shutdown() {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  asio::post(m.context, [&m] {
    error_code ignored;
    m.acceptor->close(ignored);
    // Close() erases from the set: iterate over a copy.
    const std::unordered_set<ScrapeConnection*> sessions = m.shared.sessions;
    for (ScrapeConnection* s : sessions) s->Close(/*linger=*/false);
    m.context.stop();
  });
  m.thread.join();
}

}  // namespace attrib::net
