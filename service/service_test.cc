// service/service_test.cc: the service layer's own rules, without a front end: the
// scope check, the durability rules, counting.
#include "service/service.h"

#include <string>
#include <vector>

#include "engine/clock.h"
#include "gtest/gtest.h"

namespace attrib::service {
namespace {

constexpr engine::TimeMs kT0 = 1'700'000'000'000;

class FakeDurability final : public DurabilityHooks {
 public:
  absl::Status CanWrite() override { return can_write; }
  uint64_t LastAssignedSeq() override { return ++last; }
  uint64_t DurableSeq() override { return 0; }
  absl::Status can_write = absl::OkStatus();
  uint64_t last = 100;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() : clock_(kT0), engine_(Options(&clock_)) {}
  static engine::EngineOptions Options(const engine::Clock* clock) {
    engine::EngineOptions o;
    o.shard_count = 4;
    o.clock = clock;
    return o;
  }
  Service MakeService(DurabilityHooks* hooks) {
    ServiceOptions o;
    o.durability = hooks;
    return Service(&engine_, o);
  }
  static engine::ListRequest ListOf(engine::ShopId shop) {
    engine::ListRequest r;
    r.shop = shop;
    return r;
  }
  static engine::ConnectRequest Connect(engine::ShopId shop, std::string email) {
    engine::ConnectRequest r;
    r.shop = shop;
    r.email = std::move(email);
    r.affiliate = 7;
    return r;
  }
  engine::FakeClock clock_;
  engine::Engine engine_;
};

TEST_F(ServiceTest, ShopScopeSeesOnlyItsShopAndOtherShopsAreNotFoundAlike) {
  Service sv(&engine_, ServiceOptions{});
  Call admin = sv.Begin(Scope::Admin());
  ASSERT_TRUE(sv.Connect(admin, Connect(1, "a@example.com")).ok());

  Call shop2 = sv.Begin(Scope::Shop(2));
  // Shop 1 has data, shop 3 has none: the answers are the same but for the number.
  absl::StatusOr<engine::ListPage> list1 = sv.List(shop2, ListOf(1));
  absl::StatusOr<engine::ListPage> list3 = sv.List(shop2, ListOf(3));
  EXPECT_EQ(list1.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(list3.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(list1.status().message(), "shop 1: not found for this key");
  EXPECT_EQ(list3.status().message(), "shop 3: not found for this key");
  EXPECT_EQ(sv.Connect(shop2, Connect(1, "b@example.com")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_.Stats().connections, 1u);
  bool called = false;
  const absl::string_view one[1] = {"a@example.com"};
  EXPECT_EQ(sv.LookupEach(shop2, 1, one, std::nullopt,
                          [&](size_t, const engine::LookupItemView&) { called = true; })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(called);
  // Its own shop works.
  EXPECT_TRUE(sv.Connect(shop2, Connect(2, "b@example.com")).ok());
  EXPECT_TRUE(sv.List(shop2, ListOf(2)).ok());
  // Server-wide operations need admin.
  EXPECT_EQ(sv.Stats(shop2).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(sv.Stats(admin).ok());
}

TEST_F(ServiceTest, ReadOnlyScopeGetsPermissionDeniedOnWritesOnly) {
  Service sv(&engine_, ServiceOptions{});
  Call ro = sv.Begin(Scope::Shop(5, /*read_only=*/true));
  const absl::Status s = sv.Connect(ro, Connect(5, "a@example.com")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(engine_.Stats().connections, 0u);
  EXPECT_TRUE(sv.GetSettings(ro, 5).ok());
  EXPECT_EQ(sv.Reverse(ro, 5, "o1").status().code(), absl::StatusCode::kPermissionDenied);
  Call admin_ro = sv.Begin(Scope::Admin(/*read_only=*/true));
  EXPECT_EQ(sv.Snapshot(admin_ro).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(sv.Stats(admin_ro).ok());
}

TEST_F(ServiceTest, WriteRefusedBeforeTheEngineIsTouchedAndWaitsForLastAssignedSeq) {
  FakeDurability hooks;
  Service sv = MakeService(&hooks);
  hooks.can_write = absl::UnavailableError("disk full");
  Call call = sv.Begin(Scope::Admin());
  EXPECT_EQ(sv.Connect(call, Connect(1, "a@example.com")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine_.Stats().connections, 0u);
  EXPECT_EQ(call.wait_for_seq, 0u);
  EXPECT_EQ(sv.Ready().code(), absl::StatusCode::kUnavailable);

  hooks.can_write = absl::OkStatus();
  Call ok = sv.Begin(Scope::Admin());
  ASSERT_TRUE(sv.Connect(ok, Connect(1, "a@example.com")).ok());
  EXPECT_EQ(ok.wait_for_seq, 101u);
  EXPECT_TRUE(sv.Ready().ok());
  // A read waits for nothing.
  Call read = sv.Begin(Scope::Admin());
  ASSERT_TRUE(sv.GetSettings(read, 1).ok());
  EXPECT_EQ(read.wait_for_seq, 0u);
}

TEST_F(ServiceTest, FinishCountsPerOperationAndCodeAndTimes) {
  Service sv(&engine_, ServiceOptions{});
  for (int i = 0; i < 3; ++i) {
    Call call = sv.Begin(Scope::Admin());
    sv.Finish(call, Operation::kPing, absl::StatusCode::kOk);
  }
  Call bad = sv.Begin(Scope::Admin());
  sv.Finish(bad, Operation::kConnect, absl::StatusCode::kInvalidArgument);
  const std::vector<OperationCount> counts = sv.OperationCounts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].operation, "connect");
  EXPECT_EQ(counts[0].result, "invalid_argument");
  EXPECT_EQ(counts[0].count, 1u);
  EXPECT_EQ(counts[1].operation, "ping");
  EXPECT_EQ(counts[1].result, "ok");
  EXPECT_EQ(counts[1].count, 3u);
  uint64_t ping_samples = 0;
  for (const OperationLatency& l : sv.OperationLatencies()) {
    if (l.operation == "ping") ping_samples = l.latency.count();
    EXPECT_NE(l.operation, "undecodable");  // Never seen: not listed.
  }
  EXPECT_EQ(ping_samples, 3u);
}

TEST_F(ServiceTest, CountBreakdownIsSortedByConnectionsThenAffiliate) {
  Service sv(&engine_, ServiceOptions{});
  Call call = sv.Begin(Scope::Admin());
  const struct { const char* email; engine::AffiliateId affiliate; } rows[] = {
      {"a@example.com", 9}, {"b@example.com", 3}, {"c@example.com", 3}, {"d@example.com", 5}};
  for (const auto& row : rows) {
    engine::ConnectRequest r = Connect(1, row.email);
    r.affiliate = row.affiliate;
    ASSERT_TRUE(sv.Connect(call, r).ok());
  }
  absl::StatusOr<CountResult> all = sv.Count(call, CountRequest{1, 0});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->connections, 4u);
  const std::vector<std::pair<engine::AffiliateId, uint64_t>> want = {{3, 2}, {5, 1}, {9, 1}};
  EXPECT_EQ(all->by_affiliate, want);
  absl::StatusOr<CountResult> one = sv.Count(call, CountRequest{1, 3});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->connections, 2u);
  EXPECT_TRUE(one->by_affiliate.empty());
}

}  // namespace
}  // namespace attrib::service
