// bench/key_set_test.cc: the key arena holds exactly RealisticEmail(first + i, seed),
// whatever the number of generating threads.
#include "bench/key_set.h"

#include "bench/email_generator.h"
#include "gtest/gtest.h"

namespace attrib::bench {
namespace {

TEST(KeySetTest, HoldsTheGeneratorsEmails) {
  const KeySet keys = KeySet::Generate(1000, 5000, 42, 3);
  ASSERT_EQ(keys.size(), 5000u);
  size_t bytes = 0;
  for (uint64_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(keys.Get(i), RealisticEmail(1000 + i, 42)) << i;
    bytes += keys.Get(i).size();
    keys.PrefetchOffset(i);
    keys.PrefetchBytes(i);
  }
  EXPECT_EQ(keys.arena_bytes(), bytes);
}

TEST(KeySetTest, ThreadCountDoesNotChangeTheKeys) {
  const KeySet one = KeySet::Generate(0, 777, 7, 1);
  const KeySet many = KeySet::Generate(0, 777, 7, 8);
  for (uint64_t i = 0; i < one.size(); ++i) ASSERT_EQ(one.Get(i), many.Get(i));
}

TEST(KeySetTest, LargeSetsAndEmptySets) {
  const KeySet large = KeySet::Generate(0, 200'000, 1, 2);  // Past one huge page.
  EXPECT_GT(large.arena_bytes(), size_t{2} << 20);
  EXPECT_EQ(large.Get(199'999), RealisticEmail(199'999, 1));
  const KeySet empty = KeySet::Generate(0, 0, 1, 4);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.arena_bytes(), 0u);
  KeySet moved = KeySet::Generate(5, 3, 1, 1);
  KeySet target = std::move(moved);
  EXPECT_EQ(target.Get(2), RealisticEmail(7, 1));
}

}  // namespace
}  // namespace attrib::bench
