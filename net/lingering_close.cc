// net/lingering_close.cc: shut down the sending side, discard input (bounded), close
// (see lingering_close.h).
#include "net/lingering_close.h"

#include <algorithm>
#include <memory>

namespace attrib::net {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Where every lingering socket of a thread reads the bytes it drops: their content
// is never looked at, so one fixed buffer per thread serves them all (a thread runs
// one read at a time), and a lingering connection holds no buffer of its own.
constexpr size_t kDiscardBufferBytes = 64 << 10;
char* DiscardBuffer() {
  thread_local char buffer[kDiscardBufferBytes];
  return buffer;
}

class Lingerer : public std::enable_shared_from_this<Lingerer> {
 public:
  Lingerer(asio::ip::tcp::socket socket, const LingerOptions& options,
           std::function<void()> on_closed)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        left_(options.max_bytes),
        timeout_(options.timeout),
        on_closed_(std::move(on_closed)) {}

  void Start() {
    error_code ec;
    // The reply is in the send buffer: FIN goes after it, so the client reads the
    // reply, then EOF.
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec || left_ == 0 || timeout_ <= absl::ZeroDuration()) {
      Finish();  // The peer is gone already (ENOTCONN), or lingering is off.
      return;
    }
    timer_.expires_after(absl::ToChronoNanoseconds(timeout_));
    timer_.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e) self->Finish();
    });
    Read();
  }

 private:
  void Read() {
    socket_.async_read_some(
        asio::buffer(DiscardBuffer(), std::min(kDiscardBufferBytes, left_)),
        [self = shared_from_this()](const error_code& ec, size_t n) {
          if (self->closed_) return;
          self->left_ -= std::min(n, self->left_);
          // EOF: the client closed after reading; an error: it is gone.
          if (ec || self->left_ == 0) {
            self->Finish();
          } else {
            self->Read();
          }
        });
  }

  void Finish() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);  // Cancels the pending read, which then sees closed_.
    if (on_closed_) on_closed_();
  }

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  size_t left_;  // Bytes that may still be discarded.
  const absl::Duration timeout_;
  std::function<void()> on_closed_;
  bool closed_ = false;
};

}  // namespace

void LingeringClose(asio::ip::tcp::socket socket, const LingerOptions& options,
                    std::function<void()> on_closed) {
  std::make_shared<Lingerer>(std::move(socket), options, std::move(on_closed))->Start();
}

}  // namespace attrib::net
