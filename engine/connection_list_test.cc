// engine/connection_list_test.cc: list pages read through the shards' list order
// (list_index.h) against a model, under random inserts, rewrites (in place and
// moved), erases and compactions; and paging while another thread changes the
// store: no key twice, none skipped that existed for the whole paging.
#include "engine/connection_list.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/connection_store.h"
#include "engine/store_test_util.h"
#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

constexpr TimeMs kAt = 1'700'000'000'000;

// Emails whose canonical form differs from the entered one in several ways (case,
// gmail dots, +tags), so that list keys are derived, not stored.
std::string EmailOf(uint32_t i) {
  switch (i % 4) {
    case 0:
      return absl::StrCat("User", i, "@Shop.com");
    case 1:
      return absl::StrCat("j.o.e", i, "@GMail.com");
    case 2:
      return absl::StrCat("ann", i, "+promo@example.org");
    default:
      return absl::StrCat("b", i * 7919 % 1000, ".x", i, "@y.net");
  }
}

Connection NumberedConnection(ShopId shop, uint32_t i, AffiliateId affiliate, Source source,
                              size_t name_bytes) {
  Connection c = MakeConnection(shop, EmailOf(i), affiliate);
  c.source = source;
  c.name = std::string(name_bytes, 'n');
  return c;
}

void Erase(ConnectionStore& store, ShopId shop, const std::string& canonical) {
  store.Mutate(shop, canonical, [&](KeyEditor& e) { e.Erase(); });
}

using Model = std::map<std::pair<ShopId, std::string>, Connection>;

// Every page of `req` (the cursor is advanced here), concatenated.
std::vector<Connection> ListAll(const ConnectionStore& store, ListRequest req) {
  std::vector<Connection> out;
  for (int pages = 0; pages < 100000; ++pages) {
    absl::StatusOr<ListPage> page = ListConnections(store, req, ShopSettings{}, kAt);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    const uint32_t limit = req.limit == 0 ? kDefaultListPage : req.limit;
    EXPECT_LE(page->items.size(), limit);
    if (!page->next_cursor.empty()) {
      EXPECT_EQ(page->items.size(), limit);
    }
    for (ListItem& it : page->items) out.push_back(std::move(it.connection));
    if (page->next_cursor.empty()) break;
    req.cursor = page->next_cursor;
  }
  return out;
}

std::vector<Connection> Expected(const Model& model, const ListRequest& req) {
  const std::string prefix = absl::AsciiStrToLower(req.email_prefix);
  std::vector<Connection> out;
  for (const auto& [key, c] : model) {
    if (key.first != req.shop || !absl::StartsWith(key.second, prefix)) continue;
    if (req.affiliate && c.affiliate != *req.affiliate) continue;
    if (req.source && c.source != *req.source) continue;
    out.push_back(c);
  }
  return out;
}

TEST(ConnectionListTest, PagesMatchModelUnderRandomChanges) {
  for (const uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with this seed to reproduce)"));
    std::mt19937_64 rng(seed);
    const auto below = [&](uint64_t n) { return static_cast<uint32_t>(rng() % n); };
    ConnectionStore store(4, EmailPolicy::kProvider);
    Model model;
    bool compacted = false;
    size_t garbage = 0;
    const int kOps = 40000;
    for (int op = 0; op < kOps; ++op) {
      const ShopId shop = 1 + below(3);
      const uint32_t i = below(3000);
      const Connection c = NumberedConnection(shop, i, 1 + below(6), static_cast<Source>(below(4)),
                                          below(3) == 0 ? below(40) : 0);
      const auto key = std::make_pair(shop, c.canonical_email);
      if (below(4) == 0) {
        Erase(store, shop, c.canonical_email);
        model.erase(key);
      } else {
        Put(store, c);
        model[key] = c;
      }
      const size_t garbage_now = store.Memory().garbage_bytes;
      compacted |= garbage_now < garbage;  // Only a compaction lowers it.
      garbage = garbage_now;
      if (op % 4000 == 3999) {
        ListRequest req;
        req.shop = 1 + below(3);
        if (below(2) == 0) req.affiliate = 1 + below(6);
        if (below(3) == 0) req.source = static_cast<Source>(below(4));
        const char* kPrefixes[] = {"", "U", "user1", "joe", "ANN2", "b5", "zzz"};
        req.email_prefix = kPrefixes[below(7)];
        req.limit = 1 + below(60);
        SCOPED_TRACE(absl::StrCat("op ", op, " shop ", req.shop, " affiliate ",
                                  req.affiliate.value_or(0), " prefix '", req.email_prefix,
                                  "' limit ", req.limit));
        const std::vector<Connection> got = ListAll(store, req);
        const std::vector<Connection> want = Expected(model, req);
        ASSERT_EQ(got.size(), want.size());
        for (size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], want[k]) << "row " << k;
        // Whole shops too: the order must hold for every row, not only filtered ones.
        req = ListRequest{};
        req.shop = 1 + below(3);
        req.limit = 1000;
        ASSERT_EQ(ListAll(store, req), Expected(model, req));
      }
    }
    // Else the Remap() path was not exercised.
    EXPECT_TRUE(compacted);
  }
}

TEST(ConnectionListTest, RefreshedOrderIsReadWithoutPending) {
  ConnectionStore store(2, EmailPolicy::kProvider);
  for (uint32_t i = 0; i < 500; ++i) Put(store, NumberedConnection(1, i, 1, Source::kApi, 0));
  EXPECT_GE(store.Memory().list_index_bytes, 500u * 5);
  store.RefreshListOrders();
  // Exact-size arrays (5 bytes an entry) and one 16-byte fence per 128 entries of
  // each of the 2 shards.
  EXPECT_GE(store.Memory().list_index_bytes, 500u * 5 + 4 * 16);
  EXPECT_LE(store.Memory().list_index_bytes, 500u * 5 + 6 * 16);
  ListRequest req;
  req.shop = 1;
  req.limit = 1000;
  EXPECT_EQ(ListAll(store, req).size(), 500u);
}

// A writer inserts, moves and erases rows while a reader pages through shop 1 again
// and again. Rows that exist for the whole paging ("stable": updated, sometimes
// moved to a new arena place by a size change, never erased) must each come exactly
// once; every page must be in strictly increasing key order across pages.
TEST(ConnectionListTest, PagingUnderConcurrentChangesSkipsAndRepeatsNothing) {
  const uint64_t seed = 20261201;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  ConnectionStore store(8, EmailPolicy::kProvider);
  std::vector<std::string> stable;
  for (uint32_t i = 0; i < 4000; i += 2) {
    const Connection c = NumberedConnection(1, i, 1 + i % 5, Source::kManual, 0);
    Put(store, c);
    stable.push_back(c.canonical_email);
  }
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937_64 rng(seed);
    while (!done.load(std::memory_order_relaxed)) {
      const uint32_t i = static_cast<uint32_t>(rng() % 4000);
      const Connection c = NumberedConnection(1, i, 1 + rng() % 5, static_cast<Source>(rng() % 4),
                                          rng() % 30);
      if (i % 2 == 0) {
        Put(store, c);  // A stable row: updated, never erased.
      } else if (rng() % 2 == 0) {
        Put(store, c);
      } else {
        Erase(store, 1, c.canonical_email);
      }
    }
  });
  for (int round = 0; round < 20; ++round) {
    ListRequest req;
    req.shop = 1;
    req.limit = 1 + static_cast<uint32_t>(round * 37 % 90);
    const std::vector<Connection> got = ListAll(store, req);
    std::map<std::string, int> seen;
    for (size_t k = 0; k < got.size(); ++k) {
      if (k > 0) {
        ASSERT_LT(got[k - 1].canonical_email, got[k].canonical_email)
            << "round " << round << " row " << k;
      }
      ++seen[got[k].canonical_email];
    }
    for (const std::string& key : stable) {
      ASSERT_EQ(seen[key], 1) << "round " << round << ": stable row " << key;
    }
  }
  done = true;
  writer.join();
}

}  // namespace
}  // namespace attrib::engine
