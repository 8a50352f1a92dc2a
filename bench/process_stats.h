// bench/process_stats.h
//
// CPU time and resident memory of this process and of the server under test (by pid,
// from /proc), so attrib-bench can report CPU microseconds per request on both sides:
// client and server share the machine, so client CPU is CPU the server did not get.
// /proc/PID/stat counts in clock ticks (10 ms here): server CPU over a run of a few
// seconds is good to a few percent, not better.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_BENCH_PROCESS_STATS_H_
#define ATTRIB_BENCH_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace attrib::bench {

// User + system CPU seconds of this whole process (all threads), from getrusage.
double SelfCpuSeconds();

// utime + stime of process `pid` from /proc/PID/stat; NotFound if it is gone.
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

// VmRSS of process `pid` from /proc/PID/status, in bytes.
absl::StatusOr<uint64_t> ProcessRssBytes(pid_t pid);

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_PROCESS_STATS_H_
