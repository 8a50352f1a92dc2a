// webhooks/http_sender.h
//
// POSTs webhook deliveries over HTTP/1.1 with Boost.Beast: one keep-alive
// connection per sender (a sender serves one endpoint), reopened after any error;
// every connect, TLS handshake, write and read is bounded by `timeout`, so a hung
// receiver costs one timeout, never a stuck thread.
//
// https: verified against the system's CAs (or `ca_file`, for tests), and the
// certificate must name the URL's host (OpenSSL hostname checks), with SNI.
// http: only to a loopback host (127.0.0.0/8, ::1, localhost) unless
// `allow_plain_http` (a webhook carries customer emails and its signature would be
// visible to the network).
//
// Thread-safety: an HttpSender is used by one thread at a time.
#ifndef ATTRIB_WEBHOOKS_HTTP_SENDER_H_
#define ATTRIB_WEBHOOKS_HTTP_SENDER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace attrib::webhooks {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;    // "443" / "80" when the URL has none.
  std::string target;  // "/hooks/attrib?x=1"
};
// InvalidArgument naming the rule: "url: must start with http:// or https://",
// "url: plain http is only allowed to a loopback host (...)", ...
absl::StatusOr<Url> ParseUrl(absl::string_view url, bool allow_plain_http);

struct HttpSenderOptions {
  absl::Duration timeout = absl::Seconds(10);
  std::string ca_file;  // Empty: the system's default CAs.
};

class HttpSender {
 public:
  explicit HttpSender(HttpSenderOptions options);
  ~HttpSender();
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  // The reply's HTTP status; Unavailable / DeadlineExceeded for connection errors
  // and time-outs (the connection is then closed and reopened on the next call). A
  // kept-alive connection that the receiver closed meanwhile is retried once on a
  // new one.
  absl::StatusOr<int> Post(const Url& url,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           absl::string_view body);

 private:
  struct Conn;
  absl::StatusOr<int> PostOnce(const Url& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               absl::string_view body);
  const HttpSenderOptions options_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace attrib::webhooks

#endif  // ATTRIB_WEBHOOKS_HTTP_SENDER_H_
