// engine/settings_registry.h
//
// Per-shop settings (SPEC §4). A shop never configured has the default
// ShopSettings. Settings are read on every attribution, written rarely.
//
// Thread-safety: every method may be called from any thread; one reader/writer
// mutex. The engine reads settings while holding a key's shard lock (lock order:
// order shard -> connection shard -> settings), and never the other way round.
// Get() is on every lookup: it answers from a per-thread cache that is valid while
// the registry's version (bumped by every Update, under the lock) is unchanged, so
// readers on many threads do not write the mutex's shared cache line.
#ifndef ATTRIB_ENGINE_SETTINGS_REGISTRY_H_
#define ATTRIB_ENGINE_SETTINGS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/types.h"

namespace attrib::engine {

class SettingsRegistry {
 public:
  ShopSettings Get(ShopId shop) const;
  // Runs fn(const ShopSettings& current) -> ShopSettings under the write lock and
  // stores the result; then calls after(result) still under the lock (the engine
  // hands the mutation to its sink there, to keep the sink's order per shop).
  ShopSettings Update(ShopId shop,
                      const std::function<ShopSettings(const ShopSettings&)>& fn,
                      const std::function<void(const ShopSettings&)>& after);
  // Calls fn(shop, settings) for every shop that has settings stored.
  void ForEach(const std::function<void(ShopId, const ShopSettings&)>& fn) const;
  // ForEach, then done(), both under the same (read) lock: a consistent copy with a
  // point (done) at which nothing changed since the first fn call.
  void ForEachLocked(const std::function<void(ShopId, const ShopSettings&)>& fn,
                     const std::function<void()>& done) const;
  size_t size() const;

  // Shops one thread's cache of Get() results holds before it starts over.
  static constexpr size_t kMaxCachedShops = 4096;

 private:
  // Tells registries apart in the per-thread caches; never reused (an address is).
  const uint64_t id_ = NextId();
  static uint64_t NextId();
  // Bumped after every change, under mu_; a thread's cached settings are valid
  // while it is the version they were read at.
  std::atomic<uint64_t> version_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ShopId, ShopSettings> settings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_SETTINGS_REGISTRY_H_
