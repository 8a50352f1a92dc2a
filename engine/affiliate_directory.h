// engine/affiliate_directory.h
//
// The affiliate directory of every shop (issue 12): (shop, affiliate id) ->
// Affiliate (name, canonical emails, status, created time), with the indexes the
// admin screens and the rules need: by id (list order), by ASCII-folded name (name
// prefix search), by canonical email (email search, self-referral, and the
// on_customer_becomes_affiliate check). An email belongs to at most one affiliate
// of a shop. The directory holds decided state only; the Engine validates requests,
// runs the rules (affiliate_rules.h) and logs each change.
//
// Memory: per affiliate its Affiliate value (strings kept as std::string) plus one
// entry in each index; see the README ("Affiliates") for the measured cost. A shop
// has thousands of affiliates, not millions, so clarity wins over packing here.
//
// Thread-safety: every method may be called from any thread; one reader/writer
// mutex. The engine reads the directory under a connection shard's lock (lock
// order: order shard -> connection shard -> affiliate directory, a leaf), and never
// takes a shard lock while holding the directory's. `empty()` is a lock-free hint
// for the attribution hot path.
#ifndef ATTRIB_ENGINE_AFFILIATE_DIRECTORY_H_
#define ATTRIB_ENGINE_AFFILIATE_DIRECTORY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/types.h"

namespace attrib::engine {

// A search of one shop's directory. Every given criterion must hold. Order: by
// folded name then id when name_prefix is given, else by id.
struct AffiliateQuery {
  ShopId shop = 0;
  std::string name_prefix;   // ASCII case-insensitive prefix of the name.
  std::string email;         // Canonical: the affiliate that has this email.
  AffiliateId id = 0;        // 0 = any.
  std::optional<AffiliateStatus> status;
  std::string cursor;        // Empty = first page; else a previous next_cursor.
  uint32_t limit = 0;        // 0 = kDefaultAffiliatePage; at most kMaxAffiliatePage.
};
inline constexpr uint32_t kDefaultAffiliatePage = 100;
inline constexpr uint32_t kMaxAffiliatePage = 1000;

struct AffiliateSearchPage {
  std::vector<Affiliate> items;
  std::string next_cursor;  // Empty: last page.
};

class AffiliateDirectory {
 public:
  AffiliateDirectory() = default;
  AffiliateDirectory(const AffiliateDirectory&) = delete;
  AffiliateDirectory& operator=(const AffiliateDirectory&) = delete;

  // No affiliate in any shop (a relaxed read: a racing first put may be missed,
  // which orders it before the caller's operation).
  bool empty() const { return count_.load(std::memory_order_relaxed) == 0; }
  std::optional<Affiliate> Get(ShopId shop, AffiliateId id) const;
  // Calls fn(entry or null) under the read lock; for the rules, without a copy.
  void With(ShopId shop, AffiliateId id,
            const std::function<void(const Affiliate*)>& fn) const;
  // The affiliate of `shop` that has canonical email `email`, if any.
  std::optional<AffiliateId> OwnerOfEmail(ShopId shop, absl::string_view email) const;

  // Create or replace under the write lock: make(current or null) returns the entry
  // to store (its shop and id must be the arguments) or an error; an email of the
  // result that belongs to another affiliate of the shop is AlreadyExists naming
  // both. Then after(stored, created) runs still under the lock (the engine hands
  // the mutation to its sink there, keeping the sink's order per directory).
  absl::StatusOr<Affiliate> Put(
      ShopId shop, AffiliateId id,
      const std::function<absl::StatusOr<Affiliate>(const Affiliate* current)>& make,
      const std::function<void(const Affiliate& stored, bool created)>& after);
  // Replay and snapshot restore: stores `a` as is (indexes updated; an email another
  // entry held moves to this one).
  void Restore(const Affiliate& a);

  absl::StatusOr<AffiliateSearchPage> Search(const AffiliateQuery& query) const;

  // Every entry (in no particular order), then done(), under one read lock.
  void ForEachLocked(const std::function<void(const Affiliate&)>& fn,
                     const std::function<void()>& done) const;
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct ShopEntries {
    absl::btree_map<AffiliateId, Affiliate> by_id;
    absl::btree_set<std::pair<std::string, AffiliateId>> by_name;  // Folded name.
    absl::flat_hash_map<std::string, AffiliateId> by_email;
  };
  void StoreLocked(const Affiliate& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<ShopId, ShopEntries> shops_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> count_{0};  // Entries in shops_; written under mu_.
};

// The name as the name index and name prefix search compare it: ASCII letters
// lowercased, every other byte as is.
std::string FoldAffiliateName(absl::string_view name);

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_AFFILIATE_DIRECTORY_H_
