// bench/attrib_bench.cc
//
// attrib-bench: the load generator that speaks attrib's protocol and RESP (Redis),
// so the only difference between two runs is the server (SPEC §9). Flags, checks,
// key generation, then the phases on a Driver (bench/bench_driver.h) and the report
// (bench/bench_report.h).
//
//   attrib-bench --target=attrib --server=127.0.0.1:7411 --load --keys=1000000
//       --mix=lookup=100 --connections=50 --pipeline=16 --duration=5 --json
//   attrib-bench --target=redis --server=127.0.0.1:6379 ...   (same keys, same bytes)
//
// Exit status: 0 the run completed (error replies are counted, not fatal); 1 the run
// failed (connection closed, unparsable reply, no reply within --timeout); 2 usage.
//
// Thread-safety: main() runs on one thread; the Driver starts the client threads.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_driver.h"
#include "bench/bench_report.h"
#include "bench/process_stats.h"

ABSL_FLAG(std::string, target, "attrib",
          "attrib or redis: which protocol to speak. Everything else about the run is "
          "identical, so two runs compare the servers.");
ABSL_FLAG(std::string, server, "",
          "host:port of the server (default 127.0.0.1:7411 for attrib, 127.0.0.1:6379 "
          "for redis). Must be a loopback address: the harness only talks to this "
          "machine.");
ABSL_FLAG(int, threads, 1,
          "Client threads, each with an epoll loop over its share of the connections. "
          "Client and server share the cores: more client threads steal CPU from the "
          "server.");
ABSL_FLAG(int, connections, 50, "TCP connections, spread over --threads.");
ABSL_FLAG(uint32_t, pipeline, 1,
          "Requests in flight per connection (1 = no pipelining). Open loop: the most "
          "that may be in flight; later requests wait with their clocks running.");
ABSL_FLAG(uint32_t, batch, 128,
          "Keys per batch request (attrib LookupBatch, Redis MGET). At most 10000, "
          "attrib's limit per request.");
ABSL_FLAG(std::string, mix, "lookup=100",
          "Operation weights, e.g. lookup=90,connect=10. Operations: lookup (GET), batch "
          "(MGET), connect (SET), attribute (attrib only), ping (PING: a request that "
          "does no work, the server's protocol and I/O cost alone).");
ABSL_FLAG(uint64_t, keys, 1'000'000,
          "Key set size N: keys are RealisticEmail(i, --seed) for i < N, generated "
          "before anything is measured.");
ABSL_FLAG(uint64_t, seed, 42, "Seed of the emails and of the request choices.");
ABSL_FLAG(std::string, dist, "uniform",
          "Key popularity: uniform, or zipf (rank r has weight r^-zipf_s).");
ABSL_FLAG(double, zipf_s, 0.99, "Exponent of --dist=zipf (0 < s <= 10).");
ABSL_FLAG(std::string, connect_mode, "reassign",
          "connect: reassign (attrib mode reassign on existing keys, so every connect is "
          "a real write, like Redis SET overwriting) or fresh (new keys numbered from N "
          "upward, attrib mode ifAbsent).");
ABSL_FLAG(uint64_t, fresh_keys, 1'000'000,
          "Fresh connect keys generated before the run (memory ~36 B each); beyond "
          "them keys are generated on the hot path (counted in the report).");
ABSL_FLAG(double, duration, 0,
          "Seconds to measure (after --warmup). Default 10 when --requests is not "
          "given, so every run stops by itself.");
ABSL_FLAG(uint64_t, requests, 0,
          "Measure exactly this many requests (spread evenly over the connections) "
          "instead of a duration.");
ABSL_FLAG(double, warmup, 1,
          "Seconds of load before measuring (not recorded): connections, caches and "
          "the CPU frequency settle.");
ABSL_FLAG(double, rate, 0,
          "Total requests/s for an open-loop run (0 = closed loop). Each connection "
          "gets an even share of the schedule; latency counts from each request's "
          "intended send time (no coordinated omission).");
ABSL_FLAG(bool, load, false,
          "Before the workload, write all N keys (attrib: connect ifAbsent, affiliate "
          "1 + i % 1000; Redis: SET), deeply pipelined; reports the load time.");
ABSL_FLAG(bool, load_only, false, "Stop after the load phase (implies --load).");
ABSL_FLAG(uint64_t, load_start, 0,
          "--load writes keys i in [load_start, N) only: grow a loaded server from K to N "
          "keys (e.g. to measure memory at two sizes) without rewriting the first K.");
ABSL_FLAG(uint32_t, load_pipeline, 256,
          "Requests in flight per connection during --load: deep enough to keep the "
          "server busy, small enough for its per-connection output limit.");
ABSL_FLAG(uint64_t, shop, 1, "attrib: the shop id of every request.");
ABSL_FLAG(std::string, auth_token_file, "",
          "attrib: a file holding the server's token; every connection sends auth first.");
ABSL_FLAG(int, server_pid, 0,
          "The server's pid, to report its CPU seconds (/proc/PID/stat) over the "
          "measured window and its RSS after the load.");
ABSL_FLAG(bool, json, false,
          "Print exactly one line of flat JSON on stdout (the human report goes to "
          "stderr).");
ABSL_FLAG(double, timeout, 30,
          "Seconds without any reply on a connection that has requests in flight before "
          "the run fails (a hung server cannot hang the harness).");
ABSL_FLAG(uint64_t, max_reply_bytes, 64 << 20,
          "Largest attrib reply frame accepted; a larger one means a broken stream.");

namespace attrib::bench {
namespace {

// Sanity bounds of the flags (not server limits, except the batch's).
constexpr int kMaxConnections = 10'000;
constexpr int kMaxThreads = 256;
constexpr uint32_t kMaxPipeline = 1 << 16;
constexpr uint32_t kMaxBatch = 10'000;  // attrib's LookupBatch limit.

absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Usage(absl::StrCat("--auth_token_file: cannot read '", path, "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) return Usage(absl::StrCat("--auth_token_file: '", path, "' is empty"));
  return token;
}

struct Setup {
  DriverOptions driver;
  PhaseSpec spec;
  RunDescription description;
  bool load = false;
  bool load_only = false;
  uint32_t load_pipeline = 0;
  KeyDistribution distribution = KeyDistribution::kUniform;
  double zipf_s = 0;
  uint64_t fresh_pool = 0;
  uint64_t load_start = 0;
};

absl::StatusOr<Setup> ParseFlags() {
  Setup s;
  absl::StatusOr<Target> target = ParseTarget(absl::GetFlag(FLAGS_target));
  if (!target.ok()) return target.status();
  s.driver.target = *target;
  std::string server = absl::GetFlag(FLAGS_server);
  if (server.empty()) server = *target == Target::kAttrib ? "127.0.0.1:7411" : "127.0.0.1:6379";
  absl::StatusOr<LoopbackAddress> address = ResolveLoopback(server);
  if (!address.ok()) return address.status();
  s.driver.server = *address;
  s.driver.connections = absl::GetFlag(FLAGS_connections);
  s.driver.threads = absl::GetFlag(FLAGS_threads);
  if (s.driver.connections < 1 || s.driver.connections > kMaxConnections) {
    return Usage(absl::StrCat("--connections: must be 1..", kMaxConnections));
  }
  if (s.driver.threads < 1 || s.driver.threads > kMaxThreads) {
    return Usage(absl::StrCat("--threads: must be 1..", kMaxThreads));
  }
  s.driver.threads = std::min(s.driver.threads, s.driver.connections);
  s.driver.shop = absl::GetFlag(FLAGS_shop);
  if (s.driver.shop == 0) return Usage("--shop: must be > 0");
  if (!absl::GetFlag(FLAGS_auth_token_file).empty()) {
    if (*target != Target::kAttrib) return Usage("--auth_token_file: only for --target=attrib");
    absl::StatusOr<std::string> token = ReadToken(absl::GetFlag(FLAGS_auth_token_file));
    if (!token.ok()) return token.status();
    s.driver.auth_token = *token;
  }
  s.driver.server_pid = absl::GetFlag(FLAGS_server_pid);
  if (s.driver.server_pid < 0) return Usage("--server_pid: must be a pid");
  if (s.driver.server_pid > 0 && !ProcessCpuSeconds(s.driver.server_pid).ok()) {
    return Usage(absl::StrCat("--server_pid: no process ", s.driver.server_pid));
  }
  const double timeout = absl::GetFlag(FLAGS_timeout);
  if (!(timeout > 0 && timeout <= 3600)) return Usage("--timeout: must be in (0, 3600] seconds");
  s.driver.reply_timeout = absl::Seconds(timeout);
  s.driver.max_reply_bytes = absl::GetFlag(FLAGS_max_reply_bytes);

  PhaseSpec& spec = s.spec;
  absl::StatusOr<OpMix> mix = ParseOpMix(absl::GetFlag(FLAGS_mix));
  if (!mix.ok()) return mix.status();
  spec.mix = *mix;
  if (*target == Target::kRedis && mix->weight[static_cast<int>(Op::kAttribute)] > 0) {
    return Usage("--mix: attribute is an attrib operation with no Redis equivalent; "
                 "use it with --target=attrib");
  }
  spec.batch = absl::GetFlag(FLAGS_batch);
  if (spec.batch < 1 || spec.batch > kMaxBatch) {
    return Usage(absl::StrCat("--batch: must be 1..", kMaxBatch));
  }
  spec.pipeline = absl::GetFlag(FLAGS_pipeline);
  s.load_pipeline = absl::GetFlag(FLAGS_load_pipeline);
  if (spec.pipeline < 1 || spec.pipeline > kMaxPipeline || s.load_pipeline < 1 ||
      s.load_pipeline > kMaxPipeline) {
    return Usage(absl::StrCat("--pipeline, --load_pipeline: must be 1..", kMaxPipeline));
  }
  const std::string connect_mode = absl::GetFlag(FLAGS_connect_mode);
  if (connect_mode != "reassign" && connect_mode != "fresh") {
    return Usage(absl::StrCat("--connect_mode: expected reassign or fresh, got '",
                              connect_mode, "'"));
  }
  spec.fresh_connects = connect_mode == "fresh";
  const bool connects = mix->weight[static_cast<int>(Op::kConnect)] > 0;
  s.fresh_pool = spec.fresh_connects && connects ? absl::GetFlag(FLAGS_fresh_keys) : 0;
  const double duration = absl::GetFlag(FLAGS_duration);
  spec.requests = absl::GetFlag(FLAGS_requests);
  if (duration != 0 && spec.requests != 0) {
    return Usage("--duration and --requests: give one of them, not both");
  }
  if (duration < 0 || duration > 86400) return Usage("--duration: must be in (0, 86400] seconds");
  spec.duration = absl::Seconds(duration == 0 ? 10 : duration);
  const double warmup = absl::GetFlag(FLAGS_warmup);
  if (!(warmup >= 0 && warmup <= 3600)) return Usage("--warmup: must be in [0, 3600] seconds");
  spec.warmup = absl::Seconds(warmup);
  spec.rate = absl::GetFlag(FLAGS_rate);
  if (!(spec.rate >= 0 && spec.rate <= 1e9)) return Usage("--rate: must be in [0, 1e9] requests/s");
  spec.seed = absl::GetFlag(FLAGS_seed);
  // Order ids must be new to the server on every run (it remembers them for days).
  const uint64_t nonce = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) ^
                         (static_cast<uint64_t>(getpid()) << 40);
  spec.order_prefix = absl::StrFormat("b%x-", nonce);
  absl::StatusOr<KeyDistribution> dist = ParseKeyDistribution(absl::GetFlag(FLAGS_dist));
  if (!dist.ok()) return dist.status();
  s.distribution = *dist;
  s.zipf_s = absl::GetFlag(FLAGS_zipf_s);
  const uint64_t keys = absl::GetFlag(FLAGS_keys);
  if (keys < 1 || keys > (uint64_t{1} << 32)) return Usage("--keys: must be 1..2^32");
  if (!KeyChooser::Create(*dist, keys, s.zipf_s).ok()) {
    return KeyChooser::Create(*dist, keys, s.zipf_s).status();
  }
  s.load_only = absl::GetFlag(FLAGS_load_only);
  s.load = absl::GetFlag(FLAGS_load) || s.load_only;
  s.load_start = absl::GetFlag(FLAGS_load_start);
  if (s.load_start >= keys) return Usage("--load_start: must be below --keys");

  RunDescription& d = s.description;
  d.target = *target;
  d.server = server;
  d.op_mix = mix->text;
  d.connections = s.driver.connections;
  d.threads = s.driver.threads;
  d.pipeline = spec.pipeline;
  d.batch = spec.batch;
  d.rate = spec.rate;
  d.dist = *dist == KeyDistribution::kZipf ? absl::StrFormat("zipf s=%g", s.zipf_s) : "uniform";
  d.keys = keys;
  d.warmup_seconds = warmup;
  return s;
}

int Run() {
  absl::StatusOr<Setup> setup = ParseFlags();
  if (!setup.ok()) {
    std::fprintf(stderr, "attrib-bench: %s\n", std::string(setup.status().message()).c_str());
    return 2;
  }
  const bool json = absl::GetFlag(FLAGS_json);
  FILE* human = json ? stderr : stdout;
  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "attrib-bench: %s\n", std::string(status.message()).c_str());
    return 1;
  };
  RunDescription& d = setup->description;
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const KeySet keys = KeySet::Generate(0, d.keys, setup->spec.seed, cores);
  const KeySet fresh = KeySet::Generate(d.keys, setup->fresh_pool, setup->spec.seed, cores);
  const KeyChooser chooser = *KeyChooser::Create(setup->distribution, d.keys, setup->zipf_s);

  absl::StatusOr<std::unique_ptr<Driver>> driver = Driver::Connect(setup->driver);
  if (!driver.ok()) return fail(driver.status());

  LoadSummary load;
  uint64_t rss = 0;
  if (setup->load) {
    PhaseSpec spec;
    spec.load = true;
    spec.load_first = setup->load_start;
    spec.pipeline = setup->load_pipeline;
    spec.keys = &keys;
    spec.seed = setup->spec.seed;
    absl::StatusOr<PhaseResult> result = (*driver)->Run(spec);
    if (!result.ok()) return fail(result.status());
    load.ran = true;
    load.result = *result;
    if (setup->driver.server_pid > 0) rss = ProcessRssBytes(setup->driver.server_pid).value_or(0);
    std::fputs(HumanLoadReport(d, load, rss).c_str(), human);
    std::fflush(human);
    if (setup->load_only) {
      if (json) {
        RunDescription as_run = d;
        as_run.op_mix = "load";
        as_run.pipeline = setup->load_pipeline;
        std::printf("%s\n", JsonReport(as_run, load.result, load, rss).c_str());
      }
      return 0;
    }
  }

  PhaseSpec& spec = setup->spec;
  spec.keys = &keys;
  spec.fresh_keys = &fresh;
  spec.chooser = &chooser;
  absl::StatusOr<PhaseResult> result = (*driver)->Run(spec);
  if (!result.ok()) return fail(result.status());
  if (!setup->load && setup->driver.server_pid > 0) {
    rss = ProcessRssBytes(setup->driver.server_pid).value_or(0);
  }
  std::fputs(HumanReport(d, *result).c_str(), human);
  if (json) std::printf("%s\n", JsonReport(d, *result, load, rss).c_str());
  return 0;
}

}  // namespace
}  // namespace attrib::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "attrib-bench: load generator for attrib and Redis (loopback only).\n"
      "  attrib-bench --target=attrib|redis [--server=host:port] [--load] --mix=lookup=100 ...\n"
      "See --helpfull for every flag.");
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "attrib-bench: unexpected argument '%s' (flags only)\n", rest[1]);
    return 2;
  }
  return attrib::bench::Run();
}
