// bench/snapshot_bench.cc
//
// Snapshot write and restart cost (SPEC §9: "10M connections restored from snapshot
// + log in <= 2 s"): loads --connections realistic connections (bench/
// email_generator.h; shop 1 + i % 10, affiliate 1 + i % 1000) and --orders orders
// into an engine, writes a snapshot with the real file system into --dir (a fresh
// temp directory by default, removed afterwards), then frees that engine and loads
// the snapshot into a fresh one. Prints a small table: write seconds, file bytes,
// bytes per connection; load seconds split into map / verify / restore; and a
// verify-only pass (ReadSnapshotInfo: checksums, and every record decoded with its
// key derived and checked against the stored hash, no engine: what attrib-restore
// verify does). The page cache is warm (the file was just written): this measures
// CPU cost, not the disk.
//
// Thread-safety: the main thread drives; loading the engine uses --load_threads
// workers on disjoint index ranges.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/email_generator.h"
#include "engine/engine.h"
#include "persistence/file_system.h"
#include "persistence/snapshot.h"

ABSL_FLAG(int64_t, connections, 1'000'000, "Connections to load.");
ABSL_FLAG(uint32_t, shards, 256, "Engine shard count (a power of two).");
ABSL_FLAG(int64_t, orders, -1, "Orders to attribute; -1: connections / 100.");
ABSL_FLAG(uint64_t, seed, 42, "Seed of the realistic email sequence.");
ABSL_FLAG(int, load_threads, 2, "Threads loading the live engine (not measured).");
ABSL_FLAG(int, restore_threads, 0, "Threads restoring the snapshot; 0: one per CPU.");
ABSL_FLAG(std::string, dir, "", "Directory for the snapshot; empty: a fresh temp dir.");
ABSL_FLAG(bool, keep, false, "Keep the snapshot file.");
ABSL_FLAG(std::string, load, "",
          "Only load this snapshot (written with --keep and the same --shards) into a "
          "fresh engine and report; for profiling the restore alone (perf record).");

namespace attrib::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

engine::EngineOptions Options() {
  engine::EngineOptions o;
  o.shard_count = absl::GetFlag(FLAGS_shards);
  return o;
}

// Connects customers [begin, end) of the sequence; false on the first failure.
bool LoadRange(engine::Engine* e, int64_t begin, int64_t end, uint64_t seed) {
  engine::ConnectRequest req;
  req.source = engine::Source::kImport;
  for (int64_t i = begin; i < end; ++i) {
    const uint64_t u = static_cast<uint64_t>(i);
    req.shop = 1 + u % 10;
    req.affiliate = 1 + u % 1000;
    req.email = RealisticEmail(u, seed);
    req.name = (u % 5 == 0) ? "Jane Q. Customer" : "";  // A fifth have a name.
    req.connected_at = 1'700'000'000'000 + static_cast<int64_t>(u);
    if (!e->Connect(req).ok()) {
      std::fprintf(stderr, "connect %s failed\n", req.email.c_str());
      return false;
    }
  }
  return true;
}

// --load: restore an existing snapshot only.
int LoadOnly(const std::string& path) {
  engine::Engine restored(Options());
  persistence::LoadSnapshotOptions load_options;
  load_options.threads = absl::GetFlag(FLAGS_restore_threads);
  absl::StatusOr<persistence::SnapshotInfo> loaded =
      persistence::LoadSnapshot(persistence::PosixFileSystem(), path, &restored, load_options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  std::printf("load %s: %llu connections in %.3f s (map %.3f, verify %.3f, restore %.3f)\n",
              path.c_str(), static_cast<unsigned long long>(loaded->connections),
              loaded->seconds, loaded->read_seconds, loaded->verify_seconds,
              loaded->restore_seconds);
  return 0;
}

int Run() {
  if (!absl::GetFlag(FLAGS_load).empty()) return LoadOnly(absl::GetFlag(FLAGS_load));
  const int64_t n = absl::GetFlag(FLAGS_connections);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int64_t orders =
      absl::GetFlag(FLAGS_orders) >= 0 ? absl::GetFlag(FLAGS_orders) : n / 100;
  persistence::FileSystem* fs = persistence::PosixFileSystem();
  std::string dir = absl::GetFlag(FLAGS_dir);
  const bool temp_dir = dir.empty();
  if (temp_dir) {
    char tmpl[] = "/tmp/snapshot_bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }

  // 1. The live engine.
  auto live = std::make_unique<engine::Engine>(Options());
  const Clock::time_point load_start = Clock::now();
  const int load_threads = std::max(1, absl::GetFlag(FLAGS_load_threads));
  std::vector<std::thread> workers;
  std::vector<char> ok(load_threads, 1);
  for (int t = 0; t < load_threads; ++t) {
    workers.emplace_back([&, t] {
      ok[t] = LoadRange(live.get(), n * t / load_threads, n * (t + 1) / load_threads, seed);
    });
  }
  for (std::thread& w : workers) w.join();
  if (std::count(ok.begin(), ok.end(), 0) != 0) return 1;
  engine::AttributeRequest order;
  for (int64_t i = 0; i < orders; ++i) {
    const uint64_t u = static_cast<uint64_t>(i) * 7919 % static_cast<uint64_t>(n);
    order.shop = 1 + u % 10;
    order.order_id = absl::StrFormat("%d", 4'000'000'000'000LL + i);
    order.email = RealisticEmail(u, seed);
    if (i % 3 == 0) order.referral_affiliate = 1 + (u + 1) % 1000;
    else order.referral_affiliate.reset();
    if (!live->Attribute(order).ok()) return 1;
  }
  for (engine::ShopId shop = 1; shop <= 10; ++shop) {
    engine::ShopSettingsPatch p;
    p.validity_days = 30 * static_cast<uint32_t>(shop);
    if (!live->UpdateSettings(shop, p).ok()) return 1;
  }
  const double load_s = Since(load_start);
  const size_t stored = live->Stats().connections;

  // 2. Write.
  absl::StatusOr<persistence::SnapshotInfo> written = persistence::WriteSnapshot(
      fs, dir, *live, [] { return uint64_t{1}; }, 1'700'000'000'000);
  if (!written.ok()) {
    std::fprintf(stderr, "write: %s\n", written.status().ToString().c_str());
    return 1;
  }
  live.reset();  // Free it: the restart below starts from an empty process state.

  // 3. Verify only (no engine): checksums + decoding every record.
  const Clock::time_point verify_start = Clock::now();
  absl::StatusOr<persistence::SnapshotInfo> verified =
      persistence::ReadSnapshotInfo(fs, written->path);
  const double verify_only_s = Since(verify_start);
  if (!verified.ok()) {
    std::fprintf(stderr, "verify: %s\n", verified.status().ToString().c_str());
    return 1;
  }

  // 4. Load into a fresh engine.
  engine::Engine restored(Options());
  persistence::LoadSnapshotOptions load_options;
  load_options.threads = absl::GetFlag(FLAGS_restore_threads);
  absl::StatusOr<persistence::SnapshotInfo> loaded =
      persistence::LoadSnapshot(fs, written->path, &restored, load_options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  if (restored.Stats().connections != stored) {
    std::fprintf(stderr, "load: %zu connections restored, %zu written\n",
                 restored.Stats().connections, stored);
    return 1;
  }

  const double dn = static_cast<double>(stored);
  std::printf("snapshot_bench: %zu connections, %llu orders, %u shards, seed %llu, "
              "%u CPUs (engine loaded in %.1f s)\n",
              stored, static_cast<unsigned long long>(written->orders),
              absl::GetFlag(FLAGS_shards), static_cast<unsigned long long>(seed),
              std::thread::hardware_concurrency(), load_s);
  std::printf("  %-30s %10.3f s   %6.2f M connections/s\n", "write (capture+encode+fsync)",
              written->seconds, dn / written->seconds / 1e6);
  std::printf("  %-30s %10.1f MiB %6.1f bytes/connection\n", "file size",
              static_cast<double>(written->bytes) / (1 << 20),
              static_cast<double>(written->bytes) / dn);
  std::printf("  %-30s %10.3f s\n", "verify only (crc+decode+keys)", verify_only_s);
  std::printf("  %-30s %10.3f s   %6.2f M connections/s\n", "load total", loaded->seconds,
              dn / loaded->seconds / 1e6);
  std::printf("  %-30s %10.3f s\n", "  map file", loaded->read_seconds);
  std::printf("  %-30s %10.3f s\n", "  verify checksums (parallel)", loaded->verify_seconds);
  std::printf("  %-30s %10.3f s\n", "  decode + restore (parallel)", loaded->restore_seconds);

  if (!absl::GetFlag(FLAGS_keep)) {
    (void)fs->Remove(written->path);
    if (temp_dir) (void)::rmdir(dir.c_str());
  } else {
    std::printf("  kept %s\n", written->path.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace attrib::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As attribd: Debian's Abseil is built with deadlock detection on, which
  // quadruples the cost of every mutex operation.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return attrib::bench::Run();
}
