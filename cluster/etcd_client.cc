// cluster/etcd_client.cc: etcd's JSON gateway over Boost.Beast (see the header).
#include <utility>  // Before asio (g++ 12 + C++20).

#include "cluster/etcd_client.h"

#include <chrono>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace attrib::cluster {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One request to one endpoint, bounded by `timeout`. `status` gets the HTTP status.
absl::StatusOr<std::string> PostOnce(const std::string& endpoint, absl::string_view path,
                                     absl::string_view body, absl::Duration timeout,
                                     unsigned* status) {
  const size_t colon = endpoint.rfind(':');
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto results =
      resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("etcd ", endpoint, ": ", ec.message()));
  const auto limit = std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout));
  http::request<http::string_body> req{http::verb::post, std::string(path), 11};
  req.set(http::field::host, endpoint);
  req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::error_code result;
  stream.expires_after(limit);
  stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      result = e;
      return;
    }
    stream.expires_after(limit);
    http::async_write(stream, req, [&](beast::error_code e2, size_t) {
      if (e2) {
        result = e2;
        return;
      }
      stream.expires_after(limit);
      http::async_read(stream, buffer, res, [&](beast::error_code e3, size_t) { result = e3; });
    });
  });
  ioc.run();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (result) {
    return absl::UnavailableError(absl::StrCat("etcd ", endpoint, path, ": ", result.message()));
  }
  *status = res.result_int();
  return std::move(res.body());
}

absl::StatusCode CodeOfHttp(unsigned status) {
  switch (status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 404: return absl::StatusCode::kNotFound;
    case 408:
    case 503:
    case 504: return absl::StatusCode::kUnavailable;
    default: return status >= 500 ? absl::StatusCode::kInternal
                                  : absl::StatusCode::kFailedPrecondition;
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseEndpoints(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view e : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    e = absl::StripAsciiWhitespace(e);
    if (absl::StartsWith(e, "http://")) e.remove_prefix(7);
    const size_t colon = e.rfind(':');
    uint32_t port = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(e.substr(colon + 1), &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd_endpoints: '", e, "' is not host:port"));
    }
    out.emplace_back(e);
  }
  if (out.empty()) return absl::InvalidArgumentError("etcd_endpoints: no endpoint given");
  return out;
}

EtcdClient::EtcdClient(EtcdClientOptions options) : options_(std::move(options)) {}

absl::StatusOr<rapidjson::Document> EtcdClient::Post(absl::string_view path,
                                                     absl::string_view body) {
  const size_t n = options_.endpoints.size();
  if (n == 0) return absl::FailedPreconditionError("etcd: no endpoints configured");
  absl::Status last;
  const size_t first = preferred_.load(std::memory_order_relaxed);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (first + k) % n;
    unsigned status = 0;
    absl::StatusOr<std::string> text =
        PostOnce(options_.endpoints[i], path, body, options_.timeout, &status);
    if (!text.ok()) {
      last = text.status();
      continue;  // The next member may answer.
    }
    preferred_.store(i, std::memory_order_relaxed);
    rapidjson::Document doc;
    doc.Parse(text->data(), text->size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return absl::InternalError(absl::StrCat("etcd ", path, ": reply is not a JSON object: ",
                                              text->substr(0, 200)));
    }
    if (status != 200) {
      std::string message = doc.HasMember("message") && doc["message"].IsString()
                                ? doc["message"].GetString()
                                : text->substr(0, 200);
      // A member that lost its quorum answers but cannot serve: try another.
      if (status >= 500) {
        last = absl::UnavailableError(absl::StrCat("etcd ", path, ": ", message));
        continue;
      }
      return absl::Status(CodeOfHttp(status), absl::StrCat("etcd ", path, ": ", message));
    }
    return doc;
  }
  return absl::UnavailableError(absl::StrCat("etcd: no endpoint answered (last: ",
                                             last.message(), ")"));
}

int64_t JsonInt64(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name)) return 0;
  const rapidjson::Value& v = object[name];
  if (v.IsInt64()) return v.GetInt64();
  int64_t out = 0;
  if (v.IsString() && absl::SimpleAtoi(absl::string_view(v.GetString(), v.GetStringLength()),
                                       &out)) {
    return out;
  }
  return 0;
}

std::string Base64(absl::string_view bytes) { return absl::Base64Escape(bytes); }

absl::StatusOr<std::string> FromBase64(absl::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(text, &out)) {
    return absl::InternalError(absl::StrCat("etcd: '", text, "' is not base64"));
  }
  return out;
}

}  // namespace attrib::cluster
