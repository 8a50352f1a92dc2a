// webhooks/deliverer_test.cc
//
// One endpoint's delivery against a real receiver process (webhooks/testdata/
// receiver.mjs, Node: it checks every signature with node:crypto and logs each
// request): every event of the endpoint's shop in log order, signed, with the
// webhook-id of its sequence number; 500s retried until delivered with the same id;
// 410 disables at once; a receiver that never answers costs a timeout per attempt and
// disables the endpoint after the give-up period; a new deliverer resumes from the
// saved cursor. The log is written by the real durability layer (in memory).
// Waits poll the receiver's log or the deliverer's status with a deadline.
//
// Thread-safety: the test thread; the deliverer runs its own thread.
#include "webhooks/deliverer.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "persistence/durability.h"
#include "persistence/fault_injecting_file_system.h"
#include "rapidjson/document.h"
#include "tests/webhook_receiver.h"
#include "webhooks/signature.h"

namespace attrib::webhooks {
namespace {

using attrib::testing::Delivery;
using attrib::testing::Eventually;
using attrib::testing::Receiver;

// An engine whose changes go to a durable log in memory.
struct Log {
  Log() {
    persistence::DurabilityOptions o;
    o.data_dir = "/data";
    o.meta.shard_count = 4;
    o.segment_bytes = 8192;
    o.snapshot_every_bytes = 0;
    durability = *persistence::Durability::Open(&fs, o);
    engine::EngineOptions eo;
    eo.shard_count = 4;
    eo.sink = durability.get();
    engine = std::make_unique<engine::Engine>(eo);
    EXPECT_TRUE(durability->RecoverAndStart(engine.get()).ok());
  }
  ~Log() { (void)durability->Shutdown(false); }
  // n connects alternating between shops 1 and 2; waits until durable.
  void Connect(int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      engine::ConnectRequest c;
      c.shop = 1 + i % 2;
      c.email = absl::StrCat("c", i, "@x.com");
      c.affiliate = 7;
      ASSERT_TRUE(engine->Connect(c).ok());
    }
    ASSERT_TRUE(Eventually([&] {
      return durability->durable_seq() == durability->last_assigned_seq();
    }));
  }
  persistence::FaultInjectingFileSystem fs{1};
  std::unique_ptr<persistence::Durability> durability;
  std::unique_ptr<engine::Engine> engine;
};

class DelivererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> s = GenerateSecret();
    ASSERT_TRUE(s.ok());
    secret_ = *s;
  }
  std::unique_ptr<Deliverer> Make(const Receiver& r, uint64_t cursor,
                                  DelivererOptions options = {}) {
    Endpoint e;
    e.id = "ep_1";
    e.shop = 1;
    e.url = r.url();
    e.secrets = {secret_};
    options.retry.first_backoff = absl::Milliseconds(10);
    if (options.http.timeout == absl::Seconds(10)) options.http.timeout = absl::Seconds(5);
    auto d = std::make_unique<Deliverer>(
        e, cursor, &feed_, [this] { return log_.durability->durable_seq(); },
        [this](uint64_t c) {
          saved_.store(c);
          return absl::OkStatus();
        },
        [this](const DeliveryStatus&) { disabled_calls_.fetch_add(1); }, options);
    EXPECT_TRUE(d->Start().ok());
    return d;
  }

  std::string secret_;
  Log log_;
  persistence::ChangeFeed feed_{&log_.fs, "/data/wal"};
  std::atomic<uint64_t> saved_{0};
  std::atomic<int> disabled_calls_{0};
};

TEST_F(DelivererTest, EveryEventOfTheShopInLogOrderSigned) {
  Receiver r(secret_, "ok");
  ASSERT_TRUE(r.ok());
  log_.Connect(200);
  auto d = Make(r, 1);
  ASSERT_TRUE(Eventually([&] { return r.Log().size() >= 100; })) << r.Log().size();
  log_.Connect(50, 200);  // More while it runs.
  d->NotifyDurable();
  ASSERT_TRUE(Eventually([&] { return r.Log().size() >= 125; })) << r.Log().size();
  d->Stop();
  const std::vector<Delivery> got = r.Log();
  ASSERT_EQ(got.size(), 125u);  // The shop-1 half of 250 connects.
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, 1 + 2 * i) << "in log order, shop 1 only";
    EXPECT_EQ(got[i].id, absl::StrCat("evt_", got[i].seq));
    EXPECT_EQ(got[i].type, "connection.created");
    EXPECT_TRUE(got[i].valid) << "signature of " << got[i].id;
  }
  EXPECT_EQ(d->Status().delivered, 125u);
  EXPECT_EQ(saved_.load(), 251u);  // Saved at the stop: everything up to 250 is done.
}

TEST_F(DelivererTest, ServerErrorsAreRetriedWithTheSameId) {
  Receiver r(secret_, "fail:3");
  ASSERT_TRUE(r.ok());
  log_.Connect(10);
  auto d = Make(r, 1);
  ASSERT_TRUE(Eventually([&] { return d->Status().delivered == 5; }));
  const std::vector<Delivery> got = r.Log();
  ASSERT_EQ(got.size(), 8u);  // 3 failed attempts, then 5 deliveries.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i].id, "evt_1") << i;
  EXPECT_EQ(got[2].status, 500);
  EXPECT_EQ(got[3].status, 200);
  EXPECT_EQ(d->Status().failures, 0u);
  EXPECT_FALSE(d->Status().disabled);
}

TEST_F(DelivererTest, GoneDisablesAtOnce) {
  Receiver r(secret_, "gone");
  ASSERT_TRUE(r.ok());
  log_.Connect(4);
  auto d = Make(r, 1);
  ASSERT_TRUE(Eventually([&] { return d->Status().disabled; }));
  EXPECT_NE(d->Status().disabled_reason.find("410"), std::string::npos);
  EXPECT_EQ(disabled_calls_.load(), 1);
  EXPECT_EQ(r.Log().size(), 1u);
  EXPECT_EQ(d->Status().cursor, 1u);  // Not delivered.
}

TEST_F(DelivererTest, AReceiverThatNeverAnswersTimesOutAndIsGivenUp) {
  Receiver r(secret_, "hang");
  ASSERT_TRUE(r.ok());
  log_.Connect(2);
  DelivererOptions o;
  o.http.timeout = absl::Milliseconds(200);
  o.retry.give_up_after = absl::Seconds(1);
  auto d = Make(r, 1, o);
  ASSERT_TRUE(Eventually([&] { return d->Status().disabled; }));
  const DeliveryStatus s = d->Status();
  EXPECT_GE(s.attempts, 2u);
  EXPECT_NE(s.disabled_reason.find("every attempt failed"), std::string::npos)
      << s.disabled_reason;
  EXPECT_NE(s.last_error.find("POST"), std::string::npos) << s.last_error;
}

TEST_F(DelivererTest, ANewDelivererResumesFromTheSavedCursor) {
  Receiver r(secret_, "ok");
  ASSERT_TRUE(r.ok());
  log_.Connect(40);
  {
    auto d = Make(r, 1);
    ASSERT_TRUE(Eventually([&] { return r.Log().size() >= 20; }));
  }  // Stopped: cursor saved.
  const uint64_t resume = saved_.load();
  EXPECT_EQ(resume, 41u);  // All 40 records done (shop-1 events delivered, others skipped).
  log_.Connect(10, 40);
  auto again = Make(r, resume);
  ASSERT_TRUE(Eventually([&] { return r.Log().size() >= 25; }));
  again->Stop();
  const std::vector<Delivery> got = r.Log();
  ASSERT_EQ(got.size(), 25u);  // Nothing twice: the cursor was saved at the stop.
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].seq, 1 + 2 * i);
}

}  // namespace
}  // namespace attrib::webhooks
