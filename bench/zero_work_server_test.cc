// bench/zero_work_server_test.cc: zero-work-server end to end, as a process on a
// free loopback port, driven by attrib-bench for a bounded number of requests in
// both protocols (lookup, batch, ping, connect; attrib also attribute): every
// request is answered, none is an error, and lookups are misses (the fixed replies
// say found = false / nil). Then SIGTERM stops it with status 0. Never speed.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace attrib::bench {
namespace {

// A running zero-work-server; killed at the end if the test did not stop it.
class ZeroWorkProcess {
 public:
  explicit ZeroWorkProcess(std::vector<std::string> flags) {
    int out[2];
    if (pipe(out) != 0) return;
    std::vector<std::string> args = {ZERO_WORK_SERVER_PATH};
    args.insert(args.end(), flags.begin(), flags.end());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    // The banner comes once it listens; the bound only keeps a broken build from
    // hanging the suite.
    char c;
    while (banner_.find('\n') == std::string::npos) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 30'000) <= 0 || read(out[0], &c, 1) != 1) break;
      banner_.push_back(c);
    }
    close(out[0]);
    const std::string marker = "listening on ";
    if (const size_t at = banner_.find(marker); at != std::string::npos) {
      const size_t start = at + marker.size();
      address_ = banner_.substr(start, banner_.find(' ', start) - start);
    }
  }
  ~ZeroWorkProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  const std::string& address() const { return address_; }
  const std::string& banner() const { return banner_; }
  pid_t pid() const { return pid_; }

  // SIGTERM, then the exit status; -1 if it is still running after 10 s.
  int Stop() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 10'000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(1000);  // Polling for the exit, bounded by the loop.
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  std::string banner_;
  std::string address_;
};

struct CommandRun {
  int status = -1;
  std::string output;
  // The raw value of a key of attrib-bench's flat JSON line.
  std::string Get(const std::string& key) const {
    const std::string marker = "\"" + key + "\":";
    const size_t at = output.find(marker);
    if (at == std::string::npos) return "";
    const size_t start = at + marker.size();
    if (output[start] == '"') {
      return output.substr(start + 1, output.find('"', start + 1) - start - 1);
    }
    return output.substr(start, output.find_first_of(",}", start) - start);
  }
};

CommandRun RunCommand(const std::string& command) {
  CommandRun run;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) run.output.append(buf, n);
  const int status = pclose(p);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

CommandRun Bench(const ZeroWorkProcess& server, const std::string& target,
                 const std::string& args) {
  return RunCommand(std::string(ATTRIB_BENCH_PATH) + " --target=" + target + " --server=" +
                    server.address() + " --server_pid=" + std::to_string(server.pid()) +
                    " --keys=1000 --warmup=0 --json --timeout=20 " + args);
}

void ExpectAllAnswered(const CommandRun& run, const std::string& requests,
                       const std::string& misses) {
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.Get("requests"), requests) << run.output;
  EXPECT_EQ(run.Get("errors"), "0") << run.output;
  EXPECT_EQ(run.Get("misses"), misses) << run.output;
  EXPECT_NE(run.Get("server_cpu_s"), "") << run.output;
}

TEST(ZeroWorkServerTest, AttribLoadsAreAnsweredThenSigtermStopsIt) {
  ZeroWorkProcess server({"--protocol=attrib"});
  ASSERT_NE(server.address(), "") << server.banner();
  EXPECT_NE(server.banner().find("127.0.0.1:"), std::string::npos) << server.banner();
  ExpectAllAnswered(Bench(server, "attrib", "--requests=3000 --mix=lookup=100 --connections=4 "
                                            "--pipeline=16"),
                    "3000", "3000");
  ExpectAllAnswered(Bench(server, "attrib", "--requests=200 --mix=batch=100 --batch=128 "
                                            "--connections=3 --pipeline=2"),
                    "200", "25600");
  ExpectAllAnswered(Bench(server, "attrib", "--requests=2000 --mix=ping=100 --connections=2 "
                                            "--pipeline=8"),
                    "2000", "0");
  const CommandRun mixed = Bench(server, "attrib", "--requests=1000 --connections=5 --threads=2 "
                                            "--mix=lookup=40,batch=10,connect=20,attribute=10,"
                                            "ping=20 --batch=4");
  ASSERT_EQ(mixed.status, 0) << mixed.output;
  EXPECT_EQ(mixed.Get("requests"), "1000");
  EXPECT_EQ(mixed.Get("errors"), "0");
  EXPECT_EQ(mixed.Get("op_mix"), "lookup=40,batch=10,connect=20,attribute=10,ping=20");
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ZeroWorkServerTest, RespLoadsAreAnsweredThenSigtermStopsIt) {
  ZeroWorkProcess server({"--protocol=resp", "--listen=127.0.0.1:0"});
  ASSERT_NE(server.address(), "") << server.banner();
  ExpectAllAnswered(Bench(server, "redis", "--requests=3000 --mix=lookup=100 --connections=4 "
                                           "--pipeline=16"),
                    "3000", "3000");
  ExpectAllAnswered(Bench(server, "redis", "--requests=200 --mix=batch=100 --batch=128 "
                                           "--connections=3"),
                    "200", "25600");
  ExpectAllAnswered(Bench(server, "redis", "--requests=2000 --mix=ping=100 --pipeline=8"),
                    "2000", "0");
  ExpectAllAnswered(Bench(server, "redis", "--requests=500 --mix=connect=100 --connections=2"),
                    "500", "0");
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ZeroWorkServerTest, RefusesNonLoopbackAndUnknownProtocols) {
  const CommandRun remote =
      RunCommand(std::string(ZERO_WORK_SERVER_PATH) + " --listen=192.0.2.1:0");
  EXPECT_EQ(remote.status, 2) << remote.output;
  EXPECT_NE(remote.output.find("--listen"), std::string::npos) << remote.output;
  const CommandRun http = RunCommand(std::string(ZERO_WORK_SERVER_PATH) + " --protocol=http");
  EXPECT_EQ(http.status, 2) << http.output;
  EXPECT_NE(http.output.find("--protocol"), std::string::npos) << http.output;
}

}  // namespace
}  // namespace attrib::bench
