// tests/metrics_e2e_test.cc
//
// attribd --metrics_listen end to end: a real server, scraped with curl. Every metric
// family is there with HELP and TYPE; after connects, single and pipelined lookups
// and a snapshot (attribctl snapshot), the counters, bytes, fsyncs, latency
// histograms, store sizes and snapshot figures moved by exactly (or at least) what
// was done; after a restart the recovery figures describe what was recovered. Other
// paths get 404, other methods 405, HEAD gets the headers only.
//
// Thread-safety: single-threaded tests.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/attribd_process.h"
#include "tests/pipeline_check.h"
#include "tests/raw_socket.h"

namespace attrib {
namespace {

using testing::AttribdProcess;
using testing::Dial;
using testing::RunCommand;

// Runs curl; returns the body, with the HTTP status in *code.
std::string Curl(const std::string& args, int* code) {
  int status = 0;
  const std::string out =
      RunCommand(absl::StrCat("curl -s -S --max-time 20 -w '\\n%{http_code}' ", args), &status);
  EXPECT_EQ(status, 0) << "curl " << args;
  const size_t nl = out.rfind('\n');
  *code = 0;
  if (nl == std::string::npos || !absl::SimpleAtoi(out.substr(nl + 1), code)) return out;
  return out.substr(0, nl);
}

struct Scrape {
  std::string text;
  std::map<std::string, double> values;  // Series ("name{labels}") -> value.
  double operator[](const std::string& series) const {
    const auto it = values.find(series);
    EXPECT_NE(it, values.end()) << "no series " << series;
    return it == values.end() ? -1 : it->second;
  }
  double Sum(const std::string& prefix, int* series) const {
    double sum = 0;
    *series = 0;
    for (const auto& [name, value] : values) {
      if (absl::StartsWith(name, prefix)) {
        sum += value;
        ++*series;
      }
    }
    return sum;
  }
};

Scrape ScrapeMetrics(const AttribdProcess& server) {
  int code = 0;
  Scrape s;
  s.text = Curl(absl::StrCat("http://", server.metrics_address(), "/metrics"), &code);
  EXPECT_EQ(code, 200) << s.text;
  for (absl::string_view line : absl::StrSplit(s.text, '\n', absl::SkipEmpty())) {
    if (line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double v = 0;
    EXPECT_TRUE(space != absl::string_view::npos &&
                (absl::SimpleAtod(line.substr(space + 1), &v) || line.substr(space + 1) == "+Inf"))
        << line;
    s.values[std::string(line.substr(0, space))] = v;
  }
  return s;
}

// Scrapes until `series` has `value` (a client's close reaches the server's count a
// moment after the client sees it), at most 200 times; the last scrape either way.
Scrape ScrapeUntil(const AttribdProcess& server, const std::string& series, double value) {
  Scrape s;
  for (int i = 0; i < 200; ++i) {
    s = ScrapeMetrics(server);
    const auto it = s.values.find(series);
    if (it != s.values.end() && it->second == value) break;
  }
  return s;
}

const char* const kFamilies[] = {
    "attrib_requests_total", "attrib_request_duration_seconds", "attrib_connections_open",
    "attrib_connections_accepted_total", "attrib_connections_refused_total",
    "attrib_network_received_bytes_total", "attrib_network_sent_bytes_total",
    "attrib_uptime_seconds", "attrib_durability_oldest_wait_seconds",
    "attrib_store_connections", "attrib_store_remembered_orders",
    "attrib_store_memory_bytes", "attrib_process_resident_memory_bytes",
    "attrib_wal_bytes_total", "attrib_wal_durable_seq", "attrib_wal_fsyncs_total",
    "attrib_wal_fsync_duration_seconds", "attrib_snapshots_total",
    "attrib_snapshot_last_unix_seconds", "attrib_snapshot_last_duration_seconds",
    "attrib_snapshot_last_bytes", "attrib_snapshot_last_connections",
    "attrib_recovery_snapshot_load_seconds", "attrib_recovery_snapshot_connections",
    "attrib_recovery_replayed_records", "attrib_recovery_replay_seconds",
    "attrib_recovery_torn_bytes_dropped", "attrib_recovery_connections"};

TEST(MetricsE2eTest, CountersMoveWithRequestsAndSnapshots) {
  char dir_template[] = "/tmp/attrib_metrics_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  constexpr int kPipelined = 200;
  {
    AttribdProcess server({"--metrics_listen=127.0.0.1:0", "--data_dir=" + dir});
    ASSERT_TRUE(server.ok());
    ASSERT_TRUE(absl::StartsWith(server.metrics_address(), "127.0.0.1:")) << server.banner();

    const Scrape before = ScrapeMetrics(server);
    for (const char* family : kFamilies) {
      EXPECT_TRUE(absl::StrContains(before.text, absl::StrCat("# HELP ", family, " ")))
          << family;
      EXPECT_TRUE(absl::StrContains(before.text, absl::StrCat("# TYPE ", family, " ")))
          << family;
    }
    EXPECT_EQ(before["attrib_network_received_bytes_total"], 0);
    EXPECT_EQ(before["attrib_snapshots_total"], 0);
    EXPECT_EQ(before["attrib_snapshot_last_unix_seconds"], 0);
    EXPECT_EQ(before["attrib_request_duration_seconds_count{op=\"lookup\"}"], 0);
    EXPECT_GT(before["attrib_process_resident_memory_bytes"], 0);
    int shards = 0;
    EXPECT_EQ(before.Sum("attrib_store_connections{", &shards), 0);
    EXPECT_EQ(shards, 256);

    std::unique_ptr<net::Client> client = Dial(server);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 3; ++i) {
      engine::ConnectRequest c;
      c.shop = 1;
      c.affiliate = 7;
      c.email = absl::StrCat("customer", i, "@example.com");
      ASSERT_TRUE(client->Connect(c).ok());
    }
    ASSERT_TRUE(client->Lookup(1, "customer0@example.com").ok());
    EXPECT_FALSE(client->Lookup(1, "not an email").ok());  // An error reply.
    {
      // Pipelined: the server times these per batch.
      testing::RawSocket raw(server.address());
      ASSERT_TRUE(raw.connected());
      std::string burst;
      for (int i = 0; i < kPipelined; ++i) burst += testing::LookupFrame(i, "customer1@example.com");
      ASSERT_TRUE(raw.SendAll(burst));
      raw.ShutdownWrite();
      bool closed = false;
      const std::string replies = raw.ReadUntilClosed(20'000, &closed);
      size_t frames = 0;
      testing::DescribeResponses(replies, &frames);
      ASSERT_EQ(frames, static_cast<size_t>(kPipelined));
    }
    {
      int status = 0;
      const std::string out = RunCommand(
          absl::StrCat(ATTRIBCTL_PATH, " --server ", server.address(), " snapshot 2>&1"),
          &status);
      ASSERT_EQ(status, 0) << out;
    }

    // Open: the client; the raw socket and attribctl have closed.
    const Scrape after = ScrapeUntil(server, "attrib_connections_open", 1);
    EXPECT_EQ(after["attrib_requests_total{op=\"connect\",result=\"ok\"}"], 3);
    EXPECT_EQ(after["attrib_requests_total{op=\"lookup\",result=\"ok\"}"], kPipelined + 1);
    EXPECT_EQ(after["attrib_requests_total{op=\"lookup\",result=\"invalid_argument\"}"], 1);
    EXPECT_EQ(after["attrib_requests_total{op=\"snapshot\",result=\"ok\"}"], 1);
    EXPECT_EQ(after["attrib_request_duration_seconds_count{op=\"connect\"}"], 3);
    EXPECT_EQ(after["attrib_request_duration_seconds_count{op=\"lookup\"}"], kPipelined + 2);
    EXPECT_EQ(after["attrib_request_duration_seconds_bucket{op=\"lookup\",le=\"+Inf\"}"],
              kPipelined + 2);
    EXPECT_GT(after["attrib_request_duration_seconds_sum{op=\"lookup\"}"], 0);
    EXPECT_EQ(after["attrib_connections_open"], 1);
    EXPECT_EQ(after["attrib_connections_accepted_total"], 3);  // Client, raw, attribctl.
    EXPECT_EQ(after["attrib_connections_refused_total"], 0);
    EXPECT_GT(after["attrib_network_received_bytes_total"], kPipelined * 16);
    EXPECT_GT(after["attrib_network_sent_bytes_total"], kPipelined * 16);
    EXPECT_EQ(after.Sum("attrib_store_connections{", &shards), 3);
    EXPECT_GT(after["attrib_wal_bytes_total"], 0);
    EXPECT_EQ(after["attrib_wal_durable_seq"], 3);
    EXPECT_GE(after["attrib_wal_fsyncs_total"], before["attrib_wal_fsyncs_total"] + 1);
    EXPECT_GE(after["attrib_wal_fsync_duration_seconds_count"], 1);
    EXPECT_EQ(after["attrib_snapshots_total"], 1);
    EXPECT_GT(after["attrib_snapshot_last_unix_seconds"], 1.6e9);
    EXPECT_GT(after["attrib_snapshot_last_bytes"], 0);
    EXPECT_EQ(after["attrib_snapshot_last_connections"], 3);
    EXPECT_EQ(after["attrib_recovery_connections"], 0);  // A fresh directory.
    EXPECT_EQ(server.Stop(), 0);
  }
  // Restarted on the same directory: the recovery figures say what came back (the
  // final snapshot at shutdown holds the 3 connections).
  AttribdProcess again({"--metrics_listen=127.0.0.1:0", "--data_dir=" + dir});
  ASSERT_TRUE(again.ok());
  const Scrape recovered = ScrapeMetrics(again);
  EXPECT_EQ(recovered["attrib_recovery_connections"], 3);
  EXPECT_EQ(recovered["attrib_recovery_snapshot_connections"], 3);
  EXPECT_EQ(recovered["attrib_recovery_replayed_records"], 0);
  EXPECT_EQ(again.Stop(), 0);
  int status = 0;
  RunCommand("rm -rf " + dir, &status);
}

TEST(MetricsE2eTest, OtherPathsAndMethods) {
  AttribdProcess server({"--metrics_listen=127.0.0.1:0"});
  ASSERT_TRUE(server.ok());
  const std::string base = absl::StrCat("http://", server.metrics_address());
  int code = 0;
  Curl(base + "/", &code);
  EXPECT_EQ(code, 404);
  Curl(base + "/metricsx", &code);
  EXPECT_EQ(code, 404);
  Curl("-X POST " + base + "/metrics", &code);
  EXPECT_EQ(code, 405);
  Curl("-X DELETE " + base + "/metrics", &code);
  EXPECT_EQ(code, 405);
  // HEAD: the headers of the GET reply, no body.
  const std::string head = Curl("-I " + base + "/metrics", &code);
  EXPECT_EQ(code, 200);
  EXPECT_TRUE(absl::StrContains(head, "Content-Type: text/plain; version=0.0.4")) << head;
  EXPECT_FALSE(absl::StrContains(head, "# HELP")) << head;
  // Keep-alive: two requests on one connection (curl reuses it).
  const std::string two = Curl(base + "/metrics " + base + "/metrics", &code);
  EXPECT_EQ(code, 200);
  size_t helps = 0;
  for (size_t at = two.find("# HELP attrib_wal_bytes_total"); at != std::string::npos;
       at = two.find("# HELP attrib_wal_bytes_total", at + 1)) {
    ++helps;
  }
  EXPECT_EQ(helps, 2u);
}

TEST(MetricsE2eTest, LimitsOfTheMetricsPort) {
  AttribdProcess server({"--metrics_listen=127.0.0.1:0", "--metrics_max_connections=1",
                         "--metrics_read_timeout=3s", "--metrics_max_header_bytes=1024"});
  ASSERT_TRUE(server.ok());
  const std::string base = absl::StrCat("http://", server.metrics_address());
  {
    // A silent connection takes the only slot (it is accepted before curl's, the
    // accept queue being FIFO): curl's connection gets 503...
    testing::RawSocket silent(server.metrics_address());
    ASSERT_TRUE(silent.connected());
    int refused = 0;
    Curl(base + "/metrics", &refused);
    EXPECT_EQ(refused, 503) << "a scrape over --metrics_max_connections was not refused";
    // ...until the read timeout closes the silent one.
    bool closed = false;
    silent.ReadUntilClosed(30'000, &closed);
    EXPECT_TRUE(closed) << "a silent metrics connection outlived --metrics_read_timeout";
  }
  int code = 0;
  Curl(base + "/metrics", &code);
  EXPECT_EQ(code, 200);
  // A request header over --metrics_max_header_bytes is refused: 431.
  Curl(absl::StrCat("-H 'X-Big: ", std::string(2000, 'x'), "' ", base, "/metrics"), &code);
  EXPECT_EQ(code, 431) << "a 2 KB header with --metrics_max_header_bytes=1024";
  int bad = 0;
  const std::string out = RunCommand(
      absl::StrCat(ATTRIBD_PATH, " --listen=127.0.0.1:0 --data_dir=$(mktemp -d) "
                   "--metrics_listen=127.0.0.1:0 --metrics_max_connections=0 2>&1"),
      &bad);
  EXPECT_EQ(bad, 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "metrics_max_connections: must be >= 1")) << out;
}

TEST(MetricsE2eTest, OffByDefaultAndABusyPortFailsTheStart) {
  AttribdProcess plain;
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain.metrics_address().empty()) << plain.banner();
  // The client port is taken: --metrics_listen on it must fail the start, not serve.
  int status = 0;
  const std::string out = RunCommand(
      absl::StrCat(ATTRIBD_PATH, " --listen=127.0.0.1:0 --data_dir=$(mktemp -d) "
                   "--metrics_listen=", plain.address(), " 2>&1"),
      &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "metrics_listen on " + plain.address())) << out;
}

}  // namespace
}  // namespace attrib
