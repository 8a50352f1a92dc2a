// replication/socket_io.h
//
// Blocking socket I/O for the replication stream's threads, with a timeout on every
// wait and a StopSignal that wakes every wait at once (so Shutdown() never waits for
// a peer). POSIX sockets and poll(): each replication connection has its own
// threads, and a thread blocked here must be stoppable, which Asio's synchronous
// operations are not (they ignore SO_RCVTIMEO and cannot be interrupted safely
// from another thread).
//
// Thread-safety: StopSignal's methods from any thread; the functions are reentrant
// (one thread per file descriptor and direction).
#ifndef ATTRIB_REPLICATION_SOCKET_IO_H_
#define ATTRIB_REPLICATION_SOCKET_IO_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "replication/stream_format.h"

namespace attrib::replication {

// An eventfd that stays readable once notified.
class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  void Notify();
  bool notified() const;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Cancelled when `stop` fires, DeadlineExceeded after `timeout` without progress,
// Unavailable for a connection error (naming it).
absl::Status WriteAll(int fd, absl::string_view bytes, absl::Duration timeout,
                      const StopSignal& stop);
// Reads the next whole frame through `reader`; Unavailable when the peer closed.
absl::StatusOr<Frame> ReadFrame(int fd, FrameReader* reader, absl::Duration timeout,
                                const StopSignal& stop);
// A connected TCP socket to "host:port" (numeric or localhost; [v6]:port), or
// Unavailable naming the address.
absl::StatusOr<int> ConnectTcp(absl::string_view address, absl::Duration timeout,
                               const StopSignal& stop);
// Waits for a connection on a listening socket; Cancelled when `stop` fires.
absl::StatusOr<int> AcceptTcp(int listen_fd, const StopSignal& stop, std::string* peer);
// Opens a listening socket on "host:port" (port 0: any free); returns the fd and
// sets *bound to the address bound. Errors name `flag`.
absl::StatusOr<int> ListenTcp(absl::string_view flag, absl::string_view address,
                              std::string* bound);

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_SOCKET_IO_H_
