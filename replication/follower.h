// replication/follower.h
//
// The replica's side of log shipping, without sockets: applies the primary's
// committed changes, in sequence order, to the local engine and appends each to the
// local write-ahead log under the same sequence number, so that a replica's data
// directory is the primary's (same log, its own snapshots) and it restarts and
// resumes from where it was, like any attribd (issue 16).
//
//  - Apply(seq, mutation) takes the record the local log expects next
//    (Durability::last_assigned_seq() + 1). An older one is a repeat after a
//    reconnect and is skipped (counted); a newer one is a gap: DataLoss naming both
//    numbers, and nothing is applied (the stream is to be restarted from
//    next_seq()).
//  - Local snapshots stay correct: the append and the Engine::Apply of one record
//    happen under the Durability's capture gate held shared, and a snapshot holds it
//    exclusively for its capture (DurabilityOptions::capture_gate), so every
//    snapshot piece's fence means "every record up to here, and none after".
//    The cost: applying pauses while a replica's snapshot is captured.
//  - A record is applied only once the local log has accepted it (health() OK);
//    while the local log fails, Apply returns its error and applies nothing.
//
// Thread-safety: Apply is called by one thread at a time (the stream's reader);
// next_seq(), applied() and skipped() from any thread.
#ifndef ATTRIB_REPLICATION_FOLLOWER_H_
#define ATTRIB_REPLICATION_FOLLOWER_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "engine/mutation.h"
#include "persistence/durability.h"

namespace attrib::replication {

class Follower {
 public:
  // `engine` was built with `durability` as its sink and recovered by it;
  // `capture_gate` is the one in the Durability's options. All must outlive this.
  Follower(engine::Engine* engine, persistence::Durability* durability,
           absl::Mutex* capture_gate)
      : engine_(engine), durability_(durability), gate_(capture_gate) {}

  absl::Status Apply(uint64_t seq, const engine::Mutation& mutation);

  // The sequence number the replica needs next.
  uint64_t next_seq() const { return durability_->last_assigned_seq() + 1; }
  uint64_t applied() const { return applied_.load(std::memory_order_relaxed); }
  uint64_t skipped() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  engine::Engine* const engine_;
  persistence::Durability* const durability_;
  absl::Mutex* const gate_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> skipped_{0};
};

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_FOLLOWER_H_
