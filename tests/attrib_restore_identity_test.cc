// tests/attrib_restore_identity_test.cc: attrib-restore export and import of customer
// identifiers (issue 12; tools/import_rows.h, tools/restore_export.h): customers with
// an external id and three emails, one keyed by its external id, a merge's survivor,
// a customer with linked identifiers and no connection; export -> import (into a new
// and into an existing directory) -> export is byte-identical, the imported index
// verifies; old CSVs without the columns still import; bad identifiers are rejected
// naming the column.
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

// Every shape of customer the identifier index holds, in shop 1 (and one in shop 2).
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
  EXPECT_THAT(r.err, HasSubstr("4 connections and 1 customers with linked identifiers"));
  const std::string text = ReadFile(csv);
  // The external-id customer sorts first (its key starts with a control byte).
  EXPECT_THAT(text, HasSubstr("\n,7,,1600000000000,,1,import,0,0,cus_A,"
                              "a1@x.com;a2@example.com;a3@example.org\n"));
  EXPECT_THAT(text, HasSubstr("\nBob.B+shop@GoogleMail.com,8,\"Bob, \"\"B\"\"\",1600000000001,"
                              "bobb@gmail.com,1,import,0,0,cus B/ü,b2@x.com;b3@x.com\n"));
  EXPECT_THAT(text, HasSubstr("\nc@x.com,9,,1600000000002,c@x.com,1,import,0,0,cus_D,d@x.com\n"));
  // Last: the customer without a connection.
  EXPECT_THAT(text, EndsWith("\ne@x.com,,,,e@x.com,1,,,,cus_E,e2@x.com\n"));
  EXPECT_THAT(text, Not(HasSubstr("cus_other_shop")));
}

TEST_F(ExportImportIdentityTest, ExportImportExportIsByteIdenticalAndTheIndexVerifies) {
  const std::string first = tmp_.Sub("first.csv");
  ASSERT_EQ(Export(data_, first).code, kExitOk);

  // Into a new directory.
  const std::string fresh = tmp_.Sub("fresh");
  RunResult r = Import(first, fresh);
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("connected (created): 4\n"));
  EXPECT_THAT(r.out, HasSubstr("identifiers linked:  10\n"));
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
  EXPECT_THAT(r.out, HasSubstr("unchanged:           4\n"));
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

}  // namespace
}  // namespace attrib::tools
