// net/handler_test.cc
//
// RequestHandler: every operation's mapping between the wire schema and the engine
// (values, optional fields, enums, errors naming the field). Frames, auth, malformed
// messages and counters are in handler_frame_test.cc.
//
// Thread-safety: single-threaded tests.
#include <string>
#include <vector>

#include "net/handler_test_util.h"

namespace attrib::net {
namespace {

using testing_util::HandlerTest;
using testing_util::kA;
using testing_util::kB;
using testing_util::kC;
using testing_util::kDay;
using testing_util::kShop;
using testing_util::kT0;
using testing_util::Reply;
using testing_util::Str;
using W = wire::Response;

TEST_F(HandlerTest, PingEchoesTheId) {
  const Reply r = Ping();
  EXPECT_EQ(r->which(), W::PONG);
  EXPECT_EQ(r->getId(), last_id_);
  EXPECT_FALSE(session_.close_after_reply);
}

TEST_F(HandlerTest, ConnectCreatesThenUnchangedThenAlreadyConnected) {
  Reply r = Send([](wire::Request::Builder q) {
    auto c = q.initConnect();
    c.setShop(kShop);
    c.setEmail(" Jane.Doe+promo@GoogleMail.com ");
    c.setAffiliate(kA);
    c.setSource(wire::Source::IMPORT);
    c.setConnectedAt(kT0 - kDay);
    c.setName("Jane Doe");
  });
  ASSERT_EQ(r->which(), W::CONNECT) << Str(r->getError().getMessage());
  auto result = r->getConnect();
  EXPECT_EQ(result.getOutcome(), wire::ConnectResult::Outcome::CREATED);
  auto c = result.getConnection();
  EXPECT_EQ(c.getShop(), kShop);
  EXPECT_EQ(Str(c.getCanonicalEmail()), "janedoe@gmail.com");
  EXPECT_EQ(Str(c.getEnteredEmail()), "Jane.Doe+promo@GoogleMail.com");
  EXPECT_EQ(c.getAffiliate(), kA);
  EXPECT_EQ(c.getSource(), wire::Source::IMPORT);
  EXPECT_EQ(c.getConnectedAt(), kT0 - kDay);
  EXPECT_EQ(Str(c.getName()), "Jane Doe");

  r = Connect("janedoe@gmail.com", kA);
  ASSERT_EQ(r->which(), W::CONNECT);
  EXPECT_EQ(r->getConnect().getOutcome(), wire::ConnectResult::Outcome::UNCHANGED);

  r = Connect("janedoe@gmail.com", kB);
  ExpectError(r, wire::ErrorCode::ALREADY_EXISTS, "already_connected:");
  EXPECT_EQ(r->getError().getCurrentAffiliate(), kA);
  EXPECT_EQ(r->getId(), last_id_);
  EXPECT_FALSE(session_.close_after_reply);
}

TEST_F(HandlerTest, ConnectDefaultsSourceApiAndNow) {
  const Reply r = Connect("a@b.com", kA);
  ASSERT_EQ(r->which(), W::CONNECT);
  EXPECT_EQ(r->getConnect().getConnection().getSource(), wire::Source::API);
  EXPECT_EQ(r->getConnect().getConnection().getConnectedAt(), kT0);
  EXPECT_EQ(Str(r->getConnect().getConnection().getName()), "");
}

TEST_F(HandlerTest, ReassignReportsPreviousAndKeepsNameWhenNotGiven) {
  Send([](wire::Request::Builder q) {
    auto c = q.initConnect();
    c.setShop(kShop);
    c.setEmail("jane@example.com");
    c.setAffiliate(kA);
    c.setName("Jane");
  });
  // No name (null pointer): the replaced connection's name is kept.
  Reply r = Connect("jane@example.com", kB, wire::ConnectMode::REASSIGN);
  ASSERT_EQ(r->which(), W::CONNECT);
  EXPECT_EQ(r->getConnect().getOutcome(), wire::ConnectResult::Outcome::REPLACED);
  EXPECT_EQ(r->getConnect().getPreviousAffiliate(), kA);
  EXPECT_EQ(Str(r->getConnect().getConnection().getName()), "Jane");
  // An empty but set name clears it.
  r = Send([](wire::Request::Builder q) {
    auto c = q.initConnect();
    c.setShop(kShop);
    c.setEmail("jane@example.com");
    c.setAffiliate(kC);
    c.setMode(wire::ConnectMode::REASSIGN);
    c.setName("");
  });
  ASSERT_EQ(r->which(), W::CONNECT);
  EXPECT_EQ(Str(r->getConnect().getConnection().getName()), "");
}

TEST_F(HandlerTest, ConnectErrorsNameTheField) {
  ExpectError(Connect("jane@@x.com", kA), wire::ErrorCode::INVALID_ARGUMENT, "email:");
  ExpectError(Connect("jane@x.com", 0), wire::ErrorCode::INVALID_ARGUMENT, "affiliate:");
  ExpectError(Connect("jane@x.com", kA, wire::ConnectMode::IF_ABSENT, 0),
              wire::ErrorCode::INVALID_ARGUMENT, "shop:");
  // An enum value from a newer schema is refused, not cast into the engine.
  ExpectError(Send([](wire::Request::Builder q) {
                auto c = q.initConnect();
                c.setShop(kShop);
                c.setEmail("jane@x.com");
                c.setAffiliate(kA);
                c.setSource(static_cast<wire::Source>(9));
              }),
              wire::ErrorCode::INVALID_ARGUMENT, "source: unknown value 9");
  ExpectError(Send([](wire::Request::Builder q) {
                auto c = q.initConnect();
                c.setShop(kShop);
                c.setEmail("jane@x.com");
                c.setAffiliate(kA);
                c.setConnectedAt(-5);
              }),
              wire::ErrorCode::INVALID_ARGUMENT, "connected_at:");
  EXPECT_FALSE(session_.close_after_reply);
}

TEST_F(HandlerTest, DisconnectReturnsTheRemovedConnection) {
  Connect("jane@example.com", kA);
  const auto disconnect = [&] {
    return Send([](wire::Request::Builder q) {
      auto d = q.initDisconnect();
      d.setShop(kShop);
      d.setEmail("JANE@example.com");
    });
  };
  Reply r = disconnect();
  ASSERT_EQ(r->which(), W::DISCONNECT);
  EXPECT_EQ(r->getDisconnect().getAffiliate(), kA);
  EXPECT_EQ(Str(r->getDisconnect().getCanonicalEmail()), "jane@example.com");
  ExpectError(disconnect(), wire::ErrorCode::NOT_FOUND, "not_found:");
}

TEST_F(HandlerTest, LookupFoundNotFoundAndAtTime) {
  Connect("jane@example.com", kA);
  Send([](wire::Request::Builder q) {
    auto p = q.initPutSettings();
    p.setShop(kShop);
    p.getPatch().getValidityDays().setSet(30);
  });
  Reply r = Lookup("Jane@Example.com");
  ASSERT_EQ(r->which(), W::LOOKUP);
  EXPECT_TRUE(r->getLookup().getFound());
  EXPECT_EQ(r->getLookup().getConnection().getAffiliate(), kA);
  EXPECT_EQ(r->getLookup().getStatus().getActivity(), wire::Activity::ACTIVE);
  EXPECT_EQ(r->getLookup().getStatus().getExpiresAt(), kT0 + 30 * kDay);

  r = Lookup("jane@example.com", kT0 + 31 * kDay);  // at: given.
  EXPECT_EQ(r->getLookup().getStatus().getActivity(), wire::Activity::EXPIRED);

  r = Lookup("nobody@example.com");
  ASSERT_EQ(r->which(), W::LOOKUP);
  EXPECT_FALSE(r->getLookup().getFound());
  EXPECT_FALSE(r->getLookup().hasConnection());

  ExpectError(Lookup("no-at-sign"), wire::ErrorCode::INVALID_ARGUMENT, "email:");
  ExpectError(Lookup("jane@example.com", -1), wire::ErrorCode::INVALID_ARGUMENT, "at:");
}

TEST_F(HandlerTest, LookupBatchKeepsOrderAndFlagsInvalidItems) {
  Connect("a@example.com", kA);
  Connect("c@example.com", kC);
  const Reply r = Send([](wire::Request::Builder q) {
    auto b = q.initLookupBatch();
    b.setShop(kShop);
    auto emails = b.initEmails(4);
    emails.set(0, "c@example.com");
    emails.set(1, "not an email");
    emails.set(2, "A@Example.com");
    emails.set(3, "b@example.com");
  });
  ASSERT_EQ(r->which(), W::LOOKUP_BATCH);
  const auto items = r->getLookupBatch();
  ASSERT_EQ(items.size(), 4u);
  ASSERT_TRUE(items[0].isResult());
  EXPECT_EQ(items[0].getResult().getConnection().getAffiliate(), kC);
  ASSERT_TRUE(items[1].isError());
  EXPECT_EQ(items[1].getError().getCode(), wire::ErrorCode::INVALID_ARGUMENT);
  EXPECT_THAT(Str(items[1].getError().getMessage()), ::testing::StartsWith("email:"));
  ASSERT_TRUE(items[2].isResult());
  EXPECT_EQ(items[2].getResult().getConnection().getAffiliate(), kA);
  ASSERT_TRUE(items[3].isResult());
  EXPECT_FALSE(items[3].getResult().getFound());
}

TEST_F(HandlerTest, LookupBatchOverTheLimitIsRefused) {
  const Reply r = Send([](wire::Request::Builder q) {
    auto b = q.initLookupBatch();
    b.setShop(kShop);
    b.initEmails(engine::kMaxBatchLookup + 1);  // Null texts are fine for the count.
  });
  ExpectError(r, wire::ErrorCode::INVALID_ARGUMENT, "emails: 10001 in one batch");
}

TEST_F(HandlerTest, ListPagesWithTheCursorAndFilters) {
  for (const char* e : {"e@x.com", "b@x.com", "d@x.com", "a@x.com", "c@x.com"}) {
    Connect(e, std::string(e) == "c@x.com" ? kB : kA);
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    const Reply r = Send([&](wire::Request::Builder q) {
      auto l = q.initList();
      l.setShop(kShop);
      l.setLimit(2);
      l.setCursor(cursor);
    });
    ASSERT_EQ(r->which(), W::LIST) << Str(r->getError().getMessage());
    for (auto item : r->getList().getItems()) {
      seen.push_back(Str(item.getConnection().getCanonicalEmail()));
      EXPECT_EQ(item.getStatus().getActivity(), wire::Activity::ACTIVE);
    }
    cursor = Str(r->getList().getNextCursor());
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"a@x.com", "b@x.com", "c@x.com", "d@x.com",
                                            "e@x.com"}));
  EXPECT_EQ(pages, 3);

  // affiliate filter + source `only`.
  Reply r = Send([](wire::Request::Builder q) {
    auto l = q.initList();
    l.setShop(kShop);
    l.setAffiliate(kB);
    l.getSource().setOnly(wire::Source::API);
  });
  ASSERT_EQ(r->which(), W::LIST);
  ASSERT_EQ(r->getList().getItems().size(), 1u);
  EXPECT_EQ(Str(r->getList().getItems()[0].getConnection().getCanonicalEmail()), "c@x.com");
  r = Send([](wire::Request::Builder q) {
    auto l = q.initList();
    l.setShop(kShop);
    l.getSource().setOnly(wire::Source::IMPORT);
  });
  EXPECT_EQ(r->getList().getItems().size(), 0u);

  ExpectError(Send([](wire::Request::Builder q) {
                auto l = q.initList();
                l.setShop(kShop);
                l.setLimit(1001);
              }),
              wire::ErrorCode::INVALID_ARGUMENT, "limit:");
}

TEST_F(HandlerTest, CountWholeShopBreakdownIsLargestFirstThenById) {
  for (int i = 0; i < 3; ++i) Connect("c" + std::to_string(i) + "@x.com", kC);
  for (int i = 0; i < 3; ++i) Connect("a" + std::to_string(i) + "@x.com", kA);
  Connect("b@x.com", kB);
  Reply r = Send([](wire::Request::Builder q) { q.initCount().setShop(kShop); });
  ASSERT_EQ(r->which(), W::COUNT);
  EXPECT_EQ(r->getCount().getConnections(), 7u);
  const auto by = r->getCount().getByAffiliate();
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(by[0].getAffiliate(), kA);  // 3, smaller id first.
  EXPECT_EQ(by[0].getConnections(), 3u);
  EXPECT_EQ(by[1].getAffiliate(), kC);
  EXPECT_EQ(by[1].getConnections(), 3u);
  EXPECT_EQ(by[2].getAffiliate(), kB);
  EXPECT_EQ(by[2].getConnections(), 1u);

  r = Send([](wire::Request::Builder q) {
    auto c = q.initCount();
    c.setShop(kShop);
    c.setAffiliate(kC);
  });
  ASSERT_EQ(r->which(), W::COUNT);
  EXPECT_EQ(r->getCount().getConnections(), 3u);
  EXPECT_EQ(r->getCount().getByAffiliate().size(), 0u);

  ExpectError(Send([](wire::Request::Builder q) { q.initCount(); }),
              wire::ErrorCode::INVALID_ARGUMENT, "shop:");
}

TEST_F(HandlerTest, SettingsPatchKeepsAndSets) {
  Reply r = Send([](wire::Request::Builder q) { q.initGetSettings().setShop(kShop); });
  ASSERT_EQ(r->which(), W::SETTINGS);
  EXPECT_TRUE(r->getSettings().getConnectionsEnabled());
  EXPECT_FALSE(r->getSettings().getAutoConnect());

  r = Send([](wire::Request::Builder q) {
    auto p = q.initPutSettings();
    p.setShop(kShop);
    auto patch = p.initPatch();
    patch.getAutoConnect().setSet(true);
    patch.getValidityDays().setSet(30);
    patch.getValidityMode().setSet(wire::ValidityMode::SLIDING);
    patch.getValidityMaxOrders().setSet(5);
    patch.getPrecedence().setSet(wire::Precedence::REFERRAL_TAKES_OVER);
    patch.getConnectionsEnabled().setSet(false);
  });
  ASSERT_EQ(r->which(), W::SETTINGS) << Str(r->getError().getMessage());
  // Everything else kept: a second patch touching only one field.
  r = Send([](wire::Request::Builder q) {
    auto p = q.initPutSettings();
    p.setShop(kShop);
    p.initPatch().getAutoConnectNewCustomersOnly().setSet(true);
  });
  ASSERT_EQ(r->which(), W::SETTINGS);
  r = Send([](wire::Request::Builder q) { q.initGetSettings().setShop(kShop); });
  const auto s = r->getSettings();
  EXPECT_FALSE(s.getConnectionsEnabled());
  EXPECT_TRUE(s.getAutoConnect());
  EXPECT_TRUE(s.getAutoConnectNewCustomersOnly());
  EXPECT_EQ(s.getValidityDays(), 30u);
  EXPECT_EQ(s.getValidityMode(), wire::ValidityMode::SLIDING);
  EXPECT_EQ(s.getValidityMaxOrders(), 5u);
  EXPECT_EQ(s.getPrecedence(), wire::Precedence::REFERRAL_TAKES_OVER);

  ExpectError(Send([](wire::Request::Builder q) {
                auto p = q.initPutSettings();
                p.setShop(kShop);
                p.initPatch().getValidityDays().setSet(40000);
              }),
              wire::ErrorCode::INVALID_ARGUMENT, "validity_days:");
  ExpectError(Send([](wire::Request::Builder q) {
                auto p = q.initPutSettings();
                p.setShop(kShop);
                p.initPatch().getPrecedence().setSet(static_cast<wire::Precedence>(7));
              }),
              wire::ErrorCode::INVALID_ARGUMENT, "precedence: unknown value 7");
}

TEST_F(HandlerTest, AttributeConnectedThenDuplicate) {
  Connect("jane@example.com", kA);
  Reply r = Attribute("order-1", "Jane@Example.com", kB);
  ASSERT_EQ(r->which(), W::ATTRIBUTE) << Str(r->getError().getMessage());
  auto d = r->getAttribute().getDecision();
  EXPECT_FALSE(r->getAttribute().getDuplicate());
  EXPECT_EQ(Str(d.getOrderId()), "order-1");
  EXPECT_EQ(d.getOrderedAt(), kT0);  // orderedAt 0: now.
  EXPECT_EQ(d.getAffiliate(), kA);
  EXPECT_EQ(d.getReason(), wire::Reason::CONNECTED);
  EXPECT_TRUE(d.getCounted());
  EXPECT_EQ(Str(d.getCanonicalEmail()), "jane@example.com");

  clock_.Advance(1000);
  r = Attribute("order-1", "other@example.com");
  ASSERT_EQ(r->which(), W::ATTRIBUTE);
  EXPECT_TRUE(r->getAttribute().getDuplicate());
  EXPECT_EQ(r->getAttribute().getDecision().getAffiliate(), kA);
  EXPECT_EQ(r->getAttribute().getDecision().getOrderedAt(), kT0);
  EXPECT_EQ(Lookup("jane@example.com")->getLookup().getConnection().getOrderCount(), 1u);
}

TEST_F(HandlerTest, AttributeOptionalFields) {
  // No email, a referral: credited to the referral; orderedAt given.
  Reply r = Send([](wire::Request::Builder q) {
    auto a = q.initAttribute();
    a.setShop(kShop);
    a.setOrderId("o-ref");
    a.setReferralAffiliate(kB);
    a.setOrderedAt(kT0 - kDay);
  });
  ASSERT_EQ(r->which(), W::ATTRIBUTE);
  EXPECT_EQ(r->getAttribute().getDecision().getAffiliate(), kB);
  EXPECT_EQ(r->getAttribute().getDecision().getReason(), wire::Reason::REFERRAL);
  EXPECT_EQ(r->getAttribute().getDecision().getOrderedAt(), kT0 - kDay);
  EXPECT_EQ(Str(r->getAttribute().getDecision().getCanonicalEmail()), "");

  // customerIsNew: without the customer directory, unknown is "not given", which
  // new-customers-only auto-connect does not take as new; yes is.
  Send([](wire::Request::Builder q) {
    auto p = q.initPutSettings();
    p.setShop(kShop);
    p.initPatch().getAutoConnect().setSet(true);
    p.getPatch().getAutoConnectNewCustomersOnly().setSet(true);
    p.getPatch().getCustomerDirectory().setSet(false);
  });
  r = Attribute("o-unknown", "u@example.com", kB, wire::Tristate::UNKNOWN);
  EXPECT_FALSE(r->getAttribute().getDecision().getConnectionCreated());
  EXPECT_EQ(r->getAttribute().getDecision().getNewCustomerSource(),
            wire::NewCustomerSource::UNKNOWN);
  {
    // With the directory (the default), a first order seen is new.
    Reply on = Send([](wire::Request::Builder q) {
      auto p = q.initPutSettings();
      p.setShop(kShop);
      p.initPatch().getCustomerDirectory().setSet(true);
    });
    EXPECT_TRUE(on->getSettings().getCustomerDirectory());
    Reply d = Attribute("o-dir", "d@example.com", kB, wire::Tristate::UNKNOWN);
    EXPECT_TRUE(d->getAttribute().getDecision().getConnectionCreated());
    EXPECT_EQ(d->getAttribute().getDecision().getNewCustomerSource(),
              wire::NewCustomerSource::DIRECTORY);
    EXPECT_EQ(d->getAttribute().getDecision().getOrderNumberForCustomer(), 1u);
    Send([](wire::Request::Builder q) {
      auto p = q.initPutSettings();
      p.setShop(kShop);
      p.initPatch().getCustomerDirectory().setSet(false);
    });
  }
  r = Attribute("o-no", "n@example.com", kB, wire::Tristate::NO);
  EXPECT_FALSE(r->getAttribute().getDecision().getConnectionCreated());
  r = Attribute("o-yes", "y@example.com", kB, wire::Tristate::YES);
  EXPECT_TRUE(r->getAttribute().getDecision().getConnectionCreated());
  EXPECT_EQ(Lookup("y@example.com")->getLookup().getConnection().getSource(),
            wire::Source::REFERRAL);

  ExpectError(Attribute("", "u@example.com"), wire::ErrorCode::INVALID_ARGUMENT, "order_id:");
  ExpectError(Attribute("o", "u@example.com", 0, static_cast<wire::Tristate>(3)),
              wire::ErrorCode::INVALID_ARGUMENT, "customer_is_new: unknown value 3");
}

TEST_F(HandlerTest, ReverseAndExplain) {
  Connect("jane@example.com", kA);
  Attribute("order-1", "jane@example.com");
  const auto reverse = [&](const char* order_id) {
    return Send([&](wire::Request::Builder q) {
      auto o = q.initReverse();
      o.setShop(kShop);
      o.setOrderId(order_id);
    });
  };
  const auto explain = [&](const char* order_id) {
    return Send([&](wire::Request::Builder q) {
      auto o = q.initExplain();
      o.setShop(kShop);
      o.setOrderId(order_id);
    });
  };
  Reply r = reverse("order-1");
  ASSERT_EQ(r->which(), W::REVERSE) << Str(r->getError().getMessage());
  EXPECT_TRUE(r->getReverse().getUncounted());
  EXPECT_FALSE(r->getReverse().getAlreadyReversed());
  EXPECT_TRUE(r->getReverse().getDecision().getReversed());
  EXPECT_EQ(Lookup("jane@example.com")->getLookup().getConnection().getOrderCount(), 0u);

  r = reverse("order-1");
  ASSERT_EQ(r->which(), W::REVERSE);
  EXPECT_FALSE(r->getReverse().getUncounted());
  EXPECT_TRUE(r->getReverse().getAlreadyReversed());
  ExpectError(reverse("nope"), wire::ErrorCode::NOT_FOUND, "not_found:");

  r = explain("order-1");
  ASSERT_EQ(r->which(), W::EXPLAIN);
  EXPECT_EQ(Str(r->getExplain().getOrderId()), "order-1");
  EXPECT_EQ(r->getExplain().getAffiliate(), kA);
  EXPECT_EQ(r->getExplain().getReason(), wire::Reason::CONNECTED);
  EXPECT_TRUE(r->getExplain().getReversed());
  ExpectError(explain("nope"), wire::ErrorCode::NOT_FOUND, "not_found:");
  ExpectError(explain(""), wire::ErrorCode::INVALID_ARGUMENT, "order_id:");
}

TEST_F(HandlerTest, SnapshotUnimplementedWithoutDurability) {
  ExpectError(Send([](wire::Request::Builder q) { q.setSnapshot(); }),
              wire::ErrorCode::UNIMPLEMENTED,
              "snapshot: not available until the durability layer exists");
  EXPECT_FALSE(session_.close_after_reply);
}

TEST_F(HandlerTest, SnapshotCallsTheHookAndReportsItsError) {
  int calls = 0;
  bool fail = false;
  HandlerOptions options;
  options.snapshot = [&]() -> absl::Status {
    ++calls;
    return fail ? absl::UnavailableError("snapshot: disk full") : absl::OkStatus();
  };
  Reset(std::move(options));
  EXPECT_EQ(Send([](wire::Request::Builder q) { q.setSnapshot(); })->which(), W::SNAPSHOT);
  fail = true;
  ExpectError(Send([](wire::Request::Builder q) { q.setSnapshot(); }),
              wire::ErrorCode::UNAVAILABLE, "snapshot: disk full");
  EXPECT_EQ(calls, 2);
}

TEST_F(HandlerTest, StatsReportsEngineServerAndCounts) {
  HandlerOptions options;
  options.server_facts = [] { return ServerFacts{3, 17, 12345}; };
  Reset(std::move(options));
  Connect("jane@example.com", kA);
  Connect("jane@example.com", kB);  // already_exists.
  Lookup("jane@example.com");
  Attribute("order-1", "jane@example.com");

  const auto stats = [&] { return Send([](wire::Request::Builder q) { q.setStats(); }); };
  const auto count_of = [](wire::StatsResult::Reader s, const std::string& op,
                           const std::string& result) -> uint64_t {
    for (auto c : s.getOperations()) {
      if (Str(c.getOperation()) == op && Str(c.getResult()) == result) return c.getCount();
    }
    return 0;
  };
  Reply r = stats();
  ASSERT_EQ(r->which(), W::STATS);
  auto s = r->getStats();
  EXPECT_EQ(s.getConnections(), 1u);
  EXPECT_EQ(s.getRememberedOrders(), 1u);
  EXPECT_EQ(s.getOpenClients(), 3u);
  EXPECT_EQ(s.getAcceptedClients(), 17u);
  EXPECT_EQ(s.getUptimeMs(), 12345);
  EXPECT_GT(s.getRssBytes(), 0u);
  EXPECT_GT(s.getStoreTableBytes(), 0u);
  EXPECT_EQ(count_of(s, "connect", "ok"), 1u);
  EXPECT_EQ(count_of(s, "connect", "already_exists"), 1u);
  EXPECT_EQ(count_of(s, "lookup", "ok"), 1u);
  EXPECT_EQ(count_of(s, "attribute", "ok"), 1u);
  EXPECT_EQ(count_of(s, "stats", "ok"), 0u);  // Counted after its own reply is built.

  Lookup("jane@example.com");
  Lookup("bad");
  r = stats();
  s = r->getStats();
  EXPECT_EQ(count_of(s, "lookup", "ok"), 2u);
  EXPECT_EQ(count_of(s, "lookup", "invalid_argument"), 1u);
  EXPECT_EQ(count_of(s, "stats", "ok"), 1u);
  EXPECT_EQ(Counted("lookup", "ok"), 2u);
}

}  // namespace
}  // namespace attrib::net
