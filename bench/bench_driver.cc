// bench/bench_driver.cc: connections, phases, threads, CPU sampling (see the header;
// the per-thread loop is bench/bench_worker.cc).
//
// Thread-safety: as the header. Run() starts one thread per Worker and joins them
// before it returns; the main thread only waits and samples CPU meanwhile.
#include "bench/bench_driver.h"

#include <algorithm>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_worker.h"
#include "bench/process_stats.h"

namespace attrib::bench {

absl::StatusOr<OpMix> ParseOpMix(absl::string_view text) {
  OpMix mix;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, '=');
    kv.first = absl::StripAsciiWhitespace(kv.first);
    kv.second = absl::StripAsciiWhitespace(kv.second);
    int op = -1;
    for (int i = 0; i < kWorkloadOps; ++i) {
      if (kv.first == OpName(static_cast<Op>(i))) op = i;
    }
    uint32_t weight = 0;
    if (op < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--mix: unknown operation '", kv.first,
          "' (expected lookup, batch, connect, attribute or ping, as op=weight,...)"));
    }
    if (!absl::SimpleAtoi(kv.second, &weight) || weight > 1'000'000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--mix: weight of ", kv.first, " must be a whole number up to 1000000, got '",
          kv.second, "'"));
    }
    mix.weight[op] += weight;
  }
  for (int i = 0; i < kWorkloadOps; ++i) {
    mix.total += mix.weight[i];
    if (mix.weight[i] == 0) continue;
    absl::StrAppend(&mix.text, mix.text.empty() ? "" : ",", OpName(static_cast<Op>(i)), "=",
                    mix.weight[i]);
  }
  if (mix.total == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--mix: no operation with a weight above 0 in '", text, "'"));
  }
  return mix;
}

void PhaseCounters::Merge(const PhaseCounters& other) {
  requests += other.requests;
  keys += other.keys;
  misses += other.misses;
  errors += other.errors;
  for (size_t i = 0; i < by_op.size(); ++i) by_op[i] += other.by_op[i];
  for (const auto& [kind, count] : other.errors_by_kind) errors_by_kind[kind] += count;
  latency.Merge(other.latency);
  unsent_backlog += other.unsent_backlog;
  fresh_generated += other.fresh_generated;
}

Driver::Driver(const DriverOptions& options) : options_(options) {}

Driver::~Driver() = default;

absl::StatusOr<std::unique_ptr<Driver>> Driver::Connect(const DriverOptions& options) {
  if (options.connections < 1 || options.threads < 1) {
    return absl::InvalidArgumentError("--connections and --threads must be at least 1");
  }
  std::unique_ptr<Driver> driver(new Driver(options));
  const int threads = std::min(options.threads, options.connections);
  for (int t = 0; t < threads; ++t) {
    driver->workers_.push_back(std::make_unique<Worker>(driver->options_));
  }
  for (int i = 0; i < options.connections; ++i) {
    absl::StatusOr<int> fd = ConnectLoopback(options.server, options.reply_timeout);
    if (!fd.ok()) {
      return absl::Status(fd.status().code(),
                          absl::StrCat("connection ", i, ": ", fd.status().message()));
    }
    if (absl::Status s = driver->workers_[i % threads]->AddConnection(*fd, i); !s.ok()) {
      return s;
    }
  }
  return driver;
}

namespace {

struct CpuSample {
  double client = 0;
  double server = -1;
};

CpuSample SampleCpu(pid_t server_pid) {
  CpuSample s;
  s.client = SelfCpuSeconds();
  if (server_pid > 0) {
    absl::StatusOr<double> server = ProcessCpuSeconds(server_pid);
    if (server.ok()) s.server = *server;
  }
  return s;
}

}  // namespace

absl::StatusOr<PhaseResult> Driver::Run(const PhaseSpec& spec) {
  if (spec.keys == nullptr || spec.keys->size() == 0) {
    return absl::InvalidArgumentError("a phase needs a non-empty key set");
  }
  if (!spec.load && (spec.chooser == nullptr || spec.mix.total == 0)) {
    return absl::InvalidArgumentError("a workload phase needs a key chooser and a mix");
  }
  if (spec.pipeline < 1) return absl::InvalidArgumentError("--pipeline must be at least 1");
  static std::atomic<uint64_t> phase_counter{0};
  std::atomic<bool> abort{false};
  PhaseRun run;
  run.spec = &spec;
  run.total_connections = options_.connections;
  run.phase_number = phase_counter++;
  run.abort = &abort;
  run.fresh_cursor = &fresh_cursor_;
  run.start_ns = MonotonicNanos();
  run.measure_ns = spec.load ? run.start_ns : run.start_ns + absl::ToInt64Nanoseconds(spec.warmup);
  const bool timed = !spec.load && spec.requests == 0;
  run.end_ns = timed ? run.measure_ns + absl::ToInt64Nanoseconds(spec.duration) : INT64_MAX;

  const size_t n = workers_.size();
  std::vector<PhaseCounters> counters(n);
  std::vector<int64_t> last_reply(n, run.measure_ns);
  std::vector<absl::Status> statuses(n);
  absl::Mutex mu;
  size_t done = 0;
  std::vector<std::thread> threads;
  CpuSample before = SampleCpu(options_.server_pid);  // The load phase: from the start.
  for (size_t t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      statuses[t] = workers_[t]->RunPhase(run, &counters[t], &last_reply[t]);
      absl::MutexLock lock(&mu);
      ++done;
    });
  }
  // Sleeps until monotonic time `ns`, or until every thread has finished.
  auto wait_until = [&](int64_t ns) {
    absl::MutexLock lock(&mu);
    const absl::Time deadline = absl::Now() + absl::Nanoseconds(ns - MonotonicNanos());
    auto all_done = [&] { return done == n; };
    mu.AwaitWithDeadline(absl::Condition(&all_done), deadline);
  };
  if (run.measure_ns > run.start_ns) {
    wait_until(run.measure_ns);
    before = SampleCpu(options_.server_pid);
  }
  CpuSample after;
  if (timed) {
    wait_until(run.end_ns);
    after = SampleCpu(options_.server_pid);  // Before the drain, which is not measured.
  }
  for (std::thread& t : threads) t.join();
  if (!timed) after = SampleCpu(options_.server_pid);

  absl::Status first_error;
  for (const absl::Status& s : statuses) {
    if (!s.ok() && (first_error.ok() || absl::IsAborted(first_error))) first_error = s;
  }
  if (!first_error.ok()) return first_error;

  PhaseResult result;
  for (const PhaseCounters& c : counters) result.counters.Merge(c);
  const int64_t end_ns =
      timed ? run.end_ns : *std::max_element(last_reply.begin(), last_reply.end());
  result.seconds = std::max<int64_t>(end_ns - run.measure_ns, 1) / 1e9;
  result.client_cpu_seconds = after.client - before.client;
  if (before.server >= 0 && after.server >= 0) {
    result.server_cpu_seconds = after.server - before.server;
  }
  return result;
}

}  // namespace attrib::bench
