// bench/bench_worker.h
//
// One client thread of attrib-bench: an epoll loop (level-triggered) over its share
// of the driver's connections. Per connection it keeps a ring of the requests in
// flight (intended send time, operation, keys), an output buffer written with one
// send() per burst (EPOLLOUT only while a write is partial), and a word-aligned input
// buffer read with one recv() per readiness, from which every complete reply is
// decoded in place. Buffers and encoders are reused: no allocation per request on
// the hot path (except fresh connect keys beyond the pre-generated pool, counted).
// The phase semantics (closed/open loop, warmup, duration/requests, drain) are
// described in bench/bench_driver.h. bench_worker.cc has the loop, the reads and
// writes; bench_worker_requests.cc decides and encodes what each connection sends.
//
// Thread-safety: a Worker is driven by one thread at a time: Driver::Run() hands
// each Worker to its own thread for the length of a phase. The only state shared
// between workers is the PhaseRun's atomics.
#ifndef ATTRIB_BENCH_BENCH_WORKER_H_
#define ATTRIB_BENCH_BENCH_WORKER_H_

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/key_chooser.h"
#include "capnp/common.h"
#include "bench/bench_driver.h"
#include "bench/bench_protocol.h"

namespace attrib::bench {

// CLOCK_MONOTONIC in ns (vDSO: ~20 ns, no system call).
inline int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// What every worker of one phase shares (owned by Driver::Run()).
struct PhaseRun {
  const PhaseSpec* spec = nullptr;
  int64_t start_ns = 0;          // Open-loop schedules start here.
  int64_t measure_ns = 0;        // Requests intended from here on are recorded.
  int64_t end_ns = INT64_MAX;    // Duration mode: no request is issued from here on.
  int total_connections = 1;
  uint64_t phase_number = 0;     // Varies the connections' random streams per phase.
  std::atomic<bool>* abort = nullptr;           // Set by the first worker that fails.
  std::atomic<uint64_t>* fresh_cursor = nullptr;
};

class Worker {
 public:
  explicit Worker(const DriverOptions& options);
  ~Worker();  // Closes its sockets.
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Takes ownership of a connected socket; `index` is its number among all the
  // driver's connections (quotas, key ranges and schedules derive from it).
  absl::Status AddConnection(int fd, int index);

  // Runs one phase to its end (drained). `counters` gets what was measured;
  // `last_reply_ns` the time of the last measured reply. Aborted if another worker
  // failed (run->abort); any other error is this worker's own failure.
  absl::Status RunPhase(const PhaseRun& run, PhaseCounters* counters, int64_t* last_reply_ns);

 private:
  // One request in flight.
  struct InFlight {
    int64_t intended_ns;
    uint32_t keys;
    Op op;
    bool measured;
  };

  // One connection's buffers, in-flight ring and per-phase schedule.
  struct Conn {
    int fd = -1;
    int index = 0;
    bool auth_sent = false;          // Once per connection, before its first request.
    bool auth_in_flight = false;     // Its reply has not arrived yet (takes a ring slot).
    uint64_t replies = 0;            // Over the connection's life, for messages.
    // Output: bytes [out_sent, out.size()) are still to be written.
    std::string out;
    size_t out_sent = 0;
    bool want_write = false;         // EPOLLOUT registered.
    // Input: bytes [in_begin, in_end) of `in` are received and not yet decoded. A reply
    // always starts at in_begin, which stays 8-byte aligned for attrib (frames are
    // whole words; RESP does not need alignment).
    std::vector<capnp::word> in;
    size_t in_begin = 0, in_end = 0;
    // Requests in flight, oldest first: a ring of a power-of-two size.
    std::vector<InFlight> ring;
    size_t ring_head = 0, ring_count = 0;
    uint64_t next_id = 1;            // attrib: the id of the next request.
    SplitMix64 rng{0};
    // Per phase.
    uint64_t quota = 0;              // Measured requests (or load keys) still to send.
    uint64_t load_next = 0;
    uint64_t scheduled = 0;          // Open loop: requests issued (k of the next one).
    int64_t offset_ns = 0;           // Open loop: this connection's phase in the schedule.
    uint64_t order_seq = 0;
    int64_t last_progress_ns = 0;
    std::string order_id;            // Reused for attribute requests.
  };

  // Issues what the connection may send now (closed loop: fill the window; open
  // loop: the requests that are due), into its output buffer.
  void Fill(Conn& c, int64_t now);
  // Encodes one request intended at `intended_ns`.
  void Issue(Conn& c, int64_t intended_ns, bool measured);
  Op PickOp(Conn& c) const;
  // The next key index of the workload: chosen kKeyLookahead draws ahead so that its
  // offset and bytes are prefetched by the time the request is encoded.
  uint64_t NextKey();
  absl::string_view FreshKey(uint64_t* index);
  absl::Status Flush(Conn& c);
  absl::Status ReadReplies(Conn& c, int64_t now);
  absl::Status Account(Conn& c, const InFlight& request, const ReplyResult& result,
                       int64_t now);
  // Open loop: the intended time of the connection's k-th request.
  int64_t Intended(const Conn& c, uint64_t k) const;
  int64_t NextWakeNanos(int64_t now) const;
  absl::Status CheckStalls(int64_t now) const;
  absl::Status ConnError(const Conn& c, absl::string_view what) const;

  const DriverOptions& options_;
  int epoll_fd_ = -1;
  std::vector<std::unique_ptr<Conn>> conns_;

  // Per phase.
  const PhaseRun* run_ = nullptr;
  PhaseCounters* counters_ = nullptr;
  int64_t last_reply_ns_ = 0;
  bool issuing_ = false;
  bool requests_mode_ = false;    // Stops after a number of requests, not at a time.
  int conns_with_quota_ = 0;      // requests mode / load: connections not done sending.
  double interval_ns_ = 0;        // Open loop: between one connection's requests.
  std::array<uint32_t, kWorkloadOps> cumulative_weight_{};
  std::unique_ptr<AttribEncoder> encoder_;
  std::vector<absl::string_view> batch_keys_;  // Reused for each batch request.
  std::string fresh_key_;         // A fresh key generated on the fly.
  static constexpr size_t kKeyLookahead = 16;  // A power of two.
  std::array<uint64_t, kKeyLookahead> key_ahead_{};
  size_t key_head_ = 0;
  SplitMix64 key_rng_{0};         // Per worker and phase: key choice is the worker's.
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_BENCH_WORKER_H_
