// engine/identity_index.h
//
// Customer identifiers (issue 12): a customer of a shop has one or more identifiers,
// canonical emails (up to kMaxCustomerEmails) and at most one external id (the shop
// platform's customer id). Connections stay keyed by the customer's PRIMARY key: its
// first identifier, i.e. today's (shop, canonical email) key, or for a customer first
// seen by external id the key kExternalIdPrefix + id, which no canonical email can
// equal (canonical emails never hold control bytes). A customer with one identifier
// has no entry here at all, so it costs exactly what a connection cost before.
//
// The IdentityIndex maps every other identifier (alias) to its primary key, and each
// primary that has aliases to the list of them. Sharded by StableHash of
// (shop, identifier) (never absl::Hash: a snapshot lists entries by shard).
//
// Thread-safety: every method may be called from any thread. Each shard has its own
// mutex; a change that touches several shards locks them in ascending shard order
// (deadlock-free), and they are leaves: nothing else is locked while one is held
// except the caller's `done` callback, which must only emit the Mutation. The engine
// changes a customer's entries only while it holds the connection-shard lock of that
// customer's primary key exclusively (engine_identity.cc), so a reader that resolved
// an identifier and then holds the primary's connection-shard lock can re-check the
// resolution and trust it for as long as it holds that lock.
#ifndef ATTRIB_ENGINE_IDENTITY_INDEX_H_
#define ATTRIB_ENGINE_IDENTITY_INDEX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "engine/types.h"

namespace attrib::engine {

// Limits of a customer's identifiers (issue 12).
inline constexpr size_t kMaxCustomerEmails = 8;
inline constexpr size_t kMaxExternalIdBytes = 64;
// The first byte of an external id's key. Never the first byte of a canonical email.
inline constexpr char kExternalIdPrefix = '\x01';

// The key of external id `raw` as entered: trimmed (ASCII whitespace), 1-64 bytes,
// valid UTF-8, no control characters (C0, DEL, C1). Case-sensitive. Every rejection
// names the rule ("external_id: ...").
absl::StatusOr<std::string> ExternalIdKey(absl::string_view raw);
inline bool IsExternalIdKey(absl::string_view key) {
  return !key.empty() && key[0] == kExternalIdPrefix;
}
// The external id of an external-id key (the key itself otherwise).
inline absl::string_view ExternalIdOfKey(absl::string_view key) {
  return IsExternalIdKey(key) ? key.substr(1) : key;
}
// A key for people: "external_id:ID" or the canonical email.
std::string DescribeIdentifierKey(absl::string_view key);

// One customer's identifiers as the index holds them.
struct CustomerIdentifiers {
  std::string primary;               // The connection key.
  std::vector<std::string> aliases;  // Linked identifier keys, in link order.
  size_t email_count() const;
  bool has_external_id() const;
};

struct IdentityMemory {
  size_t entries = 0;  // Aliases plus primaries that have aliases.
  size_t bytes = 0;    // Estimated: tables plus heap strings.
};

// The index's shard count is capped: a snapshot holds every index shard's lock at
// once (one fence for the whole index), and ThreadSanitizer's deadlock detector
// tracks at most 64 locks held by one thread. 32 shards keep writers apart as well
// (a change locks one or two of them, for microseconds).
inline constexpr uint32_t kMaxIdentityIndexShards = 32;

class IdentityIndex {
 public:
  explicit IdentityIndex(uint32_t shard_count);
  IdentityIndex(const IdentityIndex&) = delete;
  IdentityIndex& operator=(const IdentityIndex&) = delete;

  // Nothing linked in any shop: every identifier is its own primary (read paths skip
  // the index). Relaxed: the callers that need exactness re-check under locks.
  bool empty() const { return entries_.load(std::memory_order_relaxed) == 0; }

  // The primary key of `id`: sets *primary and returns true when `id` is an alias;
  // false (and *primary untouched) when `id` is its own primary.
  bool PrimaryOf(ShopId shop, absl::string_view id, std::string* primary) const;
  std::string Resolve(ShopId shop, absl::string_view id) const;
  // The customer whose primary is `primary` (aliases empty when it has none).
  CustomerIdentifiers Get(ShopId shop, absl::string_view primary) const;
  // Whether `id` has an entry (it is an alias, or a primary with aliases).
  bool HasEntry(ShopId shop, absl::string_view id) const;

  // Changes; `done` runs with every touched shard still locked (emit the Mutation
  // there). The caller checked the preconditions (see engine_identity.cc).
  // Link: `id` (own primary, no entry) becomes an alias of `primary`.
  void Link(ShopId shop, absl::string_view primary, absl::string_view id,
            absl::FunctionRef<void()> done);
  // Unlink: alias `id` of `primary` becomes its own (unconnected) customer again.
  void Unlink(ShopId shop, absl::string_view primary, absl::string_view id,
              absl::FunctionRef<void()> done);
  // Merge: `loser` and all its aliases become aliases of `survivor`; the loser's
  // identifiers in their new order (loser primary first) are returned via done.
  void Merge(ShopId shop, absl::string_view survivor, absl::string_view loser,
             absl::FunctionRef<void(absl::Span<const std::string> moved)> done);

  // Snapshot: every shard locked (ascending), then fn per customer with aliases, then
  // done() (still under every lock: read the fence there).
  void ForEachLocked(absl::FunctionRef<void(ShopId, const CustomerIdentifiers&)> fn,
                     absl::FunctionRef<void()> done) const;
  // Loading: add a whole customer (no lock-step checks; the loader verified it).
  void Restore(ShopId shop, const CustomerIdentifiers& c);
  IdentityMemory Memory() const;
  size_t customers_with_aliases() const;

 private:
  struct Entry {
    std::string primary;               // Set on an alias entry.
    std::vector<std::string> aliases;  // Set on a primary entry.
  };
  struct StableKeyHash {
    size_t operator()(const std::string& k) const;
  };
  using Map = absl::flat_hash_map<std::string, Entry, StableKeyHash>;
  struct alignas(64) LockedShard {
    mutable absl::Mutex mu;
    Map map ABSL_GUARDED_BY(mu);
  };
  static std::string MapKey(ShopId shop, absl::string_view id);
  uint32_t ShardOf(absl::string_view map_key) const;
  // Locks the shards of `keys` ascending (each once) for the scope of the object.
  class MultiLock;

  const int shard_bits_;
  std::vector<std::unique_ptr<LockedShard>> shards_;
  std::atomic<int64_t> entries_{0};
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_IDENTITY_INDEX_H_
