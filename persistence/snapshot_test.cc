// persistence/snapshot_test.cc: snapshots through the file: the record codec at its
// limits, a randomized engine state written and loaded back identical, a snapshot
// taken while threads write plus fenced log replay equal to the live state, the
// offline record reader, and listing / temp-file cleanup. Damage, mismatches and
// crashes are in snapshot_corruption_test.cc.
#include "persistence/snapshot.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/snapshot_codec.h"
#include "persistence/snapshot_format.h"
#include "persistence/snapshot_test_util.h"

namespace attrib::persistence {
namespace {

using engine::Connection;
using engine::Engine;
using engine::FakeClock;
using engine::OrderRecord;
using engine::ShopSettings;
using snapshot_testing::DumpAll;
using snapshot_testing::FillRandomState;
using snapshot_testing::kStartMs;
using snapshot_testing::Options;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir("snap").ok());
    ASSERT_TRUE(fs_.SyncDir(".").ok());
  }
  FaultInjectingFileSystem fs_;
};

TEST(SnapshotCodecTest, RecordsRoundTripAtTheirLimits) {
  Connection c;
  c.shop = UINT64_MAX;
  c.affiliate = 1;
  c.source = engine::Source::kReferral;
  c.connected_at = engine::kMaxTimeMs;
  c.last_order_at = 0;
  c.order_count = UINT32_MAX;
  c.canonical_email = std::string(kMaxConnectionStringBytes, 'c');
  c.entered_email = std::string(kMaxConnectionStringBytes, 'E');
  c.name = std::string(kMaxConnectionStringBytes, 'n');
  OrderRecord r;
  r.shop = 7;
  r.decision.order_id = std::string(kMaxOrderStringBytes, 'o');
  r.decision.ordered_at = -5;  // Never produced, but the codec is not the validator.
  r.decision.affiliate = UINT64_MAX;
  r.decision.reason = engine::Reason::kReferral;
  r.decision.connection_inactive = engine::InactiveReason::kDisabled;
  r.decision.counted = r.decision.connection_moved = r.decision.reversed = true;
  r.decision.previous_affiliate = 3;
  r.decision.canonical_email = "jane@x.com";
  r.counted_affiliate = 9;
  r.counted_connected_at = 1;
  r.prev_last_order_at = engine::kMaxTimeMs;
  r.retain_mark = 123456789;
  ShopSettings s;
  s.connections_enabled = false;
  s.auto_connect_new_customers_only = true;
  s.validity_days = UINT32_MAX;
  s.validity_mode = engine::ValidityMode::kSliding;
  s.precedence = engine::Precedence::kReferralTakesOver;

  std::string bytes;
  ASSERT_TRUE(snapshot_codec::AppendConnection(snapshot_codec::ViewOf(c), &bytes));
  ASSERT_TRUE(snapshot_codec::AppendOrder(r, &bytes));
  ASSERT_TRUE(snapshot_codec::AppendSettings(42, s, &bytes));
  EXPECT_LE(bytes.size(), 3 * kMaxRecordBytes);
  snapshot_codec::RecordDecoder d(bytes);
  Connection c2;
  OrderRecord r2;
  engine::ShopId shop = 0;
  ShopSettings s2;
  ASSERT_TRUE(d.ReadConnection(&c2)) << d.error();
  ASSERT_TRUE(d.ReadOrder(&r2)) << d.error();
  ASSERT_TRUE(d.ReadSettings(&shop, &s2)) << d.error();
  EXPECT_TRUE(d.done());
  EXPECT_EQ(c2, c);
  EXPECT_EQ(r2, r);
  EXPECT_EQ(shop, 42u);
  EXPECT_EQ(s2, s);

  // Too long a string is refused by the encoder, never written unreadable.
  c.name.push_back('x');
  EXPECT_FALSE(snapshot_codec::AppendConnection(snapshot_codec::ViewOf(c), &bytes));
  // Every proper prefix of a record fails to decode.
  std::string one;
  ASSERT_TRUE(snapshot_codec::AppendOrder(r, &one));
  for (size_t n = 0; n < one.size(); ++n) {
    snapshot_codec::RecordDecoder prefix(absl::string_view(one.data(), n));
    EXPECT_FALSE(prefix.ReadOrder(&r2)) << n;
  }
}

TEST_F(SnapshotTest, RandomizedStateRoundTripsIdentically) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    FakeClock clock(kStartMs);
    Engine live(Options(16, &clock));
    FillRandomState(&live, &clock, seed, 3000, 2000);
    const snapshot_testing::FullState before = DumpAll(live);
    ASSERT_GT(before.state.connections.size(), 1000u);
    ASSERT_GT(before.state.orders.size(), 500u);
    const bool non_ascii = std::any_of(
        before.state.connections.begin(), before.state.connections.end(), [](const auto& kv) {
          return std::any_of(kv.second.entered_email.begin(), kv.second.entered_email.end(),
                             [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
        });
    EXPECT_TRUE(non_ascii);
    const bool reversed = std::any_of(before.state.orders.begin(), before.state.orders.end(),
                                      [](const auto& kv) { return kv.second.decision.reversed; });
    EXPECT_TRUE(reversed);

    const uint64_t seq = 1000 + seed;
    absl::StatusOr<SnapshotInfo> written =
        WriteSnapshot(&fs_, "snap", live, [&] { return seq; }, clock.NowMs());
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(written->path, JoinPath("snap", SnapshotName(seq)));
    EXPECT_EQ(written->oldest_fence, seq);
    EXPECT_EQ(written->connections, before.state.connections.size());
    EXPECT_EQ(written->orders, before.state.orders.size());
    EXPECT_EQ(written->settings, before.state.settings.size());

    absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(&fs_, written->path);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->bytes, written->bytes);
    EXPECT_EQ(info->created_at_ms, clock.NowMs());
    EXPECT_EQ(info->fences.connection_shards, written->fences.connection_shards);

    FakeClock other(7);
    for (int threads : {1, 3}) {
      Engine target(Options(16, &other));
      LoadSnapshotOptions options;
      options.threads = threads;
      absl::StatusOr<SnapshotInfo> loaded = LoadSnapshot(&fs_, written->path, &target, options);
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      EXPECT_EQ(loaded->connections, written->connections);
      EXPECT_EQ(loaded->oldest_fence, seq);
      ASSERT_TRUE(DumpAll(target) == before) << "threads " << threads;
    }
    ASSERT_TRUE(fs_.Remove(written->path).ok());
  }
}

TEST_F(SnapshotTest, EmptyEngineRoundTrips) {
  FakeClock clock(kStartMs);
  Engine live(Options(4, &clock));
  absl::StatusOr<SnapshotInfo> written = WriteSnapshot(&fs_, "snap", live, [] { return 0; }, 5);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->connections + written->orders + written->settings, 0u);
  Engine restored(Options(4, &clock));
  absl::StatusOr<SnapshotInfo> loaded = LoadSnapshot(&fs_, written->path, &restored);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(DumpAll(restored) == DumpAll(live));
}

TEST_F(SnapshotTest, SnapshotWhileWritingPlusFencedReplayEqualsLiveState) {
  using engine::replay_testing::RandomWorkload;
  using engine::replay_testing::RecordingSink;
  // Seeds until one capture really raced the writers (under CPU contention a capture
  // can run while both writer threads are descheduled); each seed checks equality.
  bool overlapped = false;
  for (uint64_t seed = 21; seed < 21 + 20 && !overlapped; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    FakeClock clock(kStartMs);
    RecordingSink sink;
    Engine live(Options(16, &clock, &sink));
    std::atomic<bool> started{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        RandomWorkload w(&live, nullptr, seed * 100 + t);
        for (int i = 0; i < 20'000; ++i) {
          w.Step();
          if (i == 2'000) started.store(true);
        }
      });
    }
    while (!started.load()) std::this_thread::yield();  // Writes are under way.
    absl::StatusOr<SnapshotInfo> written =
        WriteSnapshot(&fs_, "snap", live, [&] { return sink.LastSeq(); }, kStartMs);
    for (std::thread& th : threads) th.join();
    ASSERT_TRUE(written.ok()) << written.status();
    const std::vector<engine::Mutation> log = sink.Take();
    overlapped |= written->oldest_fence < written->newest_fence;

    FakeClock other(7);
    Engine restored(Options(16, &other));
    absl::StatusOr<SnapshotInfo> loaded = LoadSnapshot(&fs_, written->path, &restored);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->path, JoinPath("snap", SnapshotName(loaded->oldest_fence)));
    for (uint64_t seq = loaded->oldest_fence + 1; seq <= log.size(); ++seq) {
      const absl::Status s = restored.Apply(log[seq - 1], seq, &loaded->fences);
      ASSERT_TRUE(s.ok()) << "seq " << seq << ": " << s;
    }
    ASSERT_TRUE(DumpAll(restored).state == DumpAll(live).state);
    ASSERT_TRUE(fs_.Remove(written->path).ok());
  }
  EXPECT_TRUE(overlapped) << "no capture overlapped the writers; the test proved little";
}

TEST_F(SnapshotTest, ReadSnapshotRecordsShowsEveryRecordWithoutAnEngine) {
  FakeClock clock(kStartMs);
  Engine live(Options(8, &clock));
  FillRandomState(&live, &clock, 5, 800, 500);
  const snapshot_testing::FullState expected = DumpAll(live);
  absl::StatusOr<SnapshotInfo> written =
      WriteSnapshot(&fs_, "snap", live, [] { return 9; }, kStartMs);
  ASSERT_TRUE(written.ok()) << written.status();
  engine::replay_testing::State seen;
  std::vector<std::string> order_ids;
  ASSERT_TRUE(ReadSnapshotRecords(
                  &fs_, written->path,
                  [&](engine::ShopId shop, const ShopSettings& s) { seen.settings[shop] = s; },
                  [&](const Connection& c) {
                    seen.connections[{c.shop, c.canonical_email}] = c;
                  },
                  [&](const OrderRecord& r) {
                    seen.orders[{r.shop, r.decision.order_id}] = r;
                    order_ids.push_back(r.decision.order_id);
                  })
                  .ok());
  // The offline reader has no webhook callback (LoadSnapshot restores the endpoints:
  // RandomizedStateRoundTripsIdentically).
  seen.webhooks = expected.state.webhooks;
  seen.customers = expected.state.customers;  // Likewise the customer directory.
  EXPECT_TRUE(seen == expected.state);
  EXPECT_EQ(order_ids.size(), expected.state.orders.size());  // Each once.
  // Null functions are allowed (verify only).
  EXPECT_TRUE(ReadSnapshotRecords(&fs_, written->path, nullptr, nullptr, nullptr).ok());
}

TEST_F(SnapshotTest, ManyBlocksPerShardRoundTrip) {
  // One shard, enough connections for several 256 KiB blocks.
  FakeClock clock(kStartMs);
  Engine live(Options(1, &clock));
  for (int i = 0; i < 12'000; ++i) {
    engine::ConnectRequest r;
    r.shop = 1 + i % 3;
    r.email = absl::StrCat("Customer.Number", i, "@Example.com");
    r.affiliate = 1 + i % 77;
    r.name = "A Reasonably Long Customer Name";
    ASSERT_TRUE(live.Connect(r).ok());
  }
  absl::StatusOr<SnapshotInfo> written =
      WriteSnapshot(&fs_, "snap", live, [] { return 3; }, kStartMs);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_GT(written->bytes, 3u * kTargetBlockBytes);
  Engine restored(Options(1, &clock));
  ASSERT_TRUE(LoadSnapshot(&fs_, written->path, &restored).ok());
  EXPECT_TRUE(DumpAll(restored) == DumpAll(live));
}

TEST_F(SnapshotTest, ListsNewestFirstAndRemovesStaleTemps) {
  FakeClock clock(kStartMs);
  Engine live(Options(2, &clock));
  for (uint64_t seq : {5, 700, 42}) {
    ASSERT_TRUE(WriteSnapshot(&fs_, "snap", live, [=] { return seq; }, kStartMs).ok());
  }
  snapshot_testing::WriteDurable(&fs_, "snap/" + SnapshotTempName(900), "partial");
  snapshot_testing::WriteDurable(&fs_, "snap/notes.txt", "x");
  snapshot_testing::WriteDurable(&fs_, "snap/snap-12.snap", "bad name");
  absl::StatusOr<std::vector<std::string>> list = ListSnapshots(&fs_, "snap");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(*list, ElementsAre(JoinPath("snap", SnapshotName(700)),
                                 JoinPath("snap", SnapshotName(42)),
                                 JoinPath("snap", SnapshotName(5))));
  absl::StatusOr<int> removed = RemoveStaleSnapshotTemps(&fs_, "snap");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(fs_.Exists("snap/" + SnapshotTempName(900)));
  absl::StatusOr<std::vector<std::string>> missing = ListSnapshots(&fs_, "nowhere");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
}

TEST_F(SnapshotTest, AFullDiskFailsTheWriteAndLeavesNoFile) {
  FakeClock clock(kStartMs);
  Engine live(Options(4, &clock));
  FillRandomState(&live, &clock, 8, 200, 100);
  fs_.FailWrites(absl::StatusCode::kUnavailable, kNoSpaceErrorText, 1);
  absl::StatusOr<SnapshotInfo> written =
      WriteSnapshot(&fs_, "snap", live, [] { return 1; }, kStartMs);
  ASSERT_FALSE(written.ok());
  EXPECT_TRUE(absl::IsUnavailable(written.status())) << written.status();
  EXPECT_THAT(written.status().message(), HasSubstr(kNoSpaceErrorText));
  absl::StatusOr<std::vector<std::string>> names = fs_.ListDir("snap");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty()) << fs_.DebugString();
}

TEST_F(SnapshotTest, BeforePublishRunsBeforeTheRenameAndCanAbandon) {
  FakeClock clock(kStartMs);
  Engine live(Options(4, &clock));
  FillRandomState(&live, &clock, 9, 100, 50);
  const std::string final_path = JoinPath("snap", SnapshotName(4));
  int calls = 0;
  absl::StatusOr<SnapshotInfo> written = WriteSnapshot(
      &fs_, "snap", live, [] { return 4; }, kStartMs, [&] {
        ++calls;
        EXPECT_FALSE(fs_.Exists(final_path));  // Not visible yet...
        EXPECT_TRUE(fs_.Exists(JoinPath("snap", SnapshotTempName(4))));  // ...but complete.
        return absl::OkStatus();
      });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(fs_.Remove(final_path).ok());

  written = WriteSnapshot(&fs_, "snap", live, [] { return 4; }, kStartMs,
                          [] { return absl::UnavailableError("log: disk full"); });
  EXPECT_TRUE(absl::IsUnavailable(written.status())) << written.status();
  absl::StatusOr<std::vector<std::string>> names = fs_.ListDir("snap");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty()) << fs_.DebugString();
}

}  // namespace
}  // namespace attrib::persistence
