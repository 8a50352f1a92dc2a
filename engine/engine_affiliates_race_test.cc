// engine/engine_affiliates_race_test.cc: the affiliate directory under concurrent
// writers. A connect that starts after a disable returned is refused; puts of
// customers as affiliates (on_customer_becomes_affiliate = disconnect) racing orders
// that auto-connect them leave a log that replays to the same state.
//
// Thread-safety: the threads share one engine; the checks run after they joined.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine_test_base.h"
#include "engine/replay_test_util.h"

namespace attrib::engine {
namespace {

using namespace testing_base;  // NOLINT

class EngineAffiliatesRaceTest : public EngineTestBase, public ::testing::Test {
 protected:
  EngineAffiliatesRaceTest() : EngineTestBase(8, 365 * kDay, &sink_) {}
  replay_testing::RecordingSink sink_;
};

TEST_F(EngineAffiliatesRaceTest, NoConnectStartedAfterADisableSucceeds) {
  PutAffiliateRequest put;
  put.shop = kShop;
  put.id = kA;
  put.name = "Ann";
  ASSERT_TRUE(engine_.PutAffiliate(put).ok());
  std::atomic<bool> disabled{false};
  std::atomic<int> late_successes{0}, connected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        const bool after = disabled.load(std::memory_order_acquire);
        ConnectRequest r;
        r.shop = kShop;
        r.email = absl::StrCat("c", t, "-", i, "@example.com");
        r.affiliate = kA;
        const absl::Status s = engine_.Connect(r).status();
        if (s.ok()) ++connected;
        if (s.ok() && after) ++late_successes;
        if (!s.ok()) {
          EXPECT_THAT(std::string(s.message()), StartsWith("affiliate_disabled: "));
        }
      }
    });
  }
  // Disable once the connects are under way (an event, not a clock).
  while (connected.load() < 100) std::this_thread::yield();
  ASSERT_TRUE(engine_.SetAffiliateStatus(kShop, kA, AffiliateStatus::kDisabled).ok());
  disabled.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(late_successes.load(), 0);
  EXPECT_GE(connected.load(), 100);
  EXPECT_EQ(OK(engine_.GetAffiliate(kShop, kA)).connections,
            static_cast<uint64_t>(connected.load()));
}

TEST_F(EngineAffiliatesRaceTest, PutsRacingOrdersReplayToTheSameState) {
  ShopSettingsPatch p;
  p.auto_connect = true;
  p.on_customer_becomes_affiliate = CustomerBecomesAffiliate::kDisconnect;
  Update(p);
  // Every customer starts connected to affiliate 1: under connection_first no order
  // moves that, so each customer's first put as an affiliate disconnects it.
  for (int c = 0; c < 50; ++c) Connect(absl::StrCat("c", c, "@example.com"), 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string email = absl::StrCat("c", i % 50, "@example.com");
        if (t == 0) {  // Customers become affiliates (and stop being customers).
          PutAffiliateRequest r;
          r.shop = kShop;
          r.id = 100 + i % 7;
          r.emails = {email};
          (void)engine_.PutAffiliate(r);
        } else {  // Orders referred by those affiliates auto-connect customers.
          AttributeRequest o = Order(absl::StrCat("o", t, "-", i), email, 100 + (i * t) % 7);
          (void)engine_.Attribute(o);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Engine replayed(Options(8, 365 * kDay, &clock_, nullptr));
  const std::vector<Mutation> log = sink_.Take();
  for (size_t i = 0; i < log.size(); ++i) {
    ASSERT_TRUE(replayed.Apply(log[i]).ok()) << "mutation " << i;
  }
  EXPECT_TRUE(replay_testing::Dump(replayed) == replay_testing::Dump(engine_));
  // The race went through the paths it is about.
  size_t puts = 0, disconnects_from_1 = 0;
  for (const Mutation& m : log) {
    if (std::holds_alternative<engine::PutAffiliate>(m.op)) ++puts;
    if (const auto* r = std::get_if<RemoveConnection>(&m.op)) {
      disconnects_from_1 += r->cause == RemoveCause::kCustomerBecameAffiliate &&
                            r->previous_affiliate == 1;
    }
  }
  EXPECT_EQ(puts, 2000u);
  EXPECT_EQ(disconnects_from_1, 50u);
}

}  // namespace
}  // namespace attrib::engine
