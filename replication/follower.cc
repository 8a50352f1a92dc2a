// replication/follower.cc: applying the primary's changes locally (see the header).
#include "replication/follower.h"

#include "absl/strings/str_cat.h"

namespace attrib::replication {

absl::Status Follower::Apply(uint64_t seq, const engine::Mutation& mutation) {
  const uint64_t expected = next_seq();
  if (seq < expected) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  if (seq > expected) {
    return absl::DataLossError(absl::StrCat("replication: record ", seq,
                                            " arrived but the local log needs ", expected,
                                            " next (a gap in the stream)"));
  }
  if (absl::Status s = durability_->CanWrite(); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("replication: the local log cannot be written: ",
                                     s.message()));
  }
  absl::ReaderMutexLock gate(gate_);
  durability_->OnMutation(mutation);
  if (const uint64_t got = durability_->last_assigned_seq(); got != seq) {
    // Only this thread appends on a replica; anything else is a wiring bug.
    return absl::InternalError(absl::StrCat("replication: the local log gave record ", seq,
                                            " the number ", got,
                                            " (something else writes to it)"));
  }
  if (absl::Status s = engine_->Apply(mutation, seq); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("replication: record ", seq,
                                               " does not apply: ", s.message()));
  }
  applied_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace attrib::replication
