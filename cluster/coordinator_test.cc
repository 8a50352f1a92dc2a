// cluster/coordinator_test.cc
//
// The Coordinator contract, run against both implementations: the in-memory fake
// (time advanced by the test) and a real 3-member etcd cluster started by the test
// (time passes for real; waits poll the coordinator with a deadline). Then what only
// a real cluster shows: a member SIGKILLed while a primary keeps its lease, and an
// unreachable cluster.
//
// Thread-safety: single-threaded tests.
#include <functional>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "cluster/etcd_coordinator.h"
#include "cluster/etcd_test_cluster.h"
#include "cluster/fake_coordinator.h"
#include "gtest/gtest.h"

namespace attrib::cluster {
namespace {

enum class Kind { kFake, kEtcd };

class CoordinatorContractTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kFake) {
      fake_ = std::make_unique<FakeCoordinator>([this] { return fake_now_; });
      coordinator_ = fake_.get();
      return;
    }
    etcd_ = std::make_unique<EtcdTestCluster>(3);
    ASSERT_TRUE(etcd_->Ready().ok()) << etcd_->Ready().message();
    EtcdCoordinatorOptions options;
    options.client.endpoints = etcd_->endpoints();
    options.client.timeout = absl::Seconds(1);
    real_ = std::make_unique<EtcdCoordinator>(options);
    coordinator_ = real_.get();
  }
  // Until `done` or 20 s of the coordinator's time: the fake's clock moves in steps
  // of 100 ms; real time passes between polls of etcd.
  bool Eventually(const std::function<bool()>& done) {
    for (int step = 0; step < 200; ++step) {
      if (done()) return true;
      if (fake_ != nullptr) {
        fake_now_ += absl::Milliseconds(100);
      } else {
        absl::SleepFor(absl::Milliseconds(100));  // Poll interval, not synchronization.
      }
    }
    return done();
  }
  bool NoLeader(absl::string_view group) {
    absl::StatusOr<std::optional<Leader>> l = coordinator_->CurrentLeader(group);
    return l.ok() && !l->has_value();
  }

  absl::Time fake_now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<FakeCoordinator> fake_;
  std::unique_ptr<EtcdTestCluster> etcd_;
  std::unique_ptr<EtcdCoordinator> real_;
  Coordinator* coordinator_ = nullptr;
};

TEST_P(CoordinatorContractTest, FirstCandidateWinsTheOtherSeesIt) {
  EXPECT_TRUE(NoLeader("g1"));
  absl::StatusOr<Leadership> a = coordinator_->Campaign("g1", "127.0.0.1:7411",
                                                        absl::Seconds(5), nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(a->epoch, 0u);
  EXPECT_GE(a->ttl, absl::Seconds(5));
  Leader current;
  absl::StatusOr<Leadership> b =
      coordinator_->Campaign("g1", "127.0.0.1:7511", absl::Seconds(5), &current);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition) << b.status();
  EXPECT_NE(b.status().message().find("127.0.0.1:7411"), absl::string_view::npos);
  EXPECT_EQ(current.address, "127.0.0.1:7411");
  EXPECT_EQ(current.epoch, a->epoch);
  absl::StatusOr<std::optional<Leader>> seen = coordinator_->CurrentLeader("g1");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->address, "127.0.0.1:7411");
  EXPECT_EQ((*seen)->lease, a->lease);
  // Another group is independent.
  EXPECT_TRUE(coordinator_->Campaign("g2", "127.0.0.1:7611", absl::Seconds(5), nullptr).ok());
}

TEST_P(CoordinatorContractTest, EpochsOnlyGrow) {
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Leadership> l =
        coordinator_->Campaign("g", absl::StrCat("n", i), absl::Seconds(5), nullptr);
    ASSERT_TRUE(l.ok()) << l.status();
    EXPECT_GT(l->epoch, last);
    last = l->epoch;
    ASSERT_TRUE(coordinator_->Resign(l->lease).ok());
    EXPECT_TRUE(NoLeader("g"));  // Resigning frees it at once.
  }
  EXPECT_TRUE(coordinator_->Resign(123456789).ok());  // An unknown lease: already gone.
}

TEST_P(CoordinatorContractTest, AKeptLeaseStaysAndALapsedOneExpires) {
  absl::StatusOr<Leadership> a =
      coordinator_->Campaign("g", "primary", absl::Seconds(1), nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  // Renewed at a third of the ttl for three ttls: still the leader.
  const absl::Duration step = a->ttl / 3;
  for (int i = 0; i < 9; ++i) {
    if (fake_ != nullptr) {
      fake_now_ += step;
    } else {
      absl::SleepFor(step);
    }
    ASSERT_TRUE(coordinator_->KeepAlive(a->lease).ok()) << "renewal " << i;
  }
  absl::StatusOr<std::optional<Leader>> seen = coordinator_->CurrentLeader("g");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->epoch, a->epoch);
  // No more renewals: the key goes, the lease is gone, another candidate wins.
  ASSERT_TRUE(Eventually([&] { return NoLeader("g"); })) << "the lease never expired";
  EXPECT_EQ(coordinator_->KeepAlive(a->lease).code(), absl::StatusCode::kNotFound);
  absl::StatusOr<Leadership> b = coordinator_->Campaign("g", "replica", absl::Seconds(1), nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT(b->epoch, a->epoch);
}

INSTANTIATE_TEST_SUITE_P(Implementations, CoordinatorContractTest,
                         ::testing::Values(Kind::kFake, Kind::kEtcd),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kFake ? "Fake" : "Etcd";
                         });

TEST(EtcdCoordinatorTest, ALostMemberDoesNotCostTheLease) {
  EtcdTestCluster etcd(3);
  ASSERT_TRUE(etcd.Ready().ok());
  EtcdCoordinatorOptions options;
  options.client.endpoints = etcd.endpoints();
  options.client.timeout = absl::Seconds(1);
  EtcdCoordinator coordinator(options);
  absl::StatusOr<Leadership> a = coordinator.Campaign("g", "primary", absl::Seconds(5), nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  etcd.Kill(0);  // The member the client talked to first.
  for (int i = 0; i < 5; ++i) {
    absl::Status s = coordinator.KeepAlive(a->lease);
    ASSERT_TRUE(s.ok()) << "renewal " << i << " after losing a member: " << s;
  }
  absl::StatusOr<std::optional<Leader>> seen = coordinator.CurrentLeader("g");
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ((*seen)->epoch, a->epoch);
}

TEST(EtcdCoordinatorTest, AnUnreachableClusterIsUnavailableWithinTheTimeout) {
  EtcdTestCluster etcd(1);  // Started for its free port, then killed.
  ASSERT_TRUE(etcd.Ready().ok());
  etcd.Kill(0);
  EtcdCoordinatorOptions options;
  options.client.endpoints = etcd.endpoints();
  options.client.timeout = absl::Milliseconds(300);
  EtcdCoordinator coordinator(options);
  absl::StatusOr<Leadership> a = coordinator.Campaign("g", "primary", absl::Seconds(5), nullptr);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable) << a.status();
  EXPECT_EQ(coordinator.KeepAlive(1).code(), absl::StatusCode::kUnavailable);
}

TEST(EtcdEndpointsTest, ParsesAndNamesTheBadEntry) {
  auto ok = ParseEndpoints("127.0.0.1:2379, http://127.0.0.1:22379");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1], "127.0.0.1:22379");
  auto bad = ParseEndpoints("127.0.0.1:2379,nohost");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'nohost'"), absl::string_view::npos);
  EXPECT_FALSE(ParseEndpoints("").ok());
}

}  // namespace
}  // namespace attrib::cluster
