// bench/bench_report.cc: the human table and the JSON line (see the header).
//
// Thread-safety: as the header.
#include "bench/bench_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/json_writer.h"

namespace attrib::bench {
namespace {

double PerSecond(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

double Micros(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string Rate(uint64_t count, double seconds) {
  return Thousands(static_cast<uint64_t>(PerSecond(static_cast<double>(count), seconds)));
}

// CPU microseconds per request, or "-" when unknown.
std::string CpuLine(absl::string_view who, double seconds, uint64_t requests) {
  if (seconds < 0) return absl::StrCat("  ", who, " CPU     unknown (give --server_pid)\n");
  return absl::StrFormat("  %s CPU     %.2f s, %.2f us/request\n", who, seconds,
                         requests == 0 ? 0.0 : seconds * 1e6 / static_cast<double>(requests));
}

}  // namespace

std::string Thousands(uint64_t value) {
  std::string digits = absl::StrCat(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string HumanLoadReport(const RunDescription& run, const LoadSummary& load,
                            uint64_t server_rss_bytes) {
  std::string out;
  if (load.ran) {
    const PhaseCounters& c = load.result.counters;
    absl::StrAppend(&out, absl::StrFormat("load: %s keys in %.2f s (%s keys/s), %s errors\n",
                                          Thousands(c.requests), load.result.seconds,
                                          Rate(c.requests, load.result.seconds),
                                          Thousands(c.errors)));
    for (const auto& [kind, count] : c.errors_by_kind) {
      absl::StrAppend(&out, "  ", kind, ": ", Thousands(count), "\n");
    }
  }
  if (server_rss_bytes > 0) {
    absl::StrAppend(&out, absl::StrFormat(
        "server RSS: %.1f MiB (%.1f bytes/key over %s keys)\n", server_rss_bytes / 1048576.0,
        static_cast<double>(server_rss_bytes) / std::max<uint64_t>(run.keys, 1),
        Thousands(run.keys)));
  }
  return out;
}

std::string HumanReport(const RunDescription& run, const PhaseResult& result) {
  const PhaseCounters& c = result.counters;
  std::string out = absl::StrFormat(
      "%s at %s: mix %s, %d connections on %d threads, pipeline %u%s, %s keys (%s), %s\n",
      TargetName(run.target), run.server, run.op_mix, run.connections, run.threads,
      run.pipeline, run.batch > 1 ? absl::StrCat(", batch ", run.batch) : "",
      Thousands(run.keys), run.dist,
      run.rate > 0 ? absl::StrFormat("open loop at %.0f req/s", run.rate) : "closed loop");
  absl::StrAppend(&out, absl::StrFormat("  measured      %.2f s after %.1f s warmup\n",
                                        result.seconds, run.warmup_seconds));
  absl::StrAppend(&out, absl::StrFormat("  requests      %14s  %12s req/s\n",
                                        Thousands(c.requests), Rate(c.requests, result.seconds)));
  absl::StrAppend(&out, absl::StrFormat("  keys          %14s  %12s keys/s\n", Thousands(c.keys),
                                        Rate(c.keys, result.seconds)));
  if (std::count_if(c.by_op.begin(), c.by_op.end(), [](uint64_t n) { return n > 0; }) > 1) {
    std::string ops;
    for (int i = 0; i < kWorkloadOps; ++i) {
      if (c.by_op[i] == 0) continue;
      absl::StrAppend(&ops, ops.empty() ? "" : ", ", OpName(static_cast<Op>(i)), " ",
                      Thousands(c.by_op[i]));
    }
    absl::StrAppend(&out, "  by operation  ", ops, "\n");
  }
  absl::StrAppend(&out, absl::StrFormat(
      "  latency us    p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (mean %.1f)%s\n",
      Micros(c.latency.Percentile(50)), Micros(c.latency.Percentile(90)),
      Micros(c.latency.Percentile(99)), Micros(c.latency.Percentile(99.9)),
      Micros(c.latency.max()), c.latency.mean() / 1000.0,
      run.rate > 0 ? ", from intended send times" : ""));
  absl::StrAppend(&out, "  errors        ", Thousands(c.errors));
  for (const auto& [kind, count] : c.errors_by_kind) {
    absl::StrAppend(&out, "  ", kind, ": ", Thousands(count));
  }
  absl::StrAppend(&out, "\n  misses        ", Thousands(c.misses), " keys not found\n");
  if (c.unsent_backlog > 0) {
    absl::StrAppend(&out, "  backlog       ", Thousands(c.unsent_backlog),
                    " requests were due before the end but never sent (behind the schedule)\n");
  }
  if (c.fresh_generated > 0) {
    absl::StrAppend(&out, "  fresh keys    ", Thousands(c.fresh_generated),
                    " generated during the run (raise --fresh_keys)\n");
  }
  absl::StrAppend(&out, CpuLine("client", result.client_cpu_seconds, c.requests));
  absl::StrAppend(&out, CpuLine("server", result.server_cpu_seconds, c.requests));
  return out;
}

std::string JsonReport(const RunDescription& run, const PhaseResult& result,
                       const LoadSummary& load, uint64_t server_rss_bytes) {
  const PhaseCounters& c = result.counters;
  auto fixed = [](double v, int digits) { return absl::StrFormat("%.*f", digits, v); };
  tools::JsonObject json;
  json.Str("target", TargetName(run.target))
      .Str("op_mix", run.op_mix)
      .Int("connections", run.connections)
      .Uint("pipeline", run.pipeline)
      .Uint("batch", run.batch)
      .Uint("requests", c.requests)
      .Raw("keys_per_request",
           fixed(c.requests == 0 ? 0.0 : static_cast<double>(c.keys) / c.requests, 3))
      .Raw("seconds", fixed(result.seconds, 3))
      .Raw("throughput", fixed(PerSecond(c.requests, result.seconds), 1))
      .Raw("key_throughput", fixed(PerSecond(c.keys, result.seconds), 1))
      .Raw("p50_us", fixed(Micros(c.latency.Percentile(50)), 1))
      .Raw("p90_us", fixed(Micros(c.latency.Percentile(90)), 1))
      .Raw("p99_us", fixed(Micros(c.latency.Percentile(99)), 1))
      .Raw("p999_us", fixed(Micros(c.latency.Percentile(99.9)), 1))
      .Raw("max_us", fixed(Micros(c.latency.max()), 1))
      .Uint("errors", c.errors)
      .Uint("misses", c.misses)
      .Raw("client_cpu_s", fixed(result.client_cpu_seconds, 3))
      .Raw("server_cpu_s", fixed(std::max(result.server_cpu_seconds, 0.0), 3))
      .Uint("server_rss_bytes", server_rss_bytes)
      .Raw("load_seconds", fixed(load.ran ? load.result.seconds : 0.0, 3));
  return json.Done();
}

}  // namespace attrib::bench
