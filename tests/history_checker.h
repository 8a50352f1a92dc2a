// tests/history_checker.h
//
// Checks a recorded history of client operations for per-key linearizability (issue
// 16's failover tests record every operation they make: invoke, then ok, fail or
// unknown). Each key (a shop and customer) is a register: `write v` sets it
// (connect with reassign: v = the affiliate; disconnect: v = 0), `read` returns it
// (lookup: the affiliate, 0 = none). Linearizability is local, so checking every key
// on its own checks the whole history.
//
// Outcomes: ok (took effect at one instant between invoke and completion), fail
// (definitely did not take effect: not considered), unknown (a time-out, a crash of
// the server: it may have taken effect at any instant after its invoke, or never).
// A lost acknowledged write shows as a read (usually the final reads after a
// failover) that no linearization explains.
//
// Algorithm: Wing & Gong's search with Lowe's memoization (the one Knossos and
// Porcupine use): walk the history's call/return events in time order, linearize a
// pending operation when the register allows it, backtrack at a return whose
// operation is not linearized yet, and never revisit a (linearized set, value) state.
// Exponential in the worst case, fast on the histories of real tests (a few hundred
// operations per key).
//
// Thread-safety: History is a value; the check functions are pure.
#ifndef ATTRIB_TESTS_HISTORY_CHECKER_H_
#define ATTRIB_TESTS_HISTORY_CHECKER_H_

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace attrib::testing {

enum class OpKind { kWrite, kRead };
enum class OpOutcome { kOk, kFail, kUnknown };

struct Operation {
  std::string key;
  OpKind kind = OpKind::kRead;
  uint64_t value = 0;  // Written, or read (ok reads only).
  int64_t invoked = 0;   // Any monotonic clock, e.g. steady nanoseconds.
  int64_t completed = std::numeric_limits<int64_t>::max();  // Unknown: never.
  OpOutcome outcome = OpOutcome::kUnknown;
};

// Records operations as a test makes them (single-threaded, or one per thread and
// merged: times must come from one clock).
class History {
 public:
  // Returns the operation's index, for Complete().
  size_t Invoke(std::string key, OpKind kind, uint64_t value, int64_t now);
  void Complete(size_t index, OpOutcome outcome, int64_t now, uint64_t read_value = 0);
  const std::vector<Operation>& operations() const { return ops_; }

 private:
  std::vector<Operation> ops_;
};

// OK when every key's operations are linearizable from `initial` (0: no connection);
// else FailedPrecondition naming the key and the operations that no order explains.
absl::Status CheckLinearizable(const std::vector<Operation>& history, uint64_t initial = 0);

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_HISTORY_CHECKER_H_
