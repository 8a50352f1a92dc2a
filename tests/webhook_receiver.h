// tests/webhook_receiver.h
//
// The webhook receiver process of the tests (webhooks/testdata/receiver.mjs, Node):
// on a free loopback port, it verifies every delivery's signature with node:crypto
// and appends one JSON line per request to its log, which Log() reads back. Also
// Eventually(): polling with a bounded deadline, the tests' only way to wait.
//
// Needs ATTRIB_SOURCE_DIR (the repository root) defined by the build.
//
// Thread-safety: one test thread owns a Receiver.
#ifndef ATTRIB_TESTS_WEBHOOK_RECEIVER_H_
#define ATTRIB_TESTS_WEBHOOK_RECEIVER_H_

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"

namespace attrib::testing {

struct Delivery {
  std::string id;
  uint64_t seq = 0;
  std::string type;
  bool valid = false;
  int status = 0;
};

// Polls done() every 5 ms until it is true (true) or `limit` passed (false).
template <typename F>
bool Eventually(F done, absl::Duration limit = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Poll interval.
  }
  return true;
}

class Receiver {
 public:
  // `secret`: the secret to verify with; empty: the ones SetSecrets() writes (attrib
  // generates an endpoint's secret after its URL, the receiver's, is known).
  // `mode`: ok | fail:N | gone | hang (receiver.mjs). `port`: 0 picks a free one.
  Receiver(const std::string& secret, const std::string& mode, const std::string& port = "0") {
    char tmpl[] = "/tmp/attrib-receiver-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string port_file = dir_ + "/port";
    log_ = dir_ + "/log";
    secrets_ = dir_ + "/secrets";
    const std::string arg = secret.empty() ? "@" + secrets_ : secret;
    pid_ = fork();
    if (pid_ == 0) {
      execlp("node", "node", ATTRIB_SOURCE_DIR "/webhooks/testdata/receiver.mjs",
             port_file.c_str(), log_.c_str(), arg.c_str(), mode.c_str(), port.c_str(),
             nullptr);
      _exit(127);
    }
    Eventually([&] {  // Until the port file appears.
      std::ifstream f(port_file);
      std::getline(f, port_);
      return !port_.empty();
    }, absl::Seconds(10));
  }
  ~Receiver() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    const std::string rm = "rm -rf '" + dir_ + "'";
    if (std::system(rm.c_str()) != 0) {
    }
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hooks"); }
  const std::string& port() const { return port_; }
  bool ok() const { return !port_.empty(); }
  // Replaces the secrets a signature may match (written whole, then renamed).
  void SetSecrets(const std::vector<std::string>& secrets) const {
    const std::string temp = secrets_ + ".tmp";
    {
      std::ofstream f(temp);
      for (const std::string& s : secrets) f << s << "\n";
    }
    std::rename(temp.c_str(), secrets_.c_str());
  }
  std::vector<Delivery> Log() const {
    std::vector<Delivery> out;
    std::ifstream f(log_);
    for (std::string line; std::getline(f, line);) {
      rapidjson::Document d;
      d.Parse(line.c_str());
      if (d.HasParseError() || !d.IsObject()) continue;  // A line being written.
      Delivery x;
      x.id = d.HasMember("id") && d["id"].IsString() ? d["id"].GetString() : "";
      x.seq = d.HasMember("seq") && d["seq"].IsString() ? std::stoull(d["seq"].GetString()) : 0;
      x.type = d.HasMember("type") && d["type"].IsString() ? d["type"].GetString() : "";
      x.valid = d["valid"].GetBool();
      x.status = d["status"].GetInt();
      out.push_back(x);
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  std::string dir_, log_, port_, secrets_;
};

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_WEBHOOK_RECEIVER_H_
