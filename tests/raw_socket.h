// tests/raw_socket.h
//
// A plain TCP socket for tests that must speak bytes the client library would never
// send (random garbage, hostile segment tables, truncated frames, never reading).
//
// Thread-safety: one thread per RawSocket.
#ifndef ATTRIB_TESTS_RAW_SOCKET_H_
#define ATTRIB_TESTS_RAW_SOCKET_H_

#include <string>

#include "absl/strings/string_view.h"

namespace attrib::testing {

class RawSocket {
 public:
  explicit RawSocket(absl::string_view address);  // "127.0.0.1:port"
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // SO_SNDBUF: a small send buffer stands for a slow network, where a large request
  // is still being sent when the server answers (on loopback the kernel's buffers
  // would take megabytes at once).
  void SetSendBuffer(int bytes);
  // Writes all of `bytes` (blocking); false if the peer closed or reset.
  bool SendAll(absl::string_view bytes);
  // Writes `bytes` over and over until the socket stays unwritable for `stall_ms`
  // or `max_total` bytes were written; returns the bytes written. Used to fill the
  // buffers of a server that stops reading.
  size_t SendUntilStalled(absl::string_view bytes, int stall_ms, size_t max_total);
  // Sends `bytes` over and over (cycling through it, so frames stay whole) without
  // blocking, reading whatever comes back, until the server has closed the
  // connection completely (a write or read fails: reset, or EPIPE after its FIN) or
  // `timeout_ms` passed. An EOF on the read side alone (the server's FIN) does not
  // stop the sending. `pause_ms` > 0: one send per pause_ms at most (a trickle).
  // Returns whether the server closed it; *received gets the bytes read, *sent the
  // bytes written.
  bool StreamUntilClosed(absl::string_view bytes, int pause_ms, int timeout_ms,
                         std::string* received, size_t* sent);
  // Half-closes: the server sees EOF.
  void ShutdownWrite();
  // Reads until the server closes the connection (or `timeout_ms` without data);
  // *closed says whether it was a clean close (EOF or reset) rather than a timeout,
  // *reset (if given) whether it was a reset.
  std::string ReadUntilClosed(int timeout_ms, bool* closed, bool* reset = nullptr);
  // Reads exactly n bytes (false on EOF/timeout).
  bool ReadExactly(size_t n, std::string* out, int timeout_ms);

 private:
  int fd_ = -1;
};

// The frames of `bytes` (stream framing), decoded as Responses; stops at the first
// incomplete frame. Returns the error codes and ids in order as "id:code" strings,
// code "ok" for a non-error response.
std::string DescribeResponses(absl::string_view bytes, size_t* frames);

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_RAW_SOCKET_H_
