// tests/http_client.h
//
// A blocking HTTP/1.1 client for the HTTP API tests: one keep-alive connection,
// requests sent as written (so tests can also send what a browser or an attacker
// would: other Host headers, no Content-Type, oversized headers), responses parsed
// by Content-Length. Every exchange can be appended to a JSON-lines file that
// tests/http/check_responses.mjs checks against http/openapi.json.
//
// Thread-safety: one thread per HttpClient.
#ifndef ATTRIB_TESTS_HTTP_CLIENT_H_
#define ATTRIB_TESTS_HTTP_CLIENT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "rapidjson/document.h"
#include "tests/raw_socket.h"

namespace attrib::testing {

struct HttpReply {
  int status = 0;  // 0: no (complete) response.
  std::map<std::string, std::string> headers;  // Lowercase names.
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  // `address`: "127.0.0.1:port". `record`: a file to append exchanges to ("": none).
  explicit HttpClient(std::string address, std::string record = "");

  // Sends METHOD PATH with Host: address (unless `extra_headers` names a Host) and,
  // for a non-empty body, Content-Type: application/json (unless given).
  // `extra_headers`: "Name: value\r\n" lines.
  HttpReply Send(absl::string_view method, absl::string_view path, absl::string_view body = "",
                 absl::string_view extra_headers = "", int timeout_ms = 10'000);
  // Sends raw bytes, then reads one response.
  HttpReply SendRaw(absl::string_view bytes, int timeout_ms = 10'000);
  // Reads one response (after a request sent elsewhere); `head`: the answer to a
  // HEAD request (its Content-Length announces a body that is not sent).
  HttpReply Read(int timeout_ms, bool head = false);
  bool connected() const { return socket_->connected(); }

 private:
  void Record(absl::string_view method, absl::string_view path, const HttpReply& reply);

  std::string address_;
  std::string record_;
  std::unique_ptr<RawSocket> socket_;
};

// The reply's body parsed as JSON; a body that does not parse fails the current test.
rapidjson::Document Json(const HttpReply& r);

// Runs tests/http/check_responses.mjs on the exchanges recorded in `record` against
// http/openapi.json; returns its output, *status its exit status (0: all match).
std::string CheckAgainstOpenApi(const std::string& record, int* status);

// A temporary record of exchanges (removed at the end) for HttpClient, and the
// gtest expectation that every exchange in it matches http/openapi.json.
class RecordedExchanges {
 public:
  RecordedExchanges();
  ~RecordedExchanges();
  RecordedExchanges(const RecordedExchanges&) = delete;
  RecordedExchanges& operator=(const RecordedExchanges&) = delete;
  const std::string& path() const { return path_; }
  void ExpectMatchOpenApi() const;

 private:
  std::string path_;
};

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_HTTP_CLIENT_H_
