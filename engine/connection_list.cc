// engine/connection_list.cc: paged, filtered listing of a shop's connections.
#include "engine/connection_list.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// The smallest limit+1 matching rows seen so far (the extra one tells whether
// another page exists): a max-heap on the canonical email. A row that replaces the
// top reuses its string buffers, so a page allocates for ~limit rows, not for every
// row that was a candidate for a while.
class PageHeap {
 public:
  explicit PageHeap(size_t limit) : limit_(limit) { rows_.reserve(limit + 1); }

  // Whether `canonical` can no longer enter (the heap is full and it is not below
  // the top).
  bool PastBound(absl::string_view canonical) const {
    return rows_.size() > limit_ && canonical >= absl::string_view(rows_.front().canonical_email);
  }
  bool full() const { return rows_.size() > limit_; }
  // Adds the record (the caller checked !PastBound).
  void Offer(const Shard& shard, record::View v) {
    if (full()) {
      std::pop_heap(rows_.begin(), rows_.end(), ByEmail);  // The top goes to the back.
    } else {
      rows_.emplace_back();
    }
    CanonicalBuffer buf;
    AssignConnection(shard.ViewOf(v, &buf), &rows_.back());
    std::push_heap(rows_.begin(), rows_.end(), ByEmail);
  }
  // The rows in canonical-email order; empties the heap.
  std::vector<Connection> TakeSorted() {
    std::sort_heap(rows_.begin(), rows_.end(), ByEmail);
    return std::move(rows_);
  }

 private:
  static bool ByEmail(const Connection& a, const Connection& b) {
    return a.canonical_email < b.canonical_email;
  }
  const size_t limit_;
  std::vector<Connection> rows_;
};

// What a page reads, decoded and normalized.
struct PageQuery {
  ShopId shop = 0;
  std::optional<AffiliateId> affiliate;
  std::optional<uint8_t> tag;  // The affiliate's entry tag (list_index.h).
  std::optional<Source> source;
  std::string prefix;          // Lowercased.
  std::optional<std::string> after;  // The cursor's key.
  absl::string_view start;     // Seek here: the larger of prefix and after.
};

// Offers `heap` the rows of one shard (its order `e`) that match `q`, reading from
// the seek position while its keys can still enter the heap.
void ScanShard(const Shard& shard, const ListIndex::Entries& e, const PageQuery& q,
               PageHeap* heap) {
  const auto key_of = [&](uint32_t ref, CanonicalBuffer* b) { return shard.ListKeyAt(ref, b); };
  const auto prefetch = [&](uint32_t ref) { shard.PrefetchRecord(ref); };
  // Candidates are the entries whose tags pass (all, without an affiliate filter);
  // their records are prefetched kAhead candidates before they are read, so the
  // reads' misses overlap. The scan ends at the first record read past the shop or
  // the prefix (entries skipped by tag are not read: it may run a little past the
  // range's end).
  constexpr size_t kAhead = 8;
  size_t ring[kAhead];
  size_t queued = 0;
  size_t taken = 0;
  size_t scan = ListIndex::Seek(e, ListIndex::Key{q.shop, q.start}, key_of, prefetch);
  const auto enqueue = [&] {
    scan = ListIndex::NextTagMatch(e, scan, q.tag);
    if (scan >= e.size) return;
    shard.PrefetchRecord(e.refs[scan]);
    ring[queued++ % kAhead] = scan++;
  };
  while (queued - taken < kAhead && scan < e.size) enqueue();
  // Once the heap is full, a record at or past its top ends the scan whether it
  // matches or not (the order is sorted); of the records that fail a filter only
  // every kBoundEvery-th is keyed for that check, so that a selective filter's scan
  // is bounded without keying every record.
  constexpr size_t kBoundEvery = 8;
  size_t rejected = 0;
  CanonicalBuffer buf;
  while (taken < queued) {
    const size_t pos = ring[taken++ % kAhead];
    enqueue();
    const record::View v = shard.ViewAt(e.refs[pos]);
    if (v.dead()) continue;
    if (shard.ShopOf(v) != q.shop) break;
    // The filters that need no key first (deriving it is the dearer part of a read),
    // unless the prefix bounds the scan: then the first record past it ends the scan
    // even if it does not match.
    absl::string_view canonical;
    if (!q.prefix.empty()) {
      canonical = shard.CanonicalOf(v, &buf);
      if (!absl::StartsWith(canonical, q.prefix)) break;
    }
    if ((q.affiliate && shard.AffiliateOf(v) != *q.affiliate) ||
        (q.source && v.source() != *q.source)) {
      if (++rejected % kBoundEvery == 0 && heap->full()) {
        if (q.prefix.empty()) canonical = shard.CanonicalOf(v, &buf);
        if (heap->PastBound(canonical)) break;
      }
      continue;
    }
    if (q.prefix.empty()) canonical = shard.CanonicalOf(v, &buf);
    if (q.after && canonical <= absl::string_view(*q.after)) continue;
    if (heap->PastBound(canonical)) break;
    heap->Offer(shard, v);
  }
}

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
  PageQuery q;
  q.shop = request.shop;
  q.affiliate = request.affiliate;
  if (request.affiliate) q.tag = ListIndex::Tag(*request.affiliate);
  q.source = request.source;
  q.prefix = absl::AsciiStrToLower(request.email_prefix);
  if (has_cursor) q.after = std::move(after);
  q.start = q.after && *q.after > q.prefix ? absl::string_view(*q.after)
                                           : absl::string_view(q.prefix);
  const size_t limit = request.limit == 0 ? kDefaultListPage : request.limit;

  PageHeap heap(limit);
  for (uint32_t i = 0; i < store.shard_count(); ++i) {
    store.ReadListOrder(i, [&](const Shard& shard, const ListIndex::Entries& e) {
      ScanShard(shard, e, q, &heap);
    });
  }
  std::vector<Connection> rows = heap.TakeSorted();

  ListPage page;
  const bool more = rows.size() > limit;
  if (more) rows.pop_back();
  for (Connection& c : rows) {
    const ConnectionStatus status = EvaluateConnection(c, settings, at);
    page.items.push_back(ListItem{std::move(c), status});
  }
  if (more) page.next_cursor = EncodeListCursor(page.items.back().connection.canonical_email);
  return page;
}

}  // namespace attrib::engine
