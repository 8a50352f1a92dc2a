// tests/history_checker_test.cc: the linearizability checker (tests/history_checker.h)
// on hand-made histories with known answers, and on random histories generated from
// a real register (linearizable by construction) and then corrupted (not).
//
// Thread-safety: single-threaded tests.
#include "tests/history_checker.h"

#include <random>

#include "gtest/gtest.h"

namespace attrib::testing {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

Operation W(uint64_t v, int64_t from, int64_t to, OpOutcome o = OpOutcome::kOk,
            std::string key = "k") {
  return Operation{key, OpKind::kWrite, v, from, o == OpOutcome::kUnknown ? kNever : to, o};
}
Operation R(uint64_t v, int64_t from, int64_t to, std::string key = "k") {
  return Operation{key, OpKind::kRead, v, from, to, OpOutcome::kOk};
}

TEST(HistoryCheckerTest, SequentialAndConcurrentHistories) {
  EXPECT_TRUE(CheckLinearizable({W(1, 0, 1), R(1, 2, 3), W(2, 4, 5), R(2, 6, 7)}).ok());
  // A read overlapping a write may see either value.
  EXPECT_TRUE(CheckLinearizable({W(1, 0, 1), W(2, 2, 10), R(1, 3, 4), R(2, 5, 6)}).ok());
  // ...but not the old one after having seen the new one.
  EXPECT_FALSE(CheckLinearizable({W(1, 0, 1), W(2, 2, 10), R(2, 3, 4), R(1, 5, 6)}).ok());
  EXPECT_TRUE(CheckLinearizable({R(0, 0, 1)}).ok());  // Nothing written yet: 0.
}

TEST(HistoryCheckerTest, ALostAcknowledgedWriteIsCaught) {
  const absl::Status s = CheckLinearizable({W(5, 0, 10), R(0, 20, 30)});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("key k"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("read -> 0"), absl::string_view::npos) << s;
}

TEST(HistoryCheckerTest, UnknownWritesMayOrMayNotHaveHappenedButOnlyOnce) {
  // A write that timed out (the server crashed): later reads may see it or not...
  EXPECT_TRUE(CheckLinearizable({W(7, 0, 0, OpOutcome::kUnknown), R(0, 5, 6)}).ok());
  EXPECT_TRUE(CheckLinearizable({W(7, 0, 0, OpOutcome::kUnknown), R(7, 5, 6)}).ok());
  // ...but once seen it cannot un-happen.
  EXPECT_FALSE(
      CheckLinearizable({W(7, 0, 0, OpOutcome::kUnknown), R(7, 5, 6), R(0, 8, 9)}).ok());
  // A failed write took no effect.
  EXPECT_FALSE(CheckLinearizable({W(7, 0, 1, OpOutcome::kFail), R(7, 5, 6)}).ok());
}

TEST(HistoryCheckerTest, KeysAreIndependent) {
  EXPECT_TRUE(CheckLinearizable({W(1, 0, 1, OpOutcome::kOk, "a"), W(2, 0, 1, OpOutcome::kOk, "b"),
                                 R(1, 2, 3, "a"), R(2, 2, 3, "b")})
                  .ok());
  const absl::Status s = CheckLinearizable(
      {W(1, 0, 1, OpOutcome::kOk, "a"), R(2, 2, 3, "a"), W(2, 0, 1, OpOutcome::kOk, "b")});
  EXPECT_NE(s.message().find("key a"), absl::string_view::npos) << s;
}

// Random histories of 4 clients on 3 keys: each operation takes effect at a random
// instant inside its interval on a real register, so the history is linearizable;
// replacing one read's value by one never written makes it not.
TEST(HistoryCheckerTest, RandomHistoriesFromARealRegister) {
  const uint64_t seed = 20261201;
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << ", round " << round);
    struct Pending {
      int64_t at;  // Linearization instant.
      size_t index;
    };
    std::vector<Operation> ops;
    std::vector<Pending> effects;
    for (int client = 0; client < 4; ++client) {
      int64_t t = static_cast<int64_t>(rng() % 10);
      for (int i = 0; i < 8; ++i) {
        Operation op;
        op.key = std::string(1, static_cast<char>('a' + rng() % 3));
        op.kind = rng() % 2 ? OpKind::kWrite : OpKind::kRead;
        op.value = 1 + rng() % 5;
        op.invoked = t;
        op.completed = t + 1 + static_cast<int64_t>(rng() % 20);
        op.outcome = OpOutcome::kOk;
        effects.push_back({op.invoked + static_cast<int64_t>(rng() % (op.completed - op.invoked)),
                           ops.size()});
        ops.push_back(op);
        t = op.completed + static_cast<int64_t>(rng() % 3);  // A client is sequential.
      }
    }
    std::sort(effects.begin(), effects.end(),
              [](const Pending& a, const Pending& b) { return a.at < b.at; });
    std::map<std::string, uint64_t> reg;
    for (const Pending& p : effects) {
      Operation& op = ops[p.index];
      if (op.kind == OpKind::kWrite) {
        reg[op.key] = op.value;
      } else {
        op.value = reg[op.key];
      }
    }
    ASSERT_TRUE(CheckLinearizable(ops).ok()) << CheckLinearizable(ops);
    for (Operation& op : ops) {
      if (op.kind == OpKind::kRead) {
        op.value = 999;  // Never written.
        break;
      }
    }
    EXPECT_FALSE(CheckLinearizable(ops).ok());
  }
}

TEST(HistoryCheckerTest, HistoryRecordsInvokeAndCompletion) {
  History h;
  const size_t w = h.Invoke("k", OpKind::kWrite, 3, 10);
  const size_t r = h.Invoke("k", OpKind::kRead, 0, 12);
  h.Complete(w, OpOutcome::kOk, 15);
  h.Complete(r, OpOutcome::kOk, 16, /*read_value=*/3);
  EXPECT_TRUE(CheckLinearizable(h.operations()).ok());
  const size_t lost = h.Invoke("k", OpKind::kRead, 0, 20);
  h.Complete(lost, OpOutcome::kOk, 21, /*read_value=*/0);
  EXPECT_FALSE(CheckLinearizable(h.operations()).ok());
}

}  // namespace
}  // namespace attrib::testing
