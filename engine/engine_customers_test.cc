// engine/engine_customers_test.cc: the customer directory (issue 12;
// customer_directory.h, engine_customers.cc): customers remembered with and without
// a connection, the setting, the new-customer decision from the directory, merges
// and links absorbing entries, search paging and prefix matching, limits, and the
// log (replay equivalence). The thread race is engine_customers_race_test.cc.
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "engine/customer_directory.h"
#include "engine/engine_test_base.h"
#include "engine/replay_test_util.h"

namespace attrib::engine {
namespace {

using namespace testing_base;  // NOLINT
using ::testing::HasSubstr;

class EngineCustomersTest : public EngineTestBase, public ::testing::Test {
 protected:
  EngineCustomersTest() : EngineTestBase(16, 365 * kDay, &sink_) {}

  static CustomerRef ByEmail(std::string e) { return CustomerRef{std::move(e), std::nullopt}; }
  static CustomerRef ByExt(std::string x) { return CustomerRef{std::nullopt, std::move(x)}; }
  std::optional<CustomerEntry> Entry(const std::string& canonical) {
    return engine_.customers().Get(kShop, canonical);
  }
  void ExpectReplayEquivalent() {
    FakeClock other(1);
    Engine replayed(Options(16, 365 * kDay, &other, nullptr));
    for (const Mutation& m : sink_.Take()) ASSERT_TRUE(replayed.Apply(m).ok());
    EXPECT_TRUE(replay_testing::Dump(replayed) == replay_testing::Dump(engine_));
    uint64_t entries = 0;
    EXPECT_TRUE(engine_.CheckCustomerDirectory(&entries).ok());
    EXPECT_EQ(entries, engine_.customers().size());
  }
  std::vector<std::string> Keys(const CustomerPage& page) {
    std::vector<std::string> out;
    for (const CustomerRecord& r : page.items) out.push_back(r.customer.primary);
    return out;
  }

  replay_testing::RecordingSink sink_;
};

TEST_F(EngineCustomersTest, OrdersWithoutAConnectionAreRemembered) {
  AttributeRequest r = Order("o1", "Bob@Example.com", std::nullopt, kT0 - 5 * kDay);
  r.name = "Bob Builder";
  const AttributeResult first = Attribute(r);
  EXPECT_FALSE(Lookup("bob@example.com").found);  // No connection...
  std::optional<CustomerEntry> e = Entry("bob@example.com");  // ...but remembered.
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name, "Bob Builder");
  EXPECT_EQ(e->orders_seen, 1u);
  EXPECT_EQ(e->first_order_at, kT0 - 5 * kDay);
  EXPECT_EQ(e->last_order_at, kT0 - 5 * kDay);
  EXPECT_EQ(first.decision.new_customer_source, NewCustomerSource::kDirectory);
  EXPECT_EQ(first.decision.order_number_for_customer, 1u);

  // An earlier order arriving later moves the first order back; the name stays.
  const AttributeResult second = Attribute(Order("o2", "bob@example.com", std::nullopt, kT0 - 9 * kDay));
  EXPECT_EQ(second.decision.order_number_for_customer, 2u);
  e = Entry("bob@example.com");
  EXPECT_EQ(e->orders_seen, 2u);
  EXPECT_EQ(e->first_order_at, kT0 - 9 * kDay);
  EXPECT_EQ(e->last_order_at, kT0 - 5 * kDay);
  EXPECT_EQ(e->name, "Bob Builder");
  // A duplicate order id is not a new order seen.
  EXPECT_TRUE(Attribute(Order("o2", "bob@example.com")).duplicate);
  EXPECT_EQ(Entry("bob@example.com")->orders_seen, 2u);
  // A reversal does not un-see an order.
  OK(engine_.Reverse(kShop, "o1"));
  EXPECT_EQ(Entry("bob@example.com")->orders_seen, 2u);
  ExpectReplayEquivalent();
}

TEST_F(EngineCustomersTest, ConnectRemembersTheCustomerAndItsName) {
  Connect(kJane, kA, "Jane Doe");
  // A connected customer is remembered by its connection: no entry is stored (a
  // connection costs what it did), the record shows the connection's name.
  EXPECT_FALSE(Entry(kJaneCanonical).has_value());
  const CustomerRecord connected = OK(engine_.GetCustomerRecord(kShop, ByEmail(kJane)));
  ASSERT_TRUE(connected.directory.has_value());
  EXPECT_EQ(connected.directory->name, "Jane Doe");
  EXPECT_EQ(connected.directory->orders_seen, 0u);
  // The disconnect stores the entry: the customer outlives the connection.
  OK(engine_.Disconnect(kShop, kJane));
  std::optional<CustomerEntry> e = Entry(kJaneCanonical);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name, "Jane Doe");
  EXPECT_EQ(e->orders_seen, 0u);
  EXPECT_EQ(e->first_order_at, 0);
  const CustomerRecord rec = OK(engine_.GetCustomerRecord(kShop, ByEmail(kJane)));
  EXPECT_FALSE(rec.customer.connection.has_value());
  ASSERT_TRUE(rec.directory.has_value());
  EXPECT_EQ(rec.directory->name, "Jane Doe");
  EXPECT_EQ(rec.customer.emails, std::vector<std::string>{kJaneCanonical});
  // An explicit put renames.
  const CustomerRecord renamed = OK(engine_.PutCustomerName(kShop, ByEmail(kJane), "J. Doe"));
  EXPECT_EQ(renamed.directory->name, "J. Doe");
  EXPECT_EQ(Entry(kJaneCanonical)->name, "J. Doe");
  ExpectReplayEquivalent();
}

TEST_F(EngineCustomersTest, DirectoryOffRemembersNothingAndDecidesNothing) {
  ShopSettingsPatch p;
  p.customer_directory = false;
  Update(p);
  Connect(kJane, kA, "Jane");
  const AttributeResult r = Attribute(Order("o1", "bob@example.com"));
  EXPECT_EQ(engine_.customers().size(), 0u);
  EXPECT_EQ(r.decision.new_customer_source, NewCustomerSource::kUnknown);
  EXPECT_EQ(r.decision.order_number_for_customer, 0u);
  AttributeRequest said = Order("o2", "bob@example.com");
  said.customer_is_new = true;
  EXPECT_EQ(Attribute(said).decision.new_customer_source, NewCustomerSource::kRequest);
  EXPECT_EQ(engine_.PutCustomerName(kShop, ByEmail(kJane), "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine_.PutCustomerName(kShop, ByEmail(kJane), "x").status().message(),
              HasSubstr("customer_directory_off"));
  EXPECT_EQ(engine_.GetCustomerRecord(kShop, ByEmail("bob@example.com")).status().code(),
            absl::StatusCode::kNotFound);
  ExpectReplayEquivalent();
}

TEST_F(EngineCustomersTest, NewCustomerFromTheDirectoryDrivesAutoConnectNewOnly) {
  ShopSettingsPatch p;
  p.auto_connect = true;
  p.auto_connect_new_customers_only = true;
  Update(p);
  // First order seen: new (directory) -> the referral auto-connects.
  const AttributeResult first = Attribute(Order("o1", "new@example.com", kB));
  EXPECT_EQ(first.decision.new_customer_source, NewCustomerSource::kDirectory);
  EXPECT_TRUE(first.decision.connection_created);
  // A customer with an earlier order seen is not new: no auto-connect.
  Attribute(Order("o2", "old@example.com"));
  const AttributeResult later = Attribute(Order("o3", "old@example.com", kB));
  EXPECT_EQ(later.decision.new_customer_source, NewCustomerSource::kDirectory);
  EXPECT_EQ(later.decision.order_number_for_customer, 2u);
  EXPECT_FALSE(later.decision.connection_created);
  // The request's word wins over the directory.
  AttributeRequest said = Order("o4", "old@example.com", kB);
  said.customer_is_new = true;
  const AttributeResult forced = Attribute(said);
  EXPECT_EQ(forced.decision.new_customer_source, NewCustomerSource::kRequest);
  EXPECT_TRUE(forced.decision.connection_created);
  EXPECT_EQ(forced.decision.order_number_for_customer, 3u);
  // Explain returns the recorded decision with both fields.
  const AttributionDecision explained = OK(engine_.Explain(kShop, "o3"));
  EXPECT_EQ(explained.new_customer_source, NewCustomerSource::kDirectory);
  EXPECT_EQ(explained.order_number_for_customer, 2u);
  ExpectReplayEquivalent();
}

TEST_F(EngineCustomersTest, MergeAbsorbsTheLosersEntry) {
  // Two customers seen separately: by email (named) and by external id.
  Attribute(Order("o1", "jane@example.com", std::nullopt, kT0 - 3 * kDay));
  OK(engine_.PutCustomerName(kShop, ByEmail("jane@example.com"), "Jane"));
  AttributeRequest ext = Order("o2", std::nullopt, std::nullopt, kT0 - 10 * kDay);
  ext.external_id = "cus_1";
  Attribute(ext);
  ext.order_id = "o3";
  ext.ordered_at = kT0 - 1 * kDay;
  Attribute(ext);
  // Give both a connection-less identity so the merge is a merge (link both).
  OK(engine_.LinkIdentifier(kShop, ByEmail("jane@example.com"), ByEmail("j2@example.com")));
  OK(engine_.LinkIdentifier(kShop, ByExt("cus_1"), ByEmail("c2@example.com")));
  MergeRequest m;
  m.shop = kShop;
  m.into = ByEmail("jane@example.com");
  m.from = ByExt("cus_1");
  const IdentityChange change = OK(engine_.MergeCustomers(m));
  ASSERT_TRUE(change.merge.has_value());
  const std::string survivor = change.merge->survivor;
  const std::string loser = change.merge->loser;
  EXPECT_FALSE(engine_.customers().Get(kShop, loser).has_value());
  const std::optional<CustomerEntry> e = engine_.customers().Get(kShop, survivor);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->orders_seen, 3u);
  EXPECT_EQ(e->first_order_at, kT0 - 10 * kDay);
  EXPECT_EQ(e->last_order_at, kT0 - 1 * kDay);
  EXPECT_EQ(e->name, "Jane");
  // The merge record carries the absorbed entry (replay needs nothing else).
  bool found = false;
  for (const Mutation& mu : sink_.Copy()) {
    if (const auto* op = std::get_if<engine::MergeCustomers>(&mu.op)) {
      ASSERT_TRUE(op->absorbed_entry.has_value());
      EXPECT_EQ(*op->absorbed_entry, *e);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // The next order of either identifier counts as the 4th.
  AttributeRequest next = Order("o4", std::nullopt);
  next.external_id = "cus_1";
  EXPECT_EQ(Attribute(next).decision.order_number_for_customer, 4u);
  ExpectReplayEquivalent();
}

TEST_F(EngineCustomersTest, AutoLinkAbsorbsTheLinkedIdentifiersEntry) {
  // The external id was seen alone (its own directory customer); then an order with
  // both links it to the email's connected customer and joins the entries.
  Connect(kJane, kA, "Jane");
  AttributeRequest ext = Order("o1", std::nullopt);
  ext.external_id = "cus_9";
  ext.name = "From Shopify";
  Attribute(ext);
  AttributeRequest both = Order("o2", kJane);
  both.external_id = "cus_9";
  const AttributeResult r = Attribute(both);
  EXPECT_EQ(r.decision.order_number_for_customer, 2u);
  EXPECT_EQ(r.decision.new_customer_source, NewCustomerSource::kDirectory);
  const std::optional<CustomerEntry> e = Entry(kJaneCanonical);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->orders_seen, 2u);
  EXPECT_EQ(e->name, "Jane");  // The winner's name.
  EXPECT_EQ(engine_.customers().size(), 1u);
  uint64_t entries = 0;
  EXPECT_TRUE(engine_.CheckCustomerDirectory(&entries).ok());
  ExpectReplayEquivalent();
}

// attrib-restore import's path: the whole entry replaces the customer's, once.
TEST_F(EngineCustomersTest, ImportCustomerEntryReplacesTheEntryOnceAndChecksIt) {
  Connect(kJane, kA, "Jane");
  const CustomerEntry e{"J. D.", 1'000, 2'000, 3};
  ASSERT_TRUE(engine_.ImportCustomerEntry(kShop, ByEmail(kJane), e).ok());
  EXPECT_EQ(Entry("jane@example.com"), e);
  // In the directory only, by external id.
  const CustomerEntry guest{"Guest", 0, 0, 0};
  ASSERT_TRUE(engine_.ImportCustomerEntry(kShop, ByExt("cus_g"), guest).ok());
  const CustomerRecord r = OK(engine_.GetCustomerRecord(kShop, ByExt("cus_g")));
  EXPECT_EQ(r.directory, guest);
  EXPECT_FALSE(r.customer.connection.has_value());
  // The same entry again logs nothing.
  const size_t logged = sink_.Copy().size();
  ASSERT_TRUE(engine_.ImportCustomerEntry(kShop, ByEmail(kJane), e).ok());
  EXPECT_EQ(sink_.Copy().size(), logged);
  // Not well formed: named by field.
  EXPECT_THAT(engine_.ImportCustomerEntry(kShop, ByEmail(kJane), {"", 5, 0, 0}).message(),
              HasSubstr("orders_seen: 0, but first_order_at is set"));
  EXPECT_THAT(engine_.ImportCustomerEntry(kShop, ByEmail(kJane), {"", 9, 8, 2}).message(),
              HasSubstr("first_order_at: 9 is after last_order_at 8"));
  EXPECT_THAT(engine_.ImportCustomerEntry(kShop, ByEmail(kJane),
                                          {std::string(kMaxNameBytes + 1, 'n'), 0, 0, 0})
                  .message(),
              HasSubstr("name: 129 bytes"));
  EXPECT_EQ(Entry("jane@example.com"), e);
  ExpectReplayEquivalent();
  ShopSettingsPatch p;
  p.customer_directory = false;
  Update(p);
  EXPECT_THAT(engine_.ImportCustomerEntry(kShop, ByEmail(kJane), e).message(),
              HasSubstr("customer_directory_off"));
}

TEST_F(EngineCustomersTest, SearchByEmailPrefixNamePrefixAndExternalIdPaged) {
  for (int i = 0; i < 25; ++i) {
    ConnectRequest c;
    c.shop = kShop;
    c.email = absl::StrCat("user", i, "@example.com");
    c.affiliate = kA;
    c.name = absl::StrCat(i % 2 == 0 ? "Alice " : "Bob ", i);
    OK(engine_.Connect(c));
  }
  AttributeRequest ext = Order("o1", std::nullopt);
  ext.external_id = "cus_77";
  ext.name = "Carol";
  Attribute(ext);
  Attribute(Order("o2", "other@example.com"));
  // Another shop's customers never show.
  ConnectRequest foreign;
  foreign.shop = kOtherShop;
  foreign.email = "user1@example.com";
  foreign.affiliate = kA;
  OK(engine_.Connect(foreign));

  // Email prefix, paged by 4: every match once, in pages, with connections.
  CustomerQuery q;
  q.shop = kShop;
  q.email_prefix = "USER1";  // Case-insensitive: user1, user10..user19.
  q.limit = 4;
  std::set<std::string> seen;
  int pages = 0;
  for (;;) {
    const CustomerPage page = OK(engine_.SearchCustomers(q));
    ++pages;
    EXPECT_LE(page.items.size(), 4u);
    for (const CustomerRecord& r : page.items) {
      EXPECT_TRUE(seen.insert(r.customer.primary).second) << r.customer.primary;
      EXPECT_TRUE(r.customer.connection.has_value());
      EXPECT_TRUE(r.directory.has_value());
    }
    if (page.next_cursor.empty()) break;
    q.cursor = page.next_cursor;
    ASSERT_LT(pages, 20);
  }
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_GE(pages, 3);

  // Name prefix.
  CustomerQuery byname;
  byname.shop = kShop;
  byname.name_prefix = "alice";
  byname.limit = 100;
  EXPECT_EQ(OK(engine_.SearchCustomers(byname)).items.size(), 13u);
  byname.name_prefix = "Carol";
  const CustomerPage carol = OK(engine_.SearchCustomers(byname));
  ASSERT_EQ(carol.items.size(), 1u);
  EXPECT_EQ(carol.items[0].customer.external_id, "cus_77");
  EXPECT_FALSE(carol.items[0].customer.connection.has_value());

  // External id: exact.
  CustomerQuery byext;
  byext.shop = kShop;
  byext.external_id = " cus_77 ";
  EXPECT_EQ(Keys(OK(engine_.SearchCustomers(byext))).size(), 1u);
  byext.external_id = "cus_7";
  EXPECT_TRUE(OK(engine_.SearchCustomers(byext)).items.empty());

  // Everyone: 25 + carol + other.
  CustomerQuery all;
  all.shop = kShop;
  all.limit = 500;
  EXPECT_EQ(OK(engine_.SearchCustomers(all)).items.size(), 27u);

  // An alias email matches too.
  OK(engine_.LinkIdentifier(kShop, ByEmail("user3@example.com"), ByEmail("zed@example.com")));
  CustomerQuery alias;
  alias.shop = kShop;
  alias.email_prefix = "zed";
  const CustomerPage z = OK(engine_.SearchCustomers(alias));
  ASSERT_EQ(z.items.size(), 1u);
  EXPECT_EQ(z.items[0].customer.primary, "user3@example.com");
  EXPECT_EQ(z.items[0].customer.emails.size(), 2u);
}

TEST_F(EngineCustomersTest, SearchLimitsAndBadInputsNameTheField) {
  CustomerQuery q;
  q.shop = kShop;
  q.limit = 0;
  EXPECT_THAT(engine_.SearchCustomers(q).status().message(), HasSubstr("limit: 0"));
  q.limit = kMaxCustomerSearchLimit + 1;
  EXPECT_THAT(engine_.SearchCustomers(q).status().message(), HasSubstr("limit: 501"));
  q.limit = 10;
  q.cursor = "garbage";
  EXPECT_THAT(engine_.SearchCustomers(q).status().message(), HasSubstr("cursor:"));
  q.cursor = "d1.99999.0";  // Shard out of range.
  EXPECT_THAT(engine_.SearchCustomers(q).status().message(), HasSubstr("cursor:"));
  q.cursor.clear();
  q.email_prefix = "a";
  q.name_prefix = "b";
  EXPECT_THAT(engine_.SearchCustomers(q).status().message(), HasSubstr("at most one of"));
  q.name_prefix = std::string(kMaxNameBytes + 1, 'x');
  q.email_prefix.clear();
  EXPECT_THAT(engine_.SearchCustomers(q).status().message(), HasSubstr("name_prefix"));
  q.shop = 0;
  EXPECT_EQ(engine_.SearchCustomers(q).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(engine_.PutCustomerName(kShop, ByEmail(kJane), std::string(kMaxNameBytes + 1, 'n'))
                  .status()
                  .message(),
              HasSubstr("name"));
  AttributeRequest r = Order("o1");
  r.name = std::string(kMaxNameBytes + 1, 'n');
  EXPECT_THAT(engine_.Attribute(r).status().message(), HasSubstr("name"));
}

TEST(CustomerDirectoryTest, PutGetEraseAbsorbAndNamesOfOtherLengths) {
  CustomerDirectory d(4);
  EXPECT_FALSE(d.Get(1, "a@x.com").has_value());
  CustomerEntry e{"Ann", 10, 20, 2};
  d.Put(1, "a@x.com", e);
  EXPECT_EQ(*d.Get(1, "a@x.com"), e);
  EXPECT_FALSE(d.Get(2, "a@x.com").has_value());  // Shops are apart.
  e.name = "Annabelle";  // Another length: a new record, the old one dead.
  d.Put(1, "a@x.com", e);
  EXPECT_EQ(*d.Get(1, "a@x.com"), e);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_GT(d.Memory().dead_bytes, 0u);
  d.Put(1, "b@x.com", CustomerEntry{"", 5, 30, 1});
  bool called = false;
  d.Absorb(1, "a@x.com", "b@x.com", nullptr, [&](const CustomerEntry* after, bool removed) {
    called = true;
    ASSERT_NE(after, nullptr);
    EXPECT_TRUE(removed);
    EXPECT_EQ(*after, (CustomerEntry{"Annabelle", 5, 30, 3}));
  });
  EXPECT_TRUE(called);
  EXPECT_FALSE(d.Get(1, "b@x.com").has_value());
  EXPECT_TRUE(d.Erase(1, "a@x.com"));
  EXPECT_FALSE(d.Erase(1, "a@x.com"));
  EXPECT_EQ(d.size(), 0u);
  // Absorbing an entry with no orders keeps the winner's first order.
  EXPECT_EQ(CustomerDirectory::Absorbed(CustomerEntry{"", 7, 9, 1}, CustomerEntry{"Z", 0, 0, 0}),
            (CustomerEntry{"Z", 7, 9, 1}));
}

TEST(CustomerDirectoryTest, ManyEntriesSpanChunksAndScanSeesEachOnce) {
  CustomerDirectory d(2);
  constexpr int kN = 60'000;  // About 3 MiB of records: several 1 MiB chunks.
  for (int i = 0; i < kN; ++i) {
    d.Put(1 + i % 2, absl::StrCat("customer", i, "@example.com"),
          CustomerEntry{absl::StrCat("Name ", i), i, i + 1, 1});
  }
  EXPECT_EQ(d.size(), static_cast<size_t>(kN));
  std::set<std::string> keys;
  std::optional<CustomerDirectory::Position> at = CustomerDirectory::Position{};
  while (at) {
    std::vector<CustomerDirectory::ScannedEntry> batch;
    at = d.Scan(1, *at, 1000, 5000, &batch);
    for (const auto& e : batch) EXPECT_TRUE(keys.insert(e.key).second) << e.key;
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(kN / 2));
  size_t all = 0;
  d.ForEachLocked([&](ShopId, absl::string_view, const CustomerEntry&) { ++all; }, [] {});
  EXPECT_EQ(all, static_cast<size_t>(kN));
  EXPECT_EQ(*d.Get(2, "customer59999@example.com"), (CustomerEntry{"Name 59999", 59999, 60000, 1}));
}

}  // namespace
}  // namespace attrib::engine
