// net/handler_test_util.h
//
// Fixture of the RequestHandler tests (handler_test.cc, handler_frame_test.cc): an
// engine on a FakeClock behind a RequestHandler, and helpers that build a Request,
// send it through the real framing (EncodeFrame -> HandleFrame) and decode the
// Response from its own encoded frame, as a client would. No sockets.
//
// Thread-safety: single-threaded tests.
#ifndef ATTRIB_NET_HANDLER_TEST_UTIL_H_
#define ATTRIB_NET_HANDLER_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "capnp/message.h"
#include "capnp/serialize.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kj/array.h"
#include "net/attrib.capnp.h"
#include "net/frame.h"
#include "net/handler.h"

namespace attrib::net::testing_util {

constexpr engine::TimeMs kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z.
constexpr engine::TimeMs kDay = engine::kMsPerDay;
constexpr uint64_t kShop = 42;
constexpr uint64_t kA = 7;
constexpr uint64_t kB = 9;
constexpr uint64_t kC = 11;

inline std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// A decoded Response; owns the frame it reads from.
class Reply {
 public:
  explicit Reply(kj::Array<capnp::word> words)
      : words_(std::move(words)),
        reader_(std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr())),
        response_(reader_->getRoot<wire::Response>()) {}
  // Moving keeps response_ valid: it points into heap objects that do not move.
  const wire::Response::Reader* operator->() const { return &response_; }
  wire::Response::Reader get() const { return response_; }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  wire::Response::Reader response_;
};

using Fill = std::function<void(wire::Request::Builder)>;

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() : clock_(kT0), engine_(MakeEngineOptions(&clock_)) { Reset(HandlerOptions{}); }

  static engine::EngineOptions MakeEngineOptions(const engine::Clock* clock) {
    engine::EngineOptions o;
    o.shard_count = 4;
    o.order_window_ms = 365 * kDay;
    o.clock = clock;
    return o;
  }

  // A new handler (fresh counters) and a new session on the same engine.
  void Reset(HandlerOptions options) {
    handler_ = std::make_unique<RequestHandler>(&engine_, std::move(options));
    session_ = Session{};
  }

  // Handles one raw frame (as the server would) and decodes the reply.
  Reply SendFrame(kj::ArrayPtr<const capnp::word> frame) {
    capnp::MallocMessageBuilder response;
    handler_->HandleFrame(frame, &session_, &response);
    return Reply(EncodeFrame(response));
  }

  // Builds a Request with the next id, fills it, and sends it.
  Reply Send(const Fill& fill) {
    capnp::MallocMessageBuilder message;
    wire::Request::Builder request = message.initRoot<wire::Request>();
    request.setId(++last_id_);
    fill(request);
    const kj::Array<capnp::word> frame = EncodeFrame(message);
    return SendFrame(frame.asPtr());
  }

  Reply Connect(const std::string& email, uint64_t affiliate,
                wire::ConnectMode mode = wire::ConnectMode::IF_ABSENT, uint64_t shop = kShop) {
    return Send([&](wire::Request::Builder r) {
      wire::ConnectRequest::Builder c = r.initConnect();
      c.setShop(shop);
      c.setEmail(email);
      c.setAffiliate(affiliate);
      c.setMode(mode);
    });
  }

  Reply Lookup(const std::string& email, int64_t at = 0) {
    return Send([&](wire::Request::Builder r) {
      wire::LookupRequest::Builder l = r.initLookup();
      l.setShop(kShop);
      l.setEmail(email);
      l.setAt(at);
    });
  }

  Reply Attribute(const std::string& order_id, const std::string& email,
                  uint64_t referral = 0, wire::Tristate is_new = wire::Tristate::UNKNOWN) {
    return Send([&](wire::Request::Builder r) {
      wire::AttributeRequest::Builder a = r.initAttribute();
      a.setShop(kShop);
      a.setOrderId(order_id);
      a.setEmail(email);
      a.setReferralAffiliate(referral);
      a.setCustomerIsNew(is_new);
    });
  }

  Reply Ping() {
    return Send([](wire::Request::Builder r) { r.setPing(); });
  }

  // The reply is an error with this code whose message starts with `prefix`.
  static void ExpectError(const Reply& reply, wire::ErrorCode code, const std::string& prefix) {
    ASSERT_EQ(reply->which(), wire::Response::ERROR) << "not an error reply";
    EXPECT_EQ(reply->getError().getCode(), code)
        << WireCodeName(reply->getError().getCode()) << ": " << Str(reply->getError().getMessage());
    EXPECT_THAT(Str(reply->getError().getMessage()), ::testing::StartsWith(prefix));
  }

  // The number of requests counted for (operation, result), 0 if none.
  uint64_t Counted(const std::string& operation, const std::string& result) const {
    for (const OperationCount& c : handler_->OperationCounts()) {
      if (c.operation == operation && c.result == result) return c.count;
    }
    return 0;
  }

  engine::FakeClock clock_;
  engine::Engine engine_;
  std::unique_ptr<RequestHandler> handler_;
  Session session_;
  uint64_t last_id_ = 100;
};

}  // namespace attrib::net::testing_util

#endif  // ATTRIB_NET_HANDLER_TEST_UTIL_H_
