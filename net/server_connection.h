// net/server_connection.h
//
// PRIVATE to the server (net/server.cc, net/server_connection.cc): one client
// connection, and the state all connections share. Includes <boost/asio.hpp> and
// <boost/asio/ssl.hpp>, so nothing else may include this header.
//
// TLS: a Connection owns its TCP socket; on a TLS port it also owns an ssl::stream
// over a reference to that socket, and every read and write goes through it. One
// predictable branch per read and per write (tls_ != nullptr) picks the path, so
// the plain path has no virtual call and no extra allocation.
//
// Thread-safety: a Connection and its thread's Registry are only touched by the one
// thread that runs their io_context. ServerShared's members are atomics or guarded.
#ifndef ATTRIB_NET_SERVER_CONNECTION_H_
#define ATTRIB_NET_SERVER_CONNECTION_H_

#include <utility>  // Before asio (g++ 12 + C++20).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "absl/synchronization/mutex.h"
#include "capnp/message.h"
#include "net/handler.h"
#include "net/server.h"

namespace attrib::net::internal {

// What every connection of a server shares.
struct ServerShared {
  RequestHandler* handler = nullptr;
  ServerOptions options;
  // Set when options.tls(): the certificate and key, shared by every connection
  // (OpenSSL's SSL_CTX is safe to share between threads once configured).
  std::unique_ptr<boost::asio::ssl::context> tls;
  std::atomic<uint32_t> open{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  // Refused connections whose lingering close has not ended (max_refused_lingering).
  std::atomic<uint32_t> refused_lingering{0};
  std::atomic<bool> stopping{false};
  // The durable sequence number (NotifyDurable); replies of write requests wait for
  // it. Stays 0 without a durability layer, where no reply waits.
  std::atomic<uint64_t> durable_seq{0};
  absl::Mutex mu;  // Signals "open reached 0" to a draining Shutdown().
};

class Connection;
// The live connections of one io_context (touched only by its thread), and those of
// them holding replies until the log is durable far enough.
struct Registry {
  std::unordered_set<Connection*> all;
  std::unordered_set<Connection*> waiting;
  // Bytes this thread's connections received and sent (metrics). Written by this
  // thread only (AddBytes: no read-modify-write), read by Server::Facts().
  std::atomic<uint64_t> received_bytes{0};
  std::atomic<uint64_t> sent_bytes{0};
  // When the oldest reply held for durability on this thread was queued, in
  // steady-clock nanoseconds since its epoch; 0: none is held. Set when a first
  // connection starts waiting, cleared when the last stops, refined by the server's
  // durability watch; read by Server::Facts() (the gauge).
  std::atomic<int64_t> oldest_held_since_ns{0};
  std::chrono::steady_clock::time_point last_stall_log{};  // This thread's watch only.
  void StopWaiting(Connection* c) {
    waiting.erase(c);
    if (waiting.empty()) oldest_held_since_ns.store(0, std::memory_order_relaxed);
  }
  static void AddBytes(std::atomic<uint64_t>& counter, size_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `shared` and `registry` outlive every connection.
  Connection(boost::asio::ip::tcp::socket socket, ServerShared* shared, Registry* registry);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers, starts the idle timer, then the TLS handshake (TLS port) and reading.
  void Start();
  // Shutdown: read nothing more, finish writing what was executed, then close.
  void Drain();
  // The durable sequence number advanced: release the replies it covers.
  void OnDurable();
  // The oldest reply held for durability (only while this is in Registry::waiting).
  std::chrono::steady_clock::time_point oldest_held_since() const {
    return held_.front().since;
  }
  uint64_t oldest_held_seq() const { return held_.front().seq; }

 private:
  void OnHandshake(const boost::system::error_code& ec);
  // Allocates the read buffer (two read chunks); DoRead() calls it on first data.
  void TakeReadBuffer();
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Decodes and executes every complete frame in the buffer.
  void ProcessFrames();
  void QueueError(wire::ErrorCode code, const std::string& message);
  void QueueResponse(capnp::MessageBuilder& response, uint64_t wait_for_seq);
  void MaybeWrite();
  void OnWrite(const boost::system::error_code& ec);
  void ArmIdleTimer(std::chrono::steady_clock::duration after);
  void OnIdleTimer(const boost::system::error_code& ec);
  size_t queued_bytes() const {
    return out_pending_.size() + out_inflight_.size() + held_bytes_;
  }
  bool idle_output() const { return !writing_ && out_pending_.empty() && held_.empty(); }
  // Every reply is written and nothing more will be executed: closes (lingering),
  // after queueing shutdown's unavailable frame if no final reply was sent yet.
  void EndAfterReplies();
  // `linger`: a final reply was written, the client may still be sending
  // (LingeringClose); else close at once (nothing to deliver, or the client is gone).
  void Close(bool linger);

  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<TlsStream> tls_;  // Over socket_; null on a plain port.
  boost::asio::steady_timer idle_timer_;
  ServerShared* const shared_;
  Registry* const registry_;
  Session session_;
  // Received bytes [in_start_, in_end_) in a word-aligned buffer: frames are whole
  // words, so every frame starts word-aligned.
  std::vector<capnp::word> in_;
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  std::string out_pending_;   // Replies not yet handed to the socket.
  std::string out_inflight_;  // The write in progress.
  // Replies waiting for durability, in order: their frames back to back in
  // held_buf_[held_start_, end), and per reply (sequence number, end offset in
  // held_buf_). Once one waits, every later reply queues behind it (replies leave in
  // request order). One buffer, not a string per reply: no allocation per write.
  struct HeldReply {
    uint64_t seq;   // Leaves once the log is durable up to here.
    size_t end;     // End offset of its frame in held_buf_.
    std::chrono::steady_clock::time_point since;  // When it was queued.
  };
  std::string held_buf_;
  size_t held_start_ = 0;
  std::deque<HeldReply> held_;
  size_t held_bytes_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool paused_ = false;               // Not reading: too many queued replies.
  bool close_after_write_ = false;    // Error, peer EOF, or auth failure.
  bool draining_ = false;
  bool closed_ = false;
  bool peer_closed_ = false;  // Read EOF: nothing more arrives, no need to linger.
  bool tls_ready_ = false;    // The TLS handshake completed (a frame can be sent).
  std::chrono::steady_clock::time_point last_progress_;
};

}  // namespace attrib::net::internal

#endif  // ATTRIB_NET_SERVER_CONNECTION_H_
