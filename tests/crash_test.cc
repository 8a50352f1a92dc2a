// tests/crash_test.cc
//
// Crash safety with real processes: attribd (--fsync=always, small log segments and
// frequent snapshots so that kills land in every phase) serves a pipelined writer
// that records every acknowledged change; the server is SIGKILLed at a random moment
// (a seeded number of acknowledgements, never a timer), restarted on the same data
// directory, and every acknowledged change must be there, and the server must
// answer. ~20 kills by default; ATTRIB_CRASH_KILLS=N for more (hundreds in a soak).
//
// A change that was sent but not acknowledged may or may not survive: for each
// customer, the recovered affiliate must be the last acknowledged one or one sent
// after it.
//
// Thread-safety: single-threaded (the server is another process).
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/attribd_process.h"

namespace attrib {
namespace {

using testing::AttribdProcess;

struct History {
  std::vector<uint64_t> sent;  // Affiliates, in the order sent.
  int acked = -1;              // Index in `sent` of the last acknowledged one.
};

TEST(CrashTest, SigkillNeverLosesAnAcknowledgedChange) {
  const char* env = std::getenv("ATTRIB_CRASH_KILLS");
  const int kills = env != nullptr ? std::atoi(env) : 20;
  const uint64_t seed = 20261121;
  std::mt19937_64 rng(seed);
  char tmpl[] = "/tmp/attrib-crash-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::vector<std::string> flags = {
      "--data_dir=" + dir, "--fsync=always", "--wal_segment_bytes=65536",
      "--snapshot_every_bytes=200000", "--shards=16"};
  std::map<std::string, History> customers;
  uint64_t next_affiliate = 1;

  for (int round = 0; round < kills; ++round) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << ", round " << round);
    auto server = std::make_unique<AttribdProcess>(flags);
    ASSERT_TRUE(server->ok());
    auto client = net::Client::Connect(server->address(), net::ClientOptions{});
    ASSERT_TRUE(client.ok()) << client.status();

    // Verify everything acknowledged so far survived the previous kill.
    for (const auto& [email, h] : customers) {
      if (h.acked < 0) continue;
      auto r = (*client)->Lookup(1, email);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_TRUE(r->get().getLookup().getFound()) << email << " lost; " << server->Stderr();
      const uint64_t got = r->get().getLookup().getConnection().getAffiliate();
      bool allowed = false;
      for (size_t i = static_cast<size_t>(h.acked); i < h.sent.size(); ++i) {
        allowed |= h.sent[i] == got;
      }
      ASSERT_TRUE(allowed) << email << ": affiliate " << got << ", last acknowledged "
                           << h.sent[h.acked];
    }

    // Write until a random number of acknowledgements, then kill mid-stream.
    const int kill_after = 50 + static_cast<int>(rng() % 1500);
    const int window = 64;
    std::vector<std::string> inflight;  // Emails of sent, unanswered requests, in order.
    int acks = 0;
    uint64_t id = 1;
    while (acks < kill_after) {
      while (static_cast<int>(inflight.size()) < window) {
        // Mostly new customers, some reassignments of known ones.
        std::string email = rng() % 4 == 0 && !customers.empty()
                                ? std::next(customers.begin(), rng() % customers.size())->first
                                : absl::StrCat("c", customers.size(), "r", round, "@x.com");
        capnp::MallocMessageBuilder m;
        auto req = m.initRoot<net::wire::Request>();
        req.setId(id++);
        auto c = req.initConnect();
        c.setShop(1);
        c.setEmail(email);
        c.setAffiliate(next_affiliate);
        c.setMode(net::wire::ConnectMode::REASSIGN);
        customers[email].sent.push_back(next_affiliate++);
        ASSERT_TRUE((*client)->Send(m).ok());
        inflight.push_back(email);
      }
      ASSERT_TRUE((*client)->Flush().ok());
      auto reply = (*client)->Receive();
      ASSERT_TRUE(reply.ok()) << reply.status();
      ASSERT_TRUE(reply->get().isConnect()) << "write failed: " << server->Stderr();
      // Replies come in order: the oldest in-flight request is acknowledged.
      History& h = customers[inflight.front()];
      const uint64_t affiliate = reply->get().getConnect().getConnection().getAffiliate();
      for (size_t i = h.acked + 1; i < h.sent.size(); ++i) {
        if (h.sent[i] == affiliate) {
          h.acked = static_cast<int>(i);
          break;
        }
      }
      inflight.erase(inflight.begin());
      ++acks;
    }
    server->Kill();
  }
  // A last clean start proves the server answers after the final kill.
  AttribdProcess last(flags);
  ASSERT_TRUE(last.ok());
  auto client = net::Client::Connect(last.address(), net::ClientOptions{});
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE((*client)->Ping().ok());
  EXPECT_EQ(last.Stop(), 0) << last.Stderr();
  int status = 0;
  testing::RunCommand("rm -rf '" + dir + "'", &status);
}

}  // namespace
}  // namespace attrib
