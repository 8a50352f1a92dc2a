// webhooks/events_test.cc: log records -> webhook events (webhooks/events.h): the
// type of every record kind, the stable id, and the JSON body's fields (parsed back
// with RapidJSON).
//
// Thread-safety: single-threaded tests.
#include "webhooks/events.h"

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "engine/identity_index.h"
#include "engine/webhook_endpoints.h"

namespace attrib::webhooks {
namespace {

constexpr engine::TimeMs kT = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

rapidjson::Document Parse(const Event& e) {
  rapidjson::Document d;
  d.Parse(e.body.c_str());
  EXPECT_FALSE(d.HasParseError()) << e.body;
  return d;
}

engine::Connection Jane(uint64_t affiliate) {
  engine::Connection c;
  c.shop = 7;
  c.canonical_email = "janedoe@gmail.com";
  c.entered_email = "Jane.Doe@gmail.com";
  c.affiliate = affiliate;
  c.source = engine::Source::kApi;
  c.connected_at = kT - 1000;
  c.name = "Jane \"JD\" Doe";
  return c;
}

TEST(EventsTest, ConnectionCreatedThenReplacedThenRemoved) {
  engine::Mutation created{kT, engine::SetConnection{Jane(42), 0}};
  std::optional<Event> e = EventOf(12, created);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "evt_12");
  EXPECT_EQ(e->type, "connection.created");
  EXPECT_EQ(e->shop, 7u);
  rapidjson::Document d = Parse(*e);
  EXPECT_STREQ(d["id"].GetString(), "evt_12");
  EXPECT_STREQ(d["seq"].GetString(), "12");
  EXPECT_STREQ(d["shop"].GetString(), "7");
  EXPECT_EQ(d["occurred_at"].GetInt64(), kT);
  EXPECT_STREQ(d["timestamp"].GetString(), "2023-11-14T22:13:20.000Z");
  EXPECT_STREQ(d["data"]["affiliate"].GetString(), "42");
  EXPECT_STREQ(d["data"]["source"].GetString(), "api");
  EXPECT_STREQ(d["data"]["name"].GetString(), "Jane \"JD\" Doe");  // Escaped and back.

  engine::Mutation replaced{kT, engine::SetConnection{Jane(43), 42}};
  e = EventOf(13, replaced);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "connection.replaced");
  EXPECT_STREQ(Parse(*e)["data"]["previous_affiliate"].GetString(), "42");

  engine::Mutation removed{kT, engine::RemoveConnection{7, "janedoe@gmail.com", 43}};
  e = EventOf(14, removed);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "connection.removed");
  EXPECT_STREQ(Parse(*e)["data"]["email"].GetString(), "janedoe@gmail.com");
}

TEST(EventsTest, OrdersAndSettings) {
  engine::RecordOrder order;
  order.shop = 7;
  order.decision.order_id = "1001";
  order.decision.affiliate = 42;
  order.decision.reason = engine::Reason::kConnected;
  order.decision.counted = true;
  order.decision.canonical_email = "janedoe@gmail.com";
  std::optional<Event> e = EventOf(20, engine::Mutation{kT, order});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "order.attributed");
  rapidjson::Document d = Parse(*e);
  EXPECT_STREQ(d["data"]["order_id"].GetString(), "1001");
  EXPECT_STREQ(d["data"]["reason"].GetString(), "connected");
  EXPECT_TRUE(d["data"]["counted"].GetBool());

  engine::ReverseOrder reverse;
  reverse.shop = 7;
  reverse.order_id = "1001";
  reverse.counters = engine::OrderCounters{0, 0};
  e = EventOf(21, engine::Mutation{kT, reverse});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "order.reversed");
  EXPECT_TRUE(Parse(*e)["data"]["uncounted"].GetBool());

  engine::PutSettings settings;
  settings.shop = 7;
  settings.settings.validity_days = 30;
  e = EventOf(22, engine::Mutation{kT, settings});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "settings.updated");
  EXPECT_EQ(Parse(*e)["data"]["validity_days"].GetUint(), 30u);
}

TEST(EventsTest, AffiliatesAndIdentity) {
  engine::PutAffiliate put;
  put.affiliate.shop = 7;
  put.affiliate.id = 42;
  put.affiliate.name = "Jane";
  put.affiliate.emails = {"jane@example.com", "j@example.com"};
  put.created = true;
  std::optional<Event> e = EventOf(30, engine::Mutation{kT, put});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "affiliate.created");
  rapidjson::Document d = Parse(*e);
  EXPECT_STREQ(d["data"]["affiliate"].GetString(), "42");
  ASSERT_EQ(d["data"]["emails"].Size(), 2u);
  EXPECT_STREQ(d["data"]["emails"][1].GetString(), "j@example.com");
  EXPECT_STREQ(d["data"]["status"].GetString(), "active");
  put.created = false;
  put.affiliate.status = engine::AffiliateStatus::kDisabled;
  e = EventOf(31, engine::Mutation{kT, put});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "affiliate.updated");
  EXPECT_STREQ(Parse(*e)["data"]["status"].GetString(), "disabled");

  const std::string ext = std::string(1, engine::kExternalIdPrefix) + "cust-9";
  engine::LinkIdentifier link{7, ext, "janedoe@gmail.com", engine::IdentityCause::kOrder,
                              "1001"};
  e = EventOf(32, engine::Mutation{kT, link});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "customer.identifier_linked");
  d = Parse(*e);
  EXPECT_STREQ(d["data"]["customer"]["external_id"].GetString(), "cust-9");
  EXPECT_FALSE(d["data"]["customer"].HasMember("email"));
  EXPECT_STREQ(d["data"]["email"].GetString(), "janedoe@gmail.com");
  EXPECT_STREQ(d["data"]["cause"].GetString(), "order");
  EXPECT_STREQ(d["data"]["order_id"].GetString(), "1001");

  engine::UnlinkIdentifier unlink{7, "janedoe@gmail.com", ext};
  e = EventOf(33, engine::Mutation{kT, unlink});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "customer.identifier_unlinked");
  d = Parse(*e);
  EXPECT_STREQ(d["data"]["customer"]["email"].GetString(), "janedoe@gmail.com");
  EXPECT_STREQ(d["data"]["external_id"].GetString(), "cust-9");

  engine::MergeCustomers merge;
  merge.shop = 7;
  merge.survivor = "janedoe@gmail.com";
  merge.loser = ext;
  merge.lost_connection = Jane(43);
  merge.conflict = true;
  merge.rule = engine::MergeConflictRule::kKeepEmail;
  e = EventOf(34, engine::Mutation{kT, merge});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "customer.merged");
  d = Parse(*e);
  EXPECT_STREQ(d["data"]["survivor"]["email"].GetString(), "janedoe@gmail.com");
  EXPECT_STREQ(d["data"]["merged"]["external_id"].GetString(), "cust-9");
  EXPECT_TRUE(d["data"]["conflict"].GetBool());
  EXPECT_STREQ(d["data"]["rule"].GetString(), "keep_email");
  EXPECT_STREQ(d["data"]["lost_connection"]["affiliate"].GetString(), "43");
  EXPECT_STREQ(d["data"]["cause"].GetString(), "manual");
}

TEST(EventsTest, EveryEventTypeCanBeSubscribedTo) {
  // Each type EventOf produces is one an endpoint may name (and so filter on).
  for (absl::string_view t : engine::kWebhookEventTypes) {
    EXPECT_TRUE(engine::WebhookEventMask("events", {std::string(t)}).ok()) << t;
  }
  const absl::Status unknown =
      engine::WebhookEventMask("events", {std::string("customer.deleted")}).status();
  EXPECT_NE(unknown.message().find("customer.merged"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace attrib::webhooks
