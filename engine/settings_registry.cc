// engine/settings_registry.cc: per-shop settings (see the header).
#include "engine/settings_registry.h"

namespace attrib::engine {

ShopSettings SettingsRegistry::Get(ShopId shop) const {
  absl::ReaderMutexLock lock(&mu_);
  const auto it = settings_.find(shop);
  return it == settings_.end() ? ShopSettings() : it->second;
}

ShopSettings SettingsRegistry::Update(
    ShopId shop, const std::function<ShopSettings(const ShopSettings&)>& fn,
    const std::function<void(const ShopSettings&)>& after) {
  absl::MutexLock lock(&mu_);
  const auto it = settings_.find(shop);
  const ShopSettings next = fn(it == settings_.end() ? ShopSettings() : it->second);
  settings_[shop] = next;
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
