// cluster/etcd_test_cluster.cc: real etcd members for tests (see the header).
#include "cluster/etcd_test_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cluster/etcd_client.h"

namespace attrib::cluster {
namespace {

// A port the kernel says is free now (bound to 0, read, closed).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace

EtcdTestCluster::EtcdTestCluster(int members) {
  struct stat st;
  std::string tmpl = stat("/dev/shm", &st) == 0 ? "/dev/shm/attrib-etcd-XXXXXX"
                                                : "/tmp/attrib-etcd-XXXXXX";
  dir_ = mkdtemp(tmpl.data());
  std::vector<std::string> peers, names;
  for (int i = 0; i < members; ++i) {
    endpoints_.push_back(absl::StrCat("127.0.0.1:", FreePort()));
    peers.push_back(absl::StrCat("127.0.0.1:", FreePort()));
    names.push_back(absl::StrCat("m", i, "=http://", peers.back()));
  }
  const std::string initial = absl::StrJoin(names, ",");
  for (int i = 0; i < members; ++i) {
    std::vector<std::string> args = {
        "etcd",
        absl::StrCat("--name=m", i),
        absl::StrCat("--data-dir=", dir_, "/m", i),
        absl::StrCat("--listen-client-urls=http://", endpoints_[i]),
        absl::StrCat("--advertise-client-urls=http://", endpoints_[i]),
        absl::StrCat("--listen-peer-urls=http://", peers[i]),
        absl::StrCat("--initial-advertise-peer-urls=http://", peers[i]),
        absl::StrCat("--initial-cluster=", initial),
        "--initial-cluster-state=new",
        absl::StrCat("--initial-cluster-token=", dir_),
        "--heartbeat-interval=50",
        "--election-timeout=500",
        "--log-level=error"};
    const std::string log = absl::StrCat(dir_, "/m", i, ".log");
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("etcd", argv.data());
      _exit(127);
    }
    pids_.push_back(pid);
  }
}

EtcdTestCluster::~EtcdTestCluster() {
  for (size_t i = 0; i < pids_.size(); ++i) Kill(static_cast<int>(i));
  const std::string rm = absl::StrCat("rm -rf '", dir_, "'");
  if (system(rm.c_str()) != 0) {
    // Left behind in tmpfs; nothing else to do in a destructor.
  }
}

void EtcdTestCluster::Kill(int i) {
  if (pids_[i] <= 0) return;
  kill(pids_[i], SIGKILL);
  waitpid(pids_[i], nullptr, 0);
  pids_[i] = -1;
}

absl::Status EtcdTestCluster::Ready(absl::Duration limit) {
  EtcdClientOptions options;
  options.endpoints = endpoints_;
  options.timeout = absl::Milliseconds(500);
  EtcdClient client(options);
  const absl::Time deadline = absl::Now() + limit;
  absl::Status last;
  while (absl::Now() < deadline) {
    for (size_t i = 0; i < pids_.size(); ++i) {
      int status = 0;
      if (pids_[i] > 0 && waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
        pids_[i] = -1;
        return absl::FailedPreconditionError(absl::StrCat(
            "etcd member ", i, " exited (", WIFEXITED(status) && WEXITSTATUS(status) == 127
                                                ? "etcd not installed: apt-get install etcd-server"
                                                : "see its log in " + dir_,
            ")"));
      }
    }
    absl::StatusOr<rapidjson::Document> r = client.Post("/v3/kv/range", "{\"key\":\"eA==\"}");
    if (r.ok()) return absl::OkStatus();
    last = r.status();
    absl::SleepFor(absl::Milliseconds(50));  // Poll interval while members elect.
  }
  return absl::DeadlineExceededError(absl::StrCat("etcd cluster not ready: ", last.message()));
}

}  // namespace attrib::cluster
