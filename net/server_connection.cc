// net/server_connection.cc: one client connection of the server (see
// server_connection.h and server.h for the behaviour).
#include "net/server_connection.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "capnp/serialize.h"
#include "kj/io.h"
#include "net/lingering_close.h"

namespace attrib::net::internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Appends a serialized message to a std::string (no intermediate array).
class StringOutputStream final : public kj::OutputStream {
 public:
  explicit StringOutputStream(std::string* out) : out_(out) {}
  void write(const void* buffer, size_t size) override {
    out_->append(static_cast<const char*>(buffer), size);
  }

 private:
  std::string* out_;
};

// Complete frames looked at together before they run (RequestHandler::
// PrepareFrames): enough to overlap the cache misses of many lookups, few enough
// that what they prefetch (a bucket and a record each) stays in the L1 cache.
constexpr size_t kPrepareAhead = 32;

// First segment of a response: most replies fit in 1024 words (8 KiB).
constexpr size_t kResponseFirstSegmentWords = 1024;

// The first segment of this thread's response builders: zeroed once, and re-zeroed
// (only the used words) by each MallocMessageBuilder's destructor, so building a
// reply neither allocates nor clears 8 KiB. One builder at a time per thread: a
// connection runs on its io_context's one thread and builds one reply at a time.
kj::ArrayPtr<capnp::word> ResponseScratch() {
  thread_local std::unique_ptr<capnp::word[]> words(
      new capnp::word[kResponseFirstSegmentWords]());
  return kj::ArrayPtr<capnp::word>(words.get(), kResponseFirstSegmentWords);
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ServerShared* shared,
                       Registry* registry)
    : socket_(std::move(socket)),
      idle_timer_(socket_.get_executor()),
      shared_(shared),
      registry_(registry) {
  if (shared_->tls) tls_ = std::make_unique<TlsStream>(socket_, *shared_->tls);
}

void Connection::Start() {
  registry_->all.insert(this);
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  // No read buffer yet on a plain port: DoRead() allocates it when the first bytes
  // arrive, so an idle connection costs a socket and this object (~1 KiB), not 128 KiB.
  last_progress_ = std::chrono::steady_clock::now();
  ArmIdleTimer(absl::ToChronoNanoseconds(shared_->options.idle_timeout));
  if (shared_->stopping.load()) {
    Drain();
    return;
  }
  if (tls_) {
    // The idle timer bounds the handshake too: a client that connects and says
    // nothing (or speaks plain TCP and waits) is closed after idle_timeout.
    reading_ = true;  // The handshake reads: Drain() must interrupt it the same way.
    tls_->async_handshake(boost::asio::ssl::stream_base::server,
                          [self = shared_from_this()](const error_code& ec) {
                            self->OnHandshake(ec);
                          });
    return;
  }
  DoRead();
}

void Connection::OnHandshake(const error_code& ec) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    // Not TLS, a certificate the client refused, or shutdown: nothing was executed.
    Close(/*linger=*/true);
    return;
  }
  tls_ready_ = true;
  if (draining_) {
    EndAfterReplies();
    return;
  }
  last_progress_ = std::chrono::steady_clock::now();
  DoRead();
}

void Connection::Drain() {
  draining_ = true;
  if (reading_) {
    // Completes the pending read as aborted; OnRead then ends after the writes. Not
    // shutdown(SHUT_RD): the lingering close must still read what the client sends.
    error_code ignored;
    socket_.cancel(ignored);
    return;
  }
  if (idle_output()) EndAfterReplies();
}

void Connection::OnDurable() {
  const uint64_t durable = shared_->durable_seq.load(std::memory_order_acquire);
  size_t end = held_start_;
  while (!held_.empty() && held_.front().seq <= durable) {
    end = held_.front().end;
    held_.pop_front();
  }
  if (end > held_start_) {
    out_pending_.append(held_buf_, held_start_, end - held_start_);
    held_bytes_ -= end - held_start_;
    held_start_ = end;
  }
  if (held_.empty()) {
    held_buf_.clear();
    held_start_ = 0;
    registry_->StopWaiting(this);
  }
  MaybeWrite();
  if (!writing_ && out_pending_.empty() && held_.empty() &&
      (close_after_write_ || draining_) && !reading_) {
    EndAfterReplies();
  }
}

void Connection::TakeReadBuffer() {
  in_.resize((shared_->options.read_chunk_bytes + kWordBytes - 1) / kWordBytes * 2);
}

void Connection::DoRead() {
  if (closed_ || reading_ || draining_ || close_after_write_) return;
  if (in_.empty() && tls_) {
    // Over TLS the first request may already sit in OpenSSL's buffer (it came with
    // the handshake's last record), so the socket would never turn readable for it:
    // take the buffer now.
    TakeReadBuffer();
  }
  if (in_.empty()) {
    // Wait for the first bytes before taking the read buffer (see Start()).
    reading_ = true;
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this()](const error_code& ec) {
                         self->reading_ = false;
                         if (self->closed_) return;
                         if (ec || self->draining_) {
                           // Drain() cancels this wait, or it ended as it drained.
                           self->OnRead(ec ? ec : asio::error::operation_aborted, 0);
                           return;
                         }
                         self->TakeReadBuffer();
                         self->DoRead();
                       });
    return;
  }
  // Make room: move the partial frame to the front, grow when it fills the buffer
  // (bounded: InspectFrame refuses frames over the limit).
  const size_t capacity = in_.size() * kWordBytes;
  if (in_start_ > 0 && capacity - in_end_ < shared_->options.read_chunk_bytes) {
    auto* bytes = reinterpret_cast<char*>(in_.data());
    std::memmove(bytes, bytes + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_end_ == in_.size() * kWordBytes) in_.resize(in_.size() * 2);
  reading_ = true;
  auto* bytes = reinterpret_cast<char*>(in_.data());
  const auto buffer = asio::buffer(bytes + in_end_, in_.size() * kWordBytes - in_end_);
  auto on_read = [self = shared_from_this()](const error_code& ec, size_t n) {
    self->OnRead(ec, n);
  };
  if (tls_) {
    tls_->async_read_some(buffer, std::move(on_read));
  } else {
    socket_.async_read_some(buffer, std::move(on_read));
  }
}

void Connection::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    if (ec != asio::error::operation_aborted) {
      // EOF or error: the client sends nothing more; flush what was executed, close.
      close_after_write_ = true;
      peer_closed_ = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                     ec == asio::error::connection_reset;
    }
    // Aborted: Drain() or the idle timer stopped the read.
    if (idle_output()) {
      EndAfterReplies();
    } else {
      MaybeWrite();
    }
    return;
  }
  in_end_ += n;
  Registry::AddBytes(registry_->received_bytes, n);
  last_progress_ = std::chrono::steady_clock::now();
  ProcessFrames();
}

void Connection::ProcessFrames() {
  const auto* base = reinterpret_cast<const uint8_t*>(in_.data());
  thread_local std::array<kj::ArrayPtr<const capnp::word>, kPrepareAhead> frames;
  thread_local std::array<RequestHandler::PreparedFrame, kPrepareAhead> prepared;
  while (!close_after_write_ && in_start_ < in_end_) {
    // The complete frames waiting (up to kPrepareAhead) are prepared together, so
    // the store's cache misses of pipelined lookups overlap; then run in order.
    size_t count = 0;
    for (size_t at = in_start_; count < kPrepareAhead && at < in_end_;) {
      const FrameInfo info =
          InspectFrame(base + at, in_end_ - at, shared_->options.frame_limits);
      if (info.kind != FrameInfo::Kind::kComplete) break;
      frames[count++] = kj::ArrayPtr<const capnp::word>(in_.data() + at / kWordBytes,
                                                        info.frame_bytes / kWordBytes);
      at += info.frame_bytes;
    }
    if (count == 0) {
      const FrameInfo info = InspectFrame(base + in_start_, in_end_ - in_start_,
                                          shared_->options.frame_limits);
      if (info.kind == FrameInfo::Kind::kNeedMore) break;
      // The stream can not be resynchronized after a bad frame: answer, then close.
      QueueError(info.oversized ? wire::ErrorCode::RESOURCE_EXHAUSTED
                                : wire::ErrorCode::INVALID_ARGUMENT,
                 info.error);
      close_after_write_ = true;
      break;
    }
    const bool ahead = count > 1;
    if (ahead) {
      shared_->handler->PrepareFrames(absl::MakeConstSpan(frames.data(), count),
                                      absl::MakeSpan(prepared.data(), count));
    }
    for (size_t i = 0; i < count && !close_after_write_; ++i) {
      capnp::MallocMessageBuilder response(ResponseScratch());
      shared_->handler->HandleFrame(frames[i], &session_, &response,
                                    ahead ? &prepared[i] : nullptr);
      QueueResponse(response, session_.wait_for_seq);
      session_.wait_for_seq = 0;
      in_start_ += frames[i].size() * kWordBytes;
      if (session_.close_after_reply) close_after_write_ = true;
    }
  }
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  MaybeWrite();
  if (close_after_write_ || draining_) {
    if (idle_output()) EndAfterReplies();
    return;
  }
  if (queued_bytes() > shared_->options.max_queued_output_bytes) {
    paused_ = true;  // Resumed by OnWrite() once the replies drain.
  } else {
    DoRead();
  }
}

void Connection::QueueError(wire::ErrorCode code, const std::string& message) {
  capnp::MallocMessageBuilder response(64);
  RequestHandler::BuildError(0, code, message, &response);
  QueueResponse(response, 0);
}

void Connection::QueueResponse(capnp::MessageBuilder& response, uint64_t wait_for_seq) {
  if (held_.empty() &&
      wait_for_seq <= shared_->durable_seq.load(std::memory_order_acquire)) {
    StringOutputStream out(&out_pending_);
    capnp::writeMessage(out, response);
    return;
  }
  // Not durable yet (or behind a reply that is not): hold it, in order.
  const size_t before = held_buf_.size();
  StringOutputStream out(&held_buf_);
  capnp::writeMessage(out, response);
  held_bytes_ += held_buf_.size() - before;
  const uint64_t seq = std::max(wait_for_seq, held_.empty() ? 0 : held_.back().seq);
  const auto now = std::chrono::steady_clock::now();
  if (held_.empty()) {
    registry_->waiting.insert(this);
    if (registry_->oldest_held_since_ns.load(std::memory_order_relaxed) == 0) {
      registry_->oldest_held_since_ns.store(
          std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   now.time_since_epoch())
                                   .count()),
          std::memory_order_relaxed);
    }
  }
  held_.push_back(HeldReply{seq, held_buf_.size(), now});
}

void Connection::MaybeWrite() {
  if (closed_ || writing_ || out_pending_.empty()) return;
  out_inflight_.swap(out_pending_);
  out_pending_.clear();
  writing_ = true;
  auto on_write = [self = shared_from_this()](const error_code& ec, size_t) {
    self->OnWrite(ec);
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(out_inflight_), std::move(on_write));
  } else {
    asio::async_write(socket_, asio::buffer(out_inflight_), std::move(on_write));
  }
}

void Connection::OnWrite(const error_code& ec) {
  writing_ = false;
  if (!ec) Registry::AddBytes(registry_->sent_bytes, out_inflight_.size());
  out_inflight_.clear();
  if (closed_) return;
  if (ec) {
    Close(/*linger=*/false);
    return;
  }
  last_progress_ = std::chrono::steady_clock::now();
  if (!out_pending_.empty()) {
    MaybeWrite();
    return;
  }
  if ((close_after_write_ || (draining_ && !reading_)) && held_.empty()) {
    EndAfterReplies();
    return;
  }
  if (paused_ && queued_bytes() <= shared_->options.max_queued_output_bytes) {
    paused_ = false;
    // Frames may already wait in the buffer: execute them before reading more.
    ProcessFrames();
  }
}

void Connection::ArmIdleTimer(std::chrono::steady_clock::duration after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait(
      [self = shared_from_this()](const error_code& ec) { self->OnIdleTimer(ec); });
}

void Connection::OnIdleTimer(const error_code& ec) {
  if (ec || closed_) return;
  // One timer per connection, re-armed for the remaining time: cheaper than
  // re-arming on every read.
  const auto idle = absl::ToChronoNanoseconds(shared_->options.idle_timeout);
  const auto since = std::chrono::steady_clock::now() - last_progress_;
  if (since < idle) {
    ArmIdleTimer(idle - since);
  } else if (in_end_ > in_start_ && !close_after_write_ && !writing_ && held_.empty()) {
    // Part of a request came, then nothing: say why before closing (lingering: the
    // client may resume sending).
    QueueError(wire::ErrorCode::DEADLINE_EXCEEDED,
               absl::StrCat("idle_timeout: ", in_end_ - in_start_,
                            " bytes of an incomplete request frame, then nothing for ",
                            absl::FormatDuration(shared_->options.idle_timeout),
                            "; closing"));
    close_after_write_ = true;
    if (reading_) {
      error_code ignored;
      socket_.cancel(ignored);
    }
    MaybeWrite();
    ArmIdleTimer(idle);  // Bounds that write too: then closed at once.
  } else {
    // Nothing is due, or the client does not read what is: close at once.
    Close(/*linger=*/false);
  }
}

void Connection::EndAfterReplies() {
  if (draining_ && !close_after_write_ && (!tls_ || tls_ready_)) {
    // Shutdown: tell the client why the connection ends, after the replies of
    // everything it executed (replies leave in order, so every request after the
    // last reply was not executed).
    close_after_write_ = true;
    QueueError(wire::ErrorCode::UNAVAILABLE,
               "server: shutting down; requests sent after the last reply were not "
               "executed, retry them on another connection");
    MaybeWrite();
    return;
  }
  Close(/*linger=*/true);
}

void Connection::Close(bool linger) {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  registry_->all.erase(this);
  registry_->StopWaiting(this);
  auto release = [shared = shared_] {
    if (shared->open.fetch_sub(1) == 1) {
      absl::MutexLock lock(&shared->mu);  // Wakes a Shutdown() waiting for 0.
    }
  };
  // TLS: no close_notify exchange (it would need another round trip bounded by
  // another timer). Every reply is a complete frame, so a client can tell a
  // truncated stream from a finished one without it.
  error_code ignored;
  // Shutdown of a quiet connection (nothing unread, nothing received): no linger,
  // so that idle pooled clients, which read the unavailable frame only when they
  // next send, do not hold SIGTERM for linger.timeout. A request racing with the
  // shutdown may then be reset: a connection error either way.
  const bool quiet = draining_ && in_start_ == in_end_ && socket_.available(ignored) == 0;
  if (linger && !peer_closed_ && !quiet) {
    // A read the idle timer or Drain() stopped completes first (its handler sees
    // closed_); the socket then leaves this object, which the TLS stream no longer
    // uses. The connection counts as open until the lingering ends.
    socket_.cancel(ignored);
    LingeringClose(std::move(socket_), shared_->options.linger, std::move(release));
    return;
  }
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  release();
}

}  // namespace attrib::net::internal
