// engine/order_shard_test.cc
//
// The compact remembered-order table (order_shard.h) on its own: every field
// round-trips, colliding hashes never mix two orders' decisions, expiry at the
// window edge, replaced records, the memory it accounts, and a randomized
// comparison with a plain map.
//
// Thread-safety: single-threaded tests.
#include "engine/order_shard.h"

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

constexpr TimeMs kDay = kMsPerDay;
constexpr TimeMs kT0 = 1'700'000'000'000;
constexpr TimeMs kWindow = 120 * kDay;

OrderRecord Record(ShopId shop, const std::string& id, TimeMs at, AffiliateId affiliate = 7) {
  OrderRecord r;
  r.shop = shop;
  r.decision.order_id = id;
  r.decision.ordered_at = at;
  r.decision.affiliate = affiliate;
  r.decision.reason = Reason::kConnected;
  r.decision.counted = true;
  r.decision.canonical_email = "jane.doe@example.com";
  r.counted_affiliate = affiliate;
  r.counted_connected_at = at - 3 * kDay;
  return r;
}

// What Insert() stores: the record with its mark set.
OrderRecord Marked(OrderRecord r, TimeMs mark) {
  r.retain_mark = mark;
  return r;
}

std::vector<OrderRecord> All(const OrderShard& shard) {
  std::vector<OrderRecord> out;
  shard.ForEach([&](const OrderRecord& r) { out.push_back(r); });
  return out;
}

TEST(OrderShardTest, EveryFieldRoundTrips) {
  OrderShard shard;
  OrderRecord r;
  r.shop = std::numeric_limits<ShopId>::max();
  AttributionDecision& d = r.decision;
  d.order_id = std::string(kMaxOrderIdBytes, 'x');
  d.ordered_at = kMaxTimeMs;
  d.affiliate = std::numeric_limits<AffiliateId>::max();
  d.reason = Reason::kReferral;
  d.connection_inactive = InactiveReason::kDisabled;
  d.counted = d.connection_created = d.connection_moved = d.reversed = true;
  d.previous_affiliate = 12345678901234ull;
  d.canonical_email = std::string(254, 'e');
  r.counted_affiliate = 99;  // Differs from the credited affiliate.
  r.counted_connected_at = 0;
  r.prev_last_order_at = -5;  // Not a valid time, but the table must not care.
  r.retain_mark = std::numeric_limits<TimeMs>::min();
  const OrderKey key = MakeOrderKey(r.shop, d.order_id);
  shard.Restore(key, r, 0);
  ASSERT_EQ(shard.Find(key), r);

  OrderRecord plain = Record(1, "0", 0, 0);  // "0" is a numeric id; all zeros.
  plain.decision.canonical_email.clear();
  plain.counted_affiliate = 0;
  plain.counted_connected_at = 0;
  plain.decision.counted = false;
  shard.Restore(MakeOrderKey(1, "0"), plain, 0);
  EXPECT_EQ(shard.Find(MakeOrderKey(1, "0")), plain);
  EXPECT_EQ(shard.Find(key), r);
  EXPECT_EQ(All(shard), (std::vector<OrderRecord>{r, plain}));
}

TEST(OrderShardTest, NumericLookingIdsStayDistinct) {
  OrderShard shard;
  const std::vector<std::string> ids = {"123", "0123", "+123", "123 ", "18446744073709551615",
                                        "9999999999999999999", "99999999999999999999", "0"};
  for (size_t i = 0; i < ids.size(); ++i) {
    shard.Insert(MakeOrderKey(1, ids[i]), Record(1, ids[i], kT0, i + 1), kWindow);
  }
  ASSERT_EQ(shard.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::optional<OrderRecord> got = shard.Find(MakeOrderKey(1, ids[i]));
    ASSERT_TRUE(got) << ids[i];
    EXPECT_EQ(got->decision.order_id, ids[i]);
    EXPECT_EQ(got->decision.affiliate, i + 1) << ids[i];
  }
  EXPECT_FALSE(shard.Find(MakeOrderKey(2, "123")));  // Another shop.
  EXPECT_FALSE(shard.Find(MakeOrderKey(1, "00123")));
}

// Pairs of order ids whose hashes agree in the 32 bits a slot keeps (so they
// also share a home slot at every table size): found by search, ~2^16 ids each.
std::vector<std::pair<std::string, std::string>> CollidingPairs(ShopId shop, size_t want) {
  std::map<uint32_t, std::string> seen;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (uint64_t i = 0; pairs.size() < want; ++i) {
    const std::string id = i % 2 ? absl::StrCat(1000000 + i) : absl::StrCat("#", i);
    const auto [it, inserted] =
        seen.emplace(static_cast<uint32_t>(MakeOrderKey(shop, id).hash >> 32), id);
    if (!inserted) pairs.emplace_back(it->second, id);
  }
  return pairs;
}

TEST(OrderShardTest, CollidingHashesNeverShareADecision) {
  OrderShard shard;
  const auto pairs = CollidingPairs(1, 4);
  // The first of each pair, a filler run, then the second of each pair.
  std::vector<std::string> ids;
  for (const auto& p : pairs) ids.push_back(p.first);
  for (int i = 0; i < 50; ++i) ids.push_back(absl::StrCat("filler-", i));
  for (const auto& p : pairs) ids.push_back(p.second);
  for (size_t i = 0; i < ids.size(); ++i) {
    shard.Insert(MakeOrderKey(1, ids[i]),
                 Record(1, ids[i], kT0 + static_cast<TimeMs>(i), i + 1), kWindow);
  }
  EXPECT_FALSE(shard.Find(MakeOrderKey(2, pairs[0].first)));  // Same id, other shop.
  EXPECT_TRUE(shard.MarkReversed(MakeOrderKey(1, pairs[1].second)));
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::optional<OrderRecord> got = shard.Find(MakeOrderKey(1, ids[i]));
    ASSERT_TRUE(got) << ids[i];
    EXPECT_EQ(got->decision.order_id, ids[i]);
    EXPECT_EQ(got->decision.affiliate, i + 1);
    EXPECT_EQ(got->decision.reversed, ids[i] == pairs[1].second) << ids[i];
  }
  // Expire the first of each pair (and the fillers): the second ones stay reachable.
  const size_t firsts = pairs.size() + 50;
  shard.Insert(MakeOrderKey(1, "late"),
               Record(1, "late", kT0 + kWindow + static_cast<TimeMs>(firsts)), kWindow);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(shard.Find(MakeOrderKey(1, ids[i])).has_value(), i >= firsts) << ids[i];
  }
  EXPECT_EQ(shard.size(), pairs.size() + 1);
}

// More than 254 orders with one home slot (hash bits 32-43 equal, so for every
// table size up to 4096 slots): slots past distance 254 find their home through
// the record's hash, on lookup, on expiry (backward shift) and on growth.
TEST(OrderShardTest, ALongProbeRunOfOneHomeStaysCorrect) {
  std::vector<std::string> ids;
  for (uint64_t i = 0; ids.size() < 400; ++i) {
    const std::string id = absl::StrCat("run-", i);
    if (((MakeOrderKey(1, id).hash >> 32) & 0xfff) == 0x5a5) ids.push_back(id);
  }
  OrderShard shard;
  for (size_t i = 0; i < ids.size(); ++i) {
    shard.Insert(MakeOrderKey(1, ids[i]), Record(1, ids[i], kT0 + static_cast<TimeMs>(i), i + 1),
                 kWindow);
    if (i % 2) {  // Others in between, whose homes lie inside the run.
      const std::string other = absl::StrCat("other-", i);
      shard.Insert(MakeOrderKey(1, other), Record(1, other, kT0 + static_cast<TimeMs>(i)), kWindow);
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(shard.Find(MakeOrderKey(1, ids[i]))->decision.affiliate, i + 1) << ids[i];
  }
  // Expire the first 200 of the run (and the others among them).
  shard.Insert(MakeOrderKey(1, "late"), Record(1, "late", kT0 + kWindow + 200), kWindow);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::optional<OrderRecord> got = shard.Find(MakeOrderKey(1, ids[i]));
    ASSERT_EQ(got.has_value(), i >= 200) << ids[i];
    if (got) {
      EXPECT_EQ(got->decision.affiliate, i + 1);
    }
  }
  for (size_t i = 201; i < ids.size(); i += 2) {
    EXPECT_TRUE(shard.Find(MakeOrderKey(1, absl::StrCat("other-", i)))) << i;
  }
  EXPECT_EQ(shard.size(), 200u + 100u + 1u);
}

TEST(OrderShardTest, ExpiresExactlyPastTheWindowEdge) {
  OrderShard shard;
  const OrderKey a = MakeOrderKey(1, "a");
  shard.Insert(a, Record(1, "a", kT0), kWindow);
  shard.Insert(MakeOrderKey(1, "edge"), Record(1, "edge", kT0 + kWindow), kWindow);
  EXPECT_TRUE(shard.Find(a));  // Mark kT0 == high water - window: kept.
  shard.Insert(MakeOrderKey(1, "past"), Record(1, "past", kT0 + kWindow + 1), kWindow);
  EXPECT_FALSE(shard.Find(a));
  EXPECT_TRUE(shard.Find(MakeOrderKey(1, "edge")));
  EXPECT_EQ(shard.size(), 2u);
  EXPECT_EQ(shard.high_water(), kT0 + kWindow + 1);
}

TEST(OrderShardTest, LateOrderTakesTheHighWaterMark) {
  OrderShard shard;
  shard.Insert(MakeOrderKey(1, "now"), Record(1, "now", kT0), kWindow);
  const OrderRecord late = Record(1, "late", kT0 - 100 * kDay);
  shard.Insert(MakeOrderKey(1, "late"), late, kWindow);
  EXPECT_EQ(shard.Find(MakeOrderKey(1, "late")), Marked(late, kT0));
}

TEST(OrderShardTest, RestoringAKeyAgainReplacesIt) {
  OrderShard shard;
  const OrderKey k = MakeOrderKey(3, "dup");
  shard.Restore(k, Marked(Record(3, "dup", kT0, 1), kT0), 0);
  shard.Restore(MakeOrderKey(3, "other"), Marked(Record(3, "other", kT0, 2), kT0), 0);
  shard.Restore(k, Marked(Record(3, "dup", kT0, 3), kT0 + 1), 0);
  EXPECT_EQ(shard.size(), 2u);
  EXPECT_EQ(shard.Find(k)->decision.affiliate, 3u);
  const std::vector<OrderRecord> all = All(shard);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].decision.order_id, "other");
  EXPECT_EQ(all[1].decision.affiliate, 3u);
  // Expiring the replaced record leaves the replacement.
  shard.Insert(MakeOrderKey(3, "new"), Record(3, "new", kT0 + kWindow + 1), kWindow);
  EXPECT_EQ(shard.Find(k)->decision.affiliate, 3u);
  EXPECT_FALSE(shard.Find(MakeOrderKey(3, "other")));
}

// Orders as bench/memory_report makes them: 13-digit ids, realistic emails,
// counted against a connection made earlier. The table's own accounting, which
// the RSS figure in the README checks.
TEST(OrderShardTest, TypicalOrdersCostUnder64Bytes) {
  OrderShard shard;
  constexpr int kOrders = 200'000;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = absl::StrCat(4'000'000'000'000LL + i);
    OrderRecord r = Record(1 + i % 10, id, kT0 + i, 1 + (i * 7919) % 1000);
    r.decision.canonical_email = absl::StrCat("firstname.lastname", i % 1000, "@gmail.com");
    if (i % 3 == 0) r.prev_last_order_at = kT0 + i / 2;
    shard.Insert(MakeOrderKey(r.shop, id), r, kWindow);
  }
  ASSERT_EQ(shard.size(), static_cast<size_t>(kOrders));
  const double per_order = static_cast<double>(shard.MemoryBytes()) / kOrders;
  EXPECT_LE(per_order, 64.0);
  EXPECT_GE(per_order, 30.0);  // The accounting counts the records themselves.
  // Once the window has moved past them all, the chunks and most slots are freed.
  for (int i = 0; i < 100; ++i) {
    const std::string id = absl::StrCat("x", i);
    shard.Insert(MakeOrderKey(1, id), Record(1, id, kT0 + 2 * kWindow), kWindow);
  }
  EXPECT_EQ(shard.size(), 100u);
  EXPECT_LT(shard.MemoryBytes(), 64u * 1024);
}

// Random inserts, restores of existing keys, reversals and expiry against a map.
TEST(OrderShardTest, MatchesAPlainMapUnderRandomUse) {
  const uint64_t seed = 20261201;
  std::mt19937_64 rng(seed);
  OrderShard shard;
  std::map<std::pair<ShopId, std::string>, OrderRecord> model;
  std::deque<std::pair<ShopId, std::string>> order;  // Insertion order of the model.
  TimeMs high = 0;  // As the shard's high-water mark starts.
  const TimeMs window = 10 * kDay;
  for (int step = 0; step < 30'000; ++step) {
    const ShopId shop = 1 + rng() % 3;
    const std::string id =
        rng() % 2 ? absl::StrCat(rng() % 5000) : absl::StrCat("o-", rng() % 5000);
    const OrderKey key = MakeOrderKey(shop, id);
    const auto k = std::make_pair(shop, id);
    const int op = static_cast<int>(rng() % 10);
    if (op < 7) {
      if (model.count(k)) continue;  // The engine inserts only unknown ids.
      const TimeMs at = kT0 + step * (kDay / 1000) - static_cast<TimeMs>(rng() % (20 * kDay));
      OrderRecord r = Record(shop, id, at, 1 + rng() % 50);
      if (rng() % 4 == 0) r.decision.canonical_email.clear();
      shard.Insert(key, r, window);
      high = std::max(high, at);
      model[k] = Marked(r, high);
      order.push_back(k);
      // Expire the model the same way: marks are non-decreasing in insertion order.
      while (!order.empty()) {
        auto it = model.find(order.front());
        if (it != model.end() && it->second.retain_mark >= high - window) break;
        if (it != model.end()) model.erase(it);
        order.pop_front();
      }
    } else if (op < 9) {
      const bool known = model.count(k) > 0;
      ASSERT_EQ(shard.MarkReversed(key), known) << "seed " << seed << " step " << step;
      if (known) model[k].decision.reversed = true;
    } else {
      ASSERT_EQ(shard.Find(key), model.count(k) ? std::optional(model[k]) : std::nullopt)
          << "seed " << seed << " step " << step;
    }
    ASSERT_EQ(shard.size(), model.size()) << "seed " << seed << " step " << step;
  }
  std::vector<OrderRecord> want;
  for (const auto& k : order) {
    if (auto it = model.find(k); it != model.end()) want.push_back(it->second);
  }
  EXPECT_EQ(All(shard), want) << "seed " << seed;
}

}  // namespace
}  // namespace attrib::engine
