// engine/engine_lookup_test.cc: Engine::LookupEach, the allocation-free read path
// under Lookup and LookupBatch: every email reported exactly once, hits with the
// stored fields in place, misses, rejected emails, and the batch limit.
#include <map>
#include <string>
#include <vector>

#include "engine/engine_test_base.h"

namespace attrib::engine {
namespace {

using testing_base::EngineOrdersTest;
using testing_base::kA;
using testing_base::kB;
using testing_base::kJane;
using testing_base::kJaneCanonical;
using testing_base::kShop;
using testing_base::kT0;

struct Seen {
  int calls = 0;
  bool invalid = false;
  bool found = false;
  std::string canonical;
  std::string entered;
  std::string name;
  AffiliateId affiliate = 0;
  bool active = false;
};

class LookupEachTest : public EngineOrdersTest {
 protected:
  std::vector<Seen> Each(const std::vector<std::string>& emails) {
    std::vector<absl::string_view> views(emails.begin(), emails.end());
    std::vector<Seen> seen(emails.size());
    const absl::Status s = engine_.LookupEach(
        kShop, views, std::nullopt, [&](size_t i, const LookupItemView& item) {
          Seen& x = seen.at(i);
          ++x.calls;
          x.invalid = item.invalid != nullptr;
          x.found = item.found;
          if (item.found) {
            x.canonical = std::string(item.connection.canonical_email);
            x.entered = std::string(item.connection.entered_email);
            x.name = std::string(item.connection.name);
            x.affiliate = item.connection.affiliate;
            x.active = item.status.active();
          }
        });
    EXPECT_TRUE(s.ok()) << s;
    return seen;
  }
};

TEST_P(LookupEachTest, ReportsEveryEmailExactlyOnce) {
  Connect(kJane, kA, "Jane Doe");
  std::vector<std::string> emails;
  for (int i = 0; i < 300; ++i) {
    const std::string email = absl::StrCat("customer", i, "@shop.example");
    if (i % 3 == 0) Connect(email, kB);
    emails.push_back(email);
  }
  emails.push_back(kJane);
  emails.push_back("not an email");
  emails.push_back(kJane);  // Repeated emails are reported at each index.
  const std::vector<Seen> seen = Each(emails);
  for (size_t i = 0; i < 300; ++i) {
    SCOPED_TRACE(emails[i]);
    EXPECT_EQ(seen[i].calls, 1);
    EXPECT_FALSE(seen[i].invalid);
    EXPECT_EQ(seen[i].found, i % 3 == 0);
    if (seen[i].found) {
      EXPECT_EQ(seen[i].canonical, emails[i]);
      EXPECT_EQ(seen[i].affiliate, kB);
    }
  }
  for (size_t i : {size_t{300}, size_t{302}}) {
    EXPECT_EQ(seen[i].calls, 1);
    EXPECT_TRUE(seen[i].found);
    EXPECT_EQ(seen[i].canonical, kJaneCanonical);
    EXPECT_EQ(seen[i].entered, kJane);
    EXPECT_EQ(seen[i].name, "Jane Doe");
    EXPECT_TRUE(seen[i].active);
  }
  EXPECT_EQ(seen[301].calls, 1);
  EXPECT_TRUE(seen[301].invalid);
  EXPECT_FALSE(seen[301].found);
}

TEST_P(LookupEachTest, SingleEmailHitMissAndInvalid) {
  Connect(kJane, kA);
  EXPECT_TRUE(Each({kJane})[0].found);
  const Seen miss = Each({"nobody@example.com"})[0];
  EXPECT_EQ(miss.calls, 1);
  EXPECT_FALSE(miss.found);
  EXPECT_FALSE(miss.invalid);
  const Seen bad = Each({"@"})[0];
  EXPECT_EQ(bad.calls, 1);
  EXPECT_TRUE(bad.invalid);
}

TEST_P(LookupEachTest, RefusesTheWholeCallBeforeReportingAnything) {
  int calls = 0;
  const auto count = [&](size_t, const LookupItemView&) { ++calls; };
  std::vector<absl::string_view> many(kMaxBatchLookup + 1, kJane);
  EXPECT_EQ(engine_.LookupEach(kShop, many, std::nullopt, count).code(),
            absl::StatusCode::kInvalidArgument);
  const absl::string_view one[1] = {kJane};
  EXPECT_EQ(engine_.LookupEach(0, one, std::nullopt, count).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_.LookupEach(kShop, one, TimeMs{-1}, count).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(engine_.LookupEach(kShop, {}, kT0, count).ok());
  EXPECT_EQ(calls, 0);
}

INSTANTIATE_TEST_SUITE_P(Shards, LookupEachTest, ::testing::Values(4u, 256u),
                         testing_base::ShardName);

}  // namespace
}  // namespace attrib::engine
