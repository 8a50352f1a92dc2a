// tests/history_checker.cc: per-key linearizability of register histories (see the
// header).
#include "tests/history_checker.h"

#include <algorithm>
#include <unordered_set>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace attrib::testing {
namespace {

struct Entry {
  int op = -1;         // Index into the key's operations.
  bool call = false;   // Call or return.
  int64_t time = 0;
  Entry* prev = nullptr;
  Entry* next = nullptr;
  Entry* match = nullptr;  // The call's return / the return's call.
};

// (linearized set, register value): a state the search already explored.
struct State {
  std::vector<uint64_t> bits;
  uint64_t value = 0;
  bool operator==(const State&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const State& s) {
    return H::combine(std::move(h), s.bits, s.value);
  }
};

void Lift(Entry* call) {
  call->prev->next = call->next;
  call->next->prev = call->prev;
  Entry* ret = call->match;
  ret->prev->next = ret->next;
  if (ret->next != nullptr) ret->next->prev = ret->prev;
}

void Unlift(Entry* call) {
  Entry* ret = call->match;
  ret->prev->next = ret;
  if (ret->next != nullptr) ret->next->prev = ret;
  call->prev->next = call;
  call->next->prev = call;
}

std::string Describe(const Operation& op) {
  const std::string what = op.kind == OpKind::kWrite ? absl::StrCat("write ", op.value)
                                                     : absl::StrCat("read -> ", op.value);
  const std::string end = op.completed == std::numeric_limits<int64_t>::max()
                              ? "unknown"
                              : absl::StrCat(op.completed);
  return absl::StrCat(what, " [", op.invoked, ", ", end, "]");
}

absl::Status CheckKey(const std::string& key, const std::vector<Operation>& ops,
                      uint64_t initial) {
  const int n = static_cast<int>(ops.size());
  std::vector<Entry> entries(2 * n + 1);  // [0] is the head sentinel.
  std::vector<Entry*> order;
  for (int i = 0; i < n; ++i) {
    Entry* c = &entries[1 + 2 * i];
    Entry* r = &entries[2 + 2 * i];
    *c = Entry{i, true, ops[i].invoked};
    *r = Entry{i, false, ops[i].completed};
    c->match = r;
    r->match = c;
    order.push_back(c);
    order.push_back(r);
  }
  // Time order; at equal times calls first (the two operations then overlap, which
  // only allows more orders: never a false failure).
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    if (a->time != b->time) return a->time < b->time;
    return a->call && !b->call;
  });
  Entry* head = &entries[0];
  Entry* prev = head;
  for (Entry* e : order) {
    prev->next = e;
    e->prev = prev;
    prev = e;
  }
  prev->next = nullptr;

  State state{std::vector<uint64_t>((n + 63) / 64, 0), initial};
  std::unordered_set<State, absl::Hash<State>> seen;
  std::vector<std::pair<Entry*, uint64_t>> stack;  // (call linearized, value before).
  int blocked = -1;  // The operation that stopped the deepest partial order...
  size_t blocked_depth = 0;  // ...after this many were ordered.
  Entry* entry = head->next;
  while (entry != nullptr) {
    const Operation& op = ops[entry->op];
    if (entry->call) {
      bool allowed = true;
      uint64_t next_value = state.value;
      if (op.kind == OpKind::kWrite) {
        next_value = op.value;
      } else {
        allowed = state.value == op.value;
      }
      if (allowed) {
        State after = state;
        after.bits[entry->op / 64] |= uint64_t{1} << (entry->op % 64);
        after.value = next_value;
        if (seen.insert(after).second) {
          stack.emplace_back(entry, state.value);
          state = std::move(after);
          Lift(entry);
          entry = head->next;
          continue;
        }
      }
      entry = entry->next;
      continue;
    }
    // A return whose operation is not linearized yet.
    if (entry->time == std::numeric_limits<int64_t>::max()) {
      return absl::OkStatus();  // Only unknown operations remain: they may never happen.
    }
    if (blocked < 0 || stack.size() > blocked_depth) {
      blocked = entry->op;
      blocked_depth = stack.size();
    }
    if (stack.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "history: key ", key, " is not linearizable: no order of its ", n,
          " operations explains ", Describe(ops[blocked]), " (at most ", blocked_depth,
          " of them could be ordered before it)"));
    }
    auto [call, value_before] = stack.back();
    stack.pop_back();
    state.bits[call->op / 64] &= ~(uint64_t{1} << (call->op % 64));
    state.value = value_before;
    Unlift(call);
    entry = call->next;
  }
  return absl::OkStatus();
}

}  // namespace

size_t History::Invoke(std::string key, OpKind kind, uint64_t value, int64_t now) {
  Operation op;
  op.key = std::move(key);
  op.kind = kind;
  op.value = value;
  op.invoked = now;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void History::Complete(size_t index, OpOutcome outcome, int64_t now, uint64_t read_value) {
  Operation& op = ops_[index];
  op.outcome = outcome;
  if (outcome != OpOutcome::kUnknown) op.completed = now;
  if (op.kind == OpKind::kRead && outcome == OpOutcome::kOk) op.value = read_value;
}

absl::Status CheckLinearizable(const std::vector<Operation>& history, uint64_t initial) {
  std::map<std::string, std::vector<Operation>> by_key;
  for (const Operation& op : history) {
    if (op.outcome == OpOutcome::kFail) continue;  // Took no effect.
    if (op.kind == OpKind::kRead && op.outcome == OpOutcome::kUnknown) continue;  // No effect.
    by_key[op.key].push_back(op);
  }
  for (const auto& [key, ops] : by_key) {
    if (absl::Status s = CheckKey(key, ops, initial); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace attrib::testing
