// engine/engine_customers.cc: the engine's customer directory (issue 12; see
// customer_directory.h and engine.h): remembering customers seen, the directory
// record of one customer, paged search, explicit names, verification and replay.
//
// Locking: an entry changes only under the connection-shard lock of the customer's
// primary key (SeeCustomer's callers hold it; PutCustomerName takes it through
// MutateCustomer), then the directory shard (a leaf), and the PutCustomerEntry is
// emitted under both. Links and merges absorb entries under the index shards'
// locks (engine_identity.cc). Search reads the directory a batch at a time and
// resolves identifiers and connections with no directory lock held.
#include <algorithm>
#include <cctype>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"
#include "engine/validation.h"

namespace attrib::engine {
namespace {

// Cursors (opaque to clients; checked on the way in): "d1." shard "." offset in the
// directory, then "c1." + a connection list cursor (connection_list.h) for the
// connected customers that have no entry.
constexpr absl::string_view kCursorPrefix = "d1.";
constexpr absl::string_view kConnectionsCursorPrefix = "c1.";

std::string EncodeCursor(const CustomerDirectory::Position& p) {
  return absl::StrCat(kCursorPrefix, p.shard, ".", p.offset);
}

absl::StatusOr<CustomerDirectory::Position> DecodeCursor(absl::string_view c,
                                                         uint32_t shards) {
  CustomerDirectory::Position p;
  if (c.empty()) return p;
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        "cursor: not a cursor this search returned (pass next_cursor unchanged)");
  };
  if (!absl::ConsumePrefix(&c, kCursorPrefix)) return bad();
  const std::vector<absl::string_view> parts = absl::StrSplit(c, '.');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &p.shard) ||
      !absl::SimpleAtoi(parts[1], &p.offset) || p.shard >= shards) {
    return bad();
  }
  return p;
}

bool StartsWithIgnoreCase(absl::string_view text, absl::string_view prefix) {
  return text.size() >= prefix.size() &&
         absl::EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::optional<CustomerEntry> Engine::SeeCustomer(ShopId shop, absl::string_view primary,
                                                 const std::optional<std::string>& name,
                                                 std::optional<TimeMs> order_at, TimeMs now,
                                                 const ShopSettings& settings, bool create) {
  if (!settings.customer_directory) return std::nullopt;
  std::optional<CustomerEntry> after;
  customers_.Update(
      shop, primary,
      [&](const CustomerEntry* current) -> std::optional<CustomerEntry> {
        if (current == nullptr && !create) return std::nullopt;
        CustomerEntry e = current ? *current : CustomerEntry{};
        if (name && !name->empty()) e.name = *name;
        if (order_at) {
          if (e.orders_seen == 0 || *order_at < e.first_order_at) e.first_order_at = *order_at;
          e.last_order_at = std::max(e.last_order_at, *order_at);
          if (e.orders_seen != std::numeric_limits<uint32_t>::max()) ++e.orders_seen;
        }
        after = e;
        return e;
      },
      [&](const CustomerEntry& e) {
        Emit(Mutation{now, PutCustomerEntry{shop, std::string(primary), e}});
      });
  return after;
}

absl::Status Engine::ApplyCustomerEntry(const PutCustomerEntry& op, uint64_t seq,
                                        const SnapshotFences* fences) {
  if (op.shop == 0 || op.key.empty()) {
    return absl::FailedPreconditionError("replay: PutCustomerEntry with an empty shop or key");
  }
  if (fences != nullptr && seq <= fences->customers) return absl::OkStatus();
  customers_.Put(op.shop, op.key, op.entry);
  return absl::OkStatus();
}

void Engine::ApplyAbsorbed(ShopId shop, absl::string_view survivor, absl::string_view loser,
                           const std::optional<CustomerEntry>& absorbed, uint64_t seq,
                           const SnapshotFences* fences) {
  if (!absorbed || (fences != nullptr && seq <= fences->customers)) return;
  customers_.Erase(shop, loser);
  customers_.Put(shop, survivor, *absorbed);
}

absl::StatusOr<CustomerRecord> Engine::GetCustomerRecord(ShopId shop,
                                                         const CustomerRef& ref) const {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(ref);
  if (!who.ok()) return who.status();
  const std::string primary = identity_.Resolve(shop, who->key());
  CustomerRecord r;
  r.directory = customers_.Get(shop, primary);
  absl::StatusOr<CustomerInfo> info = GetCustomer(shop, ref);
  if (info.ok()) {
    r.customer = *std::move(info);
    // A connected customer without an entry is remembered by its connection.
    if (!r.directory && r.customer.connection && settings_.Get(shop).customer_directory) {
      r.directory = CustomerEntry{r.customer.connection->name, 0, 0, 0};
    }
    return r;
  }
  if (!absl::IsNotFound(info.status()) || !r.directory) return info.status();
  // In the directory only: one identifier, no connection.
  CustomerIdentifiers ids;
  ids.primary = primary;
  r.customer = CustomerInfoOf(shop, ids, std::nullopt);
  return r;
}

absl::StatusOr<CustomerPage> Engine::SearchCustomers(const CustomerQuery& q) const {
  if (absl::Status s = ValidateId("shop", q.shop); !s.ok()) return s;
  if (q.limit == 0 || q.limit > kMaxCustomerSearchLimit) {
    return absl::InvalidArgumentError(absl::StrCat("limit: ", q.limit, " is not in [1, ",
                                                   kMaxCustomerSearchLimit, "]"));
  }
  const int criteria = !q.email_prefix.empty() + !q.name_prefix.empty() + !q.external_id.empty();
  if (criteria > 1) {
    return absl::InvalidArgumentError(
        "query: give at most one of email_prefix, name_prefix, external_id");
  }
  if (q.name_prefix.size() > kMaxNameBytes || q.email_prefix.size() > 254) {
    return absl::InvalidArgumentError(absl::StrCat(
        q.name_prefix.size() > kMaxNameBytes ? "name_prefix" : "email_prefix",
        ": longer than any stored value"));
  }
  CustomerPage page;
  const auto record_of = [&](absl::string_view primary,
                             std::optional<CustomerEntry> entry) -> CustomerRecord {
    CustomerRecord r;
    r.directory = std::move(entry);
    CustomerIdentifiers ids;
    if (!identity_.empty()) ids = identity_.Get(q.shop, primary);
    ids.primary = std::string(primary);
    r.customer = CustomerInfoOf(q.shop, ids, store_.Get(q.shop, primary));
    return r;
  };
  const bool directory_on = settings_.Get(q.shop).customer_directory;
  if (!q.external_id.empty()) {
    // Exact: one customer at most, no paging.
    absl::StatusOr<std::string> key = ExternalIdKey(q.external_id);
    if (!key.ok()) return key.status();
    if (!q.cursor.empty()) return page;  // There is no second page.
    const std::string primary = identity_.Resolve(q.shop, *key);
    std::optional<CustomerEntry> entry = customers_.Get(q.shop, primary);
    CustomerRecord r = record_of(primary, std::move(entry));
    if (!r.directory && r.customer.connection && directory_on) {
      r.directory = CustomerEntry{r.customer.connection->name, 0, 0, 0};
    }
    if (r.directory || r.customer.connection || primary != *key) {
      page.items.push_back(std::move(r));
    }
    return page;
  }
  const std::string email_prefix = absl::AsciiStrToLower(q.email_prefix);
  // Phase 2 (cursor "c1." + a list cursor): the shop's connections that have no
  // directory entry (a connected customer is remembered by its connection).
  const auto connections_phase = [&](std::string list_cursor) -> absl::StatusOr<CustomerPage> {
    size_t examined = 0;
    for (;;) {
      if (page.items.size() >= q.limit || examined >= kMaxCustomerSearchExamined) {
        page.next_cursor = absl::StrCat(kConnectionsCursorPrefix, list_cursor);
        return page;
      }
      ListRequest lr;
      lr.shop = q.shop;
      lr.email_prefix = email_prefix;
      lr.cursor = list_cursor;
      lr.limit = q.name_prefix.empty()
                     ? static_cast<uint32_t>(q.limit - page.items.size())
                     : kMaxListPage;
      absl::StatusOr<ListPage> list = List(lr);
      if (!list.ok()) return list.status();
      examined += list->items.size();
      for (ListItem& item : list->items) {
        const Connection& c = item.connection;
        if (customers_.Get(q.shop, c.canonical_email)) continue;  // Shown in phase 1.
        if (!q.name_prefix.empty() && !StartsWithIgnoreCase(c.name, q.name_prefix)) continue;
        if (page.items.size() >= q.limit) break;  // Only with a name filter (kMaxListPage).
        page.items.push_back(
            record_of(c.canonical_email, CustomerEntry{c.name, 0, 0, 0}));
      }
      if (list->next_cursor.empty()) return page;
      list_cursor = list->next_cursor;
    }
  };
  if (absl::StartsWith(q.cursor, kConnectionsCursorPrefix)) {
    if (!directory_on) return page;
    return connections_phase(q.cursor.substr(kConnectionsCursorPrefix.size()));
  }
  absl::StatusOr<CustomerDirectory::Position> pos =
      DecodeCursor(q.cursor, customers_.shard_count());
  if (!pos.ok()) return pos.status();
  std::optional<CustomerDirectory::Position> at = *pos;
  size_t examined = 0;
  std::vector<CustomerDirectory::ScannedEntry> batch;
  while (at && page.items.size() < q.limit && examined < kMaxCustomerSearchExamined) {
    batch.clear();
    // A batch of the shop's entries; filtered below without a directory lock. The
    // batch ends at a record boundary, so the cursor resumes right after it.
    const size_t want = q.limit - page.items.size();
    at = customers_.Scan(q.shop, *at, want, 4096, &batch);
    examined += 4096;
    for (CustomerDirectory::ScannedEntry& e : batch) {
      bool match = true;
      if (!q.name_prefix.empty()) {
        match = StartsWithIgnoreCase(e.entry.name, q.name_prefix);
      } else if (!email_prefix.empty()) {
        match = !IsExternalIdKey(e.key) && absl::StartsWith(e.key, email_prefix);
        if (!match && !identity_.empty()) {
          for (const std::string& a : identity_.Get(q.shop, e.key).aliases) {
            if (!IsExternalIdKey(a) && absl::StartsWith(a, email_prefix)) match = true;
          }
        }
      }
      if (match) page.items.push_back(record_of(e.key, std::move(e.entry)));
    }
  }
  if (at) {
    page.next_cursor = EncodeCursor(*at);
    return page;
  }
  if (!directory_on) return page;
  if (page.items.size() >= q.limit) {  // Phase 2 starts on the next page.
    page.next_cursor = std::string(kConnectionsCursorPrefix);
    return page;
  }
  return connections_phase(std::string());
}

absl::Status Engine::CheckDirectoryCustomer(ShopId shop, const ShopSettings& settings,
                                            const CustomerKeys& who) const {
  if (!settings.customer_directory) {
    return absl::FailedPreconditionError(absl::StrCat(
        "customer_directory_off: shop ", shop,
        " has the setting customer_directory off (turn it on to store customers)"));
  }
  if (who.both() && identity_.Resolve(shop, who.external_id) !=
                        identity_.Resolve(shop, who.email.canonical)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "customer: ", who.email.canonical, " and external_id ",
        ExternalIdOfKey(who.external_id), " name different customers of shop ", shop));
  }
  return absl::OkStatus();
}

absl::StatusOr<CustomerRecord> Engine::PutCustomerName(ShopId shop, const CustomerRef& ref,
                                                       absl::string_view name) {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (absl::Status s = ValidateText("name", name, kMaxNameBytes, true); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(ref);
  if (!who.ok()) return who.status();
  const ShopSettings settings = settings_.Get(shop);
  if (absl::Status s = CheckDirectoryCustomer(shop, settings, *who); !s.ok()) return s;
  const TimeMs now = clock_->NowMs();
  const std::optional<std::string> value{std::string(name)};
  MutateCustomer(shop, who->key(), [&](KeyEditor&, absl::string_view primary) {
    SeeCustomer(shop, primary, value, std::nullopt, now, settings);
  });
  return GetCustomerRecord(shop, ref);
}

absl::Status Engine::ImportCustomerEntry(ShopId shop, const CustomerRef& ref,
                                         const CustomerEntry& entry) {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (absl::Status s = ValidateCustomerEntry(entry, ""); !s.ok()) return s;
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(ref);
  if (!who.ok()) return who.status();
  if (absl::Status s = CheckDirectoryCustomer(shop, settings_.Get(shop), *who); !s.ok()) {
    return s;
  }
  const TimeMs now = clock_->NowMs();
  MutateCustomer(shop, who->key(), [&](KeyEditor&, absl::string_view primary) {
    customers_.Update(
        shop, primary,
        [&](const CustomerEntry* current) -> std::optional<CustomerEntry> {
          if (current != nullptr && *current == entry) return std::nullopt;
          return entry;
        },
        [&](const CustomerEntry& e) {
          Emit(Mutation{now, PutCustomerEntry{shop, std::string(primary), e}});
        });
  });
  return absl::OkStatus();
}

absl::Status Engine::CheckCustomerDirectory(uint64_t* entries) const {
  struct Item {
    ShopId shop;
    std::string key;
    CustomerEntry entry;
  };
  std::vector<Item> all;
  customers_.ForEachLocked(
      [&](ShopId shop, absl::string_view key, const CustomerEntry& e) {
        all.push_back(Item{shop, std::string(key), e});
      },
      [] {});
  *entries = all.size();
  for (const Item& it : all) {
    const auto fail = [&](absl::string_view what) {
      return absl::DataLossError(absl::StrCat("customer directory: shop ", it.shop,
                                              " customer ", DescribeIdentifierKey(it.key),
                                              ": ", what));
    };
    if (identity_.Resolve(it.shop, it.key) != it.key) {
      return fail("its key is an alias of another customer (not a live customer's primary)");
    }
    if (it.entry.name.size() > kMaxNameBytes) return fail("name over 128 bytes");
    if (it.entry.orders_seen > 0 && it.entry.first_order_at > it.entry.last_order_at) {
      return fail("first order after the last order");
    }
    if (it.entry.orders_seen == 0 && (it.entry.first_order_at != 0 || it.entry.last_order_at != 0)) {
      return fail("order times without an order seen");
    }
  }
  return absl::OkStatus();
}

}  // namespace attrib::engine
