// engine/engine_webhooks_test.cc: webhook endpoints as engine state: validation, the
// per-shop limit, other shops' ids are not found, rotation keeps the old secret for
// its window, every change is one mutation, and replaying them rebuilds the state.
#include <variant>

#include "engine/engine_test_base.h"
#include "engine/replay_test_util.h"

namespace attrib::engine {
namespace {

using testing_base::kT0;
constexpr TimeMs kDay24h = 24 * 3'600'000;
using ::testing::HasSubstr;

class EngineWebhooksTest : public ::testing::Test {
 protected:
  EngineWebhooksTest() : clock_(kT0), engine_(Opts(&clock_, &sink_)) {}
  static EngineOptions Opts(const Clock* clock, MutationSink* sink) {
    EngineOptions o;
    o.shard_count = 4;
    o.clock = clock;
    o.sink = sink;
    o.max_webhook_endpoints_per_shop = 3;
    return o;
  }
  absl::StatusOr<WebhookEndpoint> Create(ShopId shop, std::string url,
                                         std::vector<std::string> types = {}) {
    WebhookEndpointRequest r;
    r.shop = shop;
    r.url = std::move(url);
    r.event_types = std::move(types);
    r.secret = "whsec_b25l";
    return engine_.CreateWebhookEndpoint(r);
  }

  FakeClock clock_;
  replay_testing::RecordingSink sink_;
  Engine engine_;
};

TEST_F(EngineWebhooksTest, CreateValidatesAndAssignsIds) {
  absl::StatusOr<WebhookEndpoint> a = Create(1, "https://a.example/h", {"order.attributed"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->id, 1u);
  EXPECT_EQ(a->event_mask, 1u << 3);
  EXPECT_TRUE(a->enabled);
  EXPECT_EQ(a->created_at, kT0);
  absl::StatusOr<WebhookEndpoint> b = Create(2, "http://127.0.0.1:8080/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->id, 2u);  // One counter for all shops.

  EXPECT_THAT(Create(1, "ftp://x").status().message(), HasSubstr("url: must start with"));
  EXPECT_THAT(Create(1, "https://x/" + std::string(300, 'a')).status().message(),
              HasSubstr("url:"));
  EXPECT_THAT(Create(1, "https://x/", {"order.created"}).status().message(),
              HasSubstr("event_types: unknown event type 'order.created'"));
  EXPECT_EQ(Create(0, "https://x/").status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Create(1, "https://a.example/2").ok());
  ASSERT_TRUE(Create(1, "https://a.example/3").ok());
  EXPECT_EQ(Create(1, "https://a.example/4").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Create(2, "https://b.example/2").ok());  // The limit is per shop.
}

TEST_F(EngineWebhooksTest, AnotherShopsIdIsNotFound) {
  absl::StatusOr<WebhookEndpoint> a = Create(1, "https://a.example/h");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(engine_.webhooks().Get(2, a->id).has_value());
  WebhookEndpointPatch p;
  p.enabled = false;
  EXPECT_EQ(engine_.UpdateWebhookEndpoint(2, a->id, p).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_.DeleteWebhookEndpoint(2, a->id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_.RotateWebhookSecret(2, a->id, "whsec_eA", 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine_.webhooks().Get(1, a->id).has_value());
}

TEST_F(EngineWebhooksTest, RotationSignsWithBothSecretsUntilTheWindowEnds) {
  absl::StatusOr<WebhookEndpoint> a = Create(1, "https://a.example/h");
  ASSERT_TRUE(a.ok());
  absl::StatusOr<WebhookEndpoint> r =
      engine_.RotateWebhookSecret(1, a->id, "whsec_dHdv", kDay24h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret, "whsec_dHdv");
  EXPECT_EQ(r->previous_secret, "whsec_b25l");
  EXPECT_THAT(WebhookSigningSecrets(*r, kT0 + kDay24h - 1),
              ::testing::ElementsAre("whsec_dHdv", "whsec_b25l"));
  EXPECT_THAT(WebhookSigningSecrets(*r, kT0 + kDay24h),
              ::testing::ElementsAre("whsec_dHdv"));
}

TEST_F(EngineWebhooksTest, DisableKeepsTheReasonAndEnablingClearsIt) {
  absl::StatusOr<WebhookEndpoint> a = Create(1, "https://a.example/h");
  ASSERT_TRUE(a.ok());
  absl::StatusOr<WebhookEndpoint> d =
      engine_.DisableWebhookEndpoint(1, a->id, "the receiver answered 410 Gone");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->enabled);
  EXPECT_EQ(d->disabled_reason, "the receiver answered 410 Gone");
  WebhookEndpointPatch p;
  p.enabled = true;
  absl::StatusOr<WebhookEndpoint> e = engine_.UpdateWebhookEndpoint(1, a->id, p);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->enabled);
  EXPECT_EQ(e->disabled_reason, "");
}

TEST_F(EngineWebhooksTest, EveryChangeIsOneMutationAndReplayRebuildsTheState) {
  const uint64_t version = engine_.webhooks().version();
  replay_testing::FillWebhookEndpoints(&engine_);
  EXPECT_GT(engine_.webhooks().version(), version);
  std::vector<Mutation> log = sink_.Take();
  ASSERT_EQ(log.size(), 9u + 4u);  // 9 creates, update, rotate, disable, delete.
  EXPECT_TRUE(std::holds_alternative<PutWebhookEndpoint>(log[0].op));
  EXPECT_TRUE(std::get<PutWebhookEndpoint>(log[0].op).created);
  EXPECT_TRUE(std::holds_alternative<RemoveWebhookEndpoint>(log.back().op));

  FakeClock other(1);
  EngineOptions o = Opts(&other, nullptr);
  o.max_webhook_endpoints_per_shop = 16;
  Engine replayed(o);
  for (size_t i = 0; i < log.size(); ++i) ASSERT_TRUE(replayed.Apply(log[i], i + 1).ok());
  EXPECT_EQ(replayed.webhooks().List(0), engine_.webhooks().List(0));
  EXPECT_EQ(engine_.webhooks().List(0).size(), 8u);
  // The id counter survives the replay, deleted ids included: never reused.
  WebhookEndpointRequest r;
  r.shop = 4;
  r.url = "https://x.example/";
  r.secret = "whsec_eA";
  absl::StatusOr<WebhookEndpoint> next = replayed.CreateWebhookEndpoint(r);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, 10u);
}

}  // namespace
}  // namespace attrib::engine
