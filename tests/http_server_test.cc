// tests/http_server_test.cc: the HTTP listener in process, over a service whose
// durability is faked, so the test decides when the log is durable: a write's
// response is parked until NotifyDurable() covers its sequence number, without
// blocking the I/O thread (reads on other connections are answered meanwhile).
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "http/http_server.h"
#include "service/service.h"
#include "tests/http_client.h"

namespace attrib::testing {
namespace {

class FakeDurability final : public service::DurabilityHooks {
 public:
  absl::Status CanWrite() override { return absl::OkStatus(); }
  uint64_t LastAssignedSeq() override { return seq; }
  uint64_t DurableSeq() override { return 0; }
  uint64_t seq = 5;
};

TEST(HttpServerTest, AWriteResponseWaitsForDurabilityWithoutBlockingOthers) {
  engine::FakeClock clock(1'700'000'000'000);
  engine::EngineOptions eo;
  eo.shard_count = 4;
  eo.clock = &clock;
  engine::Engine engine(eo);
  FakeDurability hooks;
  service::Service service(&engine, service::ServiceOptions{{}, {}, &hooks});
  http::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  http::HttpServer server(&service, options);
  server.NotifyDurable(4);  // What recovery made durable: not yet seq 5.
  ASSERT_TRUE(server.Start().ok());

  HttpClient writer(server.bound_address());
  ASSERT_TRUE(writer.connected());
  const std::string body = R"({"email":"a@example.com","affiliate":"1"})";
  ASSERT_TRUE(writer.SendRaw(absl::StrCat("POST /v1/shops/1/connections HTTP/1.1\r\nHost: ",
                                          server.bound_address(),
                                          "\r\nContent-Type: application/json\r\n"
                                          "Content-Length: ",
                                          body.size(), "\r\n\r\n", body),
                             /*timeout_ms=*/300)
                  .status == 0)
      << "answered before the log was durable";
  // The change is in the engine, and other connections are served meanwhile.
  HttpClient reader(server.bound_address());
  HttpReply r = reader.Send("GET", "/v1/shops/1/customers/a%40example.com/connection");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"found\":true"), std::string::npos) << r.body;

  server.NotifyDurable(5);
  HttpReply w = writer.Read(10'000);
  EXPECT_EQ(w.status, 201) << w.body;
  // The connection carries on.
  EXPECT_EQ(writer.Send("GET", "/healthz").status, 200);
  server.Shutdown();
}

// Limits: over max_connections a connection gets a 503 problem and is closed; a
// client that does not finish its request within request_timeout is closed.
TEST(HttpServerTest, ConnectionLimitAndSlowClients) {
  engine::EngineOptions eo;
  eo.shard_count = 4;
  engine::Engine engine(eo);
  service::Service service(&engine, service::ServiceOptions{});
  http::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.max_connections = 1;
  options.request_timeout = absl::Milliseconds(300);
  http::HttpServer server(&service, options);
  ASSERT_TRUE(server.Start().ok());

  HttpClient first(server.bound_address());
  ASSERT_EQ(first.Send("GET", "/healthz").status, 200);  // Accepted: it holds the slot.
  HttpClient second(server.bound_address());
  HttpReply refused = second.Read(10'000);
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("--http_max_connections"), std::string::npos) << refused.body;

  // A request that never completes: the connection is closed, not held (until then,
  // new connections are refused: the only slot is taken).
  ASSERT_TRUE(first.SendRaw("GET /healthz HTTP/1.1\r\nHost: x", 100).status == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  HttpReply again;
  while (std::chrono::steady_clock::now() < deadline && again.status != 200) {
    HttpClient next(server.bound_address());
    again = next.Send("GET", "/healthz", "", "", 2'000);
  }
  EXPECT_EQ(again.status, 200) << "the slow client still holds the only slot";
  server.Shutdown();
}

}  // namespace
}  // namespace attrib::testing
