// bench/bench_driver.h
//
// The load engine of attrib-bench. A Driver owns `connections` non-blocking TCP
// connections to one server, split over `threads` client threads; each thread runs
// an epoll loop over its share (bench/bench_worker.h). A run is a sequence of
// phases (the load phase, then the workload), each described by a PhaseSpec and
// answered by a PhaseResult; connections stay open between phases, and every phase
// ends with its replies drained, so the next starts from a clean pipeline.
//
//  - Closed loop (rate 0): every connection keeps `pipeline` requests in flight; a
//    reply is answered by a new request. Latency = reply time - send time.
//  - Open loop (rate R): connection c of C sends its k-th request at the intended
//    time start + (k + c/C) * C/R (an even share of the schedule). If its window of
//    `pipeline` requests is full, the request waits, but its latency is still
//    measured from the intended time: no coordinated omission.
//  - Warmup: requests intended before start + warmup are sent but not recorded.
//    Then either `duration` (replies received before its end count) or `requests`
//    (exactly that many measured requests, spread evenly over the connections).
//  - Load phase: key i of the key set is written once (attrib: connect ifAbsent,
//    affiliate 1 + i % 1000; Redis: SET), keys split into one contiguous range per
//    connection, `pipeline` deep.
//
// Errors: an error reply is counted by kind and the run goes on; a closed
// connection, an unparsable reply, or no reply for `reply_timeout` stops the run
// with a Status naming the connection.
//
// Thread-safety: a Driver is used by one thread (it starts and joins its own
// threads inside Run()). The KeySets and KeyChooser a PhaseSpec points to must
// outlive Run() and are only read.
#ifndef ATTRIB_BENCH_BENCH_DRIVER_H_
#define ATTRIB_BENCH_BENCH_DRIVER_H_

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/bench_protocol.h"
#include "bench/bench_socket.h"
#include "bench/key_chooser.h"
#include "bench/key_set.h"
#include "bench/latency_histogram.h"

namespace attrib::bench {

// Relative weights of the workload operations (--mix), indexed by Op (kLookup ..
// kPing).
struct OpMix {
  std::array<uint32_t, kWorkloadOps> weight{};
  uint32_t total = 0;
  std::string text;  // Normalized, e.g. "lookup=90,connect=10".
};
// "lookup=90,connect=10" -> OpMix; InvalidArgument naming --mix otherwise.
absl::StatusOr<OpMix> ParseOpMix(absl::string_view text);

struct DriverOptions {
  Target target = Target::kAttrib;
  LoopbackAddress server;
  int threads = 1;
  int connections = 1;
  uint64_t shop = 1;             // attrib: the shop every request names.
  std::string auth_token;        // attrib: sent first on every connection if not empty.
  size_t max_reply_bytes = 64 << 20;
  absl::Duration reply_timeout = absl::Seconds(30);
  pid_t server_pid = 0;          // 0: server CPU is not measured.
};

struct PhaseSpec {
  bool load = false;             // The load phase (mix, rate, ... are ignored).
  uint64_t load_first = 0;       // The load phase writes keys [load_first, N).
  OpMix mix;
  uint32_t batch = 1;            // Keys per batch request.
  uint32_t pipeline = 1;         // Requests in flight per connection.
  ConnectMode connect_mode = ConnectMode::kReassign;
  bool fresh_connects = false;   // connect: new keys (fresh_keys, then generated).
  double rate = 0;               // Requests/s over all connections; 0 = closed loop.
  absl::Duration warmup = absl::ZeroDuration();
  absl::Duration duration = absl::Seconds(10);  // Used when requests == 0.
  uint64_t requests = 0;         // Measured requests; 0 = run for `duration`.
  const KeySet* keys = nullptr;        // The N keys (lookups, batches, reassigns, load).
  const KeySet* fresh_keys = nullptr;  // RealisticEmail(N + j): fresh connects.
  const KeyChooser* chooser = nullptr;
  uint64_t seed = 1;             // Of the per-connection generators.
  std::string order_prefix;      // attribute: order ids are <prefix><conn>-<seq>.
};

// Counters of one thread or of the whole phase (Merge).
struct PhaseCounters {
  uint64_t requests = 0;         // Measured replies.
  uint64_t keys = 0;             // Keys those requests asked for.
  uint64_t misses = 0;
  uint64_t errors = 0;
  std::array<uint64_t, kWorkloadOps + 1> by_op{};  // Measured requests per Op (<= kLoad).
  std::map<std::string, uint64_t, std::less<>> errors_by_kind;
  LatencyHistogram latency;      // ns, measured requests only.
  uint64_t unsent_backlog = 0;   // Open loop: intended before the end, never sent.
  uint64_t fresh_generated = 0;  // Fresh keys beyond fresh_keys (generated on the fly).

  void Merge(const PhaseCounters& other);
};

struct PhaseResult {
  PhaseCounters counters;
  double seconds = 0;            // Length of the measured window.
  double client_cpu_seconds = 0;
  double server_cpu_seconds = -1;  // < 0: unknown (no --server_pid).
};

class Worker;

class Driver {
 public:
  // Opens every connection (nothing is sent yet).
  static absl::StatusOr<std::unique_ptr<Driver>> Connect(const DriverOptions& options);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  absl::StatusOr<PhaseResult> Run(const PhaseSpec& spec);

 private:
  explicit Driver(const DriverOptions& options);

  const DriverOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> fresh_cursor_{0};  // Next fresh key, shared by all threads.
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_BENCH_DRIVER_H_
