// tests/attrib_restore_checks_test.cc
//
// attrib-restore's checking and reporting subcommands, through their Run*
// functions: import's conflict report (attribctl's format), --dry-run, the lock;
// verify; inspect; history; rekey; usage errors. Plus a disabled throughput run of
// the offline import on 1M generated rows (bench/email_generator.h), for the README
// figure: --gtest_also_run_disabled_tests --gtest_filter=*Throughput*.
//
// Thread-safety: single-threaded tests.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/email_generator.h"
#include "engine/replay_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/restore_test_util.h"

namespace attrib::tools {
namespace {

using engine::FakeClock;
using engine::replay_testing::Dump;
using engine::replay_testing::RandomWorkload;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kSeed = 7'411;
// A byte of a segment's first record's payload: flipping it fails that record's
// checksum with good records after it, i.e. corruption, not a torn tail.
constexpr size_t kInFirstPayload = 32 + 16 + 3;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Every file of a directory tree with its size and content: "nothing was written".
std::map<std::string, std::string> Contents(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    files[e.path().string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

// ------------------------------------------------------------------------ import

class ImportReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.Sub("data");
    LiveDir live(data_, "", &clock_);
    engine::ConnectRequest r;
    r.shop = 1;
    r.email = "x@x.com";
    r.affiliate = 1;
    ASSERT_TRUE(live.engine->Connect(r).ok());
    live.Close(/*final_snapshot=*/false);
    csv_ = tmp_.Sub("rows.csv");
    WriteFile(csv_,
              "\xEF\xBB\xBF" "Email,Affiliate_ID,name,connected_at\r\n"
              "new@x.com,2,\"Doe, Jane\",2024-01-31T12:00:00Z\r\n"
              "x@x.com,1,,\r\n"
              "x@x.com,5,,\r\n"
              "bad@@x.com,3,,\r\n"
              "y@x.com,abc,,\r\n");
  }
  RestoreOptions Options() const {
    RestoreOptions o;
    o.args = {csv_};
    o.to = data_;
    o.shop = 1;
    return o;
  }
  static constexpr absl::string_view kReport =
      "rows read:           5\n"
      "connected (created): 1\n"
      "replaced:            0\n"
      "unchanged:           1\n"
      "rejected:            3\n"
      "  line 4 (x@x.com): already_connected: x@x.com is connected to affiliate 1 in shop 1 "
      "(use mode reassign to replace the connection)\n"
      "  line 5 (bad@@x.com): email: ";

  TempDir tmp_;
  FakeClock clock_{1'700'000'000'000};
  std::string data_;
  std::string csv_;
};

TEST_F(ImportReportTest, DryRunReportsAndWritesNothing) {
  const auto before = Contents(data_);
  RestoreOptions o = Options();
  o.dry_run = true;
  const RunResult r = RunTool(RunOfflineImport, o);
  EXPECT_EQ(r.code, kExitFailed);  // Rows were rejected.
  EXPECT_THAT(r.out, HasSubstr(std::string(kReport)));
  EXPECT_THAT(r.out, HasSubstr("line 6 (y@x.com): affiliate_id: 'abc' is not a number"));
  EXPECT_THAT(r.out, HasSubstr("dry run: nothing was written"));
  EXPECT_EQ(Contents(data_), before);
}

TEST_F(ImportReportTest, ImportsIntoTheExistingDirectory) {
  const RunResult r = RunTool(RunOfflineImport, Options());
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr(std::string(kReport)));
  EXPECT_THAT(r.err, HasSubstr("rows/minute"));
  absl::StatusOr<LoadedDataDir> loaded =
      LoadDataDir(persistence::PosixFileSystem(), data_, {}, kTestOrderWindowMs);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::optional<engine::Connection> c = loaded->engine->store().Get(1, "new@x.com");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->affiliate, 2u);
  EXPECT_EQ(c->source, engine::Source::kImport);
  EXPECT_EQ(c->name, "Doe, Jane");
  EXPECT_EQ(c->connected_at, 1'706'702'400'000);
  // Durable in the snapshot written at the end; the directory verifies.
  EXPECT_EQ(loaded->report.replayed, 0u);
  RestoreOptions v;
  v.args = {data_};
  EXPECT_EQ(RunTool(RunVerify, v).code, kExitOk);
}

TEST_F(ImportReportTest, JsonReportMatchesAttribctl) {
  RestoreOptions o = Options();
  o.json = true;
  o.dry_run = true;
  const RunResult r = RunTool(RunOfflineImport, o);
  EXPECT_THAT(r.out, HasSubstr("{\"line\":4,\"email\":\"x@x.com\",\"error\":{\"code\":"
                               "\"already_exists\",\"message\":\"already_connected: "));
  EXPECT_THAT(r.out, HasSubstr("\"current_affiliate\":1}}"));
  EXPECT_THAT(r.out, HasSubstr("{\"rows\":5,\"created\":1,\"replaced\":0,\"unchanged\":1,"
                               "\"rejected\":3,\"dry_run\":true,"));
}

TEST_F(ImportReportTest, RefusesADirectoryInUse) {
  persistence::DurabilityOptions d;
  d.data_dir = data_;
  d.meta.shard_count = kTestShards;
  absl::StatusOr<std::unique_ptr<persistence::Durability>> held =
      persistence::Durability::Open(persistence::PosixFileSystem(), d);
  ASSERT_TRUE(held.ok()) << held.status();
  const RunResult r = RunTool(RunOfflineImport, Options());
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("held by another process"));
  EXPECT_THAT(r.err, HasSubstr("attribctl import"));
}

TEST_F(ImportReportTest, UsageErrors) {
  RestoreOptions o = Options();
  o.shop = 0;
  EXPECT_EQ(RunTool(RunOfflineImport, o).code, kExitUsage);
  WriteFile(csv_, "email,affiliate\nx@x.com,1\n");
  const RunResult r = RunTool(RunOfflineImport, Options());
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown column 'affiliate'"));
  o = Options();
  o.shards = 16;  // META says 8.
  WriteFile(csv_, "email,affiliate_id\nx@x.com,1\n");
  EXPECT_EQ(RunTool(RunOfflineImport, o).code, kExitUsage);
}

// -------------------------------------------------------------- verify, inspect

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.Sub("data");
    // Three sessions: at least three segments; one snapshot (after the first), so
    // retention keeps the whole log.
    WorkloadHistory h = RunWorkloadSessions(data_, "", &clock_, kSeed, 2, 200, true);
    WorkloadHistory more = RunWorkloadSessions(data_, "", &clock_, kSeed + 7, 1, 200, false);
    log_ = std::move(h.log);
    log_.insert(log_.end(), more.log.begin(), more.log.end());
    for (const auto& e : std::filesystem::directory_iterator(data_ + "/wal")) {
      segments_.push_back(e.path().string());
    }
    std::sort(segments_.begin(), segments_.end());
    ASSERT_GE(segments_.size(), 3u);
    for (const auto& e : std::filesystem::directory_iterator(data_ + "/snapshots")) {
      snapshot_ = e.path().string();
    }
  }
  RunResult Verify() const {
    RestoreOptions o;
    o.args = {data_};
    return RunTool(RunVerify, o);
  }
  static void Patch(const std::string& path, size_t offset, char byte) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(byte);
  }

  TempDir tmp_;
  FakeClock clock_{1'700'000'000'000};
  std::string data_;
  std::vector<std::string> segments_;
  std::string snapshot_;
  std::vector<engine::Mutation> log_;
};

TEST_F(CheckTest, VerifyPassesAndSummarizes) {
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  const RunResult r = Verify();
  EXPECT_EQ(r.code, kExitOk) << r.out;
  EXPECT_THAT(r.out, HasSubstr("verify: ok\n"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("state at seq ", log_.size(), ": ")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(segments_[0], ": seq ")));
}

TEST_F(CheckTest, VerifyCallsATornTailAWarning) {
  std::ofstream(segments_.back(), std::ios::binary | std::ios::app) << std::string("\x30\x00\x00", 3);
  const RunResult r = Verify();
  EXPECT_EQ(r.code, kExitOk) << r.out;
  EXPECT_THAT(r.out, HasSubstr("WARNING: " + segments_.back() + ": torn tail at offset "));
  EXPECT_THAT(r.out, HasSubstr("verify: ok (1 warning)"));
}

TEST_F(CheckTest, VerifyNamesCorruptionWithFileAndOffset) {
  Patch(segments_[1], kInFirstPayload, '\x5a');
  const RunResult r = Verify();
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr("PROBLEM: " + segments_[1] + ": record at offset "));
  EXPECT_THAT(r.out, HasSubstr("checksum"));
  EXPECT_THAT(r.out, HasSubstr("problem"));
}

TEST_F(CheckTest, VerifyNamesACorruptSnapshot) {
  Patch(snapshot_, std::filesystem::file_size(snapshot_) / 2, '\x5a');
  const RunResult r = Verify();
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr(snapshot_));
  EXPECT_THAT(r.out, HasSubstr("PROBLEM: "));
}

TEST_F(CheckTest, VerifyFindsAMissingSegment) {
  std::filesystem::remove(segments_[1]);
  const RunResult r = Verify();
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr("are missing (before " + segments_[2] + ")"));
}

TEST_F(CheckTest, InspectShowsSegmentsAndSnapshots) {
  RestoreOptions o;
  o.args = {segments_[0]};
  RunResult r = RunTool(RunInspect, o);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("first seq 1, email policy provider\nseq 1 @32 "));
  EXPECT_THAT(r.out, HasSubstr(" records (seq 1.."));
  EXPECT_THAT(r.out, HasSubstr("ends clean"));

  o.args = {snapshot_};
  o.records = true;
  r = RunTool(RunInspect, o);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  fences: settings "));
  EXPECT_THAT(r.out, HasSubstr("\nconnection shop "));

  Patch(segments_[0], kInFirstPayload, '\x5a');
  o.args = {segments_[0]};
  r = RunTool(RunInspect, o);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr("ends corrupt at offset "));

  o.args = {data_ + "/META"};
  EXPECT_EQ(RunTool(RunInspect, o).code, kExitFailed);
}

// ----------------------------------------------------------------------- history

// The sequence numbers of the records touching (shop, key), computed from the
// recorded mutations independently of the tool.
std::vector<uint64_t> Touching(const std::vector<engine::Mutation>& log, engine::ShopId shop,
                               const std::string& key) {
  std::vector<uint64_t> seqs;
  // The customer's keys: links and merges (issue 12) add the other customer's keys,
  // an unlink drops the identifier that leaves (the primary when it is `key`).
  std::set<std::string> keys = {key};
  const auto has = [&](const std::string& k) { return keys.count(k) != 0; };
  for (size_t i = 0; i < log.size(); ++i) {
    bool hit = false;
    if (const auto* l = std::get_if<engine::LinkIdentifier>(&log[i].op)) {
      hit = l->shop == shop && (has(l->primary) || has(l->identifier));
      if (hit) keys.insert({l->primary, l->identifier});
    } else if (const auto* u = std::get_if<engine::UnlinkIdentifier>(&log[i].op)) {
      hit = u->shop == shop && (has(u->primary) || has(u->identifier));
      if (hit) keys.erase(u->identifier == key ? u->primary : u->identifier);
    } else if (const auto* m = std::get_if<engine::MergeCustomers>(&log[i].op)) {
      hit = m->shop == shop && (has(m->survivor) || has(m->loser));
      if (hit) keys.insert({m->survivor, m->loser});
    }
    for (const std::string& k : keys) {
      if (hit) break;
      if (const auto* s = std::get_if<engine::SetConnection>(&log[i].op)) {
        hit = s->connection.shop == shop && s->connection.canonical_email == k;
      } else if (const auto* r = std::get_if<engine::RemoveConnection>(&log[i].op)) {
        hit = r->shop == shop && r->canonical_email == k;
      } else if (const auto* o = std::get_if<engine::RecordOrder>(&log[i].op)) {
        hit = o->shop == shop && (o->decision.canonical_email == k ||
                                  (o->new_connection && o->new_connection->canonical_email == k));
      } else if (const auto* v = std::get_if<engine::ReverseOrder>(&log[i].op)) {
        hit = v->shop == shop && v->canonical_email == k;
      } else if (const auto* c = std::get_if<engine::PutCustomerEntry>(&log[i].op)) {
        hit = c->shop == shop && c->key == k;  // The customer directory (issue 12).
      } else if (const auto* a = std::get_if<engine::PutAffiliate>(&log[i].op)) {
        const std::vector<std::string>& emails = a->affiliate.emails;
        hit = a->affiliate.shop == shop &&
              std::find(emails.begin(), emails.end(), k) != emails.end();
      }
    }
    if (hit) seqs.push_back(i + 1);
  }
  return seqs;
}

std::vector<uint64_t> SeqLines(const std::string& out) {
  std::vector<uint64_t> seqs;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "seq ")) continue;
    uint64_t seq = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(0, line.find(' ')), &seq)) << line;
    seqs.push_back(seq);
  }
  return seqs;
}

TEST_F(CheckTest, HistoryListsExactlyTheRecordsOfTheCustomer) {
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  int customers_with_history = 0;
  for (int n = 0; n < 40; n += 3) {
    const std::string key = absl::StrCat("cust", n, "@gmail.com");
    RestoreOptions o;
    o.args = {data_};
    o.shop = 2;
    o.email = absl::StrCat("Cust", n, "+whatever@GoogleMail.com");  // Any spelling.
    const RunResult r = RunTool(RunHistory, o);
    ASSERT_EQ(r.code, kExitOk) << r.err;
    const std::vector<uint64_t> want = Touching(log_, 2, key);
    EXPECT_EQ(SeqLines(r.out), want) << key;
    customers_with_history += !want.empty();
  }
  EXPECT_GT(customers_with_history, 5);
}

TEST(HistoryTest, SaysWhenTheLogWasCompacted) {
  TempDir tmp;
  FakeClock clock(1'700'000'000'000);
  const std::string data = tmp.Sub("data");
  std::vector<engine::Mutation> log;
  engine::ConnectRequest jane;
  jane.shop = 1;
  jane.email = "jane@x.com";
  jane.affiliate = 1;
  {
    LiveDir live(data, "", &clock);
    ASSERT_TRUE(live.engine->Connect(jane).ok());
    RandomWorkload work(live.engine.get(), &clock, kSeed);
    for (int i = 0; i < 200; ++i) work.Step();
    ASSERT_TRUE(live.durability->SnapshotNow().ok());
    live.Close(false);
    log = live.tee.log;
  }
  // Two more snapshots: retention deletes the first session's segments.
  WorkloadHistory h = RunWorkloadSessions(data, "", &clock, kSeed + 1, 3, 200, true);
  log.insert(log.end(), h.log.begin(), h.log.end());
  {
    LiveDir live(data, "", &clock);
    jane.affiliate = 2;
    jane.mode = engine::ConnectMode::kReassign;
    ASSERT_TRUE(live.engine->Connect(jane).ok());
    live.Close(false);
    log.insert(log.end(), live.tee.log.begin(), live.tee.log.end());
  }
  ASSERT_FALSE(std::filesystem::exists(data + "/wal/00000000000000000001.log"));
  RestoreOptions o;
  o.args = {data};
  o.shop = 1;
  o.email = "Jane@X.com";
  const RunResult r = RunTool(RunHistory, o);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("older changes were compacted into snapshots. As of seq "));
  EXPECT_THAT(r.out, HasSubstr("shop 1 jane@x.com: affiliate 1, source api"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("seq ", log.size(), "  ")));
  EXPECT_THAT(r.out, HasSubstr("[affiliate 1 -> 2]\n1 change in the log"));

  o.email = "not an email";
  EXPECT_EQ(RunTool(RunHistory, o).code, kExitUsage);
}

// ------------------------------------------------------------------------- rekey

TEST(RekeyTest, MergesKeepTheNewestConnectionAndOrdersFollow) {
  TempDir tmp;
  FakeClock clock(1'700'000'000'000);
  const std::string data = tmp.Sub("data");
  {
    LiveDir live(data, "", &clock, engine::EmailPolicy::kStandard);
    const auto connect = [&](const char* email, engine::AffiliateId a, engine::TimeMs at) {
      engine::ConnectRequest r;
      r.shop = 1;
      r.email = email;
      r.affiliate = a;
      r.connected_at = at;
      ASSERT_TRUE(live.engine->Connect(r).ok()) << email;
    };
    // Three customers under standard, one under provider (janedoe@gmail.com).
    connect("jane.doe@gmail.com", 1, 1'000'000);
    connect("JaneDoe+x@gmail.com", 2, 3'000'000);  // The newest: kept.
    connect("janedoe@googlemail.com", 3, 2'000'000);
    connect("bob@x.com", 4, 1'000'000);
    engine::AttributeRequest order;
    order.shop = 1;
    order.order_id = "A-1";
    order.email = "JaneDoe+x@gmail.com";
    ASSERT_TRUE(live.engine->Attribute(order).ok());
    engine::ShopSettingsPatch p;
    p.validity_days = 30;
    ASSERT_TRUE(live.engine->UpdateSettings(1, p).ok());
    // The affiliate directory is carried over, its emails keyed again: two spellings
    // of one gmail address (standard) become one (provider) and the second is dropped.
    engine::PutAffiliateRequest ann;
    ann.shop = 1;
    ann.id = 9;
    ann.name = "Ann";
    ann.emails = {"Ann.Lee@gmail.com", "annlee@gmail.com"};
    ASSERT_TRUE(live.engine->PutAffiliate(ann).ok());
    live.Close(true);
  }
  RestoreOptions o;
  o.args = {data};
  o.to = tmp.Sub("provider");
  o.email_policy = engine::EmailPolicy::kProvider;
  const RunResult r = RunTool(RunRekey, o);
  EXPECT_EQ(r.code, kExitFailed) << r.err;  // Connections were merged.
  EXPECT_THAT(r.out, HasSubstr("merged shop 1 janedoe@gmail.com: kept JaneDoe+x@gmail.com "
                               "(affiliate 2,"));
  EXPECT_THAT(r.out, HasSubstr("dropped jane.doe@gmail.com (affiliate 1,"));
  EXPECT_THAT(r.out, HasSubstr("janedoe@googlemail.com (affiliate 3,"));
  EXPECT_THAT(r.out, HasSubstr("2 connections dropped"));

  absl::StatusOr<LoadedDataDir> loaded =
      LoadDataDir(persistence::PosixFileSystem(), o.to, {}, kTestOrderWindowMs);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->dir->meta().email_policy, engine::EmailPolicy::kProvider);
  const auto state = Dump(*loaded->engine);
  ASSERT_EQ(state.connections.size(), 2u);
  const engine::Connection& jane = state.connections.at({1, "janedoe@gmail.com"});
  EXPECT_EQ(jane.affiliate, 2u);
  EXPECT_EQ(jane.order_count, 1u);
  EXPECT_EQ(state.settings.at(1).validity_days, 30u);
  ASSERT_EQ(state.affiliates.size(), 1u);
  EXPECT_EQ(state.affiliates.at({1, 9}).name, "Ann");
  EXPECT_EQ(state.affiliates.at({1, 9}).emails, std::vector<std::string>{"annlee@gmail.com"});
  ASSERT_EQ(state.orders.size(), 1u);
  EXPECT_EQ(state.orders.begin()->second.decision.canonical_email, "janedoe@gmail.com");

  // Back to standard: nothing merges any more.
  RestoreOptions back = o;
  back.args = {o.to};
  back.to = tmp.Sub("standard");
  back.email_policy = engine::EmailPolicy::kStandard;
  const RunResult again = RunTool(RunRekey, back);
  EXPECT_EQ(again.code, kExitOk) << again.out << again.err;
  EXPECT_THAT(again.out, Not(HasSubstr("merged")));

  RestoreOptions usage;
  usage.args = {data};
  usage.to = tmp.Sub("x");
  EXPECT_EQ(RunTool(RunRekey, usage).code, kExitUsage);  // No --email-policy.
}

// ------------------------------------------------------------------------- usage

TEST(UsageTest, ErrorsNameWhatIsWrong) {
  RestoreOptions o;
  o.args = {"/nonexistent"};
  RunResult r = RunTool(RunRestore, o);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--to=NEW is required"));
  o.to = "/tmp/x";
  o.until_seq = 3;
  o.until_time_ms = 5;
  EXPECT_EQ(RunTool(RunRestore, o).code, kExitUsage);
  o = RestoreOptions();
  o.args = {"/nonexistent"};
  o.format = "xml";
  r = RunTool(RunExport, o);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("'xml' is not one of csv, jsonl"));
  o.format = "csv";
  r = RunTool(RunExport, o);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("is not an attrib data directory"));
  o.args = {};
  EXPECT_EQ(RunTool(RunVerify, o).code, kExitUsage);
}

// -------------------------------------------------------------------- throughput

// Not a test of speed (timed tests are banned): a measurement for the README.
TEST(ImportThroughput, DISABLED_OneMillionRows) {
  constexpr uint64_t kRows = 1'000'000;
  TempDir tmp;
  const std::string csv = tmp.Sub("rows.csv");
  {
    std::ofstream out(csv, std::ios::binary);
    out << "email,affiliate_id,name,connected_at\n";
    for (uint64_t i = 0; i < kRows; ++i) {
      out << bench::RealisticEmail(i, 42) << ',' << 1 + i % 5000 << ",,"
          << 1'600'000'000'000 + static_cast<int64_t>(i) << '\n';
    }
  }
  for (const bool existing : {false, true}) {
    const std::string dir = tmp.Sub(existing ? "existing" : "new");
    if (existing) {
      FakeClock clock(1'700'000'000'000);
      LiveDir(dir, "", &clock).Close(false);
    }
    RestoreOptions o;
    o.args = {csv};
    o.to = dir;
    o.shop = 1;
    o.shards = existing ? std::nullopt : std::optional<uint32_t>(kTestShards);
    const auto start = std::chrono::steady_clock::now();
    const RunResult r = RunTool(RunOfflineImport, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.code, kExitOk) << r.out;
    std::printf("import of %llu rows into a %s directory: %.2f s, %.2fM rows/minute\n%s",
                static_cast<unsigned long long>(kRows), existing ? "existing" : "new", s,
                kRows / s * 60 / 1e6, r.err.c_str());
  }
}

}  // namespace
}  // namespace attrib::tools
