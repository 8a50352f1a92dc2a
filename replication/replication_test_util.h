// replication/replication_test_util.h
//
// Shared by the replication tests: a Node is an engine made durable in a data
// directory of a (fault-injecting, in-memory) file system, as attribd wires one,
// either a primary (a random workload writes to it) or a replica (a Follower applies
// to it, with the capture gate). Reopen() is a restart: recovery from the directory.
//
// Thread-safety: a Node belongs to one test; its engine and durability are
// thread-safe as in production.
#ifndef ATTRIB_REPLICATION_REPLICATION_TEST_UTIL_H_
#define ATTRIB_REPLICATION_REPLICATION_TEST_UTIL_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"
#include "persistence/durability.h"
#include "persistence/file_system.h"
#include "replication/follower.h"

namespace attrib::replication::testing {

struct Node {
  Node(persistence::FileSystem* fs, std::string dir, bool replica,
       uint64_t snapshot_every_bytes = 0,
       std::function<void(const persistence::DataDir&)> before_recovery_hook = nullptr)
      : fs(fs), dir(std::move(dir)), replica(replica), snapshot_every(snapshot_every_bytes),
        before_recovery(std::move(before_recovery_hook)) {
    Open();
  }
  ~Node() { Close(); }

  void Open() {
    persistence::DurabilityOptions o;
    o.data_dir = dir;
    o.meta.shard_count = 4;
    o.segment_bytes = 4096;  // Many segment rolls.
    o.snapshot_every_bytes = snapshot_every;
    o.capture_gate = replica ? &gate : nullptr;
    auto d = persistence::Durability::Open(fs, o);
    ASSERT_TRUE(d.ok()) << d.status();
    durability = *std::move(d);
    if (before_recovery) before_recovery(durability->data_dir());
    engine::EngineOptions eo;
    eo.shard_count = 4;
    eo.order_window_ms = 30 * engine::kMsPerDay;
    eo.clock = &clock;
    eo.sink = durability.get();
    engine = std::make_unique<engine::Engine>(eo);
    auto report = durability->RecoverAndStart(engine.get());
    ASSERT_TRUE(report.ok()) << report.status();
    durability->SetDurableCallback([this](uint64_t seq) {
      uint64_t cur = durable.load();
      while (seq > cur && !durable.compare_exchange_weak(cur, seq)) {
      }
      if (on_durable) on_durable(seq);
    });
    if (replica) follower = std::make_unique<Follower>(engine.get(), durability.get(), &gate);
  }
  void Close() {
    follower.reset();
    if (durability != nullptr) {
      EXPECT_TRUE(durability->Shutdown(false).ok());
    }
    engine.reset();
    durability.reset();
  }
  void Reopen() {
    Close();
    Open();
  }
  engine::replay_testing::State State() const { return engine::replay_testing::Dump(*engine); }

  persistence::FileSystem* const fs;
  const std::string dir;
  const bool replica;
  const uint64_t snapshot_every;
  engine::FakeClock clock{1'700'000'000'000};
  absl::Mutex gate;
  std::function<void(uint64_t)> on_durable;  // Set before Open() to see commits.
  // Runs between opening the data directory and recovery (a replica's bootstrap).
  std::function<void(const persistence::DataDir&)> before_recovery;
  std::atomic<uint64_t> durable{0};
  std::unique_ptr<persistence::Durability> durability;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<Follower> follower;
};

}  // namespace attrib::replication::testing

#endif  // ATTRIB_REPLICATION_REPLICATION_TEST_UTIL_H_
