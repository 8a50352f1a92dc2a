// engine/engine_test_base.h
//
// Shared fixture of the Engine tests (engine_orders_test.cc, engine_settings_test.cc,
// order_window_test.cc, engine_mutation_test.cc): an engine on a FakeClock, with
// helpers that fail the test at the caller's line when an operation fails.
//
// Thread-safety: single-threaded tests.
#ifndef ATTRIB_ENGINE_ENGINE_TEST_BASE_H_
#define ATTRIB_ENGINE_ENGINE_TEST_BASE_H_

#include "engine/engine.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/clock.h"
#include "engine/mutation.h"
#include "engine/types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"


namespace attrib::engine::testing_base {

using ::testing::StartsWith;

constexpr TimeMs kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z.
constexpr TimeMs kDay = kMsPerDay;
constexpr ShopId kShop = 42;
constexpr ShopId kOtherShop = 43;
constexpr AffiliateId kA = 7;   // The affiliate a customer is connected to.
constexpr AffiliateId kB = 9;   // Another affiliate (referrals).
constexpr AffiliateId kC = 11;  // A third one.
constexpr char kJane[] = "Jane@Example.com";
constexpr char kJaneCanonical[] = "jane@example.com";

// The value of a StatusOr, or a test failure at the caller's line and T{}.
template <typename T>
inline T OkOr(absl::StatusOr<T> r, const char* file, int line) {
  if (!r.ok()) {
    ADD_FAILURE_AT(file, line) << r.status();
    return T{};
  }
  return *std::move(r);
}
#define OK(expr) OkOr((expr), __FILE__, __LINE__)

inline std::string Inactive(const ConnectionStatus& s) {
  return std::string(InactiveReasonName(s.inactive));
}

// A test-wide base: an engine on a FakeClock, and helpers.
class EngineTestBase {
 protected:
  EngineTestBase(uint32_t shard_count, TimeMs order_window_ms, MutationSink* sink = nullptr)
      : clock_(kT0), engine_(Options(shard_count, order_window_ms, &clock_, sink)) {}

  static EngineOptions Options(uint32_t shard_count, TimeMs order_window_ms,
                               const Clock* clock, MutationSink* sink) {
    EngineOptions o;
    o.shard_count = shard_count;
    o.order_window_ms = order_window_ms;
    o.clock = clock;
    o.sink = sink;
    return o;
  }

  ConnectResult Connect(const std::string& email, AffiliateId affiliate,
                        std::optional<std::string> name = std::nullopt,
                        ConnectMode mode = ConnectMode::kIfAbsent) {
    ConnectRequest r;
    r.shop = kShop;
    r.email = email;
    r.affiliate = affiliate;
    r.mode = mode;
    r.name = std::move(name);
    return OK(engine_.Connect(r));
  }

  static AttributeRequest Order(const std::string& order_id,
                                std::optional<std::string> email = kJane,
                                std::optional<AffiliateId> referral = std::nullopt,
                                std::optional<TimeMs> ordered_at = std::nullopt) {
    AttributeRequest r;
    r.shop = kShop;
    r.order_id = order_id;
    r.email = std::move(email);
    r.referral_affiliate = referral;
    r.ordered_at = ordered_at;
    return r;
  }

  AttributeResult Attribute(const AttributeRequest& r) { return OK(engine_.Attribute(r)); }

  LookupResult Lookup(const std::string& email = kJane,
                      std::optional<TimeMs> at = std::nullopt) {
    return OK(engine_.Lookup(kShop, email, at));
  }

  ShopSettings Update(const ShopSettingsPatch& patch) {
    return OK(engine_.UpdateSettings(kShop, patch));
  }

  FakeClock clock_;
  Engine engine_;
};

// Most tests: a year-long order window, so that order-window eviction never

// Most tests: a year-long order window, so that order-window eviction never
// interferes; the window itself is tested by order_window_test.cc.
class EngineOrdersTest : public EngineTestBase,
                         public ::testing::TestWithParam<uint32_t> {
 protected:
  EngineOrdersTest() : EngineTestBase(GetParam(), 365 * kDay) {}
};

inline std::string ShardName(const ::testing::TestParamInfo<uint32_t>& info) {
  return absl::StrCat("Shards", info.param);
}

}  // namespace attrib::engine::testing_base

#endif  // ATTRIB_ENGINE_ENGINE_TEST_BASE_H_
