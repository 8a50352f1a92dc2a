// tests/attribd_process.h
//
// Runs a real attribd process for end-to-end tests: started on 127.0.0.1:0 (a free
// port picked by the kernel) with a fresh temporary data directory unless the flags
// name one, its address read from the one line it prints on
// stdout once it listens (so tests synchronize on an event, never on a sleep), and
// stopped with SIGTERM (Stop) or SIGKILL (destructor, if still running). However it
// stops, a ThreadSanitizer report on the server's stderr fails the test (the TSan
// build, tools/test.sh --tsan).
//
// Thread-safety: one test thread owns an AttribdProcess.
#ifndef ATTRIB_TESTS_ATTRIBD_PROCESS_H_
#define ATTRIB_TESTS_ATTRIBD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "net/client.h"

namespace attrib::testing {

class AttribdProcess {
 public:
  // Starts `ATTRIBD_PATH --listen=127.0.0.1:0 <extra_flags...>`; fails the current
  // test (ADD_FAILURE) if it does not print its listening line.
  explicit AttribdProcess(std::vector<std::string> extra_flags = {});
  ~AttribdProcess();
  AttribdProcess(const AttribdProcess&) = delete;
  AttribdProcess& operator=(const AttribdProcess&) = delete;

  bool ok() const { return !address_.empty(); }
  const std::string& address() const { return address_; }  // "127.0.0.1:40123"
  // With --metrics_listen: the metrics address from the startup line ("metrics on
  // 127.0.0.1:40124"); else empty.
  const std::string& metrics_address() const { return metrics_address_; }
  // The HTTP API's address from the startup line ("http on http://127.0.0.1:40125").
  const std::string& http_address() const { return http_address_; }
  pid_t pid() const { return pid_; }
  // The first stdout line.
  const std::string& banner() const { return banner_; }

  // Sends SIGTERM and waits; returns the exit status (or -signal if killed).
  int Stop();
  // SIGKILL (a crash: nothing is flushed, no final snapshot) and waits.
  void Kill();
  // Resident set size of the server, from /proc/PID/status.
  size_t RssBytes() const;
  // Everything the server wrote on stderr so far (for failure messages).
  std::string Stderr() const;

 private:
  // ADD_FAILURE with the server's stderr if it holds a ThreadSanitizer report.
  void ExpectNoTsanReport() const;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string owned_data_dir_;  // A temporary --data_dir, removed at the end.
  std::string address_;
  std::string metrics_address_;
  std::string http_address_;
  std::string banner_;
};

// A client connected to `server` (nullptr, with a test failure, if it cannot connect).
std::unique_ptr<net::Client> Dial(const AttribdProcess& server,
                                  net::ClientOptions options = {});

// Runs a command line through /bin/sh and returns its stdout; *status gets the exit
// status.
std::string RunCommand(const std::string& command, int* status);

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_ATTRIBD_PROCESS_H_
