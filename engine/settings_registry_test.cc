// engine/settings_registry_test.cc: SettingsRegistry, in particular its per-thread
// read cache: a Get() after an Update() (on any thread) sees the update, registries
// never see each other's settings, and a thread reading more shops than the cache
// holds still reads them right.
#include "engine/settings_registry.h"

#include <thread>

#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

ShopSettings WithDays(uint32_t days) {
  ShopSettings s;
  s.validity_days = days;
  return s;
}

void Set(SettingsRegistry* r, ShopId shop, uint32_t days) {
  r->Update(
      shop, [&](const ShopSettings&) { return WithDays(days); },
      [](const ShopSettings&) {});
}

TEST(SettingsRegistryTest, UnknownShopsHaveTheDefaults) {
  SettingsRegistry r;
  EXPECT_EQ(r.Get(5), ShopSettings());
  EXPECT_EQ(r.size(), 0u);
}

TEST(SettingsRegistryTest, GetSeesEveryUpdateOfTheSameThread) {
  SettingsRegistry r;
  EXPECT_EQ(r.Get(1).validity_days, 0u);  // Cached as the default...
  Set(&r, 1, 30);
  EXPECT_EQ(r.Get(1).validity_days, 30u);  // ...and the update is seen.
  Set(&r, 1, 60);
  EXPECT_EQ(r.Get(1).validity_days, 60u);
}

TEST(SettingsRegistryTest, GetSeesUpdatesMadeOnAnotherThread) {
  SettingsRegistry r;
  for (uint32_t days = 1; days <= 50; ++days) {
    EXPECT_EQ(r.Get(7).validity_days, days - 1);  // Cached on this thread.
    std::thread writer([&] { Set(&r, 7, days); });
    writer.join();  // The update happened before the next Get.
    EXPECT_EQ(r.Get(7).validity_days, days);
  }
}

TEST(SettingsRegistryTest, RegistriesDoNotShareCachedSettings) {
  for (int round = 0; round < 3; ++round) {
    SettingsRegistry a;
    SettingsRegistry b;
    Set(&a, 1, 10);
    EXPECT_EQ(a.Get(1).validity_days, 10u);
    EXPECT_EQ(b.Get(1).validity_days, 0u);
    EXPECT_EQ(a.Get(1).validity_days, 10u);
  }
}

TEST(SettingsRegistryTest, MoreShopsThanTheCacheHolds) {
  SettingsRegistry r;
  const ShopId shops = SettingsRegistry::kMaxCachedShops * 2 + 3;
  for (ShopId s = 1; s <= shops; ++s) Set(&r, s, static_cast<uint32_t>(s % 1000));
  for (int pass = 0; pass < 2; ++pass) {
    for (ShopId s = 1; s <= shops; ++s) {
      ASSERT_EQ(r.Get(s).validity_days, s % 1000) << "shop " << s << " pass " << pass;
    }
  }
}

}  // namespace
}  // namespace attrib::engine
