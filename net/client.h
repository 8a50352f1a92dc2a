// net/client.h
//
// The client library of the attrib protocol (net/attrib.capnp) over a TCP socket,
// plain or TLS (OpenSSL, ClientOptions::tls): used by attribctl, the tests and the
// benchmark harness.
//
//  - Synchronous calls: one typed method per operation, returning the decoded Reply,
//    or the server's error as an absl::Status with the same code (ErrorCode mirrors
//    absl::StatusCode; an already_connected error carries the current affiliate in
//    the payload engine::kCurrentAffiliatePayload).
//  - Pipelining: Send() many requests (buffered, written in large chunks), Flush(),
//    then Receive() their replies, which arrive in request order.
//  - Errors of the connection itself are Unavailable ("connect to 127.0.0.1:7411:
//    Connection refused", "server closed the connection") or DeadlineExceeded (a read
//    or write took longer than the timeout), and carry the payload
//    kConnectionErrorPayload (IsConnectionError()), so a caller can tell them from
//    the same codes answered by the server (e.g. Unavailable: disk full). An error
//    reply with id 0 (a frame the server could not decode, the connection limit,
//    shutdown, the idle timeout) is one too, with the server's code and message: the
//    server closes the connection after it. After one, the Client is broken: every
//    later call returns the same error.
//  - TLS: the server's certificate is always verified, against tls_ca_file or the
//    system's default CAs, and must name the host dialled (IP address or DNS name).
//    Failures are connection errors: "tls: certificate verify failed: ...",
//    "tls: handshake failed with ...". Pipelining works the same over TLS.
//  - Writes never raise SIGPIPE (send with MSG_NOSIGNAL; OpenSSL calls with SIGPIPE
//    blocked); EINTR is retried.
//  - While a write waits for the socket, replies that arrive are read into the
//    input buffer, so a client that pipelines many requests before reading can not
//    deadlock against a server that stops reading clients who do not read.
//
// Thread-safety: a Client is used by one thread at a time (it is a connection).
#ifndef ATTRIB_NET_CLIENT_H_
#define ATTRIB_NET_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "capnp/message.h"
#include "capnp/serialize.h"
#include "engine/engine.h"
#include "kj/array.h"
#include "net/attrib.capnp.h"

namespace attrib::net {

namespace internal {
class TlsChannel;
struct IoResult;
}  // namespace internal

// Status payload key marking an error of the connection itself (not of a request).
inline constexpr absl::string_view kConnectionErrorPayload = "attrib/connection_error";
bool IsConnectionError(const absl::Status& status);

// "host:port", "[v6]:port" -> host and port; InvalidArgument
// "address: expected host:port, got 'x'" otherwise (port 1-65535).
struct HostPort {
  std::string host;
  std::string port;
};
absl::StatusOr<HostPort> SplitHostPort(absl::string_view address);

struct ClientOptions {
  absl::Duration timeout = absl::Seconds(30);  // Per connect, read and write.
  std::string auth_token;  // Sent as the first request when not empty.
  size_t max_frame_bytes = 64 << 20;  // Largest response accepted (list pages, batches).
  // TLS after connecting (the server runs with --tls_cert). tls_ca_file: PEM bundle
  // of the CAs to trust; empty = the system's default verify paths. Setting
  // tls_ca_file implies tls.
  bool tls = false;
  std::string tls_ca_file;
  // Issue 16: a synchronous call answered not_primary (a write sent to a replica)
  // whose error names the primary's address is sent once more, to that primary, on
  // a second connection this client opens (with these options but following off, so
  // it never goes further than one hop) and keeps for the next such call. The
  // primary's answer is returned. Pipelined requests (Send/Receive) are not
  // followed. on_follow, when set, is told each time (attribctl says so on stderr).
  bool follow_not_primary = true;
  std::function<void(absl::string_view replica, absl::string_view primary)> on_follow;
};

// One decoded response frame; owns its bytes. Responses come from the server we
// chose to trust, but are still read with limits: traversal 4x the frame's words
// (+64), nesting 64. Reading a field of a malformed frame throws kj::Exception;
// Client::Receive() checks the root before returning a Reply.
class Reply {
 public:
  // `max_frame_bytes` is the limit the frame was checked against (words.size() * 8
  // is at most that); the reader limits derive from the frame's own size.
  Reply(kj::Array<capnp::word> words, size_t max_frame_bytes);
  Reply(Reply&&) = default;
  Reply& operator=(Reply&&) = default;
  wire::Response::Reader get() const { return reader_->getRoot<wire::Response>(); }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

// OK, or the Response's error as a Status.
absl::Status ReplyStatus(wire::Response::Reader response);
// A wire Error (a Response's, or a batch item's) as a Status: same code, same
// message, and for already_connected the current affiliate as the payload
// engine::kCurrentAffiliatePayload (decimal).
absl::Status ErrorStatus(wire::Error::Reader error);

class Client {
 public:
  // Connects to "host:port" (IPv4, IPv6 in brackets, or a name), and authenticates
  // when options.auth_token is set.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(absl::string_view address,
                                                         const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- Pipelining. Requests carry the ids the caller sets (NextId() gives fresh
  // ones). Receive() flushes buffered requests first.
  absl::Status Send(capnp::MessageBuilder& request);
  absl::Status Flush();
  absl::StatusOr<Reply> Receive();
  uint64_t NextId() { return next_id_++; }
  // Requests sent (or buffered) whose replies have not been received yet.
  size_t outstanding() const { return outstanding_; }
  // Sends raw bytes (tests: malformed frames).
  absl::Status SendRaw(absl::string_view bytes);

  // ---- Synchronous: send, flush, receive; a server error becomes the Status.
  // Needs no pipelined request outstanding (FailedPrecondition otherwise). A reply
  // whose id is not the request's is an error of the connection. A not_primary
  // error (common/not_primary.h: unavailable naming the primary) is followed once
  // (ClientOptions::follow_not_primary).
  absl::StatusOr<Reply> Call(capnp::MessageBuilder& request);
  // Where the last followed not_primary led ("" if none yet).
  const std::string& followed_primary() const { return primary_address_; }

  absl::StatusOr<Reply> Connect(const engine::ConnectRequest& r);
  absl::StatusOr<Reply> Disconnect(uint64_t shop, absl::string_view email);
  absl::StatusOr<Reply> Lookup(uint64_t shop, absl::string_view email, int64_t at = 0);
  absl::StatusOr<Reply> LookupBatch(uint64_t shop, absl::Span<const std::string> emails,
                                    int64_t at = 0);
  absl::StatusOr<Reply> List(const engine::ListRequest& r);
  absl::StatusOr<Reply> Count(uint64_t shop, uint64_t affiliate = 0);
  absl::StatusOr<Reply> GetSettings(uint64_t shop);
  absl::StatusOr<Reply> PutSettings(uint64_t shop, const engine::ShopSettingsPatch& patch);
  absl::StatusOr<Reply> Attribute(const engine::AttributeRequest& r);
  absl::StatusOr<Reply> Reverse(uint64_t shop, absl::string_view order_id);
  absl::StatusOr<Reply> Explain(uint64_t shop, absl::string_view order_id);
  absl::StatusOr<Reply> Stats();
  absl::StatusOr<Reply> Snapshot();
  absl::StatusOr<Reply> Ping();
  absl::StatusOr<Reply> Auth(absl::string_view token);
  // Issue 16: make the replica this client is connected to the primary (admin).
  absl::StatusOr<Reply> Promote(bool force);
  // Read-your-writes: the typed calls from now on carry Request.minSeq = `seq` (a
  // write reply's Response.seq; 0: none), so a replica answers only once it has
  // applied it (or refuses after --replica_read_wait).
  void SetMinSeq(uint64_t seq) { min_seq_ = seq; }
  uint64_t min_seq() const { return min_seq_; }
  // The affiliate directory (client_affiliates.cc). SearchAffiliates sends the
  // query's email as entered (the server canonicalizes it).
  absl::StatusOr<Reply> PutAffiliate(const engine::PutAffiliateRequest& r);
  absl::StatusOr<Reply> GetAffiliate(uint64_t shop, uint64_t id);
  absl::StatusOr<Reply> DisableAffiliate(uint64_t shop, uint64_t id);
  absl::StatusOr<Reply> SearchAffiliates(const engine::AffiliateQuery& query);
  // Customers and identifiers (issue 12; client_identity.cc). A CustomerRef names a
  // customer by email, external id, or both.
  absl::StatusOr<Reply> LookupCustomer(uint64_t shop, const engine::CustomerRef& c,
                                       int64_t at = 0);
  absl::StatusOr<Reply> DisconnectCustomer(uint64_t shop, const engine::CustomerRef& c);
  absl::StatusOr<Reply> GetCustomer(uint64_t shop, const engine::CustomerRef& c);
  absl::StatusOr<Reply> LinkIdentifier(uint64_t shop, const engine::CustomerRef& customer,
                                       const engine::CustomerRef& identifier);
  absl::StatusOr<Reply> UnlinkIdentifier(uint64_t shop, const engine::CustomerRef& identifier);
  absl::StatusOr<Reply> MergeCustomers(const engine::MergeRequest& r);
  // The customer directory (issue 12): search (query.limit 0 = the server's 50),
  // and set a customer's name. Replies: customerList, customer.
  absl::StatusOr<Reply> SearchCustomers(const engine::CustomerQuery& query);
  absl::StatusOr<Reply> PutCustomer(uint64_t shop, const engine::CustomerRef& c,
                                    absl::string_view name);

  // Request builders shared by the typed calls and pipelining callers (e.g. import).
  static void FillConnect(const engine::ConnectRequest& r, wire::ConnectRequest::Builder b);
  static void FillAttribute(const engine::AttributeRequest& r,
                            wire::AttributeRequest::Builder b);

 private:
  Client(int fd, std::string address, const ClientOptions& options);
  // One non-blocking attempt on the socket, through TLS when tls_ is set.
  internal::IoResult WriteSome(const char* data, size_t size);
  internal::IoResult ReadSomeBytes(char* data, size_t size);
  absl::Status WriteAll(const char* data, size_t size);
  // Appends to in_; waits up to the timeout unless `wait` is false.
  absl::Status ReadSome(bool wait);
  // Marks the client broken with a connection error and returns it.
  absl::Status Fail(absl::Status status);
  // Call() on this connection only.
  absl::StatusOr<Reply> CallHere(capnp::MessageBuilder& request);

  int fd_;
  std::unique_ptr<internal::TlsChannel> tls_;  // Null: plain TCP.
  const std::string address_;            // As given, for messages.
  ClientOptions options_;
  uint64_t next_id_ = 1;
  size_t outstanding_ = 0;
  absl::Status broken_;                  // Not OK after a connection error.
  std::string out_;                      // Buffered request frames.
  std::vector<capnp::word> in_;          // Received bytes, word-aligned.
  size_t in_begin_ = 0;                  // First unconsumed byte in in_ (word-aligned).
  size_t in_bytes_ = 0;                  // End of the valid bytes in in_.
  uint64_t min_seq_ = 0;                  // SetMinSeq.
  std::unique_ptr<Client> primary_;       // Where not_primary led (follow_not_primary).
  std::string primary_address_;
};

}  // namespace attrib::net

#endif  // ATTRIB_NET_CLIENT_H_
