// tests/webhooks_e2e_test.cc: webhooks and the change feed end to end against real
// processes: attribd, endpoints created through the HTTP API, and a Node receiver
// (webhooks/testdata/receiver.mjs) that verifies every signature and records every
// delivery. SIGKILL of attribd mid-delivery, several times: every event delivered at
// least once, in log order, a repeat with the same webhook-id. A receiver answering
// 500 then 200; one that hangs (time-outs, then disabled after the retry period);
// 410 (disabled at once); secret rotation (two signatures); segments kept for a
// lagging endpoint up to the limit, then disabled; the change feed, resumable, and
// 410 past retention. Every HTTP response is checked against http/openapi.json.
// Waits poll with a bounded deadline (Eventually).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/attribd_process.h"
#include "tests/http_client.h"
#include "tests/webhook_receiver.h"

namespace attrib::testing {
namespace {

using ::testing::HasSubstr;

std::string Str(const rapidjson::Value& v, const char* name) {
  return v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

class WebhooksE2eTest : public ::testing::Test {
 protected:
  WebhooksE2eTest() {
    char tmpl[] = "/tmp/attrib_webhooks_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    record_ = dir_ + "/exchanges";
  }
  ~WebhooksE2eTest() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Flags(std::vector<std::string> more = {}) const {
    std::vector<std::string> f = {"--data_dir=" + dir_ + "/data",
                                  "--webhook_first_backoff=20ms",
                                  "--webhook_max_backoff=200ms"};
    f.insert(f.end(), more.begin(), more.end());
    return f;
  }

  // Creates an endpoint of shop 1 for `r` and hands its secret to the receiver;
  // returns the endpoint id ("ep_1").
  std::string CreateEndpoint(HttpClient& http, const Receiver& r,
                             const std::string& extra = "") {
    HttpReply reply = http.Send("POST", "/v1/shops/1/webhooks",
                                absl::StrCat(R"({"url":")", r.url(), "\"", extra, "}"));
    EXPECT_EQ(reply.status, 201) << reply.body;
    rapidjson::Document d = Json(reply);
    const std::string secret = Str(d, "secret");
    EXPECT_TRUE(absl::StartsWith(secret, "whsec_")) << reply.body;
    r.SetSecrets({secret});
    return Str(d, "id");
  }

  // The endpoint's GET body.
  rapidjson::Document Endpoint(HttpClient& http, const std::string& id) {
    return Json(http.Send("GET", "/v1/shops/1/webhooks/" + id));
  }

  void Connect(HttpClient& http, uint64_t shop, int i) {
    const HttpReply r = http.Send("POST", absl::StrCat("/v1/shops/", shop, "/connections"),
                                  absl::StrCat(R"({"email":"c)", i, R"(@x.com","affiliate":"7"})"));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  void ExpectResponsesMatchOpenApi() {
    int status = 0;
    const std::string out = CheckAgainstOpenApi(record_, &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_THAT(out, HasSubstr("exchanges match the document")) << out;
  }

  std::string dir_;
  std::string record_;
};

TEST_F(WebhooksE2eTest, EndpointResourcesMatchTheDocument) {
  Receiver r("", "ok");
  ASSERT_TRUE(r.ok());
  AttribdProcess server(Flags());
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  const std::string id = CreateEndpoint(http, r, R"(,"event_types":["connection.created"])");
  ASSERT_EQ(id, "ep_1");

  HttpReply reply = http.Send("GET", "/v1/shops/1/webhooks");
  ASSERT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr(R"("event_types":["connection.created"])"));
  EXPECT_THAT(reply.body, ::testing::Not(HasSubstr("whsec_"))) << "secrets are shown once";
  // Another shop does not see it; unknown fields, bad types and URLs are refused.
  EXPECT_EQ(http.Send("GET", "/v1/shops/2/webhooks/ep_1").status, 404);
  EXPECT_EQ(http.Send("POST", "/v1/shops/1/webhooks", R"({"url":"x","nope":1})").status, 400);
  EXPECT_EQ(http.Send("POST", "/v1/shops/1/webhooks", R"({"url":"ftp://x"})").status, 422);
  reply = http.Send("POST", "/v1/shops/1/webhooks", R"({"url":"http://example.com/h"})");
  EXPECT_EQ(reply.status, 422);
  EXPECT_THAT(reply.body, HasSubstr("loopback"));
  EXPECT_EQ(http.Send("POST", "/v1/shops/1/webhooks",
                      R"({"url":"https://example.com/h","event_types":["order.paid"]})")
                .status,
            422);
  EXPECT_EQ(http.Send("PUT", "/v1/shops/1/webhooks/ep_1", "{}").status, 405);

  Connect(http, 1, 1);
  ASSERT_TRUE(Eventually([&] { return r.Log().size() == 1; }));
  EXPECT_TRUE(r.Log()[0].valid);
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document d = Endpoint(http, id);
    return d.HasMember("delivery") && d["delivery"]["delivered"].GetUint64() == 1;
  }));
  reply = http.Send("GET", "/v1/shops/1/webhooks/ep_1");
  EXPECT_THAT(reply.body, HasSubstr(R"("http_status":200,"ok":true)"));

  // Rotation: the new secret is shown once; both sign for 24 h.
  reply = http.Send("POST", "/v1/shops/1/webhooks/ep_1/rotate_secret");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string fresh = Str(Json(reply), "secret");
  ASSERT_TRUE(absl::StartsWith(fresh, "whsec_"));
  EXPECT_THAT(reply.body, HasSubstr("previous_secret_expires_at"));
  Connect(http, 1, 2);  // A receiver that knows only the old secret: still valid.
  ASSERT_TRUE(Eventually([&] { return r.Log().size() == 2; }));
  EXPECT_TRUE(r.Log()[1].valid) << "signed with the old secret during the overlap";
  r.SetSecrets({fresh});  // A receiver that switched: valid too.
  Connect(http, 1, 3);
  ASSERT_TRUE(Eventually([&] { return r.Log().size() == 3; }));
  EXPECT_TRUE(r.Log()[2].valid) << "signed with the new secret";
  r.SetSecrets({"whsec_c29tZXRoaW5nIGVsc2U="});  // And the check can fail.
  Connect(http, 1, 4);
  ASSERT_TRUE(Eventually([&] { return r.Log().size() == 4; }));
  EXPECT_FALSE(r.Log()[3].valid);

  reply = http.Send("PATCH", "/v1/shops/1/webhooks/ep_1", R"({"enabled":false})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_FALSE(Json(reply)["enabled"].GetBool());
  EXPECT_EQ(http.Send("PATCH", "/v1/shops/1/webhooks/ep_1", R"({"enabled":"no"})").status, 400);
  EXPECT_EQ(http.Send("DELETE", "/v1/shops/1/webhooks/ep_1").status, 200);
  EXPECT_EQ(http.Send("GET", "/v1/shops/1/webhooks/ep_1").status, 404);
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

// Several SIGKILLs while deliveries are in flight: afterwards every event of the
// shop was delivered at least once, the first deliveries in log order with no gap,
// each repeat with the same webhook-id, every signature valid.
TEST_F(WebhooksE2eTest, SigkillMidDeliveryLosesNothingAndKeepsTheOrder) {
  Receiver r("", "ok");
  ASSERT_TRUE(r.ok());
  int next = 0;
  {
    AttribdProcess server(Flags());
    ASSERT_TRUE(server.ok());
    HttpClient http(server.http_address());
    CreateEndpoint(http, r);
    server.Kill();
  }
  constexpr int kRounds = 5, kPerRound = 40;
  for (int round = 0; round < kRounds; ++round) {
    AttribdProcess server(Flags());
    ASSERT_TRUE(server.ok()) << "round " << round;
    HttpClient http(server.http_address());
    for (int i = 0; i < kPerRound; ++i, ++next) Connect(http, 1 + next % 3 / 2, next);
    server.Kill();  // Deliveries of this round are typically still in flight.
  }
  AttribdProcess server(Flags());
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  // The events expected: shop 1's, from the change feed.
  std::vector<uint64_t> expected;
  HttpReply feed = http.Send("GET", "/v1/changes?from=1&limit=10000");
  ASSERT_EQ(feed.status, 200) << feed.body;
  for (absl::string_view line : absl::StrSplit(feed.body, '\n', absl::SkipEmpty())) {
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasMember("type") && Str(d, "shop") == "1") expected.push_back(std::stoull(Str(d, "seq")));
  }
  ASSERT_EQ(expected.size(), static_cast<size_t>(kRounds * kPerRound * 2 / 3 + 1));
  const auto delivered_all = [&] {
    std::set<uint64_t> seen;
    for (const Delivery& d : r.Log()) seen.insert(d.seq);
    return seen.size() >= expected.size();
  };
  ASSERT_TRUE(Eventually(delivered_all)) << r.Log().size() << " deliveries";
  size_t high = 0;  // expected[0..high) delivered so far.
  size_t repeats = 0;
  for (const Delivery& d : r.Log()) {
    EXPECT_TRUE(d.valid) << d.id;
    EXPECT_EQ(d.id, absl::StrCat("evt_", d.seq)) << "the same webhook-id for every attempt";
    ASSERT_TRUE(std::binary_search(expected.begin(), expected.end(), d.seq)) << d.seq;
    if (high < expected.size() && d.seq == expected[high]) {
      ++high;
    } else {
      ASSERT_LT(d.seq, high == 0 ? 0 : expected[high - 1] + 1)
          << "seq " << d.seq << " skipped ahead of " << expected[high];
      ++repeats;
    }
  }
  EXPECT_EQ(high, expected.size());
  std::printf("%zu deliveries of %zu events (%zu repeats after %d kills)\n", r.Log().size(),
              expected.size(), repeats, kRounds + 1);
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

TEST_F(WebhooksE2eTest, FiveHundredsAreRetriedWithTheSameIdUntilDelivered) {
  Receiver r("", "fail:3");
  ASSERT_TRUE(r.ok());
  AttribdProcess server(Flags());
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  const std::string id = CreateEndpoint(http, r);
  Connect(http, 1, 1);
  ASSERT_TRUE(Eventually([&] { return r.Log().size() == 4; })) << r.Log().size();
  const std::vector<Delivery> got = r.Log();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i].id, got[0].id);
    EXPECT_EQ(got[i].status, i < 3 ? 500 : 200);
    EXPECT_TRUE(got[i].valid);
  }
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document d = Endpoint(http, id);
    return d.HasMember("delivery") && d["delivery"]["delivered"].GetUint64() == 1;
  }));
  const std::string body = http.Send("GET", "/v1/shops/1/webhooks/" + id).body;
  EXPECT_THAT(body, HasSubstr(R"("http_status":500,"ok":false,"error":"HTTP 500")"));
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

// An endpoint that asks for the identity events only: a link and a merge made on the
// native protocol reach it, signed and in log order; the connections do not.
TEST_F(WebhooksE2eTest, IdentityEventsReachAnEndpointThatAsksForThem) {
  Receiver r("", "ok");
  ASSERT_TRUE(r.ok());
  AttribdProcess server(Flags());
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  CreateEndpoint(http, r,
                 R"(,"event_types":["customer.identifier_linked","customer.merged"])");
  Connect(http, 1, 1);  // c1@x.com -> 7
  std::unique_ptr<net::Client> native = Dial(server);
  ASSERT_NE(native, nullptr);
  engine::CustomerRef c1{std::string("c1@x.com"), std::nullopt};
  engine::CustomerRef ext{std::nullopt, std::string("cust-1")};
  ASSERT_TRUE(native->LinkIdentifier(1, c1, ext).ok());
  engine::CustomerRef other{std::string("c2@x.com"), std::nullopt};
  engine::ConnectRequest connect;
  connect.shop = 1;
  connect.email = "c2@x.com";
  connect.affiliate = 7;
  ASSERT_TRUE(native->Connect(connect).ok());
  engine::MergeRequest merge;
  merge.shop = 1;
  merge.into = ext;
  merge.from = other;
  ASSERT_TRUE(native->MergeCustomers(merge).ok());
  ASSERT_TRUE(Eventually([&] { return r.Log().size() >= 2; })) << r.Log().size();
  const std::vector<Delivery> got = r.Log();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, "customer.identifier_linked");
  EXPECT_EQ(got[1].type, "customer.merged");
  EXPECT_LT(got[0].seq, got[1].seq);
  EXPECT_TRUE(got[0].valid && got[1].valid);
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

// A receiver that is down for a while (connection refused) and comes back on the
// same port: the events committed meanwhile arrive, in order, each valid.
TEST_F(WebhooksE2eTest, AReceiverDownForAWhileGetsEverythingWhenItIsBack) {
  std::string port, secret;
  AttribdProcess server(Flags());
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  {
    Receiver first("", "ok");
    ASSERT_TRUE(first.ok());
    port = first.port();
    const HttpReply reply = http.Send("POST", "/v1/shops/1/webhooks",
                                      absl::StrCat(R"({"url":")", first.url(), R"("})"));
    ASSERT_EQ(reply.status, 201) << reply.body;
    secret = Str(Json(reply), "secret");
  }  // Down.
  for (int i = 0; i < 20; ++i) Connect(http, 1, i);
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document d = Endpoint(http, "ep_1");
    return d.HasMember("delivery") && d["delivery"]["failures"].GetUint() >= 3;
  })) << "retried while down";
  Receiver back(secret, "ok", port);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(Eventually([&] { return back.Log().size() >= 20; })) << back.Log().size();
  const std::vector<Delivery> got = back.Log();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i].valid);
    if (i > 0) EXPECT_LT(got[i - 1].seq, got[i].seq) << "in log order";
  }
  EXPECT_TRUE(Endpoint(http, "ep_1")["enabled"].GetBool());
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

TEST_F(WebhooksE2eTest, GoneDisablesAtOnce) {
  Receiver r("", "gone");
  ASSERT_TRUE(r.ok());
  AttribdProcess server(Flags({"--metrics_listen=127.0.0.1:0"}));
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  const std::string id = CreateEndpoint(http, r);
  Connect(http, 1, 1);
  ASSERT_TRUE(Eventually([&] { return !Endpoint(http, id)["enabled"].GetBool(); }));
  EXPECT_THAT(Str(Endpoint(http, id), "disabled_reason"), HasSubstr("410"));
  Connect(http, 1, 2);
  EXPECT_EQ(r.Log().size(), 1u) << "no attempt after the 410";
  HttpClient metrics(server.metrics_address());
  EXPECT_THAT(metrics.Send("GET", "/metrics").body,
              HasSubstr("attrib_webhook_endpoints_disabled_total 1"));
  // Durable: still disabled, with the reason, after a restart.
  server.Kill();
  AttribdProcess again(Flags());
  ASSERT_TRUE(again.ok());
  HttpClient http2(again.http_address(), record_);
  EXPECT_THAT(Str(Endpoint(http2, id), "disabled_reason"), HasSubstr("410"));
  EXPECT_EQ(again.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

// A receiver that never answers: each attempt ends at --webhook_timeout; after
// --webhook_retry_period of failures the endpoint is disabled. Requests are served
// meanwhile (the delivery runs on its own thread).
TEST_F(WebhooksE2eTest, AHangingReceiverTimesOutAndIsDisabledAfterTheRetryPeriod) {
  Receiver r("", "hang");
  ASSERT_TRUE(r.ok());
  AttribdProcess server(
      Flags({"--webhook_timeout=200ms", "--webhook_retry_period=1500ms"}));
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  const std::string id = CreateEndpoint(http, r);
  for (int i = 0; i < 50; ++i) Connect(http, 1, i);  // Served while delivery hangs.
  ASSERT_TRUE(Eventually([&] { return !Endpoint(http, id)["enabled"].GetBool(); }));
  const std::string reason = Str(Endpoint(http, id), "disabled_reason");
  EXPECT_THAT(reason, HasSubstr("every attempt failed for"));
  EXPECT_THAT(server.Stderr(), HasSubstr("endpoint disabled"));
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

// A receiver that is down (connection refused) holds log segments from its cursor,
// up to --webhook_max_retained_log_bytes; past that it is disabled with the reason
// when a snapshot releases them. The change feed then answers 410 for what is gone.
TEST_F(WebhooksE2eTest, ALaggingEndpointHoldsTheLogUpToTheLimit) {
  std::string url;
  {
    Receiver gone_soon("", "ok");
    ASSERT_TRUE(gone_soon.ok());
    url = gone_soon.url();
  }  // Killed: its port refuses connections now.
  AttribdProcess server(Flags({"--wal_segment_bytes=4096", "--snapshot_every_bytes=0",
                               "--webhook_max_retained_log_bytes=16384"}));
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  HttpReply reply = http.Send("POST", "/v1/shops/1/webhooks", absl::StrCat(R"({"url":")", url, R"("})"));
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string id = Str(Json(reply), "id");
  ASSERT_TRUE(Eventually([&] { return Endpoint(http, id).HasMember("delivery"); }));
  std::unique_ptr<net::Client> native = Dial(server);
  ASSERT_NE(native, nullptr);
  // Two segments, which snapshots would release (the log must reach back to the
  // older of the two snapshots kept): kept for the endpoint.
  // (Two snapshots of the same fence are one file: a change between them.)
  for (int i = 0; i < 150; ++i) Connect(http, 1, i);
  ASSERT_TRUE(native->Snapshot().ok());
  Connect(http, 2, 0);
  ASSERT_TRUE(native->Snapshot().ok());
  EXPECT_TRUE(Endpoint(http, id)["enabled"].GetBool());
  EXPECT_EQ(http.Send("GET", "/v1/changes?from=2&limit=1").status, 200);
  // Many more: past the limit, the endpoint is disabled and the log released.
  for (int i = 150; i < 400; ++i) Connect(http, 1, i);
  ASSERT_TRUE(native->Snapshot().ok());
  Connect(http, 2, 1);
  ASSERT_TRUE(native->Snapshot().ok());
  ASSERT_TRUE(Eventually([&] { return !Endpoint(http, id)["enabled"].GetBool(); }));
  EXPECT_THAT(Str(Endpoint(http, id), "disabled_reason"),
              HasSubstr("--webhook_max_retained_log_bytes=16384"));
  reply = http.Send("GET", "/v1/changes?from=2");
  EXPECT_EQ(reply.status, 410) << reply.body.substr(0, 300);
  EXPECT_EQ(reply.Header("content-type"), "application/problem+json");
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

TEST_F(WebhooksE2eTest, TheChangeFeedIsResumableFromAnySequenceNumber) {
  AttribdProcess server(Flags());
  ASSERT_TRUE(server.ok());
  HttpClient http(server.http_address(), record_);
  for (int i = 0; i < 25; ++i) Connect(http, 1 + i % 2, i);
  std::vector<uint64_t> seqs;
  uint64_t from = 1;
  for (int page = 0; page < 10 && seqs.size() < 25; ++page) {
    HttpReply r = http.Send("GET", absl::StrCat("/v1/changes?from=", from, "&limit=10"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
    for (absl::string_view line : absl::StrSplit(r.body, '\n', absl::SkipEmpty())) {
      rapidjson::Document d;
      d.Parse(line.data(), line.size());
      if (d.HasMember("next")) {
        from = std::stoull(Str(d, "next"));
      } else {
        seqs.push_back(std::stoull(Str(d, "seq")));
      }
    }
  }
  ASSERT_EQ(seqs.size(), 25u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
  HttpReply r = http.Send("GET", absl::StrCat("/v1/changes?from=", from));
  EXPECT_EQ(r.body, absl::StrCat(R"({"next":")", from, "\"}\n")) << "nothing new yet";
  EXPECT_EQ(http.Send("GET", "/v1/changes?from=x").status, 400);
  EXPECT_EQ(http.Send("GET", "/v1/changes?limit=0").status, 400);
  EXPECT_EQ(server.Stop(), 0);
  ExpectResponsesMatchOpenApi();
}

}  // namespace
}  // namespace attrib::testing
