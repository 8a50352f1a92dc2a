// service/request_latency.h
//
// Latency histograms of the requests the Service executes (service/service.h:
// Begin .. Finish, whichever front end decoded them), one per operation
// (rows: service::Operation), measured on the serving thread from when the
// request starts executing until its reply is built. Waiting for the log to become
// durable and for the network is not included (that is the client's view).
//
// Cost: a clock read is ~30 ns here, a pipelined lookup ~600 ns of server time, so
// two reads per lookup would cost ~10%. Pipelined lookups are therefore timed per
// batch: the native front end's PrepareFrames() (which sees each batch of up to 32 complete frames before
// they run) starts a run; the run ends when its last prepared lookup has executed,
// and its time, minus the time of the other requests executed in between (each timed
// on its own), is split evenly over its lookups. Every other request (and every
// request of a non-pipelined client, where a syscall dwarfs the clock) is timed on
// its own. A batch cut short (its connection closes mid-batch) loses the samples of
// its run; attrib_requests_total still counts them. Recording is striped relaxed atomics (common/histogram.h): no lock, no
// allocation.
//
// Thread-safety: every method may be called from any thread; the run state is
// per thread (a connection's batch runs start to end on one thread).
#ifndef ATTRIB_SERVICE_REQUEST_LATENCY_H_
#define ATTRIB_SERVICE_REQUEST_LATENCY_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/histogram.h"

namespace attrib::service {

// kOperations: the rows (service::kOperationCount).
template <size_t kOperations>
class RequestLatency {
 public:
  RequestLatency() = default;
  RequestLatency(const RequestLatency&) = delete;
  RequestLatency& operator=(const RequestLatency&) = delete;

  // A batch with `lookups` prepared lookups is about to run on this thread; their
  // time goes to row `lookup_row`.
  void BeginLookupRun(size_t lookups, size_t lookup_row) const {
    Run& run = ThisThreadRun();
    run.row = lookup_row;
    run.owner = lookups > 0 ? this : nullptr;
    run.remaining = lookups;
    run.lookups = 0;
    run.excluded_nanos = 0;
    run.start_nanos = lookups > 0 ? NowNanos() : 0;
  }
  // Before executing a request; `prepared_lookup`: PrepareFrames marked it a lookup.
  // Returns what Finish() needs.
  int64_t Start(bool prepared_lookup) const {
    return InRun(prepared_lookup) ? 0 : NowNanos();
  }
  // After the request (operation row `operation`) executed. A prepared lookup within a
  // run counts as a lookup (row `lookup_row`) whatever its outcome.
  void Finish(size_t operation, bool prepared_lookup, int64_t started) {
    Run& run = ThisThreadRun();
    const bool in_run = InRun(prepared_lookup);
    if (!in_run) {
      const int64_t took = NowNanos() - started;
      histograms_[operation].Record(took > 0 ? static_cast<uint64_t>(took) : 0);
      if (run.owner == this) run.excluded_nanos += took;
      return;
    }
    ++run.lookups;
    if (--run.remaining > 0) return;
    const int64_t took = NowNanos() - run.start_nanos - run.excluded_nanos;
    const uint64_t each = took > 0 ? static_cast<uint64_t>(took) / run.lookups : 0;
    histograms_[run.row].RecordMany(each, run.lookups);
    run.owner = nullptr;
  }
  metrics::HistogramSnapshot Read(size_t operation) const {
    return histograms_[operation].Read();
  }

 private:
  struct Run {
    const void* owner = nullptr;  // The RequestLatency whose run this is.
    size_t row = 0;
    size_t remaining = 0;         // Prepared lookups not yet executed.
    uint64_t lookups = 0;         // Executed so far.
    int64_t start_nanos = 0;
    int64_t excluded_nanos = 0;   // Other requests executed within the run.
  };
  static Run& ThisThreadRun() {
    thread_local Run run;
    return run;
  }
  static int64_t NowNanos() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  bool InRun(bool prepared_lookup) const {
    const Run& run = ThisThreadRun();
    return prepared_lookup && run.owner == this && run.remaining > 0;
  }

  std::array<metrics::Histogram, kOperations> histograms_;
};

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_REQUEST_LATENCY_H_
