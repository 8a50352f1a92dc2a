// engine/connection_list.cc: paged, filtered listing of a shop's connections.
#include "engine/connection_list.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/canonical_email.h"
#include "engine/rules.h"

namespace attrib::engine {
namespace {

constexpr absl::string_view kCursorMagic = "c1";

}  // namespace

std::string EncodeListCursor(absl::string_view last_canonical) {
  std::string out;
  absl::WebSafeBase64Escape(absl::StrCat(kCursorMagic, last_canonical), &out);
  return out;
}

absl::StatusOr<std::string> DecodeListCursor(absl::string_view cursor) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(cursor, &raw) || !absl::StartsWith(raw, kCursorMagic) ||
      raw.size() > kCursorMagic.size() + kMaxEmailBytes) {
    return absl::InvalidArgumentError(
        "cursor: not a cursor returned by list (pass next_cursor unchanged)");
  }
  return raw.substr(kCursorMagic.size());
}

absl::StatusOr<ListPage> ListConnections(const ConnectionStore& store,
                                         const ListRequest& request,
                                         const ShopSettings& settings, TimeMs at) {
  if (request.shop == 0) return absl::InvalidArgumentError("shop: must be > 0");
  if (request.affiliate.has_value() && *request.affiliate == 0) {
    return absl::InvalidArgumentError("affiliate: must be > 0");
  }
  if (request.limit > kMaxListPage) {
    return absl::InvalidArgumentError(absl::StrCat("limit: ", request.limit,
                                                   " is over the maximum page size ",
                                                   kMaxListPage));
  }
  if (request.email_prefix.size() > kMaxEmailBytes) {
    return absl::InvalidArgumentError(absl::StrCat("email_prefix: ",
                                                   request.email_prefix.size(),
                                                   " bytes, the limit is ", kMaxEmailBytes));
  }
  std::string after;
  const bool has_cursor = !request.cursor.empty();
  if (has_cursor) {
    absl::StatusOr<std::string> decoded = DecodeListCursor(request.cursor);
    if (!decoded.ok()) return decoded.status();
    after = *std::move(decoded);
  }
  const std::string prefix = absl::AsciiStrToLower(request.email_prefix);
  const size_t limit = request.limit == 0 ? kDefaultListPage : request.limit;

  // The smallest limit+1 matching keys: a max-heap on the canonical email, so the
  // extra one tells whether another page exists. Each shard's records are read in
  // list order from the first key after the cursor (list_index.h), and a shard's
  // scan stops at its first key that cannot enter the heap.
  // A max-heap (std::push_heap) of at most limit+1 rows; a row that replaces the
  // top reuses its string buffers, so a page allocates for ~limit rows, not for
  // every row that was a candidate for a while.
  const auto by_email = [](const Connection& a, const Connection& b) {
    return a.canonical_email < b.canonical_email;
  };
  std::vector<Connection> best;
  best.reserve(limit + 1);
  const absl::string_view start =
      has_cursor && absl::string_view(after) > absl::string_view(prefix) ? absl::string_view(after)
                                                                       : absl::string_view(prefix);
  // The affiliate filter is answered by the entry tags first, unread.
  std::optional<uint8_t> tag;
  if (request.affiliate) tag = ListIndex::Tag(*request.affiliate);
  for (uint32_t i = 0; i < store.shard_count(); ++i) {
    store.ReadListOrder(i, [&](const Shard& shard, const ListIndex::Entries& e) {
      const auto key_of = [&](uint32_t ref, CanonicalBuffer* b) {
        return shard.ListKeyAt(ref, b);
      };
      const auto prefetch = [&](uint32_t ref) { shard.PrefetchRecord(ref); };
      // Candidates are the entries whose tags pass (all without an affiliate filter); their records are prefetched
      // kAhead candidates before they are read, so the reads' misses overlap. The
      // scan ends at the first record past the shop or the prefix (entries skipped
      // by tag are not read: the scan may run a little past the range's end).
      constexpr size_t kAhead = 8;
      size_t ring[kAhead];
      size_t queued = 0;
      size_t taken = 0;
      size_t scan = ListIndex::Seek(e, ListIndex::Key{request.shop, start}, key_of, prefetch);
      const auto enqueue = [&] {
        scan = ListIndex::NextTagMatch(e, scan, tag);
        if (scan >= e.size) return;
        shard.PrefetchRecord(e.refs[scan]);
        ring[queued++ % kAhead] = scan++;
      };
      while (queued - taken < kAhead && scan < e.size) enqueue();
      CanonicalBuffer buf;
      // Once the heap is full, a record at or past its top ends the shard's scan
      // whether it matches or not (the order is sorted); for records that fail a
      // filter the key is derived only every kBoundEvery-th one, to bound a scan
      // through a selective filter without keying every record.
      constexpr size_t kBoundEvery = 8;
      size_t rejected = 0;
      const auto past_bound = [&](absl::string_view canonical) {
        return best.size() > limit &&
               canonical >= absl::string_view(best.front().canonical_email);
      };
      while (taken < queued) {
        const size_t pos = ring[taken++ % kAhead];
        enqueue();
        const record::View v = shard.ViewAt(e.refs[pos]);
        if (v.dead()) continue;
        if (shard.ShopOf(v) != request.shop) break;
        // The filters that need no key first (deriving it is the dearer part of a
        // read), unless the prefix bounds the scan: then the first record past it
        // ends the scan even if it does not match.
        absl::string_view canonical;
        if (!prefix.empty()) {
          canonical = shard.CanonicalOf(v, &buf);
          if (!absl::StartsWith(canonical, prefix)) break;
        }
        if ((request.affiliate && shard.AffiliateOf(v) != *request.affiliate) ||
            (request.source && v.source() != *request.source)) {
          if (++rejected % kBoundEvery == 0 && best.size() > limit) {
            if (prefix.empty()) canonical = shard.CanonicalOf(v, &buf);
            if (past_bound(canonical)) break;
          }
          continue;
        }
        if (prefix.empty()) canonical = shard.CanonicalOf(v, &buf);
        if (has_cursor && canonical <= absl::string_view(after)) continue;
        if (past_bound(canonical)) break;
        if (best.size() > limit) {
          std::pop_heap(best.begin(), best.end(), by_email);  // The top goes to the back.
        } else {
          best.emplace_back();
        }
        CanonicalBuffer view_buf;
        AssignConnection(shard.ViewOf(v, &view_buf), &best.back());
        std::push_heap(best.begin(), best.end(), by_email);
      }
    });
  }
  std::sort_heap(best.begin(), best.end(), by_email);

  ListPage page;
  const bool more = best.size() > limit;
  if (more) best.pop_back();
  for (Connection& c : best) {
    const ConnectionStatus status = EvaluateConnection(c, settings, at);
    page.items.push_back(ListItem{std::move(c), status});
  }
  if (more) page.next_cursor = EncodeListCursor(page.items.back().connection.canonical_email);
  return page;
}

}  // namespace attrib::engine
