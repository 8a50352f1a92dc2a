// service/service_webhooks_test.cc: the service layer's webhook and change-feed
// rules: secrets are generated here and shown only by create and rotate; the URL
// check runs before anything is stored; scopes (another shop's endpoint is not
// found, a read-only key cannot create); `created` hands the delivery start to the
// deliverer; a shop key's change feed holds only its shop's changes, resumable.
#include <string>
#include <vector>

#include "engine/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/service.h"

namespace attrib::service {
namespace {

using ::testing::HasSubstr;

class ServiceWebhooksTest : public ::testing::Test {
 protected:
  ServiceWebhooksTest() : clock_(1'700'000'000'000), engine_(Options(&clock_)) {}
  static engine::EngineOptions Options(const engine::Clock* clock) {
    engine::EngineOptions o;
    o.shard_count = 4;
    o.clock = clock;
    o.sink = &log_;
    return o;
  }
  ServiceOptions Hooked() {
    ServiceOptions o;
    WebhookHooks& h = o.webhooks;
    h.new_secret = [this]() -> absl::StatusOr<std::string> {
      return "whsec_" + std::to_string(++secrets_);
    };
    h.check_url = [](absl::string_view url) {
      return url.find("bad") == absl::string_view::npos
                 ? absl::OkStatus()
                 : absl::InvalidArgumentError("url: refused");
    };
    h.created = [this](uint64_t id, uint64_t seq) { created_.emplace_back(id, seq); };
    h.changed = [this] { ++changed_; };
    h.read_changes = [](uint64_t from, size_t max) -> absl::StatusOr<std::vector<Change>> {
      std::vector<Change> out;
      for (size_t i = from - 1; i < log_.all.size() && out.size() < max; ++i) {
        out.push_back(Change{i + 1, log_.all[i]});
      }
      return out;
    };
    return o;
  }
  static engine::WebhookEndpointRequest Request(engine::ShopId shop, std::string url) {
    engine::WebhookEndpointRequest r;
    r.shop = shop;
    r.url = std::move(url);
    return r;
  }

  struct Log : engine::MutationSink {
    void OnMutation(const engine::Mutation& m) override { all.push_back(m); }
    std::vector<engine::Mutation> all;
  };
  static inline Log log_;
  engine::FakeClock clock_;
  engine::Engine engine_;
  int secrets_ = 0;
  int changed_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> created_;
};

TEST_F(ServiceWebhooksTest, SecretsAreShownOnlyByCreateAndRotate) {
  log_.all.clear();
  Service sv(&engine_, Hooked());
  Call admin = sv.Begin(Scope::Admin());
  absl::StatusOr<engine::WebhookEndpoint> e =
      sv.CreateWebhookEndpoint(admin, Request(1, "https://x.example/h"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->secret, "whsec_1");
  EXPECT_EQ(changed_, 1);
  ASSERT_EQ(created_.size(), 1u);
  EXPECT_EQ(created_[0].first, e->id);
  absl::StatusOr<WebhookEndpointInfo> got = sv.GetWebhookEndpoint(admin, 1, e->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->endpoint.secret, "");
  absl::StatusOr<engine::WebhookEndpoint> r = sv.RotateWebhookSecret(admin, 1, e->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret, "whsec_2");
  EXPECT_EQ(r->previous_secret, "") << "the old secret is not shown again";
  EXPECT_EQ(engine_.webhooks().Get(1, e->id)->previous_secret, "whsec_1");
  // The StatusOr must outlive the loop (`*temporary` in a range-for dangles).
  absl::StatusOr<std::vector<WebhookEndpointInfo>> listed = sv.ListWebhookEndpoints(admin, 1);
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const WebhookEndpointInfo& i : *listed) {
    EXPECT_EQ(i.endpoint.secret, "");
    EXPECT_EQ(i.endpoint.previous_secret, "");
  }
}

TEST_F(ServiceWebhooksTest, UrlCheckAndScopesComeFirst) {
  log_.all.clear();
  Service sv(&engine_, Hooked());
  Call admin = sv.Begin(Scope::Admin());
  absl::StatusOr<engine::WebhookEndpoint> bad =
      sv.CreateWebhookEndpoint(admin, Request(1, "http://bad.example/"));
  EXPECT_THAT(bad.status().message(), HasSubstr("url: refused"));
  EXPECT_TRUE(log_.all.empty()) << "nothing stored";
  Call reader = sv.Begin(Scope::Shop(1, /*read_only=*/true));
  EXPECT_EQ(sv.CreateWebhookEndpoint(reader, Request(1, "https://x/")).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<engine::WebhookEndpoint> e =
      sv.CreateWebhookEndpoint(admin, Request(1, "https://x/"));
  ASSERT_TRUE(e.ok());
  Call other = sv.Begin(Scope::Shop(2));
  EXPECT_EQ(sv.GetWebhookEndpoint(other, 1, e->id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(sv.GetWebhookEndpoint(other, 2, e->id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(sv.DeleteWebhookEndpoint(other, 2, e->id).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(sv.GetWebhookEndpoint(reader, 1, e->id).ok());
  // Without hooks (no deliverer): Unimplemented, not a half-made endpoint.
  Service bare(&engine_, ServiceOptions{});
  Call a2 = bare.Begin(Scope::Admin());
  EXPECT_EQ(bare.CreateWebhookEndpoint(a2, Request(1, "https://x/")).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(ServiceWebhooksTest, AShopKeysChangeFeedHoldsOnlyItsShop) {
  log_.all.clear();
  for (int i = 0; i < 30; ++i) {
    engine::ConnectRequest c;
    c.shop = 1 + i % 3;
    c.email = "c" + std::to_string(i) + "@x.com";
    c.affiliate = 7;
    ASSERT_TRUE(engine_.Connect(c).ok());
  }
  Service sv(&engine_, Hooked());
  Call shop2 = sv.Begin(Scope::Shop(2));
  std::vector<uint64_t> seqs;
  uint64_t from = 1;
  for (int page = 0; page < 20; ++page) {
    uint64_t next = 0;
    absl::StatusOr<std::vector<Change>> r = sv.Changes(shop2, from, 4, &next);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const Change& c : *r) {
      EXPECT_EQ(ShopOfChange(c.mutation), 2u);
      seqs.push_back(c.seq);
    }
    EXPECT_GT(next, from - (r->empty() ? 1 : 0));
    from = next;
  }
  ASSERT_EQ(seqs.size(), 10u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], 2 + 3 * i) << "each once, in order";
  Call admin = sv.Begin(Scope::Admin());
  uint64_t next = 0;
  EXPECT_EQ(sv.Changes(admin, 1, 100, &next)->size(), 30u);
  EXPECT_EQ(next, 31u);
}

}  // namespace
}  // namespace attrib::service
