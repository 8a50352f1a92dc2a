// engine/customer_directory_test.cc: the customer directory's arena of 1 MiB chunks
// (customer_directory.h): records that end exactly at a chunk's end (the next one
// must start a new chunk: it crashed attribd before), records of random sizes that
// leave chunk tails unused, replaced names, and Scan seeing every live entry once.
//
// Thread-safety: single-threaded tests.
#include "engine/customer_directory.h"

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
  // 27-byte header + 50-byte key + 51-byte name = 128 bytes: 8192 records fill a
  // 1 MiB chunk to its last byte; the 8193rd begins the next chunk.
  CustomerDirectory d(1);
  constexpr int kRecords = 3 * 8192 + 5;
  const std::string name(51, 'n');
  for (int i = 0; i < kRecords; ++i) {
    CustomerEntry e;
    e.name = name;
    e.orders_seen = static_cast<uint32_t>(i);
    d.Put(1, absl::StrFormat("%050d", i), e);
  }
  ASSERT_EQ(d.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    std::optional<CustomerEntry> e = d.Get(1, absl::StrFormat("%050d", i));
    ASSERT_TRUE(e.has_value()) << i;
    EXPECT_EQ(e->orders_seen, static_cast<uint32_t>(i));
    EXPECT_EQ(e->name, name);
  }
  EXPECT_EQ(ScanAll(d, 1).size(), static_cast<size_t>(kRecords));
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

}  // namespace
}  // namespace attrib::engine
