// tests/attrib_bench_test.cc: attrib-bench end to end, as a process: against a real
// attribd (load, then lookup, batch, connect, attribute, open loop, auth) and against
// a small fake RESP server running in a thread of this test (so CI needs no
// redis-server). Checks the JSON line's counts (requests, errors, misses), never
// speed; usage errors and fatal errors (a server that closes) by exit status.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/attribd_process.h"

namespace attrib::testing {
namespace {

struct BenchRun {
  int status = -1;
  std::string output;  // stdout and stderr.
  std::string json;    // The JSON line, if any.

  // The raw value of a key of the flat JSON line ("" if absent).
  std::string Get(const std::string& key) const {
    const std::string marker = "\"" + key + "\":";
    const size_t at = json.find(marker);
    if (at == std::string::npos) return "";
    const size_t start = at + marker.size();
    size_t end = start;
    if (json[start] == '"') {
      end = json.find('"', start + 1) + 1;
    } else {
      while (end < json.size() && json[end] != ',' && json[end] != '}') ++end;
    }
    std::string value = json.substr(start, end - start);
    if (!value.empty() && value[0] == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  double Number(const std::string& key) const { return std::atof(Get(key).c_str()); }
};

BenchRun RunBench(const std::string& args) {
  BenchRun run;
  run.output = RunCommand(std::string(ATTRIB_BENCH_PATH) + " " + args + " 2>&1", &run.status);
  size_t at = run.output.find("{\"target\"");
  if (at != std::string::npos) run.json = run.output.substr(at, run.output.find('\n', at) - at);
  return run;
}

// --------------------------------------------------------------- attribd

class AttribBenchAttribdTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()); }
  std::string Common() {
    return "--target=attrib --server=" + server_.address() + " --server_pid=" +
           std::to_string(server_.pid()) + " --keys=2000 --warmup=0 --json";
  }
  AttribdProcess server_{{"--fsync=never"}};
};

TEST_F(AttribBenchAttribdTest, LoadThenLookupsFindEveryKey) {
  BenchRun run = RunBench(Common() +
                          " --load --requests=3000 --mix=lookup=100 --connections=4 --pipeline=4");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.Get("target"), "attrib");
  EXPECT_EQ(run.Get("op_mix"), "lookup=100");
  EXPECT_EQ(run.Get("requests"), "3000");
  EXPECT_EQ(run.Get("connections"), "4");
  EXPECT_EQ(run.Get("pipeline"), "4");
  EXPECT_EQ(run.Number("keys_per_request"), 1.0);
  EXPECT_EQ(run.Get("errors"), "0");
  EXPECT_EQ(run.Get("misses"), "0");
  EXPECT_GT(run.Number("load_seconds"), 0);
  EXPECT_GT(run.Number("server_rss_bytes"), 0);
  EXPECT_GT(run.Number("throughput"), 0);
  EXPECT_GT(run.Number("p50_us"), 0);
  EXPECT_GE(run.Number("max_us"), run.Number("p99_us"));
  EXPECT_GE(run.Number("p99_us"), run.Number("p50_us"));
  for (const char* key : {"batch", "seconds", "key_throughput", "p90_us", "p999_us",
                          "client_cpu_s", "server_cpu_s"}) {
    EXPECT_NE(run.Get(key), "") << key << " missing in " << run.json;
  }
  EXPECT_NE(run.output.find("load: 2,000 keys"), std::string::npos) << run.output;

  // Keys that were never loaded are misses, not errors.
  BenchRun unloaded = RunBench(Common() + " --seed=7 --requests=200 --mix=lookup=100 "
                                          "--connections=2");
  ASSERT_EQ(unloaded.status, 0) << unloaded.output;
  EXPECT_EQ(unloaded.Get("misses"), "200");
  EXPECT_EQ(unloaded.Get("errors"), "0");
  EXPECT_EQ(unloaded.Get("load_seconds"), "0.000");
}

TEST_F(AttribBenchAttribdTest, BatchConnectAttributeAndMixedRuns) {
  ASSERT_EQ(RunBench(Common() + " --load --load_only").status, 0);
  BenchRun batch = RunBench(Common() + " --requests=300 --mix=batch=100 --batch=16 "
                                       "--connections=3 --pipeline=2 --threads=2");
  ASSERT_EQ(batch.status, 0) << batch.output;
  EXPECT_EQ(batch.Get("requests"), "300");
  EXPECT_EQ(batch.Number("keys_per_request"), 16.0);
  EXPECT_EQ(batch.Get("errors"), "0");
  EXPECT_EQ(batch.Get("misses"), "0");

  BenchRun reassign = RunBench(Common() + " --requests=500 --mix=connect=100 --connections=2");
  ASSERT_EQ(reassign.status, 0) << reassign.output;
  EXPECT_EQ(reassign.Get("requests"), "500");
  EXPECT_EQ(reassign.Get("errors"), "0");

  BenchRun fresh = RunBench(Common() + " --requests=500 --mix=connect=100 --connect_mode=fresh "
                                       "--fresh_keys=100 --connections=2");
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  EXPECT_EQ(fresh.Get("errors"), "0");
  EXPECT_NE(fresh.output.find("generated during the run"), std::string::npos) << fresh.output;

  BenchRun attribute = RunBench(Common() + " --requests=400 --mix=attribute=100 --pipeline=8");
  ASSERT_EQ(attribute.status, 0) << attribute.output;
  EXPECT_EQ(attribute.Get("requests"), "400");
  EXPECT_EQ(attribute.Get("errors"), "0");

  BenchRun mixed = RunBench(Common() + " --requests=1000 --dist=zipf "
                                       "--mix=lookup=60,batch=10,connect=20,attribute=10 "
                                       "--batch=4 --connections=5 --threads=2 --pipeline=3");
  ASSERT_EQ(mixed.status, 0) << mixed.output;
  EXPECT_EQ(mixed.Get("requests"), "1000");
  EXPECT_EQ(mixed.Get("op_mix"), "lookup=60,batch=10,connect=20,attribute=10");
  EXPECT_EQ(mixed.Get("errors"), "0");
  EXPECT_EQ(mixed.Get("misses"), "0");
  EXPECT_GT(mixed.Number("keys_per_request"), 1.0);
}

TEST_F(AttribBenchAttribdTest, OpenLoopAndDurationRunsStopByThemselves) {
  BenchRun open = RunBench(Common() + " --load --requests=400 --rate=4000 --connections=4 "
                                      "--pipeline=2 --threads=2");
  ASSERT_EQ(open.status, 0) << open.output;
  EXPECT_EQ(open.Get("requests"), "400");
  EXPECT_EQ(open.Get("errors"), "0");
  EXPECT_NE(open.output.find("from intended send times"), std::string::npos);

  BenchRun timed = RunBench(Common() + " --duration=0.3 --warmup=0.1 --connections=2");
  ASSERT_EQ(timed.status, 0) << timed.output;
  EXPECT_EQ(timed.Get("seconds"), "0.300");
  EXPECT_GT(timed.Number("requests"), 0);
  EXPECT_EQ(timed.Get("errors"), "0");
}

TEST(AttribBenchAuthTest, SendsTheTokenFirst) {
  char dir[] = "/tmp/attrib-bench-auth-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string good = std::string(dir) + "/token", bad = std::string(dir) + "/wrong";
  std::ofstream(good) << "s3cret-token\n";
  std::ofstream(bad) << "not-the-token\n";
  AttribdProcess server({"--fsync=never", "--auth_token_file=" + good});
  ASSERT_TRUE(server.ok());
  const std::string common = "--server=" + server.address() + " --keys=100 --warmup=0 --json ";
  BenchRun ok = RunBench(common + "--auth_token_file=" + good + " --load --requests=100");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(ok.Get("errors"), "0");
  BenchRun refused = RunBench(common + "--auth_token_file=" + bad + " --requests=100");
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("refused the auth token"), std::string::npos) << refused.output;
  int status;
  RunCommand("rm -rf '" + std::string(dir) + "'", &status);
}

TEST(AttribBenchUsageTest, ClearUsageErrors) {
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--target=redis --mix=attribute=1", "no Redis equivalent"},
      {"--server=10.1.2.3:7411", "not a loopback address"},
      {"--server=nonsense", "expected host:port"},
      {"--duration=1 --requests=5", "not both"},
      {"--mix=lookup=1,scan=2", "unknown operation 'scan'"},
      {"--target=memcached", "expected attrib or redis"},
      {"--dist=zipf --zipf_s=0", "--zipf_s"},
      {"--batch=0", "--batch"},
      {"--connect_mode=sometimes", "--connect_mode"},
      {"stray", "unexpected argument"},
  };
  for (const Case& c : cases) {
    BenchRun run = RunBench("--keys=10 " + c.args);
    EXPECT_EQ(run.status, 2) << c.args << ": " << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << c.args << ": " << run.output;
  }
}

// ------------------------------------------------------------ fake RESP

// A RESP server good enough for attrib-bench: GET, MGET, SET over a map, one thread
// per connection. `set_error`: answer every SET with an error instead.
class FakeRedis {
 public:
  explicit FakeRedis(bool set_error = false, bool close_at_once = false)
      : set_error_(set_error), close_at_once_(close_at_once) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 128), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~FakeRedis() {
    shutdown(listen_fd_, SHUT_RDWR);  // Wakes accept().
    acceptor_.join();
    close(listen_fd_);
    for (std::thread& t : connections_) t.join();  // They end when the client closes.
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  size_t keys() {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }

 private:
  void Accept() {
    for (;;) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      if (close_at_once_) {
        close(fd);
        continue;
      }
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Parses one command (an array of bulk strings) at the front of `in`; false if
  // incomplete.
  static bool Parse(const std::string& in, size_t* used, std::vector<std::string>* args) {
    size_t p = 0;
    auto line = [&](std::string* out) {
      const size_t end = in.find("\r\n", p);
      if (end == std::string::npos) return false;
      *out = in.substr(p, end - p);
      p = end + 2;
      return true;
    };
    std::string header;
    if (!line(&header)) return false;
    const int count = std::atoi(header.c_str() + 1);
    args->clear();
    for (int i = 0; i < count; ++i) {
      if (!line(&header)) return false;
      const size_t length = std::strtoul(header.c_str() + 1, nullptr, 10);
      if (in.size() < p + length + 2) return false;
      args->push_back(in.substr(p, length));
      p += length + 2;
    }
    *used = p;
    return true;
  }

  void Serve(int fd) {
    std::string in, out;
    char buf[65536];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      in.append(buf, n);
      size_t used;
      std::vector<std::string> args;
      while (Parse(in, &used, &args)) {
        in.erase(0, used);
        Reply(args, &out);
      }
      if (!out.empty() && write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
        break;
      }
      out.clear();
    }
    close(fd);
  }

  void Reply(const std::vector<std::string>& args, std::string* out) {
    std::lock_guard<std::mutex> lock(mu_);
    auto bulk = [&](const std::string& key) {
      auto it = map_.find(key);
      if (it == map_.end()) {
        *out += "$-1\r\n";
      } else {
        *out += "$" + std::to_string(it->second.size()) + "\r\n" + it->second + "\r\n";
      }
    };
    if (args.size() == 2 && args[0] == "GET") {
      bulk(args[1]);
    } else if (args.size() >= 2 && args[0] == "MGET") {
      *out += "*" + std::to_string(args.size() - 1) + "\r\n";
      for (size_t i = 1; i < args.size(); ++i) bulk(args[i]);
    } else if (args.size() == 3 && args[0] == "SET") {
      if (set_error_) {
        *out += "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
      } else {
        map_[args[1]] = args[2];
        *out += "+OK\r\n";
      }
    } else {
      *out += "-ERR unknown command\r\n";
    }
  }

  const bool set_error_;
  const bool close_at_once_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // Only the acceptor thread adds.
  std::mutex mu_;
  std::map<std::string, std::string> map_;
};

TEST(AttribBenchRespTest, LoadLookupBatchAndSetAgainstAFakeRedis) {
  FakeRedis redis;
  const std::string common =
      "--target=redis --server=" + redis.address() + " --keys=2000 --warmup=0 --json ";
  BenchRun lookups = RunBench(common + "--load --requests=2000 --connections=4 --pipeline=8 "
                                       "--threads=2");
  ASSERT_EQ(lookups.status, 0) << lookups.output;
  EXPECT_EQ(redis.keys(), 2000u);
  EXPECT_EQ(lookups.Get("target"), "redis");
  EXPECT_EQ(lookups.Get("requests"), "2000");
  EXPECT_EQ(lookups.Get("errors"), "0");
  EXPECT_EQ(lookups.Get("misses"), "0");

  BenchRun batch = RunBench(common + "--requests=100 --mix=batch=100 --batch=32 --connections=2");
  ASSERT_EQ(batch.status, 0) << batch.output;
  EXPECT_EQ(batch.Get("requests"), "100");
  EXPECT_EQ(batch.Number("keys_per_request"), 32.0);
  EXPECT_EQ(batch.Get("misses"), "0");

  BenchRun sets = RunBench(common + "--requests=300 --mix=connect=100 --connect_mode=fresh");
  ASSERT_EQ(sets.status, 0) << sets.output;
  EXPECT_EQ(sets.Get("errors"), "0");
  EXPECT_EQ(redis.keys(), 2300u);

  BenchRun missing = RunBench(common + "--seed=9 --requests=50 --mix=lookup=100");
  ASSERT_EQ(missing.status, 0) << missing.output;
  EXPECT_EQ(missing.Get("misses"), "50");
  EXPECT_EQ(missing.Get("errors"), "0");
}

TEST(AttribBenchRespTest, ErrorRepliesAreCountedByKind) {
  FakeRedis redis(/*set_error=*/true);
  BenchRun run = RunBench("--target=redis --server=" + redis.address() +
                          " --keys=100 --warmup=0 --json --requests=120 --mix=connect=100");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.Get("requests"), "120");
  EXPECT_EQ(run.Get("errors"), "120");
  EXPECT_NE(run.output.find("OOM: 120"), std::string::npos) << run.output;
}

TEST(AttribBenchRespTest, AServerThatClosesIsFatal) {
  FakeRedis redis(/*set_error=*/false, /*close_at_once=*/true);
  BenchRun run = RunBench("--target=redis --server=" + redis.address() +
                          " --keys=10 --warmup=0 --requests=10 --connections=1");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("closed the connection"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace attrib::testing
