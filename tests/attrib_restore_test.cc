// tests/attrib_restore_test.cc
//
// attrib-restore's subcommands, driven through their Run* functions on real data
// directories (temp dirs, PosixFileSystem) written by Durability + Engine:
//  - restore --until-seq N / --until-time T equals the state after mutations 1..N
//    (a reference engine applies the recorded prefix), for N before, inside and
//    after the snapshots' fences, with the archive supplying compacted segments;
//  - export -> import -> export is lossless for what export documents (email as
//    entered, canonical email, affiliate, name, connected_at, shop), into a new and
//    into an existing directory;
//  - import: the attribctl-format conflict report, --dry-run writes nothing, the
//    lock of a directory in use is respected;
//  - verify (ok, torn tail = warning, corruption = problem naming file and offset),
//    inspect, history (exactly the records touching the key), rekey (merges keep
//    the newest connection, orders and settings follow), usage errors.
// Random workloads use fixed seeds, printed on failure (SCOPED_TRACE).
//
// Thread-safety: single-threaded tests (the log writer's commit thread runs inside).
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/durability.h"
#include "tools/csv_reader.h"
#include "tests/restore_test_util.h"

namespace attrib::tools {
namespace {

using engine::Engine;
using engine::FakeClock;
using engine::replay_testing::Dump;
using engine::replay_testing::RandomWorkload;
using engine::replay_testing::State;
using ::testing::HasSubstr;

constexpr uint64_t kSeed = 20'260'121;

// The state after the first n recorded mutations, built by replaying them.
State Reference(const std::vector<engine::Mutation>& log, size_t n) {
  Engine ref(EngineOptionsFor(engine::EmailPolicy::kProvider, nullptr, nullptr));
  for (size_t i = 0; i < n; ++i) {
    const absl::Status s = ref.Apply(log[i], i + 1);
    EXPECT_TRUE(s.ok()) << "mutation " << i + 1 << ": " << s;
  }
  return Dump(ref);
}

State LoadState(const std::string& dir) {
  absl::StatusOr<LoadedDataDir> loaded = LoadDataDir(persistence::PosixFileSystem(), dir, {},
                                                     kTestOrderWindowMs);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? Dump(*loaded->engine) : State{};
}

// A data directory with history: four sessions, three snapshots (so retention
// archives the oldest segments).
struct WorkloadDir {
  explicit WorkloadDir(const TempDir& tmp)
      : data(tmp.Sub("data")), archive(tmp.Sub("archive")), clock(1'700'000'000'000) {
    WorkloadHistory h = RunWorkloadSessions(data, archive, &clock, kSeed, 4, 400, true);
    log = std::move(h.log);
    snapshots = std::move(h.snapshots);
  }

  std::string data;
  std::string archive;
  FakeClock clock;
  std::vector<persistence::SnapshotInfo> snapshots;
  std::vector<engine::Mutation> log;  // log[i] has seq i + 1.
};

TEST(RestoreTest, UntilSeqEqualsTheStateAfterThatMutation) {
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  TempDir tmp;
  WorkloadDir w(tmp);
  ASSERT_EQ(w.snapshots.size(), 3u);
  const uint64_t total = w.log.size();
  ASSERT_GT(total, 1000u);  // 1600 steps, most of which change something.
  // Retention moved the oldest segments to the archive: the live log alone does not
  // reach back to seq 1.
  ASSERT_TRUE(std::filesystem::exists(w.archive));
  ASSERT_FALSE(std::filesystem::is_empty(w.archive));

  std::vector<uint64_t> points = {1, 2, 57, total - 1, total};
  for (const persistence::SnapshotInfo& s : w.snapshots) {
    for (uint64_t p : {s.oldest_fence - 1, s.oldest_fence, s.oldest_fence + 1,
                       (s.oldest_fence + s.newest_fence) / 2, s.newest_fence,
                       s.newest_fence + 1}) {
      if (p >= 1 && p <= total) points.push_back(p);
    }
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  for (const uint64_t n : points) {
    SCOPED_TRACE(absl::StrCat("--until-seq ", n));
    RestoreOptions o;
    o.args = {w.data};
    o.to = tmp.Sub(absl::StrCat("restored-", n));
    o.until_seq = n;
    o.archive = w.archive;
    const RunResult r = RunTool(RunRestore, o);
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("up to seq ", n, " ")));
    EXPECT_TRUE(LoadState(o.to) == Reference(w.log, n));
    absl::StatusOr<LoadedDataDir> again =
        LoadDataDir(persistence::PosixFileSystem(), o.to, {}, kTestOrderWindowMs);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->report.next_seq, n + 1);  // attribd continues right after N.
  }

  // Without the archive a point before the live log cannot be reached: said so.
  RestoreOptions o;
  o.args = {w.data};
  o.to = tmp.Sub("no-archive");
  o.until_seq = 1;
  const RunResult r = RunTool(RunRestore, o);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("--archive"));

  // Everything (no restore point): the full state, continuing after the last seq.
  o.until_seq = 0;
  o.to = tmp.Sub("everything");
  ASSERT_EQ(RunTool(RunRestore, o).code, kExitOk);
  EXPECT_TRUE(LoadState(o.to) == Reference(w.log, total));
}

TEST(RestoreTest, UntilTimeEqualsTheStateAtThatTime) {
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  TempDir tmp;
  WorkloadDir w(tmp);
  // Times between two mutations' stamps (the fake clock never goes back), spread
  // over the history; n = how many mutations were made at or before.
  std::vector<size_t> counts;
  for (size_t k = 0; k + 1 < w.log.size() && counts.size() < 12; k += w.log.size() / 10) {
    size_t i = k;
    while (i + 1 < w.log.size() && w.log[i + 1].made_at == w.log[i].made_at) ++i;
    if (i + 1 < w.log.size()) counts.push_back(i + 1);
  }
  ASSERT_GE(counts.size(), 8u);
  for (const size_t n : counts) {
    const engine::TimeMs t = w.log[n - 1].made_at;
    SCOPED_TRACE(absl::StrCat("--until-time ", t, " (", n, " mutations)"));
    RestoreOptions o;
    o.args = {w.data};
    o.to = tmp.Sub(absl::StrCat("at-time-", n));
    o.until_time_ms = t;
    o.archive = w.archive;
    const RunResult r = RunTool(RunRestore, o);
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("up to seq ", n, " ")));
    EXPECT_TRUE(LoadState(o.to) == Reference(w.log, n));
  }

  // Before the first change: the empty state.
  RestoreOptions o;
  o.args = {w.data};
  o.archive = w.archive;
  o.to = tmp.Sub("before-everything");
  o.until_time_ms = w.log[0].made_at - 1;
  ASSERT_EQ(RunTool(RunRestore, o).code, kExitOk);
  EXPECT_TRUE(LoadState(o.to) == Reference(w.log, 0));

  // Without the archive: a late time needs only the newest snapshot and the live log;
  // an early one cannot be known, and the error says why.
  o.archive.clear();
  o.to = tmp.Sub("late-no-archive");
  o.until_time_ms = w.log.back().made_at;
  ASSERT_EQ(RunTool(RunRestore, o).code, kExitOk);
  EXPECT_TRUE(LoadState(o.to) == Reference(w.log, w.log.size()));
  o.to = tmp.Sub("early-no-archive");
  o.until_time_ms = w.log[counts[0] - 1].made_at;
  const RunResult r = RunTool(RunRestore, o);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("--archive"));
}

TEST(RestoreTest, RefusesATargetThatIsNotEmpty) {
  TempDir tmp;
  WorkloadDir w(tmp);
  RestoreOptions o;
  o.args = {w.data};
  o.to = w.archive;  // Exists, holds segments.
  const RunResult r = RunTool(RunRestore, o);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("is not empty"));
}

// ----------------------------------------------------------------- export/import

// Customers whose every field is awkward for a CSV.
void ConnectAwkwardCustomers(Engine* e) {
  struct Row {
    engine::ShopId shop;
    const char* email;
    engine::AffiliateId affiliate;
    const char* name;
    engine::TimeMs connected_at;  // 0: now.
  };
  const Row rows[] = {
      {1, " Jane.Doe+promo@GoogleMail.com ", 42, "Doe, Jane", 1'600'000'000'123},
      {1, "user@bücher.de", 7, "Zoë \"Z\" Ünïcode 😀", 0},
      {1, "MiXeD@Example.COM", 7, "Smith, \"Bobby\" Jr.", 1'650'000'000'000},
      {1, "a@b", 9, "", 1},
      {1, "O'Brien@x.com", 9, "  leading and trailing  ", 0},
      {1, "plain@x.com", 11, "\"", 0},
      {2, "other-shop@x.com", 5, "Other", 0},
  };
  for (const Row& row : rows) {
    engine::ConnectRequest r;
    r.shop = row.shop;
    r.email = row.email;
    r.affiliate = row.affiliate;
    r.source = engine::Source::kManual;
    if (*row.name != '\0') r.name = row.name;
    if (row.connected_at != 0) r.connected_at = row.connected_at;
    absl::StatusOr<engine::ConnectResult> c = e->Connect(r);
    ASSERT_TRUE(c.ok()) << row.email << ": " << c.status();
  }
  engine::AttributeRequest order;
  order.shop = 1;
  order.order_id = "A-1";
  order.email = "janedoe@gmail.com";
  ASSERT_TRUE(e->Attribute(order).ok());
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CsvReader reader(&in);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&fields);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    rows.push_back(fields);
  }
  return rows;
}

// Exports shop 1 of `dir` as CSV into `path`.
void ExportShop1(const std::string& dir, const std::string& path) {
  const RunResult r = ExportCsv(dir, 1, path);
  ASSERT_EQ(r.code, kExitOk) << r.err;
}

// The round trip's claim, column by column (kExportCsvColumns).
void ExpectLosslessRoundTrip(const std::string& first_csv, const std::string& second_csv) {
  const auto a = ReadCsv(first_csv);
  const auto b = ReadCsv(second_csv);
  ASSERT_EQ(a.size(), 7u);  // Header + 6 customers of shop 1.
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a[0], b[0]);
  for (size_t i = 1; i < a.size(); ++i) {
    SCOPED_TRACE(a[i][0]);
    ASSERT_EQ(a[i].size(), 15u);
    ASSERT_EQ(b[i].size(), 15u);
    // The directory entry (11-14) too: an order's customer keeps its orders seen.
    for (size_t col : {0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14}) {
      EXPECT_EQ(a[i][col], b[i][col]) << "column " << col;
    }
    EXPECT_EQ(a[i][6], "manual");
    EXPECT_EQ(b[i][6], "import");  // The source is the import's.
    EXPECT_EQ(b[i][7], "0");       // Order counters start at zero.
    EXPECT_EQ(b[i][8], "0");
  }
}

TEST(ExportImportTest, RoundTripIsLosslessIntoANewDirectory) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  FakeClock clock(1'700'000'000'000);
  {
    LiveDir live(data, "", &clock);
    ConnectAwkwardCustomers(live.engine.get());
    live.Close(/*final_snapshot=*/true);
  }
  const std::string first = tmp.Sub("first.csv");
  ExportShop1(data, first);
  const auto rows = ReadCsv(first);
  ASSERT_GE(rows.size(), 2u);
  // By canonical email: a@b, then janedoe@gmail.com.
  EXPECT_EQ(rows[2][0], "Jane.Doe+promo@GoogleMail.com");
  EXPECT_EQ(rows[2][2], "Doe, Jane");
  EXPECT_EQ(rows[2][3], "1600000000123");
  EXPECT_EQ(rows[2][4], "janedoe@gmail.com");
  EXPECT_EQ(rows[2][7], "1");  // Its order.
  EXPECT_EQ(rows[2][12], "1");  // And its directory entry's orders seen.

  RestoreOptions o;
  o.args = {first};
  o.to = tmp.Sub("imported");
  o.shop = 1;
  o.shards = 8;
  RunResult r = RunTool(RunOfflineImport, o);
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("connected (created): 6\n"));
  const std::string second = tmp.Sub("second.csv");
  ExportShop1(o.to, second);
  ExpectLosslessRoundTrip(first, second);

  // The whole export (both shops) into shop 1: the other shop's row is refused.
  RestoreOptions all;
  all.args = {data};
  all.format = "csv";
  all.out = tmp.Sub("all.csv");
  ASSERT_EQ(RunTool(RunExport, all).code, kExitOk);
  o.args = {all.out};
  o.to = tmp.Sub("merged");
  r = RunTool(RunOfflineImport, o);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr("(other-shop@x.com): shop: the row is of shop 2"));
}

TEST(ExportImportTest, RoundTripIsLosslessIntoAnExistingDirectory) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  const std::string target = tmp.Sub("target");
  FakeClock clock(1'700'000'000'000);
  {
    LiveDir live(data, "", &clock);
    ConnectAwkwardCustomers(live.engine.get());
    live.Close(/*final_snapshot=*/false);  // Recovered from the log alone.
    LiveDir empty(target, "", &clock);     // An existing, empty data directory.
    empty.Close(/*final_snapshot=*/false);
  }
  const std::string first = tmp.Sub("first.csv");
  ExportShop1(data, first);
  RestoreOptions o;
  o.args = {first};
  o.to = target;
  o.shop = 1;
  const RunResult r = RunTool(RunOfflineImport, o);
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported into"));
  const std::string second = tmp.Sub("second.csv");
  ExportShop1(target, second);
  ExpectLosslessRoundTrip(first, second);
}

TEST(ExportImportTest, JsonlHasEveryField) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  FakeClock clock(1'700'000'000'000);
  {
    LiveDir live(data, "", &clock);
    ConnectAwkwardCustomers(live.engine.get());
    live.Close(true);
  }
  RestoreOptions o;
  o.args = {data};
  o.format = "jsonl";
  const RunResult r = RunTool(RunExport, o);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0],
            "{\"shop\":1,\"canonical_email\":\"a@b\",\"entered_email\":\"a@b\",\"affiliate\":9,"
            "\"source\":\"manual\",\"connected_at\":1,\"name\":\"\",\"order_count\":0,"
            "\"last_order_at\":0,\"external_id\":\"\",\"emails\":[],\"directory\":null}");
  EXPECT_THAT(lines[6], HasSubstr("\"shop\":2,"));
}

}  // namespace
}  // namespace attrib::tools
