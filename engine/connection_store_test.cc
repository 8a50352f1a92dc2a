// engine/connection_store_test.cc: the sharded store and its shards: records,
// derived vs stored canonical keys, counts, compaction, batch visits.
#include "engine/connection_store.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/canonical_email.h"
#include "engine/store_test_util.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

TEST(ConnectionStoreTest, RoundTripsEveryField) {
  ConnectionStore store(16, EmailPolicy::kProvider);
  Connection c = MakeConnection(7, "Jane.Doe+promo@GoogleMail.com", 42);
  c.name = "Jane Doe — VIP";
  c.order_count = 3;
  c.last_order_at = 1'700'000'123'456;
  Put(store, c);
  const std::optional<Connection> got = store.Get(7, "janedoe@gmail.com");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, c);
  EXPECT_EQ(got->entered_email, "Jane.Doe+promo@GoogleMail.com");
  // Same email, other shop: another key.
  EXPECT_FALSE(store.Get(8, "janedoe@gmail.com").has_value());
}

TEST(ConnectionStoreTest, NonAsciiKeysAreStoredNotDerived) {
  ConnectionStore store(4, EmailPolicy::kProvider);
  const Connection c = MakeConnection(1, "User@Bücher.de", 5);
  EXPECT_EQ(c.canonical_email, "user@xn--bcher-kva.de");
  Put(store, c);
  const std::optional<Connection> got = store.Get(1, "user@xn--bcher-kva.de");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->entered_email, "User@Bücher.de");
}

TEST(ConnectionStoreTest, ReplaceEraseAndCountsAgainstModel) {
  const uint64_t seed = 7;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  ConnectionStore store(8, EmailPolicy::kProvider);
  std::map<std::pair<ShopId, std::string>, Connection> model;
  for (int step = 0; step < 30'000; ++step) {
    const ShopId shop = 1 + rng() % 3;
    const std::string email = absl::StrCat("User.", rng() % 2000, "@Example.com");
    Connection c = MakeConnection(shop, email, 1 + rng() % 5);
    if (rng() % 3 == 0) c.name = std::string(rng() % 40, 'n');  // Resizes records.
    const auto key = std::make_pair(shop, c.canonical_email);
    if (rng() % 4 == 0) {
      store.Mutate(shop, c.canonical_email, [&](KeyEditor& e) {
        ASSERT_EQ(e.current().has_value(), model.count(key) == 1);
        e.Erase();
      });
      model.erase(key);
    } else {
      Put(store, c);
      model[key] = c;
    }
  }
  EXPECT_EQ(store.size(), model.size());
  const std::vector<size_t> shard_sizes = store.ShardSizes();
  ASSERT_EQ(shard_sizes.size(), store.shard_count());
  std::vector<size_t> expected_sizes(store.shard_count(), 0);
  for (const auto& [key, c] : model) {
    ++expected_sizes[store.ShardOf(KeyHash(key.first, key.second))];
  }
  EXPECT_EQ(shard_sizes, expected_sizes);
  std::map<ShopId, uint64_t> per_shop;
  std::map<std::pair<ShopId, AffiliateId>, uint64_t> per_affiliate;
  for (const auto& [key, c] : model) {
    ASSERT_EQ(store.Get(key.first, key.second), c) << key.second;
    ++per_shop[c.shop];
    ++per_affiliate[std::make_pair(c.shop, c.affiliate)];
  }
  for (ShopId shop = 1; shop <= 3; ++shop) {
    EXPECT_EQ(store.CountShop(shop), per_shop[shop]);
    const auto by_affiliate = store.CountsByAffiliate(shop);
    for (AffiliateId a = 1; a <= 5; ++a) {
      const uint64_t want = per_affiliate[std::make_pair(shop, a)];
      EXPECT_EQ(store.CountAffiliate(shop, a), want);
      const auto it = by_affiliate.find(a);
      EXPECT_EQ(it == by_affiliate.end() ? 0 : it->second, want);
    }
  }
  // Churn produced garbage; compaction keeps it below a quarter (or one chunk).
  const StoreMemory m = store.Memory();
  EXPECT_LE(m.garbage_bytes, (m.live_record_bytes + m.garbage_bytes) / 4 +
                                 8 * RecordArena::kChunkBytes);
}

TEST(ConnectionStoreTest, VisitBatchFindsExactlyTheStoredKeys) {
  ConnectionStore store(16, EmailPolicy::kProvider);
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) {
    const Connection c = MakeConnection(3, absl::StrCat("a", i, "@x.com"), 1 + i % 7);
    if (i % 2 == 0) Put(store, c);
    keys.push_back(c.canonical_email);
  }
  std::vector<absl::string_view> views(keys.begin(), keys.end());
  std::vector<int> found(keys.size(), 0);
  store.VisitBatch(3, views, [&](size_t i, const Shard& shard, record::View v) {
    ++found[i];
    EXPECT_EQ(shard.AffiliateOf(v), 1u + i % 7);
  });
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(found[i], i % 2 == 0 ? 1 : 0) << i;
}

TEST(ConnectionStoreTest, ShardIsAPureFunctionOfTheKey) {
  // KeyHash is part of the data format: pin a few values so that a change to it
  // (which would move keys between shards) cannot go unnoticed.
  EXPECT_EQ(KeyHash(1, "janedoe@gmail.com"), KeyHash(1, "janedoe@gmail.com"));
  EXPECT_NE(KeyHash(1, "janedoe@gmail.com"), KeyHash(2, "janedoe@gmail.com"));
  ConnectionStore a(256, EmailPolicy::kProvider);
  EXPECT_EQ(a.ShardOf(KeyHash(1, "janedoe@gmail.com")),
            a.ShardOf(KeyHash(1, std::string("janedoe@gmail.com"))));
  EXPECT_EQ(StableHash("", 0), 11119800622019502016ull);
  EXPECT_EQ(StableHash("janedoe@gmail.com", 1), 8400719873262296567ull);
}

}  // namespace
}  // namespace attrib::engine
