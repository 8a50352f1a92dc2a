// service/service_customers_test.cc: the customer directory's service operations
// (service_customers.cc): shop scopes, read-only keys, durability waits.
#include <string>

#include "engine/clock.h"
#include "gtest/gtest.h"
#include "service/service.h"

namespace attrib::service {
namespace {

class CountingDurability final : public DurabilityHooks {
 public:
  absl::Status CanWrite() override { return can_write; }
  uint64_t LastAssignedSeq() override { return ++last; }
  uint64_t DurableSeq() override { return 0; }
  absl::Status can_write = absl::OkStatus();
  uint64_t last = 40;
};

engine::EngineOptions Options(const engine::Clock* clock) {
  engine::EngineOptions o;
  o.shard_count = 4;
  o.clock = clock;
  return o;
}

TEST(ServiceCustomersTest, ScopesDurabilityAndResults) {
  engine::FakeClock clock(1'700'000'000'000);
  engine::Engine engine(Options(&clock));
  CountingDurability hooks;
  ServiceOptions o;
  o.durability = &hooks;
  Service sv(&engine, o);
  Call shop2 = sv.Begin(Scope::Shop(2));
  const engine::CustomerRef ann{std::string("Ann@Example.com"), std::nullopt};
  absl::StatusOr<engine::CustomerRecord> put = sv.PutCustomerName(shop2, 2, ann, "Ann");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->directory->name, "Ann");
  EXPECT_EQ(shop2.wait_for_seq, 41u);  // The reply waits for the write's record.
  // Another shop: not found, as every operation.
  EXPECT_EQ(sv.PutCustomerName(shop2, 3, ann, "x").status().code(), absl::StatusCode::kNotFound);
  engine::CustomerQuery q;
  q.shop = 3;
  EXPECT_EQ(sv.SearchCustomers(shop2, q).status().code(), absl::StatusCode::kNotFound);
  q.shop = 2;
  q.name_prefix = "an";
  absl::StatusOr<engine::CustomerPage> page = sv.SearchCustomers(shop2, q);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].customer.emails[0], "ann@example.com");
  // Read-only keys read, and may not put.
  Call ro = sv.Begin(Scope::Shop(2, /*read_only=*/true));
  EXPECT_TRUE(sv.GetCustomerRecord(ro, 2, ann).ok());
  EXPECT_TRUE(sv.SearchCustomers(ro, q).ok());
  EXPECT_EQ(sv.PutCustomerName(ro, 2, ann, "y").status().code(),
            absl::StatusCode::kPermissionDenied);
  // Writes refused by durability never reach the engine.
  hooks.can_write = absl::UnavailableError("log full");
  EXPECT_EQ(sv.PutCustomerName(shop2, 2, ann, "z").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine.customers().Get(2, "ann@example.com")->name, "Ann");
}

}  // namespace
}  // namespace attrib::service
