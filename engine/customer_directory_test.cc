// engine/customer_directory_test.cc: the customer directory's arena of 1 MiB chunks
// (customer_directory.h): records that end exactly at a chunk's end (the next one
// must start a new chunk: it crashed attribd before), records of random sizes that
// leave chunk tails unused, replaced names, and Scan seeing every live entry once.
//
// Thread-safety: single-threaded tests.
#include "engine/customer_directory.h"

#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

// Every live entry of `shop`, by Scan in pages of 100.
std::vector<std::string> ScanAll(const CustomerDirectory& d, ShopId shop) {
  std::vector<std::string> keys;
  CustomerDirectory::Position at;
  for (;;) {
    std::vector<CustomerDirectory::ScannedEntry> page;
    std::optional<CustomerDirectory::Position> next = d.Scan(shop, at, 100, 100'000, &page);
    for (const auto& e : page) keys.push_back(e.key);
    if (!next.has_value()) return keys;
    at = *next;
  }
}

TEST(CustomerDirectoryTest, RecordsThatFillAChunkExactlyContinueInTheNext) {
  // 18-byte header (flags, key length, 1-byte shop index, name length, u16 orders
  // seen, two u48 times) + 50-byte key + 60-byte name = 128 bytes: 8192 records fill
  // a 1 MiB chunk to its last byte; the 8193rd begins the next chunk.
  CustomerDirectory d(1);
  constexpr int kRecords = 3 * 8192 + 5;
  const std::string name(60, 'n');
  for (int i = 0; i < kRecords; ++i) {
    CustomerEntry e;
    e.name = name;
    e.orders_seen = static_cast<uint32_t>(i + 1);
    e.first_order_at = 1;
    e.last_order_at = 2;
    d.Put(1, absl::StrFormat("%050d", i), e);
  }
  ASSERT_EQ(d.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    std::optional<CustomerEntry> e = d.Get(1, absl::StrFormat("%050d", i));
    ASSERT_TRUE(e.has_value()) << i;
    EXPECT_EQ(e->orders_seen, static_cast<uint32_t>(i + 1));
    EXPECT_EQ(e->name, name);
  }
  EXPECT_EQ(ScanAll(d, 1).size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(d.Memory().bytes - d.Memory().bytes % (1 << 20), size_t{4} << 20);  // 4 chunks.
}

TEST(CustomerDirectoryTest, RandomSizesAndRenamesKeepEveryEntry) {
  const uint32_t seed = 20261202;
  std::mt19937 rng(seed);
  CustomerDirectory d(2);
  std::vector<std::string> keys;
  std::vector<std::string> names;
  for (int i = 0; i < 40'000; ++i) {
    const size_t key_len = 1 + rng() % 120;
    std::string key = absl::StrFormat("%d-", i);
    key.resize(std::max(key.size(), key_len), 'k');
    CustomerEntry e;
    e.name.assign(rng() % 120, 'a' + static_cast<char>(i % 26));
    d.Put(1 + i % 3, key, e);
    keys.push_back(key);
    names.push_back(e.name);
  }
  // Renames of another length move a record (the old bytes become dead).
  for (size_t i = 0; i < keys.size(); i += 7) {
    CustomerEntry e;
    e.name.assign(rng() % 120, 'z');
    d.Put(1 + i % 3, keys[i], e);
    names[i] = e.name;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    std::optional<CustomerEntry> e = d.Get(1 + i % 3, keys[i]);
    ASSERT_TRUE(e.has_value()) << "seed " << seed << " key " << i;
    ASSERT_EQ(e->name, names[i]) << "seed " << seed << " key " << i;
  }
  size_t scanned = 0;
  for (ShopId shop = 1; shop <= 3; ++shop) {
    const std::vector<std::string> got = ScanAll(d, shop);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << "seed " << seed;
    scanned += got.size();
  }
  EXPECT_EQ(scanned, keys.size()) << "seed " << seed;
}

// Every live entry by ForEachLocked, as (shop, key) -> entry.
std::map<std::pair<ShopId, std::string>, CustomerEntry> All(const CustomerDirectory& d) {
  std::map<std::pair<ShopId, std::string>, CustomerEntry> all;
  d.ForEachLocked(
      [&](ShopId shop, absl::string_view key, const CustomerEntry& e) {
        EXPECT_TRUE(all.emplace(std::make_pair(shop, std::string(key)), e).second) << key;
      },
      [] {});
  return all;
}

TEST(CustomerDirectoryTest, ShortestRecordsFillAChunkExactly) {
  // No name, no orders: 3-byte header (flags, key length, shop index) + 125-byte key.
  CustomerDirectory d(1);
  constexpr int kRecords = 2 * 8192 + 3;
  for (int i = 0; i < 2 * 8192; ++i) d.Put(7, absl::StrFormat("%0125d", i), CustomerEntry{});
  EXPECT_EQ(d.Memory().bytes - d.Memory().bytes % (1 << 20), size_t{2} << 20);  // Full, no more.
  for (int i = 2 * 8192; i < kRecords; ++i) {
    d.Put(7, absl::StrFormat("%0125d", i), CustomerEntry{});
  }
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(d.Get(7, absl::StrFormat("%0125d", i)), CustomerEntry{}) << i;
  }
  EXPECT_EQ(ScanAll(d, 7).size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(All(d).size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(d.Memory().bytes - d.Memory().bytes % (1 << 20), size_t{3} << 20);
}

TEST(CustomerDirectoryTest, ChunkTailsOfZeroToFourBytesAreSkipped) {
  // A first record of 128 - k bytes, then 128-byte records: the first chunk ends with
  // an unused tail of k bytes (k < 2 cannot even hold the "unused" mark).
  for (int k = 0; k <= 4; ++k) {
    CustomerDirectory d(1);
    d.Put(1, std::string(125 - k, 'f'), CustomerEntry{});
    constexpr int kRecords = 8192 + 10;
    for (int i = 0; i < kRecords; ++i) d.Put(1, absl::StrFormat("%0125d", i), CustomerEntry{});
    ASSERT_EQ(d.Get(1, std::string(125 - k, 'f')), CustomerEntry{}) << "tail " << k;
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(d.Get(1, absl::StrFormat("%0125d", i)).has_value()) << "tail " << k << " " << i;
    }
    EXPECT_EQ(ScanAll(d, 1).size(), static_cast<size_t>(kRecords + 1)) << "tail " << k;
    EXPECT_EQ(All(d).size(), static_cast<size_t>(kRecords + 1)) << "tail " << k;
  }
}

TEST(CustomerDirectoryTest, OrdersSeenOfEveryWidthAndTimesRoundTrip) {
  CustomerDirectory d(1);
  const std::vector<CustomerEntry> cases = {
      {"", 0, 0, 0},
      {"", 5, 0, 0},  // A time without orders seen is kept as given.
      {"", 0, 9, 0},
      {"N", 1, 1, 1},
      {"", kMaxTimeMs, kMaxTimeMs, 0xFFFF},
      {"", 1, kMaxTimeMs, 0x10000},
      {std::string(255, 'x'), 1'764'633'600'000, 1'764'633'600'001,
       std::numeric_limits<uint32_t>::max()},
  };
  for (size_t i = 0; i < cases.size(); ++i) d.Put(1, absl::StrFormat("k%d", i), cases[i]);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(d.Get(1, absl::StrFormat("k%d", i)), cases[i]) << i;
  }
  const auto all = All(d);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(all.at({1, absl::StrFormat("k%d", i)}), cases[i]) << i;
  }
  EXPECT_EQ(d.Memory().dead_bytes, 0u);
}

TEST(CustomerDirectoryTest, SameLengthChangesAreInPlaceOthersReappend) {
  CustomerDirectory d(1);
  const std::string key = "jane@example.com";
  const auto put = [&](const CustomerEntry& e) {
    d.Update(
        3, key, [&](const CustomerEntry*) { return std::optional<CustomerEntry>(e); },
        [](const CustomerEntry&) {});
    EXPECT_EQ(d.Get(3, key), e);
    return d.Memory().dead_bytes;
  };
  size_t dead = put(CustomerEntry{"", 0, 0, 0});
  EXPECT_EQ(dead, 0u);
  // The first order adds the counts and times: another length, re-appended.
  const size_t after_first = put(CustomerEntry{"", 10, 10, 1});
  EXPECT_GT(after_first, dead);
  // More orders, up to 0xFFFF: in place.
  EXPECT_EQ(put(CustomerEntry{"", 10, 20, 2}), after_first);
  EXPECT_EQ(put(CustomerEntry{"", 10, kMaxTimeMs, 0xFFFF}), after_first);
  // 0x10000 orders need 4 bytes: re-appended once, then in place again.
  const size_t after_wide = put(CustomerEntry{"", 10, kMaxTimeMs, 0x10000});
  EXPECT_GT(after_wide, after_first);
  EXPECT_EQ(put(CustomerEntry{"", 10, kMaxTimeMs, std::numeric_limits<uint32_t>::max()}),
            after_wide);
  // A name: re-appended; a name of the same length: in place; no name: re-appended.
  const size_t named = put(CustomerEntry{"Jane", 10, kMaxTimeMs, 7});
  EXPECT_GT(named, after_wide);
  EXPECT_EQ(put(CustomerEntry{"June", 10, kMaxTimeMs, 8}), named);
  EXPECT_GT(put(CustomerEntry{"", 10, kMaxTimeMs, 8}), named);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(ScanAll(d, 3), std::vector<std::string>{key});
  EXPECT_TRUE(d.Erase(3, key));
  EXPECT_FALSE(d.Get(3, key).has_value());
  EXPECT_TRUE(ScanAll(d, 3).empty());
  d.Put(3, key, CustomerEntry{"Back", 1, 2, 3});
  EXPECT_EQ(d.Get(3, key), (CustomerEntry{"Back", 1, 2, 3}));
}

TEST(CustomerDirectoryTest, ManyShopsInOneShardKeepTheirEntriesApart) {
  // 20,000 shops in one shard: shop indexes of 1, 2 and 3 varint bytes; the same key
  // in every shop; extreme shop ids.
  CustomerDirectory d(1);
  std::vector<ShopId> shops = {0, std::numeric_limits<ShopId>::max()};
  for (ShopId s = 1; s <= 20'000; ++s) shops.push_back(s * 7919);
  for (size_t i = 0; i < shops.size(); ++i) {
    d.Put(shops[i], "same@example.com", CustomerEntry{"", 1, 2, static_cast<uint32_t>(i)});
    d.Put(shops[i], absl::StrFormat("c%d@example.com", i), CustomerEntry{});
  }
  for (size_t i = 0; i < shops.size(); ++i) {
    ASSERT_EQ(d.Get(shops[i], "same@example.com"),
              (CustomerEntry{"", 1, 2, static_cast<uint32_t>(i)}))
        << i;
    ASSERT_TRUE(d.Get(shops[i], absl::StrFormat("c%d@example.com", i)).has_value()) << i;
    ASSERT_FALSE(d.Get(shops[i], absl::StrFormat("c%d@example.com", i + 1)).has_value()) << i;
  }
  EXPECT_FALSE(d.Get(12345, "same@example.com").has_value());  // Not one of the shops.
  for (size_t i : {size_t{0}, size_t{1}, size_t{200}, size_t{20'001}}) {
    const std::vector<std::string> keys = ScanAll(d, shops[i]);
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()),
              (std::set<std::string>{"same@example.com", absl::StrFormat("c%d@example.com", i)}))
        << i;
  }
  const auto all = All(d);
  EXPECT_EQ(all.size(), 2 * shops.size());
  EXPECT_EQ(all.at({shops.back(), "same@example.com"}).orders_seen, shops.size() - 1);
}

TEST(CustomerDirectoryTest, LongestKeyAndNameAndAbsorbSaturates) {
  CustomerDirectory d(2);
  const std::string key(255, 'k');
  const std::string name(255, 'n');
  d.Put(9, key, CustomerEntry{name, 3, 4, std::numeric_limits<uint32_t>::max() - 1});
  d.Put(9, "loser", CustomerEntry{"L", 1, 8, 5});
  bool called = false;
  d.Absorb(9, key, "loser", nullptr, [&](const CustomerEntry* result, bool stored) {
    called = true;
    ASSERT_NE(result, nullptr);
    EXPECT_TRUE(stored);
    EXPECT_EQ(*result, (CustomerEntry{name, 1, 8, std::numeric_limits<uint32_t>::max()}));
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(d.Get(9, key), (CustomerEntry{name, 1, 8, std::numeric_limits<uint32_t>::max()}));
  EXPECT_FALSE(d.Get(9, "loser").has_value());
  EXPECT_EQ(ScanAll(d, 9), std::vector<std::string>{key});
}

TEST(CustomerDirectoryTest, ScanFromAnyOffsetReturnsOnlyWholeEntriesOfTheShop) {
  // A cursor is the caller's: from an offset inside a record, Scan starts at the next
  // record instead of decoding another shop's bytes as one.
  CustomerDirectory d(1);
  std::set<std::string> shop1;
  for (int i = 0; i < 300; ++i) {
    const std::string key = absl::StrFormat("customer%d@example.com", i);
    const ShopId shop = 1 + i % 2;
    d.Put(shop, key, CustomerEntry{i % 3 == 0 ? "" : "Name", 0, 0, static_cast<uint32_t>(i)});
    if (shop == 1) shop1.insert(key);
  }
  for (uint64_t offset = 0; offset < 20'000; offset += 7) {
    std::vector<CustomerDirectory::ScannedEntry> page;
    (void)d.Scan(1, CustomerDirectory::Position{0, offset}, 1000, 100'000, &page);
    for (const auto& e : page) {
      ASSERT_TRUE(shop1.contains(e.key)) << offset << " " << e.key;
    }
    if (offset == 0) {
      EXPECT_EQ(page.size(), shop1.size());
    }
  }
}

}  // namespace
}  // namespace attrib::engine
