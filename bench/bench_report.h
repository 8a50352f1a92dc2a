// bench/bench_report.h
//
// What attrib-bench prints: a human table (throughput, latency percentiles in µs,
// errors by kind, misses, client and server CPU per request) and, with --json,
// exactly one line of flat JSON with these keys, in this order:
//
//   target, op_mix, connections, pipeline, batch, requests, keys_per_request,
//   seconds, throughput (requests/s), key_throughput (keys/s), p50_us, p90_us,
//   p99_us, p999_us, max_us, errors, misses, client_cpu_s, server_cpu_s,
//   server_rss_bytes, load_seconds
//
// server_cpu_s and server_rss_bytes are 0 when unknown (no --server_pid);
// load_seconds is 0 without --load.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_BENCH_BENCH_REPORT_H_
#define ATTRIB_BENCH_BENCH_REPORT_H_

#include <cstdint>
#include <string>

#include "bench/bench_driver.h"

namespace attrib::bench {

struct RunDescription {
  Target target = Target::kAttrib;
  std::string server;            // host:port
  std::string op_mix;            // Normalized --mix.
  int connections = 0;
  int threads = 0;
  uint32_t pipeline = 0;
  uint32_t batch = 0;
  double rate = 0;               // 0: closed loop.
  std::string dist;              // "uniform" or "zipf s=0.99".
  uint64_t keys = 0;
  double warmup_seconds = 0;
};

struct LoadSummary {
  bool ran = false;
  PhaseResult result;
};

// The load phase's lines (keys, time, rate, errors; RSS when known).
std::string HumanLoadReport(const RunDescription& run, const LoadSummary& load,
                            uint64_t server_rss_bytes);
// The workload's table.
std::string HumanReport(const RunDescription& run, const PhaseResult& result);
// The one JSON line (without the newline).
std::string JsonReport(const RunDescription& run, const PhaseResult& result,
                       const LoadSummary& load, uint64_t server_rss_bytes);

// 1234567 -> "1,234,567".
std::string Thousands(uint64_t value);

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_BENCH_REPORT_H_
