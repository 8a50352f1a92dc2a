// engine/settings_registry.cc: per-shop settings (see the header).
#include "engine/settings_registry.h"

namespace attrib::engine {
namespace {

// One thread's copy of the settings it read from one registry at one version.
struct ThreadCache {
  uint64_t registry = 0;  // SettingsRegistry id; 0: none.
  uint64_t version = 0;
  absl::flat_hash_map<ShopId, ShopSettings> settings;
};

}  // namespace

uint64_t SettingsRegistry::NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

ShopSettings SettingsRegistry::Get(ShopId shop) const {
  thread_local ThreadCache cache;
  // The version is read before the settings: what is cached under it is at least
  // as new as it, and any later Update changes it.
  const uint64_t version = version_.load(std::memory_order_acquire);
  if (cache.registry != id_ || cache.version != version ||
      cache.settings.size() >= kMaxCachedShops) {
    cache.settings.clear();
    cache.registry = id_;
    cache.version = version;
  }
  if (const auto hit = cache.settings.find(shop); hit != cache.settings.end()) {
    return hit->second;
  }
  ShopSettings current;
  {
    absl::ReaderMutexLock lock(&mu_);
    const auto it = settings_.find(shop);
    if (it != settings_.end()) current = it->second;
  }
  cache.settings.emplace(shop, current);
  return current;
}

ShopSettings SettingsRegistry::Update(
    ShopId shop, const std::function<ShopSettings(const ShopSettings&)>& fn,
    const std::function<void(const ShopSettings&)>& after) {
  absl::MutexLock lock(&mu_);
  const auto it = settings_.find(shop);
  const ShopSettings next = fn(it == settings_.end() ? ShopSettings() : it->second);
  settings_[shop] = next;
  version_.fetch_add(1, std::memory_order_release);
  after(next);
  return next;
}

void SettingsRegistry::ForEach(
    const std::function<void(ShopId, const ShopSettings&)>& fn) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [shop, s] : settings_) fn(shop, s);
}

void SettingsRegistry::ForEachLocked(
    const std::function<void(ShopId, const ShopSettings&)>& fn,
    const std::function<void()>& done) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [shop, s] : settings_) fn(shop, s);
  done();
}

size_t SettingsRegistry::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return settings_.size();
}

}  // namespace attrib::engine
