// cluster/lease_guard_test.cc: the primary's write deadline (cluster/lease_guard.h).
//
// Thread-safety: single-threaded tests.
#include "cluster/lease_guard.h"

#include "gtest/gtest.h"

namespace attrib::cluster {
namespace {

TEST(LeaseGuardTest, NoWritesBeforeTheFirstGrant) {
  LeaseGuard g(LeaseGuardOptions{});
  EXPECT_FALSE(g.MayAcknowledge(absl::FromUnixSeconds(100)));
}

TEST(LeaseGuardTest, TheDeadlineCountsFromTheSendTimeWithDriftAndMargin) {
  LeaseGuardOptions o;
  o.ttl = absl::Seconds(10);
  o.max_clock_drift = 0.01;
  o.margin = absl::Milliseconds(500);
  LeaseGuard g(o);
  const absl::Time sent = absl::FromUnixSeconds(1000);
  g.Renewed(sent);
  // 10 s * 0.99 - 0.5 s = 9.4 s after the send.
  EXPECT_EQ(g.deadline(), sent + absl::Milliseconds(9400));
  EXPECT_TRUE(g.MayAcknowledge(sent + absl::Milliseconds(9399)));
  EXPECT_FALSE(g.MayAcknowledge(sent + absl::Milliseconds(9400)));
  // Always before the coordinator can have let the lease go (sent + ttl).
  EXPECT_LT(g.deadline(), sent + o.ttl);
  EXPECT_EQ(g.NextRenewal(sent), sent + o.ttl / 3);
}

TEST(LeaseGuardTest, ALateAnswerToAnOlderRenewalNeverMovesTheDeadlineBack) {
  LeaseGuard g(LeaseGuardOptions{});
  const absl::Time t = absl::FromUnixSeconds(1000);
  g.Renewed(t + absl::Seconds(3));
  const absl::Time newer = g.deadline();
  g.Renewed(t);
  EXPECT_EQ(g.deadline(), newer);
}

TEST(LeaseGuardTest, LostStopsWritesAtOnce) {
  LeaseGuard g(LeaseGuardOptions{});
  const absl::Time t = absl::FromUnixSeconds(1000);
  g.Renewed(t);
  ASSERT_TRUE(g.MayAcknowledge(t + absl::Seconds(1)));
  g.Lost();
  EXPECT_FALSE(g.MayAcknowledge(t + absl::Seconds(1)));
}

}  // namespace
}  // namespace attrib::cluster
