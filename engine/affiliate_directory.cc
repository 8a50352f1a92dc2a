// engine/affiliate_directory.cc: the per-shop affiliate directory (see the header).
//
// Cursors are opaque to clients: "i" + the last id of the page (id order) or "n" +
// the hex of the last folded name + "." + its id (name order). A cursor of the
// other order than the query's is rejected, so a client cannot skip entries by
// mixing queries.
#include "engine/affiliate_directory.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace attrib::engine {
namespace {

absl::Status BadCursor(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "cursor: ", why, " (pass the next_cursor of the previous page of the same query)"));
}

struct Position {
  std::string folded;  // Name order only.
  AffiliateId id = 0;
};

absl::StatusOr<std::optional<Position>> ParseCursor(absl::string_view cursor,
                                                    bool by_name) {
  if (cursor.empty()) return std::optional<Position>();
  Position p;
  if (!by_name && cursor[0] == 'i') {
    if (!absl::SimpleAtoi(cursor.substr(1), &p.id) || p.id == 0) {
      return BadCursor("not a cursor of this directory");
    }
    return std::optional<Position>(p);
  }
  if (by_name && cursor[0] == 'n') {
    const size_t dot = cursor.rfind('.');
    if (dot == absl::string_view::npos || !absl::SimpleAtoi(cursor.substr(dot + 1), &p.id) ||
        p.id == 0) {
      return BadCursor("not a cursor of this directory");
    }
    const absl::string_view hex = cursor.substr(1, dot - 1);
    if (hex.size() % 2 != 0 ||
        !std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
      return BadCursor("not a cursor of this directory");
    }
    p.folded = absl::HexStringToBytes(hex);
    return std::optional<Position>(p);
  }
  return BadCursor(by_name ? "a cursor of a search without name_prefix"
                           : "a cursor of a name_prefix search");
}

bool Matches(const Affiliate& a, const AffiliateQuery& q) {
  if (q.status && a.status != *q.status) return false;
  if (!q.email.empty() &&
      std::find(a.emails.begin(), a.emails.end(), q.email) == a.emails.end()) {
    return false;
  }
  return true;
}

}  // namespace

std::string FoldAffiliateName(absl::string_view name) {
  std::string out(name);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

std::optional<Affiliate> AffiliateDirectory::Get(ShopId shop, AffiliateId id) const {
  std::optional<Affiliate> out;
  With(shop, id, [&](const Affiliate* a) {
    if (a != nullptr) out = *a;
  });
  return out;
}

void AffiliateDirectory::With(ShopId shop, AffiliateId id,
                              const std::function<void(const Affiliate*)>& fn) const {
  absl::ReaderMutexLock lock(&mu_);
  const auto s = shops_.find(shop);
  if (s == shops_.end()) return fn(nullptr);
  const auto it = s->second.by_id.find(id);
  fn(it == s->second.by_id.end() ? nullptr : &it->second);
}

std::optional<AffiliateId> AffiliateDirectory::OwnerOfEmail(ShopId shop,
                                                            absl::string_view email) const {
  absl::ReaderMutexLock lock(&mu_);
  const auto s = shops_.find(shop);
  if (s == shops_.end()) return std::nullopt;
  const auto it = s->second.by_email.find(email);
  if (it == s->second.by_email.end()) return std::nullopt;
  return it->second;
}

void AffiliateDirectory::StoreLocked(const Affiliate& a) {
  ShopEntries& shop = shops_[a.shop];
  auto [it, inserted] = shop.by_id.try_emplace(a.id);
  if (!inserted) {
    const Affiliate& old = it->second;
    shop.by_name.erase({FoldAffiliateName(old.name), old.id});
    for (const std::string& e : old.emails) {
      const auto owner = shop.by_email.find(e);
      if (owner != shop.by_email.end() && owner->second == old.id) shop.by_email.erase(owner);
    }
  } else {
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  it->second = a;
  shop.by_name.insert({FoldAffiliateName(a.name), a.id});
  for (const std::string& e : a.emails) {
    auto [owner, fresh] = shop.by_email.try_emplace(e, a.id);
    if (!fresh && owner->second != a.id) {
      // Replay only (Put refuses this): the email moved; drop it from the old entry.
      auto prev = shop.by_id.find(owner->second);
      if (prev != shop.by_id.end()) {
        auto& emails = prev->second.emails;
        emails.erase(std::remove(emails.begin(), emails.end(), e), emails.end());
      }
      owner->second = a.id;
    }
  }
}

absl::StatusOr<Affiliate> AffiliateDirectory::Put(
    ShopId shop, AffiliateId id,
    const std::function<absl::StatusOr<Affiliate>(const Affiliate* current)>& make,
    const std::function<void(const Affiliate& stored, bool created)>& after) {
  absl::MutexLock lock(&mu_);
  const Affiliate* current = nullptr;
  const auto s = shops_.find(shop);
  if (s != shops_.end()) {
    const auto it = s->second.by_id.find(id);
    if (it != s->second.by_id.end()) current = &it->second;
  }
  const bool created = current == nullptr;
  absl::StatusOr<Affiliate> next = make(current);
  if (!next.ok()) return next.status();
  if (s != shops_.end()) {
    for (size_t i = 0; i < next->emails.size(); ++i) {
      const auto owner = s->second.by_email.find(next->emails[i]);
      if (owner != s->second.by_email.end() && owner->second != id) {
        return absl::AlreadyExistsError(absl::StrCat(
            "emails[", i, "]: ", next->emails[i], " is already an email of affiliate ",
            owner->second, " in shop ", shop, " (an email belongs to one affiliate)"));
      }
    }
  }
  StoreLocked(*next);
  after(*next, created);
  return next;
}

void AffiliateDirectory::Restore(const Affiliate& a) {
  absl::MutexLock lock(&mu_);
  StoreLocked(a);
}

absl::StatusOr<AffiliateSearchPage> AffiliateDirectory::Search(const AffiliateQuery& q) const {
  const bool by_name = !q.name_prefix.empty();
  absl::StatusOr<std::optional<Position>> after = ParseCursor(q.cursor, by_name);
  if (!after.ok()) return after.status();
  const size_t limit = q.limit == 0 ? kDefaultAffiliatePage : q.limit;
  AffiliateSearchPage page;
  absl::ReaderMutexLock lock(&mu_);
  const auto s = shops_.find(q.shop);
  if (s == shops_.end()) return page;
  const ShopEntries& shop = s->second;
  // One more than the page: whether there is a next page.
  const auto take = [&](const Affiliate& a) {
    if (!Matches(a, q)) return true;
    if (page.items.size() == limit) {
      const Affiliate& last = page.items.back();
      page.next_cursor = by_name ? absl::StrCat("n", absl::BytesToHexString(
                                                         FoldAffiliateName(last.name)),
                                                ".", last.id)
                                 : absl::StrCat("i", last.id);
      return false;
    }
    page.items.push_back(a);
    return true;
  };
  if (q.id != 0 || !q.email.empty()) {  // At most one entry: no scan.
    AffiliateId id = q.id;
    if (!q.email.empty()) {
      const auto owner = shop.by_email.find(q.email);
      if (owner == shop.by_email.end() || (id != 0 && id != owner->second)) return page;
      id = owner->second;
    }
    const auto it = shop.by_id.find(id);
    if (it == shop.by_id.end() || (*after && (*after)->id >= id)) return page;
    if (by_name && !absl::StartsWith(FoldAffiliateName(it->second.name),
                                     FoldAffiliateName(q.name_prefix))) {
      return page;
    }
    take(it->second);
    return page;
  }
  if (by_name) {
    const std::string prefix = FoldAffiliateName(q.name_prefix);
    auto it = *after ? shop.by_name.upper_bound({(*after)->folded, (*after)->id})
                     : shop.by_name.lower_bound({prefix, 0});
    for (; it != shop.by_name.end() && absl::StartsWith(it->first, prefix); ++it) {
      if (!take(shop.by_id.at(it->second))) break;
    }
    return page;
  }
  auto it = *after ? shop.by_id.upper_bound((*after)->id) : shop.by_id.begin();
  for (; it != shop.by_id.end(); ++it) {
    if (!take(it->second)) break;
  }
  return page;
}

void AffiliateDirectory::ForEachLocked(const std::function<void(const Affiliate&)>& fn,
                                       const std::function<void()>& done) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [shop, entries] : shops_) {
    for (const auto& [id, a] : entries.by_id) fn(a);
  }
  done();
}

}  // namespace attrib::engine
