// webhooks/http_sender.cc: webhook POSTs with Boost.Beast (see the header).
#include <utility>  // Before asio (g++ 12 + C++20).

#include "webhooks/http_sender.h"

#include <chrono>
#include <optional>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace attrib::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const asio::ip::address a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

}  // namespace

absl::StatusOr<Url> ParseUrl(absl::string_view url, bool allow_plain_http) {
  Url out;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    out.tls = true;
  } else if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError("url: must start with http:// or https://");
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  out.target = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) return absl::InvalidArgumentError("url: has no host");
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError("url: user:password@ is not allowed (use the signature)");
  }
  absl::string_view host = authority, port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("url: bad [v6] host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return absl::InvalidArgumentError("url: bad port");
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  uint32_t p = 0;
  if (!port.empty() && (!absl::SimpleAtoi(port, &p) || p == 0 || p > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat("url: bad port '", port, "'"));
  }
  out.host = absl::AsciiStrToLower(host);
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  if (!out.tls && !allow_plain_http && !IsLoopback(out.host)) {
    return absl::InvalidArgumentError(
        "url: plain http is only allowed to a loopback host (127.0.0.1, ::1, localhost); "
        "use https, or --webhook_allow_plain_http");
  }
  return out;
}

// The open connection: plain or TLS, to `key` (host:port:tls).
struct HttpSender::Conn {
  asio::io_context ioc;
  std::optional<ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  std::string key;
  beast::flat_buffer buffer;
  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

HttpSender::HttpSender(HttpSenderOptions options) : options_(std::move(options)) {}
HttpSender::~HttpSender() = default;

absl::StatusOr<int> HttpSender::Post(
    const Url& url, const std::vector<std::pair<std::string, std::string>>& headers,
    absl::string_view body) {
  const bool reused = conn_ != nullptr;
  absl::StatusOr<int> status = PostOnce(url, headers, body);
  if (!status.ok() && reused && status.status().code() == absl::StatusCode::kUnavailable) {
    status = PostOnce(url, headers, body);  // The receiver closed the idle connection.
  }
  return status;
}

absl::StatusOr<int> HttpSender::PostOnce(
    const Url& url, const std::vector<std::pair<std::string, std::string>>& headers,
    absl::string_view body) {
  const auto limit = std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.timeout));
  const std::string key = absl::StrCat(url.host, ":", url.port, url.tls ? ":tls" : "");
  beast::error_code result;
  const auto fail = [&](absl::string_view what) -> absl::Status {
    conn_.reset();  // Reopened on the next call.
    const std::string message =
        absl::StrCat("webhook ", url.host, ":", url.port, ": ", what, ": ", result.message());
    return result == beast::error::timeout ? absl::DeadlineExceededError(message)
                                           : absl::UnavailableError(message);
  };
  if (conn_ == nullptr || conn_->key != key) {
    conn_ = std::make_unique<Conn>();
    Conn& c = *conn_;
    c.key = key;
    tcp::resolver resolver(c.ioc);
    const auto endpoints = resolver.resolve(url.host, url.port, result);
    if (result) return fail("resolve");
    if (url.tls) {
      c.tls_ctx.emplace(ssl::context::tls_client);
      c.tls_ctx->set_verify_mode(ssl::verify_peer);
      if (options_.ca_file.empty()) {
        c.tls_ctx->set_default_verify_paths(result);
      } else {
        c.tls_ctx->load_verify_file(options_.ca_file, result);
      }
      if (result) return fail("loading CA certificates");
      c.secure.emplace(c.ioc, *c.tls_ctx);
      SSL_set_tlsext_host_name(c.secure->native_handle(), url.host.c_str());
      c.secure->set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      c.plain.emplace(c.ioc);
    }
    c.tcp().expires_after(limit);
    c.tcp().async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
      result = e;
    });
    c.ioc.restart();
    c.ioc.run();
    if (result) return fail("connect");
    if (url.tls) {
      c.tcp().expires_after(limit);
      c.secure->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
        result = e;
      });
      c.ioc.restart();
      c.ioc.run();
      if (result) return fail("TLS handshake");
    }
  }
  Conn& c = *conn_;
  http::request<http::string_body> req{http::verb::post, url.target, 11};
  req.set(http::field::host, url.host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "attrib-webhooks/1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  req.keep_alive(true);
  req.prepare_payload();
  http::response<http::string_body> res;
  c.tcp().expires_after(limit);
  const auto on_read = [&](beast::error_code e, size_t) { result = e; };
  const auto on_write = [&](beast::error_code e, size_t) {
    result = e;
    if (e) return;
    c.tcp().expires_after(limit);
    if (c.secure) {
      http::async_read(*c.secure, c.buffer, res, on_read);
    } else {
      http::async_read(*c.plain, c.buffer, res, on_read);
    }
  };
  if (c.secure) {
    http::async_write(*c.secure, req, on_write);
  } else {
    http::async_write(*c.plain, req, on_write);
  }
  c.ioc.restart();
  c.ioc.run();
  if (result) return fail("POST");
  if (!res.keep_alive()) conn_.reset();
  return static_cast<int>(res.result_int());
}

}  // namespace attrib::webhooks
