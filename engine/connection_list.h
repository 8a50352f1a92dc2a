// engine/connection_list.h
//
// list: a shop's connections, filtered by affiliate and/or canonical-email prefix
// and/or source, in canonical-email (byte) order, paged by an opaque cursor.
//
// Paging is by key (the cursor encodes the last canonical email returned), so a page
// is consistent even while connections change: a connection added or removed behind
// the cursor never shifts later pages, a connection that exists for the whole paging
// is returned exactly once, and no key twice. Each shard keeps its records in
// (shop, canonical email) order (list_index.h); a page seeks every shard to the
// cursor and reads on while its keys can still enter the page: O(shards x log
// records + rows), not O(store). The affiliate filter skips entries by their tags;
// the prefix filter bounds the range; the source filter is checked on the records
// read. Measured in the README.
//
// Thread-safety: ListConnections may be called from any thread; it takes each shard's
// shared lock in turn, never two at once.
#ifndef ATTRIB_ENGINE_CONNECTION_LIST_H_
#define ATTRIB_ENGINE_CONNECTION_LIST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/connection_store.h"
#include "engine/types.h"

namespace attrib::engine {

inline constexpr uint32_t kMaxListPage = 1000;
inline constexpr uint32_t kDefaultListPage = 100;

struct ListRequest {
  ShopId shop = 0;
  std::optional<AffiliateId> affiliate;
  // Matched against canonical emails; ASCII letters are lowercased first, so
  // "Jane" finds "jane.doe@x.com".
  std::string email_prefix;
  std::optional<Source> source;
  std::string cursor;        // Empty: first page. Else next_cursor of a previous page.
  uint32_t limit = 0;        // 0: kDefaultListPage. At most kMaxListPage.
  std::optional<TimeMs> at;  // When to evaluate each connection's status. Default: now.
};

struct ListItem {
  Connection connection;
  ConnectionStatus status;
};

struct ListPage {
  std::vector<ListItem> items;
  std::string next_cursor;  // Empty when this is the last page.
};

// Validates the request (InvalidArgument naming the field) and returns one page.
// Statuses are evaluated with `settings` at `at`.
absl::StatusOr<ListPage> ListConnections(const ConnectionStore& store,
                                         const ListRequest& request,
                                         const ShopSettings& settings, TimeMs at);

// The cursor format: web-safe base64 of "c1" + the last canonical email.
std::string EncodeListCursor(absl::string_view last_canonical);
absl::StatusOr<std::string> DecodeListCursor(absl::string_view cursor);

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_CONNECTION_LIST_H_
