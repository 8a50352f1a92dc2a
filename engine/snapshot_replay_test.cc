// engine/snapshot_replay_test.cc
//
// Fuzzy snapshots: CaptureSnapshot() runs while four threads keep writing; the
// capture is restored into an empty engine and the mutation log is replayed with the
// capture's fences (each part applied only if newer than its shard's fence). The
// result must equal the live engine's final state exactly. This is the property the
// durability layer relies on for "snapshots taken while serving".
//
// Thread-safety: the workload threads share the live engine; the rest is one thread.
#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

using namespace replay_testing;  // NOLINT: shared workload and state dump.

// Keeps everything a snapshot shows, with its fences.
class CapturingVisitor : public SnapshotVisitor {
 public:
  void Settings(ShopId shop, const ShopSettings& s) override { settings.emplace_back(shop, s); }
  void SettingsDone(uint64_t fence) override { fences.settings = fence; }
  void AffiliateRecord(const Affiliate& a) override { affiliates.push_back(a); }
  void AffiliatesDone(uint64_t fence) override { fences.affiliates = fence; }
  void CustomerIdentifiersRecord(ShopId shop, const CustomerIdentifiers& c) override {
    identities.emplace_back(shop, c);
  }
  void IdentitiesDone(uint64_t fence) override { fences.identities = fence; }
  void CustomerEntryRecord(ShopId shop, absl::string_view key, const CustomerEntry& e) override {
    customers.push_back({shop, std::string(key), e});
  }
  void CustomersDone(uint64_t fence) override { fences.customers = fence; }
  void BeginConnectionShard(uint32_t index, uint64_t fence) override {
    if (fences.connection_shards.size() <= index) fences.connection_shards.resize(index + 1);
    fences.connection_shards[index] = fence;
  }
  void ConnectionRecord(const ConnectionView& v, const EncodedConnection&) override {
    Connection c;
    c.shop = v.shop;
    c.affiliate = v.affiliate;
    c.source = v.source;
    c.connected_at = v.connected_at;
    c.last_order_at = v.last_order_at;
    c.order_count = v.order_count;
    c.canonical_email = std::string(v.canonical_email);
    c.entered_email = std::string(v.entered_email);
    c.name = std::string(v.name);
    connections.push_back(std::move(c));
  }
  // Called after the shard's lock is released: lets a test interleave writes.
  void EndConnectionShard(uint32_t) override {
    if (between_shards) between_shards();
  }
  void Owners(absl::Span<const OwnerKey>) override {}
  void BeginOrderShard(uint32_t index, uint64_t fence, TimeMs high_water) override {
    if (fences.order_shards.size() <= index) fences.order_shards.resize(index + 1);
    fences.order_shards[index] = fence;
    current_high_water = high_water;
  }
  void Order(const OrderRecord& r) override { orders.emplace_back(r, current_high_water); }
  void EndOrderShard(uint32_t) override {}

  std::function<void()> between_shards;
  SnapshotFences fences;
  std::vector<std::pair<ShopId, ShopSettings>> settings;
  std::vector<Affiliate> affiliates;
  struct DirectoryEntry {
    ShopId shop;
    std::string key;
    CustomerEntry entry;
  };
  std::vector<DirectoryEntry> customers;
  std::vector<std::pair<ShopId, CustomerIdentifiers>> identities;
  std::vector<Connection> connections;
  std::vector<std::pair<OrderRecord, TimeMs>> orders;
  TimeMs current_high_water = 0;
};

EngineOptions Options(const Clock* clock, MutationSink* sink) {
  EngineOptions o;
  o.shard_count = 16;
  o.order_window_ms = 4 * kMsPerDay;
  o.clock = clock;
  o.sink = sink;
  return o;
}

TEST(SnapshotReplayTest, FuzzySnapshotPlusFencedReplayEqualsLiveState) {
  for (uint64_t seed : {11, 12, 13}) {
    FakeClock clock(1'700'000'000'000);
    RecordingSink sink;
    Engine live(Options(&clock, &sink));
    std::atomic<int> started{0};
    std::atomic<int> writers_done{0};
    std::atomic<bool> captured{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        RandomWorkload w(&live, nullptr, seed * 100 + t);
        // Keep writing until the capture is over (bounded), then a little more.
        for (int i = 0; i < 400'000 && !captured.load(); ++i) {
          w.Step();
          if (i == 1000) started.fetch_add(1);
        }
        for (int i = 0; i < 1000; ++i) w.Step();
        writers_done.fetch_add(1);
      });
    }
    while (started.load() < 4) std::this_thread::yield();  // Writes are under way.
    CapturingVisitor capture;
    // Between two shards, wait until the writers made progress: the capture overlaps
    // writes however the threads are scheduled (an event, not a clock).
    capture.between_shards = [&] {
      const uint64_t at = sink.LastSeq();
      while (sink.LastSeq() < at + 5 && writers_done.load() < 4) std::this_thread::yield();
    };
    live.CaptureSnapshot([&] { return sink.LastSeq(); }, &capture);
    captured.store(true);
    for (auto& th : threads) th.join();
    const std::vector<Mutation> log = sink.Take();

    FakeClock other(7);
    Engine restored(Options(&other, nullptr));
    for (const auto& [shop, s] : capture.settings) restored.RestoreSettings(shop, s);
    for (const Affiliate& a : capture.affiliates) restored.RestoreAffiliate(a);
    for (const auto& [shop, c] : capture.identities) restored.RestoreIdentifiers(shop, c);
    for (const auto& d : capture.customers) restored.RestoreCustomerEntry(d.shop, d.key, d.entry);
    for (const Connection& c : capture.connections) restored.RestoreConnection(c);
    for (const auto& [order, hw] : capture.orders) restored.RestoreOrder(order, hw);
    EXPECT_FALSE(capture.affiliates.empty()) << "seed " << seed;
    uint64_t oldest = std::min(capture.fences.settings, capture.fences.affiliates);
    for (uint64_t f : capture.fences.connection_shards) oldest = std::min(oldest, f);
    for (uint64_t f : capture.fences.order_shards) oldest = std::min(oldest, f);
    uint64_t newest = 0;
    for (uint64_t f : capture.fences.connection_shards) newest = std::max(newest, f);
    // The capture really overlapped writes (else this test proves little).
    EXPECT_LT(oldest, newest) << "seed " << seed;
    for (uint64_t seq = oldest + 1; seq <= log.size(); ++seq) {
      const absl::Status s = restored.Apply(log[seq - 1], seq, &capture.fences);
      ASSERT_TRUE(s.ok()) << "seed " << seed << " seq " << seq << ": " << s;
    }
    ASSERT_TRUE(Dump(restored) == Dump(live)) << "seed " << seed;
  }
}

TEST(SnapshotReplayTest, ReplayWithoutFencesWouldDoubleCount) {
  // The fences matter: applying the overlap twice breaks the state.
  FakeClock clock(1'700'000'000'000);
  RecordingSink sink;
  Engine live(Options(&clock, &sink));
  ConnectRequest c;
  c.shop = 1;
  c.email = "jane@x.com";
  c.affiliate = 3;
  ASSERT_TRUE(live.Connect(c).ok());
  AttributeRequest o;
  o.shop = 1;
  o.order_id = "o1";
  o.email = "jane@x.com";
  ASSERT_TRUE(live.Attribute(o).ok());
  CapturingVisitor capture;
  live.CaptureSnapshot([&] { return sink.LastSeq(); }, &capture);
  const std::vector<Mutation> log = sink.Take();
  Engine restored(Options(&clock, nullptr));
  for (const Connection& conn : capture.connections) restored.RestoreConnection(conn);
  for (const auto& [order, hw] : capture.orders) restored.RestoreOrder(order, hw);
  for (const auto& d : capture.customers) restored.RestoreCustomerEntry(d.shop, d.key, d.entry);
  // With fences, replaying the whole log changes nothing...
  for (uint64_t seq = 1; seq <= log.size(); ++seq) {
    ASSERT_TRUE(restored.Apply(log[seq - 1], seq, &capture.fences).ok());
  }
  EXPECT_TRUE(Dump(restored) == Dump(live));
  // ...without them, the order would be recorded twice.
  size_t order = 0;
  while (order < log.size() && !std::holds_alternative<RecordOrder>(log[order].op)) ++order;
  ASSERT_LT(order, log.size());
  EXPECT_FALSE(restored.Apply(log[order], order + 1, nullptr).ok());
}

}  // namespace
}  // namespace attrib::engine
