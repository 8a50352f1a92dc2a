// tests/attrib_restore_identity_test.cc: attrib-restore export and import of customer
// identifiers (issue 12; tools/import_rows.h, tools/restore_export.h): customers with
// an external id and three emails, one keyed by its external id, a merge's survivor,
// a customer with linked identifiers and no connection; export -> import (into a new
// and into an existing directory) -> export is byte-identical, the imported index
// verifies; old CSVs without the columns still import; bad identifiers are rejected
// naming the column. The customer directory too: customers in it only, names of
// their own, a merge's absorbed orders seen; bad directory values are rejected
// naming the row and column, and a shop with the directory off rejects entries.
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/restore_test_util.h"

namespace attrib::tools {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

engine::CustomerRef Email(const char* e) { return {std::string(e), std::nullopt}; }
engine::CustomerRef External(const char* x) { return {std::nullopt, std::string(x)}; }

void Connect(engine::Engine* e, engine::ShopId shop, const char* email, const char* external_id,
             engine::AffiliateId affiliate, engine::TimeMs at, const char* name = "") {
  engine::ConnectRequest r;
  r.shop = shop;
  r.email = email;
  if (external_id != nullptr) r.external_id = external_id;
  r.affiliate = affiliate;
  r.source = engine::Source::kImport;  // What an import gives: the round trip keeps it.
  r.connected_at = at;
  if (*name != '\0') r.name = name;
  ASSERT_TRUE(e->Connect(r).ok()) << email << " " << (external_id ? external_id : "");
}

void Link(engine::Engine* e, engine::ShopId shop, const engine::CustomerRef& customer,
          const engine::CustomerRef& id) {
  absl::StatusOr<engine::CustomerInfo> r = e->LinkIdentifier(shop, customer, id);
  ASSERT_TRUE(r.ok()) << r.status();
}

// An order of a customer (no connection credited unless it has one).
void Order(engine::Engine* e, engine::ShopId shop, const char* order_id, const char* email,
           const char* external_id, engine::TimeMs at, const char* name = "") {
  engine::AttributeRequest r;
  r.shop = shop;
  r.order_id = order_id;
  if (email != nullptr) r.email = email;
  if (external_id != nullptr) r.external_id = external_id;
  r.ordered_at = at;
  if (*name != '\0') r.name = name;
  absl::StatusOr<engine::AttributeResult> a = e->Attribute(r);
  ASSERT_TRUE(a.ok()) << a.status();
}

void Name(engine::Engine* e, engine::ShopId shop, const engine::CustomerRef& customer,
          const char* name) {
  absl::StatusOr<engine::CustomerRecord> r = e->PutCustomerName(shop, customer, name);
  ASSERT_TRUE(r.ok()) << r.status();
}

// Every shape of customer the identifier index and the customer directory hold, in
// shop 1 (and one in shop 2).
void MakeCustomers(engine::Engine* e) {
  constexpr engine::TimeMs kT = 1'600'000'000'000;
  // Keyed by its external id (a guest first), then three emails.
  Connect(e, 1, "", "cus_A", 7, kT);
  for (const char* m : {"a1@x.com", "A2@Example.com", "a3@example.org"}) {
    Link(e, 1, External("cus_A"), Email(m));
  }
  // Email and external id at once (linked by the connect), then two more emails.
  Connect(e, 1, "Bob.B+shop@GoogleMail.com", "cus B/ü", 8, kT + 1, "Bob, \"B\"");
  Link(e, 1, Email("bobb@gmail.com"), Email("b2@x.com"));
  Link(e, 1, Email("bobb@gmail.com"), Email("b3@x.com"));
  // A merge: d's connection is lost, its email joins c.
  Connect(e, 1, "c@x.com", nullptr, 9, kT + 2);
  Connect(e, 1, "d@x.com", "cus_D", 10, kT + 3);
  // The directory: the loser's orders seen (its connection's counter is lost with
  // it) are absorbed by the survivor's entry.
  Order(e, 1, "o-d", "d@x.com", nullptr, kT + 30);
  engine::MergeRequest m;
  m.shop = 1;
  m.into = Email("c@x.com");
  m.from = Email("d@x.com");
  absl::StatusOr<engine::IdentityChange> merged = e->MergeCustomers(m);
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_TRUE(merged->merge.has_value());
  // Linked identifiers, no connection.
  Connect(e, 1, "e@x.com", nullptr, 11, kT + 4);
  Link(e, 1, Email("e@x.com"), Email("e2@x.com"));
  Link(e, 1, Email("e@x.com"), External("cus_E"));
  ASSERT_TRUE(e->Disconnect(1, Email("e@x.com")).ok());
  Connect(e, 1, "plain@x.com", nullptr, 12, kT + 5, "Doe, Jane");
  // A directory name other than the connection's.
  Name(e, 1, Email("plain@x.com"), "Jane D.");
  // A connected customer the directory remembers by its connection: no entry.
  Connect(e, 1, "solo@x.com", nullptr, 13, kT + 6, "Solo");
  // In the directory only: by email, with two orders and a name; by external id,
  // named only.
  Order(e, 1, "o-b1", "Buyer@x.com", nullptr, kT + 10, "Buyer One");
  Order(e, 1, "o-b2", "buyer@x.com", nullptr, kT + 20);
  Name(e, 1, External("cus_dir"), "Guest, \"G\"");
  Connect(e, 2, "", "cus_other_shop", 5, kT);
}

RunResult Export(const std::string& dir, const std::string& path) {
  return ExportCsv(dir, 1, path);
}

RunResult Import(const std::string& csv, const std::string& to) {
  RestoreOptions o;
  o.args = {csv};
  o.to = to;
  o.shop = 1;
  o.shards = kTestShards;
  return RunTool(RunOfflineImport, o);
}

class ExportImportIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LiveDir live(data_, "", &clock_);
    MakeCustomers(live.engine.get());
    live.Close(/*final_snapshot=*/false);
  }
  TempDir tmp_;
  const std::string data_ = tmp_.Sub("data");
  engine::FakeClock clock_{1'700'000'000'000};
};

TEST_F(ExportImportIdentityTest, ExportWritesEveryIdentifierOfEveryCustomer) {
  const std::string csv = tmp_.Sub("first.csv");
  const RunResult r = Export(data_, csv);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, HasSubstr("5 connections and 1 customers with linked identifiers and no "
                               "connection and 2 customers in the directory only (7 rows with "
                               "a directory entry)"));
  const std::string text = ReadFile(csv);
  // The external-id customer sorts first (its key starts with a control byte); a
  // customer with linked identifiers has a directory entry (unnamed here).
  EXPECT_THAT(text, HasSubstr("\n,7,,1600000000000,,1,import,0,0,cus_A,"
                              "a1@x.com;a2@example.com;a3@example.org,,0,0,0\n"));
  EXPECT_THAT(text, HasSubstr("\nBob.B+shop@GoogleMail.com,8,\"Bob, \"\"B\"\"\",1600000000001,"
                              "bobb@gmail.com,1,import,0,0,cus B/ü,b2@x.com;b3@x.com,"
                              "\"Bob, \"\"B\"\"\",0,0,0\n"));
  // The merge's survivor has the loser's order seen.
  EXPECT_THAT(text, HasSubstr("\nc@x.com,9,,1600000000002,c@x.com,1,import,0,0,cus_D,d@x.com,,"
                              "1,1600000000030,1600000000030\n"));
  // A connection's name and a directory name of its own.
  EXPECT_THAT(text, HasSubstr("\nplain@x.com,12,\"Doe, Jane\",1600000000005,plain@x.com,1,"
                              "import,0,0,,,Jane D.,0,0,0\n"));
  EXPECT_THAT(text, HasSubstr("\nsolo@x.com,13,Solo,1600000000006,solo@x.com,1,import,0,0,,,,,,\n"));
  // Then the customers without a connection, by key: in the directory only (by
  // external id, by email), and with linked identifiers (an entry from the
  // disconnect).
  EXPECT_THAT(text, EndsWith("\n,,,,,1,,,,cus_dir,,\"Guest, \"\"G\"\"\",0,0,0\n"
                             "buyer@x.com,,,,buyer@x.com,1,,,,,,Buyer One,2,1600000000010,"
                             "1600000000020\n"
                             "e@x.com,,,,e@x.com,1,,,,cus_E,e2@x.com,,0,0,0\n"));
  EXPECT_THAT(text, Not(HasSubstr("cus_other_shop")));

  // JSON lines: the same entry as an object, null for none.
  RestoreOptions o;
  o.args = {data_};
  o.shop = 1;
  o.format = "jsonl";
  const RunResult json = RunTool(RunExport, o);
  ASSERT_EQ(json.code, kExitOk) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"canonical_email\":\"buyer@x.com\""));
  EXPECT_THAT(json.out, HasSubstr("\"directory\":{\"name\":\"Buyer One\",\"orders_seen\":2,"
                                  "\"first_order_at\":1600000000010,"
                                  "\"last_order_at\":1600000000020}}\n"));
  EXPECT_THAT(json.out, HasSubstr("\"emails\":[],\"directory\":null}\n"));
}

TEST_F(ExportImportIdentityTest, ExportImportExportIsByteIdenticalAndTheIndexVerifies) {
  const std::string first = tmp_.Sub("first.csv");
  ASSERT_EQ(Export(data_, first).code, kExitOk);

  // Into a new directory.
  const std::string fresh = tmp_.Sub("fresh");
  RunResult r = Import(first, fresh);
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("connected (created): 5\n"));
  EXPECT_THAT(r.out, HasSubstr("identifiers linked:  10\n"));
  EXPECT_THAT(r.out, HasSubstr("directory entries:   7\n"));
  const std::string second = tmp_.Sub("second.csv");
  ASSERT_EQ(Export(fresh, second).code, kExitOk);
  EXPECT_EQ(ReadFile(first), ReadFile(second));

  RestoreOptions v;
  v.args = {fresh};
  r = RunTool(RunVerify, v);
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("identifier index: 4 customers with several identifiers, consistent"));

  // Into an existing (empty) directory, through its log.
  const std::string existing = tmp_.Sub("existing");
  {
    LiveDir empty(existing, "", &clock_);
    empty.Close(/*final_snapshot=*/false);
  }
  r = Import(first, existing);
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  const std::string third = tmp_.Sub("third.csv");
  ASSERT_EQ(Export(existing, third).code, kExitOk);
  EXPECT_EQ(ReadFile(first), ReadFile(third));

  // And again into the same directory: nothing changes, every link is a no-op.
  r = Import(first, existing);
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("unchanged:           5\n"));
  ASSERT_EQ(Export(existing, third).code, kExitOk);
  EXPECT_EQ(ReadFile(first), ReadFile(third));
}

TEST_F(ExportImportIdentityTest, OldFilesImportAndBadIdentifiersAreRejectedNamingTheColumn) {
  const std::string old_csv = tmp_.Sub("old.csv");
  std::ofstream(old_csv) << "email,affiliate_id,name\nx@y.com,5,X\nz@y.com,6,\n";
  RunResult r = Import(old_csv, tmp_.Sub("old"));
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("connected (created): 2\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("identifiers linked")));

  const std::string bad = tmp_.Sub("bad.csv");
  std::ofstream(bad) << "email,affiliate_id,external_id,emails\n"
                     << "ok@y.com,5,cus_1,o2@y.com\n"       // 2: fine.
                     << "p@y.com,5,,not an email\n"         // 3: the connect stands.
                     << ",6,\"tab\there\",\n"               // 4: a bad external id.
                     << "q@y.com,,,\n"                      // 5: nothing to link.
                     << ",,,\n"                             // 6: no identifier.
                     << "r@y.com,7,,o2@y.com\n";            // 7: o2 is ok@'s.
  r = Import(bad, tmp_.Sub("bad"));
  EXPECT_EQ(r.code, kExitFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("connected (created): 3\n"));
  EXPECT_THAT(r.out, HasSubstr("line 3 (p@y.com): emails: not an email: not linked: "));
  EXPECT_THAT(r.out, HasSubstr("(the row's connect stands)"));
  EXPECT_THAT(r.out, HasSubstr("line 4 (\"external_id:tab\\there\"): external_id: control character"));
  EXPECT_THAT(r.out, HasSubstr("line 5 (q@y.com): affiliate_id: required"));
  EXPECT_THAT(r.out, HasSubstr("line 6: email: required (or external_id, or both)"));
  EXPECT_THAT(r.out, HasSubstr("line 7 (r@y.com): emails: o2@y.com: not linked: identifier_in_use"));

  // A header without email needs external_id.
  const std::string no_id = tmp_.Sub("no_id.csv");
  std::ofstream(no_id) << "affiliate_id,name\n5,X\n";
  r = Import(no_id, tmp_.Sub("no_id"));
  EXPECT_EQ(r.code, kExitUsage) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("affiliate_id and email (or external_id, or both)"));
}

TEST_F(ExportImportIdentityTest, DirectoryColumnsImportAndBadValuesAreRejectedNamingTheColumn) {
  const std::string csv = tmp_.Sub("directory.csv");
  const std::string long_name(129, 'n');
  std::ofstream(csv)
      << "email,affiliate_id,directory_name,directory_orders_seen,directory_first_order_at,"
         "directory_last_order_at\n"
      << "ok@y.com,,Fine,,,\n"                                         // 2: name only.
      << "t@y.com,5,,3,2024-01-31T12:00:00Z,1706702400001\n"           // 3: RFC 3339 too.
      << "a@y.com,,,-1,,\n"                                            // 4
      << "b@y.com,,,1,yesterday,1600000000000\n"                       // 5
      << "c@y.com,6," << long_name << ",,,\n"                          // 6: connects.
      << "d@y.com,,,0,1600000000000,\n"                                // 7
      << "e@y.com,,,2,1600000000001,1600000000000\n"                   // 8
      << "f@y.com,,,,,\n";                                             // 9: nothing.
  RunResult r = Import(csv, tmp_.Sub("directory"));
  EXPECT_EQ(r.code, kExitFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("connected (created): 1\n"));
  EXPECT_THAT(r.out, HasSubstr("directory entries:   2\n"));
  EXPECT_THAT(r.out, HasSubstr("rejected:            6\n"));
  EXPECT_THAT(r.out, HasSubstr("line 4 (a@y.com): directory_orders_seen: '-1' is not a count"));
  EXPECT_THAT(r.out, HasSubstr("line 5 (b@y.com): directory_first_order_at: "));
  EXPECT_THAT(r.out, HasSubstr("line 6 (c@y.com): directory_name: 129 bytes, the limit is 128"));
  EXPECT_THAT(r.out, HasSubstr("line 7 (d@y.com): directory_orders_seen: 0, but "
                               "directory_first_order_at is set"));
  EXPECT_THAT(r.out, HasSubstr("line 8 (e@y.com): directory_first_order_at: 1600000000001 is "
                               "after directory_last_order_at 1600000000000"));
  EXPECT_THAT(r.out, HasSubstr("line 9 (f@y.com): affiliate_id: required"));

  const std::string out = tmp_.Sub("directory_out.csv");
  ASSERT_EQ(ExportCsv(tmp_.Sub("directory"), 1, out).code, kExitOk);
  const std::string text = ReadFile(out);
  EXPECT_THAT(text, HasSubstr("\nt@y.com,5,,"));
  EXPECT_THAT(text, HasSubstr(",3,1706702400000,1706702400001\n"));
  EXPECT_THAT(text, HasSubstr("\nok@y.com,,,,ok@y.com,1,,,,,,Fine,0,0,0\n"));
  EXPECT_THAT(text, Not(HasSubstr("a@y.com")));
}

TEST_F(ExportImportIdentityTest, AShopWithTheDirectoryOffRejectsEntriesNamingTheRow) {
  const std::string first = tmp_.Sub("first.csv");
  ASSERT_EQ(Export(data_, first).code, kExitOk);
  const std::string existing = tmp_.Sub("off");
  {
    LiveDir live(existing, "", &clock_);
    engine::ShopSettingsPatch patch;
    patch.customer_directory = false;
    ASSERT_TRUE(live.engine->UpdateSettings(1, patch).ok());
    live.Close(/*final_snapshot=*/false);
  }
  const RunResult r = Import(first, existing);
  EXPECT_EQ(r.code, kExitFailed) << r.out << r.err;
  // Every connection and link stands; each entry is a rejection naming its row.
  EXPECT_THAT(r.out, HasSubstr("connected (created): 5\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("directory entries:")));
  EXPECT_THAT(r.out, HasSubstr("rejected:            7\n"));
  EXPECT_THAT(r.out, HasSubstr("(buyer@x.com): directory: not stored: customer_directory_off: "
                               "shop 1 has the setting customer_directory off"));
  EXPECT_THAT(r.out, HasSubstr("(plain@x.com): directory: not stored: customer_directory_off: "));
  EXPECT_THAT(r.out, HasSubstr("(the row's connect and links stand)"));
}

}  // namespace
}  // namespace attrib::tools
