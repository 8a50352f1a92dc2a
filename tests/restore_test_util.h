// tests/restore_test_util.h
//
// Shared by the attrib-restore tests: a temp directory removed at the end, a live
// data directory (Durability + Engine with a sink that also records every mutation,
// so a test can rebuild the state after any prefix), and running a subcommand with
// its output captured.
//
// Thread-safety: single-threaded tests.
#ifndef ATTRIB_TESTS_RESTORE_TEST_UTIL_H_
#define ATTRIB_TESTS_RESTORE_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/replay_test_util.h"
#include "gtest/gtest.h"
#include "persistence/durability.h"
#include "tools/restore_common.h"
#include "tools/restore_data_dir.h"
#include "tools/restore_export.h"
#include "tools/restore_history.h"
#include "tools/restore_import.h"
#include "tools/restore_inspect.h"
#include "tools/restore_point_in_time.h"
#include "tools/restore_rekey.h"
#include "tools/restore_verify.h"

namespace attrib::tools {

inline constexpr uint32_t kTestShards = 8;
// RestoreOptions' default, so the tools replay orders as the live engine kept them.
inline const engine::TimeMs kTestOrderWindowMs = RestoreOptions{}.order_window_ms;

inline engine::EngineOptions EngineOptionsFor(engine::EmailPolicy policy,
                                              const engine::Clock* clock,
                                              engine::MutationSink* sink) {
  engine::EngineOptions o;
  o.shard_count = kTestShards;
  o.email_policy = policy;
  o.order_window_ms = kTestOrderWindowMs;
  o.clock = clock;
  o.sink = sink;
  return o;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "attrib-restore-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Forwards to the Durability and remembers every mutation: log[i] has seq i + 1 in a
// directory that started empty.
class TeeSink : public engine::MutationSink {
 public:
  void OnMutation(const engine::Mutation& m) override {
    target->OnMutation(m);
    log.push_back(m);
  }
  persistence::Durability* target = nullptr;
  std::vector<engine::Mutation> log;
};

// A data directory in use, as attribd uses it.
struct LiveDir {
  LiveDir(const std::string& dir, const std::string& archive, const engine::Clock* clock,
          engine::EmailPolicy policy = engine::EmailPolicy::kProvider) {
    persistence::DurabilityOptions o;
    o.data_dir = dir;
    o.meta.email_policy = policy;
    o.meta.shard_count = kTestShards;
    o.fsync = persistence::FsyncPolicy::kNever;
    o.segment_bytes = 4096;  // Many segments.
    o.snapshot_every_bytes = 0;
    o.wal_archive = archive;
    absl::StatusOr<std::unique_ptr<persistence::Durability>> d =
        persistence::Durability::Open(persistence::PosixFileSystem(), o);
    EXPECT_TRUE(d.ok()) << d.status();
    durability = *std::move(d);
    tee.target = durability.get();
    engine = std::make_unique<engine::Engine>(EngineOptionsFor(policy, clock, &tee));
    absl::StatusOr<persistence::RecoveryReport> r = durability->RecoverAndStart(engine.get());
    EXPECT_TRUE(r.ok()) << r.status();
  }
  void Close(bool final_snapshot) {
    const absl::Status s = durability->Shutdown(final_snapshot);
    EXPECT_TRUE(s.ok()) << s;
  }

  TeeSink tee;
  std::unique_ptr<persistence::Durability> durability;
  std::unique_ptr<engine::Engine> engine;
};

// What RunWorkloadSessions() did: log[i] has seq i + 1.
struct WorkloadHistory {
  std::vector<engine::Mutation> log;
  std::vector<persistence::SnapshotInfo> snapshots;
};

// Runs a random workload (engine/replay_test_util.h, seeded with seed + session) in
// `sessions` sessions on `dir`, each reopening it as attribd would, so the log has a
// segment boundary at every session start (within a session the boundaries depend
// on the commit thread's batching). A snapshot ends every session but the last when
// `snapshots` is set; retention then archives (or deletes) covered segments.
inline WorkloadHistory RunWorkloadSessions(const std::string& dir, const std::string& archive,
                                           engine::FakeClock* clock, uint64_t seed,
                                           int sessions, int steps, bool snapshots) {
  WorkloadHistory h;
  for (int session = 0; session < sessions; ++session) {
    LiveDir live(dir, archive, clock);
    engine::replay_testing::RandomWorkload work(live.engine.get(), clock, seed + session);
    for (int i = 0; i < steps; ++i) work.Step();
    if (snapshots && session + 1 < sessions) {
      absl::StatusOr<persistence::SnapshotInfo> s = live.durability->SnapshotNow();
      EXPECT_TRUE(s.ok()) << s.status();
      if (s.ok()) h.snapshots.push_back(*s);
    }
    live.Close(/*final_snapshot=*/false);
    h.log.insert(h.log.end(), live.tee.log.begin(), live.tee.log.end());
  }
  return h;
}

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline RunResult RunTool(int (*run)(const RestoreOptions&, const RestoreEnv&),
                         const RestoreOptions& options) {
  std::ostringstream out, err;
  RestoreEnv env;
  env.out = &out;
  env.err = &err;
  RunResult r;
  r.code = run(options, env);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// `attrib-restore export DIR --shop SHOP --format csv --out PATH`.
inline RunResult ExportCsv(const std::string& dir, engine::ShopId shop, const std::string& path) {
  RestoreOptions o;
  o.args = {dir};
  o.shop = shop;
  o.format = "csv";
  o.out = path;
  return RunTool(RunExport, o);
}

}  // namespace attrib::tools

#endif  // ATTRIB_TESTS_RESTORE_TEST_UTIL_H_
