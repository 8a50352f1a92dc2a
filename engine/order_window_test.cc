// engine/order_window_test.cc
//
// The order window (order_window.h) through the Engine: order ids remembered by
// order time, at the edge and past it, late webhooks, eviction order.
//
// Thread-safety: single-threaded tests.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine_test_base.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace testing_base;  // NOLINT: the shared test fixture.
using ::testing::StartsWith;

// ------------------------------------------------------------ Order window

// An engine whose order window is the default (120 days of order
// time). Retention is per order shard (order_window.h): `Advance` attributes enough
// filler orders at one order time that every shard sees it, whatever the shard count.
class OrderWindowEngineTest : public EngineTestBase,
                              public ::testing::TestWithParam<uint32_t> {
 protected:
  static constexpr TimeMs kWindow = 120 * kDay;
  OrderWindowEngineTest() : EngineTestBase(GetParam(), EngineOptions{}.order_window_ms) {}

  // Moves every shard's high-water mark to `at` (64 orders per shard: with a
  // stable hash, every shard gets some).
  void Advance(TimeMs at) {
    const uint32_t n = 64 * GetParam();
    for (uint32_t i = 0; i < n; ++i) {
      Attribute(Order(absl::StrCat("filler-", at, "-", i), std::nullopt, std::nullopt, at));
    }
  }

  bool Remembered(const std::string& order_id) {
    const absl::StatusOr<AttributionDecision> d = engine_.Explain(kShop, order_id);
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound) << d.status();
    }
    return d.ok();
  }
};

INSTANTIATE_TEST_SUITE_P(Shards, OrderWindowEngineTest,
                         ::testing::Values(1u, 4u, EngineOptions{}.shard_count), ShardName);

TEST_P(OrderWindowEngineTest, DefaultWindowIs120Days) {
  EXPECT_EQ(EngineOptions{}.order_window_ms, kWindow);
  EXPECT_EQ(engine_.orders().window_ms(), kWindow);
}

TEST_P(OrderWindowEngineTest, OrderIsRememberedAtTheWindowEdgeAndForgottenPastIt) {
  const AttributeResult first = Attribute(Order("a", std::nullopt, kB, kT0));
  Advance(kT0 + kWindow);
  EXPECT_TRUE(Remembered("a"));
  const AttributeResult dup = Attribute(Order("a", std::nullopt, kC, kT0 + kWindow));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.decision, first.decision);

  Advance(kT0 + kWindow + 1);
  EXPECT_FALSE(Remembered("a"));
  EXPECT_EQ(engine_.Reverse(kShop, "a").status().code(), absl::StatusCode::kNotFound);
  // Forgotten: the same id is a new order now.
  const AttributeResult again = Attribute(Order("a", std::nullopt, kC, kT0 + kWindow + 1));
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(again.decision.affiliate, kC);
}

TEST_P(OrderWindowEngineTest, LateWebhookIsRememberedForAFullWindow) {
  Advance(kT0);
  const AttributeResult late = Attribute(Order("late", std::nullopt, kB, kT0 - 30 * kDay));
  EXPECT_EQ(late.decision.ordered_at, kT0 - 30 * kDay);
  EXPECT_TRUE(Remembered("late"));

  Advance(kT0 + kWindow);
  EXPECT_TRUE(Remembered("late"));
  EXPECT_TRUE(Attribute(Order("late", std::nullopt, kB, kT0 - 30 * kDay)).duplicate);

  Advance(kT0 + kWindow + 1);
  EXPECT_FALSE(Remembered("late"));
}

TEST_P(OrderWindowEngineTest, OlderOrdersDoNotEvictNewerOnes) {
  Attribute(Order("new", std::nullopt, kB, kT0 + 10 * kDay));
  Advance(kT0);  // Older order times: the marks stay at kT0 + 10d where they were set.
  EXPECT_TRUE(Remembered("new"));
  Advance(kT0 + 10 * kDay + kWindow);
  EXPECT_TRUE(Remembered("new"));
}

TEST_P(OrderWindowEngineTest, TheClockAloneForgetsNothing) {
  const AttributeResult a = Attribute(Order("a", std::nullopt, kB));  // At kT0 (clock).
  EXPECT_EQ(a.decision.ordered_at, kT0);
  clock_.Set(kT0 + kWindow + 30 * kDay);
  EXPECT_TRUE(Remembered("a"));
  EXPECT_TRUE(Attribute(Order("a", std::nullopt, kB)).duplicate);
  // Newer orders (stamped by the clock) do evict it.
  Advance(clock_.NowMs());
  EXPECT_FALSE(Remembered("a"));
}

TEST_P(OrderWindowEngineTest, ReversedAndCountedOrdersKeepTheirConnectionWhenForgotten) {
  Connect(kJane, kA);
  Attribute(Order("o1", kJane, std::nullopt, kT0));
  Attribute(Order("o2", kJane, std::nullopt, kT0));
  OK(engine_.Reverse(kShop, "o2"));
  Advance(kT0 + kWindow + 1);
  EXPECT_FALSE(Remembered("o1"));
  EXPECT_FALSE(Remembered("o2"));
  // Forgetting an order is not reversing it.
  EXPECT_EQ(Lookup().connection.order_count, 1u);
}

// A refund 100 days after the order (inside the default window) still un-counts it,
// and explain still finds it; past 120 days both say not_found.
TEST_P(OrderWindowEngineTest, ReverseAndExplainWorkAfter100Days) {
  Connect(kJane, kA);
  Attribute(Order("o1", kJane, std::nullopt, kT0));
  Attribute(Order("o2", kJane, std::nullopt, kT0));
  EXPECT_EQ(Lookup().connection.order_count, 2u);
  Advance(kT0 + 100 * kDay);
  clock_.Set(kT0 + 100 * kDay);
  const absl::StatusOr<ReverseResult> r = engine_.Reverse(kShop, "o1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->uncounted);
  EXPECT_TRUE(r->decision.reversed);
  EXPECT_EQ(Lookup().connection.order_count, 1u);
  const absl::StatusOr<AttributionDecision> e = engine_.Explain(kShop, "o1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->reversed);
  EXPECT_EQ(e->canonical_email, kJaneCanonical);
  EXPECT_EQ(e->affiliate, kA);

  Advance(kT0 + kWindow);
  EXPECT_TRUE(Remembered("o2"));
  Advance(kT0 + kWindow + 1);
  EXPECT_EQ(engine_.Reverse(kShop, "o2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(Remembered("o1"));
  EXPECT_EQ(Lookup().connection.order_count, 1u);
}

}  // namespace
}  // namespace attrib::engine
