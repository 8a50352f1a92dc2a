// engine/replay_test.cc: replaying the Mutation values of a long randomized history
// on an empty engine rebuilds the identical state, without the clock (the replaying
// engine's clock is set to a different time) or the settings being consulted again.
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

class RecordingSink : public MutationSink {
 public:
  void OnMutation(const Mutation& m) override {
    absl::MutexLock lock(&mu_);
    mutations_.push_back(m);
  }
  std::vector<Mutation> Take() {
    absl::MutexLock lock(&mu_);
    return std::move(mutations_);
  }

 private:
  absl::Mutex mu_;
  std::vector<Mutation> mutations_ ABSL_GUARDED_BY(mu_);
};

// Everything an engine holds, in a canonical order.
struct State {
  std::map<std::pair<ShopId, std::string>, Connection> connections;
  std::map<ShopId, ShopSettings> settings;
  std::map<std::pair<ShopId, std::string>, OrderRecord> orders;
  friend bool operator==(const State&, const State&) = default;
};

State Dump(const Engine& e) {
  State s;
  for (uint32_t i = 0; i < e.store().shard_count(); ++i) {
    e.store().ForEachInShard(i, [&](const Shard& shard, record::View v) {
      Connection c = shard.Materialize(v);
      s.connections[{c.shop, c.canonical_email}] = c;
    });
  }
  e.settings().ForEach([&](ShopId shop, const ShopSettings& st) { s.settings[shop] = st; });
  e.orders().ForEach([&](const OrderRecord& r) {
    s.orders[{r.shop, r.decision.order_id}] = r;
  });
  return s;
}

// Random operations over a small key space, so that keys collide, expire, get
// capped, reassigned, reversed...
class RandomWorkload {
 public:
  RandomWorkload(Engine* engine, FakeClock* clock, uint64_t seed)
      : engine_(engine), clock_(clock), rng_(seed) {}

  void Step() {
    if (clock_ != nullptr && Pick(10) == 0) clock_->Advance(Pick(3 * kMsPerDay));
    const ShopId shop = 1 + Pick(3);
    const std::string email = absl::StrCat(Pick(2) ? "Cust" : "cust", Pick(40),
                                           Pick(2) ? "+tag" : "", "@gmail.com");
    switch (Pick(9)) {
      case 0:
      case 1: {
        ConnectRequest r;
        r.shop = shop;
        r.email = email;
        r.affiliate = 1 + Pick(5);
        r.mode = Pick(3) == 0 ? ConnectMode::kReassign : ConnectMode::kIfAbsent;
        r.source = static_cast<Source>(Pick(4));
        if (Pick(4) == 0) r.name = absl::StrCat("Name ", Pick(100));
        if (Pick(5) == 0) r.connected_at = 1'600'000'000'000 + Pick(1'000'000'000);
        (void)engine_->Connect(r);
        break;
      }
      case 2:
        (void)engine_->Disconnect(shop, email);
        break;
      case 3: {
        ShopSettingsPatch p;
        if (Pick(2)) p.validity_days = Pick(4) * 2;
        if (Pick(2)) p.validity_mode = static_cast<ValidityMode>(Pick(2));
        if (Pick(2)) p.validity_max_orders = Pick(4);
        if (Pick(2)) p.precedence = static_cast<Precedence>(Pick(3));
        if (Pick(2)) p.auto_connect = Pick(2) == 1;
        if (Pick(2)) p.auto_connect_new_customers_only = Pick(2) == 1;
        if (Pick(5) == 0) p.connections_enabled = Pick(3) != 0;
        (void)engine_->UpdateSettings(shop, p);
        break;
      }
      case 4:
      case 5:
      case 6: {
        AttributeRequest r;
        r.shop = shop;
        r.order_id = absl::StrCat("order-", Pick(300));  // Repeats: duplicates.
        if (Pick(5) != 0) r.email = email;
        if (Pick(2)) r.referral_affiliate = 1 + Pick(5);
        if (Pick(2)) r.customer_is_new = Pick(2) == 1;
        if (Pick(4) == 0 && clock_ != nullptr) {
          r.ordered_at = clock_->NowMs() - static_cast<TimeMs>(Pick(5 * kMsPerDay));
        }
        (void)engine_->Attribute(r);
        break;
      }
      case 7:
        (void)engine_->Reverse(shop, absl::StrCat("order-", Pick(300)));
        break;
      case 8:
        (void)engine_->Explain(shop, absl::StrCat("order-", Pick(300)));
        break;
    }
  }

 private:
  uint64_t Pick(uint64_t n) { return rng_() % n; }
  Engine* engine_;
  FakeClock* clock_;
  std::mt19937_64 rng_;
};

EngineOptions Options(const Clock* clock, MutationSink* sink) {
  EngineOptions o;
  o.shard_count = 16;
  o.order_window_ms = 4 * kMsPerDay;  // Short, so eviction happens during the run.
  o.clock = clock;
  o.sink = sink;
  return o;
}

void ExpectReplayRebuilds(const Engine& live, const std::vector<Mutation>& log,
                          uint64_t seed) {
  FakeClock other_time(42);  // Replay must not read it.
  Engine replayed(Options(&other_time, nullptr));
  for (size_t i = 0; i < log.size(); ++i) {
    const absl::Status s = replayed.Apply(log[i]);
    ASSERT_TRUE(s.ok()) << "seed " << seed << ", mutation " << i << ": " << s;
  }
  const State want = Dump(live);
  const State got = Dump(replayed);
  EXPECT_EQ(got.connections.size(), want.connections.size()) << "seed " << seed;
  EXPECT_EQ(got.settings, want.settings) << "seed " << seed;
  EXPECT_EQ(got.orders.size(), want.orders.size()) << "seed " << seed;
  EXPECT_TRUE(got == want) << "seed " << seed << ": replayed state differs";
}

TEST(ReplayTest, LongRandomHistoryRebuildsIdenticalState) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    FakeClock clock(1'700'000'000'000);
    RecordingSink sink;
    Engine live(Options(&clock, &sink));
    RandomWorkload workload(&live, &clock, seed);
    for (int i = 0; i < 20'000; ++i) workload.Step();
    const std::vector<Mutation> log = sink.Take();
    ASSERT_GT(log.size(), 5'000u) << "seed " << seed;
    ExpectReplayRebuilds(live, log, seed);
    if (HasFailure()) return;
  }
}

TEST(ReplayTest, ConcurrentHistoryReplaysInSinkOrder) {
  // The sink is called under the engine's locks, so its order is a valid serial
  // order for every key even when threads interleave.
  const uint64_t seed = 99;
  FakeClock clock(1'700'000'000'000);
  RecordingSink sink;
  Engine live(Options(&clock, &sink));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RandomWorkload w(&live, /*clock=*/nullptr, seed + t);  // Time fixed: no races on it.
      for (int i = 0; i < 10'000; ++i) w.Step();
    });
  }
  for (auto& th : threads) th.join();
  ExpectReplayRebuilds(live, sink.Take(), seed);
}

TEST(ReplayTest, ReplayReportsMutationsThatDoNotFit) {
  Engine e(Options(nullptr, nullptr));
  Mutation remove{0, RemoveConnection{1, "nobody@x.com", 3}};
  EXPECT_EQ(e.Apply(remove).code(), absl::StatusCode::kFailedPrecondition);
  Mutation reverse{0, ReverseOrder{1, "unknown"}};
  EXPECT_EQ(e.Apply(reverse).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace attrib::engine
