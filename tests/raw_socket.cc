// tests/raw_socket.cc: a plain TCP socket for hostile-input tests.
#include "tests/raw_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "net/client.h"
#include "net/frame.h"
#include "net/handler.h"

namespace attrib::testing {

RawSocket::RawSocket(absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, std::string(address.substr(0, colon)).c_str(), &sa.sin_addr);
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

void RawSocket::SetSendBuffer(int bytes) {
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

bool RawSocket::SendAll(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

size_t RawSocket::SendUntilStalled(absl::string_view bytes, int stall_ms,
                                   size_t max_total) {
  size_t total = 0;
  size_t offset = 0;
  while (total < max_total) {
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, stall_ms) <= 0) return total;  // Not writable for stall_ms.
    const ssize_t n = send(fd_, bytes.data() + offset, bytes.size() - offset,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return total;
    total += static_cast<size_t>(n);
    offset = (offset + static_cast<size_t>(n)) % bytes.size();
  }
  return total;
}

bool RawSocket::StreamUntilClosed(absl::string_view bytes, int pause_ms, int timeout_ms,
                                  std::string* received, size_t* sent) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto next_send = Clock::now();
  bool read_eof = false;
  char buf[65536];
  size_t offset = 0;  // Where in `bytes` the next send starts (frames stay whole).
  *sent = 0;
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const bool send_due = now >= next_send;
    pollfd p{fd_, static_cast<short>((read_eof ? 0 : POLLIN) | (send_due ? POLLOUT : 0)), 0};
    const auto until = send_due ? deadline : std::min(deadline, next_send);
    const int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
    if (poll(&p, 1, std::max(wait_ms, 1)) < 0 && errno != EINTR) return false;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !read_eof) {
      const ssize_t n = read(fd_, buf, sizeof(buf));
      if (n > 0) {
        received->append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        read_eof = true;  // The server's FIN: it may still be reading.
      } else if (errno != EINTR && errno != EAGAIN) {
        return true;  // Reset.
      }
    }
    if ((p.revents & (POLLOUT | POLLERR)) != 0) {
      const ssize_t n = send(fd_, bytes.data() + offset, bytes.size() - offset,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        *sent += static_cast<size_t>(n);
        offset = (offset + static_cast<size_t>(n)) % bytes.size();
        if (pause_ms > 0) next_send = Clock::now() + std::chrono::milliseconds(pause_ms);
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return true;  // EPIPE or reset: the server closed.
      }
    }
  }
}

void RawSocket::ShutdownWrite() { shutdown(fd_, SHUT_WR); }

std::string RawSocket::ReadUntilClosed(int timeout_ms, bool* closed, bool* reset) {
  std::string out;
  char buf[65536];
  *closed = false;
  if (reset != nullptr) *reset = false;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return out;
    const ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *closed = true;
      if (reset != nullptr) *reset = n < 0;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

bool RawSocket::ReadExactly(size_t n, std::string* out, int timeout_ms) {
  out->clear();
  char buf[65536];
  while (out->size() < n) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    const ssize_t r = read(fd_, buf, std::min(sizeof(buf), n - out->size()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    out->append(buf, static_cast<size_t>(r));
  }
  return true;
}

std::string DescribeResponses(absl::string_view bytes, size_t* frames) {
  std::string out;
  *frames = 0;
  net::FrameLimits limits;
  limits.max_frame_bytes = 64 << 20;
  while (!bytes.empty()) {
    std::vector<capnp::word> words((bytes.size() + 7) / 8);
    std::memcpy(words.data(), bytes.data(), bytes.size());
    const net::FrameInfo info = net::InspectFrame(
        reinterpret_cast<const uint8_t*>(words.data()), bytes.size(), limits);
    if (info.kind != net::FrameInfo::Kind::kComplete) break;
    kj::Array<capnp::word> frame = kj::heapArray<capnp::word>(info.frame_bytes / 8);
    std::memcpy(frame.begin(), words.data(), info.frame_bytes);
    net::Reply reply(std::move(frame), limits.max_frame_bytes);
    const auto r = reply.get();
    absl::StrAppend(&out, out.empty() ? "" : " ", r.getId(), ":",
                    r.isError() ? net::WireCodeName(r.getError().getCode()) : "ok");
    ++*frames;
    bytes.remove_prefix(info.frame_bytes);
  }
  return out;
}

}  // namespace attrib::testing
