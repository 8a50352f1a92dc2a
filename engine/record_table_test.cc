// engine/record_table_test.cc: the compact hash index, against a std::map model.
#include "engine/record_table.h"

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "engine/stable_hash.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

// Refs are the keys themselves; the hash is a stable hash of the ref.
uint64_t HashOf(uint32_t ref) { return StableHash64(ref); }

bool Contains(const RecordTable& t, uint32_t ref, RecordTable::Position* pos) {
  return t.Find(HashOf(ref), [ref](uint32_t r) { return r == ref; }, pos);
}

TEST(RecordTableTest, InsertFindEraseAgainstModel) {
  const uint64_t seed = 42;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  RecordTable table;
  std::map<uint32_t, bool> model;
  for (int step = 0; step < 200'000; ++step) {
    const uint32_t ref = static_cast<uint32_t>(rng() % 20'000);
    RecordTable::Position pos;
    const bool present = Contains(table, ref, &pos);
    ASSERT_EQ(present, model.count(ref) == 1) << "step " << step << " ref " << ref;
    if (present && rng() % 2 == 0) {
      table.Erase(pos);
      model.erase(ref);
    } else if (!present) {
      table.Insert(HashOf(ref), ref, HashOf);
      model[ref] = true;
    }
    ASSERT_EQ(table.size(), model.size());
  }
  size_t visited = 0;
  table.ForEach([&](uint32_t ref) {
    EXPECT_EQ(model.count(ref), 1u);
    ++visited;
  });
  EXPECT_EQ(visited, model.size());
}

TEST(RecordTableTest, CollidingTagsAreTellApartByTheCallback) {
  // All keys share one hash: every probe sees every tag match, and only the
  // callback decides. Overflows across buckets must still find everything.
  RecordTable table;
  const uint64_t hash = 12345;
  for (uint32_t ref = 0; ref < 100; ++ref) {
    table.Insert(hash, ref, [hash](uint32_t) { return hash; });
  }
  for (uint32_t ref = 0; ref < 100; ++ref) {
    RecordTable::Position pos;
    ASSERT_TRUE(table.Find(hash, [ref](uint32_t r) { return r == ref; }, &pos)) << ref;
    EXPECT_EQ(table.RefAt(pos), ref);
  }
  // Erasing from the middle of the chain keeps later entries reachable.
  for (uint32_t ref = 0; ref < 100; ref += 2) {
    RecordTable::Position pos;
    ASSERT_TRUE(table.Find(hash, [ref](uint32_t r) { return r == ref; }, &pos));
    table.Erase(pos);
  }
  for (uint32_t ref = 1; ref < 100; ref += 2) {
    RecordTable::Position pos;
    EXPECT_TRUE(table.Find(hash, [ref](uint32_t r) { return r == ref; }, &pos)) << ref;
  }
  EXPECT_EQ(table.size(), 50u);
}

TEST(RecordTableTest, ChurnDoesNotGrowWithoutBound) {
  // Insert/erase cycles leave tombstones; the table must sweep them instead of
  // doubling forever.
  RecordTable table;
  for (uint32_t round = 0; round < 200; ++round) {
    for (uint32_t i = 0; i < 1000; ++i) {
      const uint32_t ref = round * 1000 + i;
      table.Insert(HashOf(ref), ref, HashOf);
    }
    for (uint32_t i = 0; i < 1000; ++i) {
      const uint32_t ref = round * 1000 + i;
      RecordTable::Position pos;
      ASSERT_TRUE(Contains(table, ref, &pos));
      table.Erase(pos);
    }
  }
  EXPECT_EQ(table.size(), 0u);
  EXPECT_LE(table.bucket_count(), 1024u);
}

TEST(RecordTableTest, MemoryPerEntryAtScale) {
  RecordTable table;
  const uint32_t n = 1'000'000;
  for (uint32_t ref = 0; ref < n; ++ref) table.Insert(HashOf(ref), ref, HashOf);
  // 64-byte buckets of 12 slots, kept between 7/16 and 7/8 full.
  const double per_entry = static_cast<double>(table.memory_bytes()) / n;
  EXPECT_LE(per_entry, 64.0 / 12 / (7.0 / 16));
  for (uint32_t ref = 0; ref < n; ref += 997) {
    RecordTable::Position pos;
    EXPECT_TRUE(Contains(table, ref, &pos));
  }
}

}  // namespace
}  // namespace attrib::engine
