// persistence/snapshot_customers_test.cc: the customer directory in snapshots
// (format version 5, block type 9; snapshot_format.h): a round trip, replay of the
// log after a snapshot, the committed version 5 golden file, and the version 4
// golden still loading (with an empty directory and the setting's default).
#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_format.h"
#include "persistence/snapshot_test_util.h"

namespace attrib::persistence {
namespace {

using engine::Engine;
using engine::FakeClock;
using snapshot_testing::DumpAll;
using snapshot_testing::kStartMs;
using snapshot_testing::Options;

// Customers seen by email, by external id and by both (links and merges absorbing
// directory entries), named by connects, orders and explicit puts; shop 5 has the
// directory off.
void FillCustomerState(Engine* e, FakeClock* clock, uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  const auto pick = [&](uint64_t n) { return rng() % n; };
  engine::ShopSettingsPatch off;
  off.customer_directory = false;
  EXPECT_TRUE(e->UpdateSettings(5, off).ok());
  const char* kNames[] = {"", "Ann", "Zoë Ångström", "山田太郎", "Bob the Builder"};
  for (int i = 0; i < steps; ++i) {
    const engine::ShopId shop = 1 + pick(5);
    const std::string email = absl::StrCat("c", pick(80), "@example.com");
    const std::string ext = absl::StrCat("cus_", pick(50));
    engine::AttributeRequest r;
    r.shop = shop;
    r.order_id = absl::StrCat("cd-order-", i);
    r.ordered_at = kStartMs - static_cast<engine::TimeMs>(pick(100'000'000));
    if (pick(3) != 0) r.name = kNames[pick(5)];
    switch (pick(6)) {
      case 0: {
        engine::ConnectRequest c;
        c.shop = shop;
        c.email = email;
        c.affiliate = 1 + pick(5);
        if (pick(2)) c.name = kNames[pick(5)];
        (void)e->Connect(c);
        break;
      }
      case 1:
        r.external_id = ext;
        (void)e->Attribute(r);
        break;
      case 2:
        r.email = email;
        r.external_id = ext;
        (void)e->Attribute(r);
        break;
      case 3:
        (void)e->PutCustomerName(shop, engine::CustomerRef{email, std::nullopt}, kNames[pick(5)]);
        break;
      default:
        r.email = email;
        (void)e->Attribute(r);
    }
    clock->Advance(1000);
  }
}

std::vector<std::string> DirectoryLines(const Engine& e) {
  std::vector<std::string> lines;
  e.customers().ForEachLocked(
      [&](engine::ShopId shop, absl::string_view key, const engine::CustomerEntry& c) {
        lines.push_back(absl::StrCat("customer ", shop, " ", engine::DescribeIdentifierKey(key),
                                     " name=\"", c.name, "\" first=", c.first_order_at,
                                     " last=", c.last_order_at, " seen=", c.orders_seen));
      },
      [] {});
  std::sort(lines.begin(), lines.end());
  return lines;
}

class SnapshotCustomersTest : public snapshot_testing::SnapshotDirTest {};

TEST_F(SnapshotCustomersTest, TheDirectoryRoundTrips) {
  FakeClock clock(kStartMs);
  Engine live(Options(4, &clock));
  snapshot_testing::FillRandomState(&live, &clock, 3, 100, 50);
  FillCustomerState(&live, &clock, 4, 600);
  ASSERT_GT(live.customers().size(), 50u);
  const std::string path = Write(live);
  Engine loaded(Options(4, &clock));
  absl::StatusOr<SnapshotInfo> info = LoadSnapshot(&fs_, path, &loaded);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(DumpAll(loaded) == DumpAll(live));
  EXPECT_EQ(DirectoryLines(loaded), DirectoryLines(live));
  EXPECT_FALSE(loaded.GetSettings(5)->customer_directory);
  EXPECT_TRUE(loaded.GetSettings(1)->customer_directory);
  uint64_t entries = 0;
  EXPECT_TRUE(loaded.CheckCustomerDirectory(&entries).ok());
  EXPECT_EQ(entries, live.customers().size());
  // Decisions keep their directory fields.
  bool saw_directory_decision = false;
  loaded.orders().ForEach([&](const engine::OrderRecord& r) {
    if (r.decision.new_customer_source == engine::NewCustomerSource::kDirectory &&
        r.decision.order_number_for_customer > 1) {
      saw_directory_decision = true;
    }
  });
  EXPECT_TRUE(saw_directory_decision);
}

TEST_F(SnapshotCustomersTest, SnapshotPlusTheLogAfterItReplays) {
  FakeClock clock(kStartMs);
  engine::replay_testing::RecordingSink sink;
  Engine live(Options(4, &clock, &sink));
  FillCustomerState(&live, &clock, 5, 300);
  const uint64_t fence = sink.LastSeq();
  const std::string path = Write(live, fence);
  ASSERT_EQ(sink.Take().size(), fence);
  FillCustomerState(&live, &clock, 6, 300);
  Engine restored(Options(4, &clock));
  absl::StatusOr<SnapshotInfo> info = LoadSnapshot(&fs_, path, &restored);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->fences.customers, fence);
  uint64_t seq = fence;
  for (const engine::Mutation& m : sink.Take()) {
    const absl::Status s = restored.Apply(m, ++seq, &info->fences);
    ASSERT_TRUE(s.ok()) << s;
  }
  EXPECT_TRUE(DumpAll(restored) == DumpAll(live));
}

std::string Golden(absl::string_view name) {
  std::ifstream in(absl::StrCat(ATTRIB_SOURCE_DIR, "/persistence/testdata/", name),
                   std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(SnapshotCustomersTest, Version5GoldenFileLoadsItsDirectory) {
  // testdata/snapshot_v5.{snap,txt}: DISABLED_WriteGoldenV5 below.
  const std::string v5 = Golden("snapshot_v5.snap");
  ASSERT_GT(v5.size(), 1000u);
  ASSERT_EQ(snapshot_internal::Get32(v5.data() + 8), 5u);
  const std::string path = JoinPath("snap", SnapshotName(5));
  snapshot_testing::WriteDurable(&fs_, path, v5);
  FakeClock clock(kStartMs);
  Engine loaded(Options(4, &clock));
  absl::StatusOr<SnapshotInfo> info = LoadSnapshot(&fs_, path, &loaded);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(absl::StrJoin(DirectoryLines(loaded), "\n") + "\n", Golden("snapshot_v5.txt"));
  EXPECT_FALSE(loaded.GetSettings(5)->customer_directory);
}

TEST_F(SnapshotCustomersTest, Version4GoldenLoadsWithAnEmptyDirectoryOn) {
  const std::string v4 = Golden("snapshot_v4.snap");
  ASSERT_EQ(snapshot_internal::Get32(v4.data() + 8), 4u);
  const std::string path = JoinPath("snap", SnapshotName(5));
  snapshot_testing::WriteDurable(&fs_, path, v4);
  FakeClock clock(kStartMs);
  Engine loaded(Options(4, &clock));
  absl::StatusOr<SnapshotInfo> info = LoadSnapshot(&fs_, path, &loaded);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(loaded.customers().size(), 0u);
  EXPECT_EQ(info->fences.customers, 0u);
  loaded.settings().ForEach([](engine::ShopId shop, const engine::ShopSettings& s) {
    EXPECT_TRUE(s.customer_directory) << shop;
  });
  bool any = false;
  loaded.orders().ForEach([&](const engine::OrderRecord& r) {
    any = true;
    EXPECT_EQ(r.decision.new_customer_source, engine::NewCustomerSource::kUnknown);
    EXPECT_EQ(r.decision.order_number_for_customer, 0u);
  });
  EXPECT_TRUE(any);
}

// Writes testdata/snapshot_v5.{snap,txt}. Run by hand:
//   snapshot_customers_test --gtest_also_run_disabled_tests --gtest_filter=*WriteGoldenV5*
TEST_F(SnapshotCustomersTest, DISABLED_WriteGoldenV5) {
  FakeClock clock(kStartMs);
  Engine live(Options(4, &clock));
  snapshot_testing::FillRandomState(&live, &clock, 7, 60, 40);
  FillCustomerState(&live, &clock, 8, 200);
  const std::string path = Write(live, 5);
  const std::string base = absl::StrCat(ATTRIB_SOURCE_DIR, "/persistence/testdata/snapshot_v5");
  std::ofstream(base + ".snap", std::ios::binary) << snapshot_testing::ReadOrDie(&fs_, path);
  std::ofstream txt(base + ".txt");
  for (const std::string& line : DirectoryLines(live)) txt << line << "\n";
}

}  // namespace
}  // namespace attrib::persistence
