// engine/engine_lookup.cc: the engine's read path for single and batch lookups (see
// engine.h). LookupEach is the one implementation; Lookup and LookupBatch copy its
// in-place views into owned results.
//
// Thread-safety: as Engine; per-thread scratch buffers make LookupEach reentrant
// across threads without allocating per call.
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/rules.h"
#include "engine/validation.h"

namespace attrib::engine {
namespace {

LookupResult ToResult(const LookupItemView& item) {
  LookupResult r;
  r.found = item.found;
  if (item.found) {
    r.connection = ToConnection(item.connection);
    r.status = item.status;
  }
  return r;
}

// Fills `item` with the record `v` in place and its status at `when`.
void Found(const Shard& shard, record::View v, const ShopSettings& settings, TimeMs when,
           CanonicalBuffer* buf, LookupItemView* item) {
  item->found = true;
  item->connection = shard.ViewOf(v, buf);
  item->status = EvaluateConnection(item->connection.connected_at,
                                    item->connection.last_order_at,
                                    item->connection.order_count, settings, when);
}

// Per-thread scratch of LookupEach: grown to the largest batch seen, never shrunk
// (at most kMaxBatchLookup entries: ~2.6 MB of canonical buffers).
struct LookupScratch {
  std::vector<CanonicalBuffer> canonical;
  std::vector<absl::Status> status;
  std::vector<absl::string_view> keys;
  std::vector<uint32_t> key_item;  // keys[k] belongs to email key_item[k].
  std::vector<uint8_t> found;      // Per key.
  std::vector<std::string> primary;  // Per key: the primary of an alias email.
};

}  // namespace

absl::Status Engine::LookupEach(ShopId shop, absl::Span<const absl::string_view> emails,
                                std::optional<TimeMs> at, LookupItemFn fn) const {
  if (absl::Status s = ValidateId("shop", shop); !s.ok()) return s;
  if (at) {
    if (absl::Status s = ValidateTime("at", *at); !s.ok()) return s;
  }
  if (emails.size() > kMaxBatchLookup) {
    return absl::InvalidArgumentError(absl::StrCat(
        "emails: ", emails.size(), " in one batch, the limit is ", kMaxBatchLookup));
  }
  if (emails.size() == 1) {
    // One key: no batch bookkeeping.
    PreparedKey key;
    key.shop = shop;
    const absl::Status s = CanonicalizeInto(emails[0], email_policy(), &key.canonical);
    if (!s.ok()) {
      LookupItemView item;
      item.invalid = &s;
      fn(0, item);
      return absl::OkStatus();
    }
    key.valid = true;
    key.hash = KeyHash(shop, key.canonical.view());
    return LookupPrepared(key, emails[0], at, fn);
  }
  const TimeMs when = at.value_or(clock_->NowMs());
  thread_local LookupScratch scratch;
  LookupScratch& x = scratch;
  if (x.canonical.size() < emails.size()) {
    x.canonical.resize(emails.size());
    x.status.resize(emails.size());
  }
  x.keys.clear();
  x.key_item.clear();
  for (size_t i = 0; i < emails.size(); ++i) {
    x.status[i] = CanonicalizeInto(emails[i], email_policy(), &x.canonical[i]);
    if (!x.status[i].ok()) {
      LookupItemView item;
      item.invalid = &x.status[i];
      fn(i, item);
      continue;
    }
    x.keys.push_back(x.canonical[i].view());
    x.key_item.push_back(static_cast<uint32_t>(i));
  }
  x.found.assign(x.keys.size(), 0);
  if (!identity_.empty()) {
    // Emails linked to another customer find that customer's connection.
    if (x.primary.size() < x.keys.size()) x.primary.resize(x.keys.size());
    for (size_t k = 0; k < x.keys.size(); ++k) {
      if (identity_.PrimaryOf(shop, x.keys[k], &x.primary[k])) x.keys[k] = x.primary[k];
    }
  }
  const ShopSettings settings = settings_.Get(shop);
  store_.VisitBatch(shop, x.keys, [&](size_t k, const Shard& sh, record::View v) {
    CanonicalBuffer buf;
    LookupItemView item;
    Found(sh, v, settings, when, &buf, &item);
    JudgeByDirectory(shop, item.connection.affiliate, settings, &item.status);
    x.found[k] = 1;
    fn(x.key_item[k], item);
  });
  const LookupItemView miss;
  for (size_t k = 0; k < x.keys.size(); ++k) {
    if (!x.found[k]) fn(x.key_item[k], miss);
  }
  return absl::OkStatus();
}

void Engine::PrepareKey(ShopId shop, absl::string_view email, PreparedKey* key) const {
  key->shop = shop;
  key->valid = shop != 0 && CanonicalizeInto(email, email_policy(), &key->canonical).ok();
  if (!key->valid) return;
  key->hash = KeyHash(shop, key->canonical.view());
  store_.PrefetchBucket(key->hash);
}

void Engine::PrefetchRecords(const PreparedKey& key) const {
  if (key.valid) store_.PrefetchRecords(key.hash);
}

absl::Status Engine::LookupPrepared(const PreparedKey& key, absl::string_view email,
                                    std::optional<TimeMs> at, LookupItemFn fn) const {
  if (!key.valid) {
    // Invalid shop or email: LookupEach reports it (and canonicalizes again).
    const absl::string_view one[1] = {email};
    return LookupEach(key.shop, one, at, fn);
  }
  if (at) {
    if (absl::Status s = ValidateTime("at", *at); !s.ok()) return s;
  }
  const TimeMs when = at.value_or(clock_->NowMs());
  const ShopSettings settings = settings_.Get(key.shop);
  LookupItemView item;
  absl::string_view canonical = key.canonical.view();
  uint64_t hash = key.hash;
  std::string primary;
  if (!identity_.empty() && identity_.PrimaryOf(key.shop, canonical, &primary)) {
    // An email linked to another customer: that customer's connection.
    canonical = primary;
    hash = KeyHash(key.shop, canonical);
  }
  const bool found = store_.VisitHashed(
      key.shop, canonical, hash, [&](const Shard& sh, record::View v) {
        CanonicalBuffer buf;
        Found(sh, v, settings, when, &buf, &item);
        JudgeByDirectory(key.shop, item.connection.affiliate, settings, &item.status);
        fn(0, item);
      });
  if (!found) fn(0, item);
  return absl::OkStatus();
}

absl::StatusOr<LookupResult> Engine::Lookup(ShopId shop, absl::string_view email,
                                            std::optional<TimeMs> at) const {
  absl::Status invalid;
  LookupResult result;
  const absl::string_view one[1] = {email};
  absl::Status s = LookupEach(shop, one, at, [&](size_t, const LookupItemView& item) {
    if (item.invalid != nullptr) {
      invalid = *item.invalid;
    } else {
      result = ToResult(item);
    }
  });
  if (!s.ok()) return s;
  if (!invalid.ok()) return invalid;
  return result;
}

absl::StatusOr<std::vector<BatchLookupItem>> Engine::LookupBatch(
    ShopId shop, absl::Span<const absl::string_view> emails, std::optional<TimeMs> at) const {
  std::vector<BatchLookupItem> items(emails.size());
  absl::Status s = LookupEach(shop, emails, at, [&](size_t i, const LookupItemView& item) {
    if (item.invalid != nullptr) {
      items[i].status = *item.invalid;
    } else {
      items[i].result = ToResult(item);
    }
  });
  if (!s.ok()) return s;
  return items;
}

}  // namespace attrib::engine
