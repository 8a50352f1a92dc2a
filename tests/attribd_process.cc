// tests/attribd_process.cc: a real attribd process for end-to-end tests.
#include "tests/attribd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace attrib::testing {

AttribdProcess::AttribdProcess(std::vector<std::string> extra_flags) {
  char tmpl[] = "/tmp/attribd-stderr-XXXXXX";
  const int err_fd = mkstemp(tmpl);
  stderr_path_ = tmpl;
  int out[2];
  if (pipe(out) != 0 || err_fd < 0) {
    ADD_FAILURE() << "pipe/mkstemp failed";
    return;
  }
  std::vector<std::string> args = {ATTRIBD_PATH, "--listen=127.0.0.1:0"};
  bool has_data_dir = false;
  for (const std::string& f : extra_flags) has_data_dir |= f.rfind("--data_dir=", 0) == 0;
  if (!has_data_dir) {
    char dir[] = "/tmp/attribd-data-XXXXXX";
    owned_data_dir_ = mkdtemp(dir);
    args.push_back("--data_dir=" + owned_data_dir_);
  }
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    dup2(err_fd, 2);
    close(out[0]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err_fd);
  stdout_fd_ = out[0];
  // Read the banner line; the server prints it once it listens. A generous bound
  // only protects the suite from hanging if the server never starts.
  std::string line;
  char c;
  while (line.find('\n') == std::string::npos) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, 60'000) <= 0) break;
    if (read(stdout_fd_, &c, 1) != 1) break;
    line.push_back(c);
  }
  banner_ = line;
  const std::string marker = "listening on ";
  const size_t at = line.find(marker);
  if (at == std::string::npos) {
    ADD_FAILURE() << "attribd did not start: stdout '" << line << "', stderr: " << Stderr();
    return;
  }
  const size_t start = at + marker.size();
  address_ = line.substr(start, line.find(' ', start) - start);
  const std::string metrics_marker = "metrics on ";
  if (const size_t m = line.find(metrics_marker); m != std::string::npos) {
    const size_t from = m + metrics_marker.size();
    metrics_address_ = line.substr(from, line.find_first_of("), ", from) - from);
  }
  const std::string http_marker = "http on http://";
  if (const size_t m = line.find(http_marker); m != std::string::npos) {
    const size_t from = m + http_marker.size();
    http_address_ = line.substr(from, line.find_first_of("), ", from) - from);
  }
}

AttribdProcess::~AttribdProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    ExpectNoTsanReport();
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
  if (!owned_data_dir_.empty()) {
    int status = 0;
    RunCommand("rm -rf '" + owned_data_dir_ + "'", &status);
  }
}

int AttribdProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  ExpectNoTsanReport();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
}

void AttribdProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  ExpectNoTsanReport();
}

void AttribdProcess::ExpectNoTsanReport() const {
  // A server built with -DATTRIB_TSAN=ON writes its reports on stderr (and, with
  // tools/test.sh's TSAN_OPTIONS, exits 66 at the first one). Checking the text
  // catches them whatever way the test ends the server, SIGKILL included.
  const std::string err = Stderr();
  if (err.find("WARNING: ThreadSanitizer") != std::string::npos) {
    ADD_FAILURE() << "ThreadSanitizer report in attribd:\n" << err;
  }
}

size_t AttribdProcess::RssBytes() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

std::string AttribdProcess::Stderr() const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<net::Client> Dial(const AttribdProcess& server, net::ClientOptions options) {
  auto c = net::Client::Connect(server.address(), options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

}  // namespace attrib::testing
