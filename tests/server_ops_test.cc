// tests/server_ops_test.cc
//
// Every operation of the protocol end to end, through the client library, against a
// real attribd process: the seeds' story (connect a customer by email, see the
// connection and its source, attribute an order where the connection beats another
// affiliate's coupon, list the affiliate's customers, disconnect), every error path,
// batch lookups, settings, counts, stats, and authentication on and off.
//
// Thread-safety: single-threaded tests.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/attribd_process.h"

namespace attrib {
namespace {

using net::Client;
using net::ClientOptions;
using testing::AttribdProcess;
using testing::Dial;


engine::ConnectRequest ConnectReq(uint64_t shop, std::string email, uint64_t affiliate) {
  engine::ConnectRequest r;
  r.shop = shop;
  r.email = std::move(email);
  r.affiliate = affiliate;
  return r;
}

class ServerOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    client_ = Dial(server_);
    ASSERT_NE(client_, nullptr);
  }
  AttribdProcess server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ServerOpsTest, TheSeedsStory) {
  // Connect a customer by email, by hand in the admin panel.
  engine::ConnectRequest c = ConnectReq(1, " Jane.Doe+promo@GoogleMail.com ", 42);
  c.source = engine::Source::kManual;
  c.name = "Jane Doe";
  auto connected = client_->Connect(c);
  ASSERT_TRUE(connected.ok()) << connected.status();
  auto cr = connected->get().getConnect();
  EXPECT_EQ(cr.getOutcome(), net::wire::ConnectResult::Outcome::CREATED);
  EXPECT_EQ(std::string(cr.getConnection().getCanonicalEmail().cStr()), "janedoe@gmail.com");

  // See the connection and its source.
  auto looked = client_->Lookup(1, "jane.doe@gmail.com");
  ASSERT_TRUE(looked.ok()) << looked.status();
  auto lr = looked->get().getLookup();
  ASSERT_TRUE(lr.getFound());
  EXPECT_EQ(lr.getConnection().getAffiliate(), 42u);
  EXPECT_EQ(lr.getConnection().getSource(), net::wire::Source::MANUAL);
  EXPECT_EQ(std::string(lr.getConnection().getName().cStr()), "Jane Doe");
  EXPECT_EQ(lr.getStatus().getActivity(), net::wire::Activity::ACTIVE);

  // An order with another affiliate's coupon: the connection wins.
  engine::AttributeRequest order;
  order.shop = 1;
  order.order_id = "1001";
  order.email = "JaneDoe@gmail.com";
  order.referral_affiliate = 7;
  auto attributed = client_->Attribute(order);
  ASSERT_TRUE(attributed.ok()) << attributed.status();
  auto d = attributed->get().getAttribute().getDecision();
  EXPECT_EQ(d.getAffiliate(), 42u);
  EXPECT_EQ(d.getReason(), net::wire::Reason::CONNECTED);
  EXPECT_TRUE(d.getCounted());
  // The same order again: the first decision, marked duplicate.
  auto again = client_->Attribute(order);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->get().getAttribute().getDuplicate());
  auto explained = client_->Explain(1, "1001");
  ASSERT_TRUE(explained.ok());
  EXPECT_EQ(explained->get().getExplain().getAffiliate(), 42u);

  // List the affiliate's customers.
  engine::ListRequest list;
  list.shop = 1;
  list.affiliate = 42;
  auto listed = client_->List(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->get().getList().getItems().size(), 1u);
  EXPECT_EQ(listed->get().getList().getItems()[0].getConnection().getOrderCount(), 1u);

  // Refund, then disconnect.
  auto reversed = client_->Reverse(1, "1001");
  ASSERT_TRUE(reversed.ok());
  EXPECT_TRUE(reversed->get().getReverse().getUncounted());
  auto gone = client_->Disconnect(1, "janedoe@gmail.com");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->get().getDisconnect().getAffiliate(), 42u);
  EXPECT_FALSE(client_->Lookup(1, "janedoe@gmail.com")->get().getLookup().getFound());
}

TEST_F(ServerOpsTest, ErrorsCarryTheEngineCodeAndNameTheField) {
  ASSERT_TRUE(client_->Connect(ConnectReq(1, "a@x.com", 5)).ok());
  auto taken = client_->Connect(ConnectReq(1, "A@x.com", 6));
  ASSERT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(taken.status().message().find("already_connected"), absl::string_view::npos);
  auto payload = taken.status().GetPayload(engine::kCurrentAffiliatePayload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "5");

  const auto field = [](const absl::Status& s) {
    return std::string(s.message().substr(0, s.message().find(':')));
  };
  EXPECT_EQ(field(client_->Connect(ConnectReq(0, "a@x.com", 5)).status()), "shop");
  EXPECT_EQ(field(client_->Connect(ConnectReq(1, "a@@x.com", 5)).status()), "email");
  EXPECT_EQ(field(client_->Connect(ConnectReq(1, "b@x.com", 0)).status()), "affiliate");
  EXPECT_EQ(client_->Disconnect(1, "nobody@x.com").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Reverse(1, "no-such-order").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Explain(1, "").status().code(), absl::StatusCode::kInvalidArgument);
  engine::ListRequest bad;
  bad.shop = 1;
  bad.limit = 5000;
  EXPECT_EQ(field(client_->List(bad).status()), "limit");
  engine::ShopSettingsPatch patch;
  patch.validity_days = 99'999;
  EXPECT_EQ(field(client_->PutSettings(1, patch).status()), "validity_days");
  EXPECT_TRUE(client_->Snapshot().ok());
  // The connection survives every error reply.
  EXPECT_TRUE(client_->Ping().ok());
}

TEST_F(ServerOpsTest, BatchLookupKeepsOrderWithPerItemErrors) {
  std::vector<std::string> emails;
  for (int i = 0; i < 300; ++i) {
    emails.push_back(absl::StrCat("Customer", i, "@shop.com"));
    if (i % 3 == 0) {
      ASSERT_TRUE(client_->Connect(ConnectReq(9, emails.back(), 100 + i)).ok());
    }
  }
  emails.push_back("not an email");
  auto batch = client_->LookupBatch(9, emails);
  ASSERT_TRUE(batch.ok()) << batch.status();
  auto items = batch->get().getLookupBatch();
  ASSERT_EQ(items.size(), emails.size());
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(items[i].isResult()) << i;
    EXPECT_EQ(items[i].getResult().getFound(), i % 3 == 0) << i;
    if (i % 3 == 0) {
      EXPECT_EQ(items[i].getResult().getConnection().getAffiliate(), 100u + i);
    }
  }
  ASSERT_TRUE(items[300].isError());
  EXPECT_EQ(items[300].getError().getCode(), net::wire::ErrorCode::INVALID_ARGUMENT);
  std::vector<std::string> too_many(engine::kMaxBatchLookup + 1, "a@b.c");
  EXPECT_EQ(client_->LookupBatch(9, too_many).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerOpsTest, SettingsCountsListPagingAndStats) {
  engine::ShopSettingsPatch patch;
  patch.validity_days = 30;
  patch.precedence = engine::Precedence::kReferralFirst;
  auto put = client_->PutSettings(3, patch);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->get().getSettings().getValidityDays(), 30u);
  auto got = client_->GetSettings(3);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->get().getSettings().getPrecedence(), net::wire::Precedence::REFERRAL_FIRST);
  EXPECT_TRUE(got->get().getSettings().getConnectionsEnabled());

  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(client_->Connect(ConnectReq(3, absl::StrCat("u", 100 + i, "@x.com"), 1 + i % 2))
                    .ok());
  }
  auto count = client_->Count(3);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->get().getCount().getConnections(), 25u);
  EXPECT_EQ(count->get().getCount().getByAffiliate().size(), 2u);
  EXPECT_EQ(client_->Count(3, 2)->get().getCount().getConnections(), 12u);

  engine::ListRequest list;
  list.shop = 3;
  list.limit = 10;
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = client_->List(list);
    ASSERT_TRUE(r.ok()) << r.status();
    for (auto item : r->get().getList().getItems()) {
      seen.push_back(item.getConnection().getCanonicalEmail().cStr());
    }
    list.cursor = r->get().getList().getNextCursor().cStr();
    if (list.cursor.empty()) break;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  auto stats = client_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  auto s = stats->get().getStats();
  EXPECT_EQ(s.getConnections(), 25u);
  EXPECT_GE(s.getOpenClients(), 1u);
  EXPECT_GT(s.getRssBytes(), 0u);
  uint64_t connects_ok = 0;
  for (auto op : s.getOperations()) {
    if (std::string(op.getOperation().cStr()) == "connect" &&
        std::string(op.getResult().cStr()) == "ok") {
      connects_ok = op.getCount();
    }
  }
  EXPECT_EQ(connects_ok, 25u);
}

TEST(ServerAuthTest, TokenRequiredFirstAndComparedExactly) {
  char path[] = "/tmp/attrib-token-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "s3cret\n", 7), 7);
  close(fd);
  AttribdProcess server({absl::StrCat("--auth_token_file=", path)});
  ASSERT_TRUE(server.ok());

  ClientOptions good;
  good.auth_token = "s3cret";
  auto authed = Client::Connect(server.address(), good);
  ASSERT_TRUE(authed.ok()) << authed.status();
  EXPECT_TRUE((*authed)->Ping().ok());

  auto anonymous = Client::Connect(server.address(), ClientOptions{});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ((*anonymous)->Ping().status().code(), absl::StatusCode::kUnauthenticated);
  // ... and the server closed that connection.
  EXPECT_FALSE((*anonymous)->Ping().ok());

  ClientOptions wrong;
  wrong.auth_token = "s3cre";
  auto bad = Client::Connect(server.address(), wrong);
  EXPECT_FALSE(bad.ok() && (*bad)->Ping().ok());
  EXPECT_TRUE((*authed)->Ping().ok());  // Others unaffected.
  unlink(path);
}

TEST(ServerAuthTest, NonLoopbackWithoutTokenIsRefused) {
  int status = 0;
  const std::string out = testing::RunCommand(
      std::string(ATTRIBD_PATH) + " --listen=0.0.0.0:0 2>&1", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("not a loopback address"), std::string::npos) << out;
}

}  // namespace
}  // namespace attrib
