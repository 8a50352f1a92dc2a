// fuzz/snapshot_reader_fuzz.cc
//
// libFuzzer target for the snapshot load path (persistence/snapshot.h): the input is
// a snapshot file in an in-memory file system (FaultInjectingFileSystem), given to
// ReadSnapshotInfo() (verify only), ReadSnapshotRecords() (offline tools) and
// LoadSnapshot() into a fresh, empty engine (restart). Each must load or return an
// error (DataLoss for what fails to verify, FailedPrecondition for another policy or
// shard count), never crash, hang, throw or over-allocate; when the verify-only
// path accepts the file, the load must agree with its counts.
//
// Thread-safety: libFuzzer calls the entry point from one thread (LoadSnapshot runs
// with one restore thread here).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/snapshot.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attrib::persistence::FaultInjectingFileSystem fs;
  Check(fs.CreateDir("snap").ok());
  const std::string path = "snap/snap-00000000000000000100.snap";
  {
    auto file = fs.OpenForAppend(path, /*truncate=*/true);
    Check(file.ok());
    Check((*file)->Append(absl::string_view(reinterpret_cast<const char*>(data), size))
              .ok());
    Check((*file)->Close().ok());
  }

  absl::StatusOr<attrib::persistence::SnapshotInfo> info =
      attrib::persistence::ReadSnapshotInfo(&fs, path);
  if (!info.ok()) Check(!info.status().message().empty());

  uint64_t records = 0;
  const absl::Status read = attrib::persistence::ReadSnapshotRecords(
      &fs, path, [&](attrib::engine::ShopId, const attrib::engine::ShopSettings&) { ++records; },
      [&](const attrib::engine::Connection&) { ++records; },
      [&](const attrib::engine::OrderRecord&) { ++records; },
      [&](const attrib::engine::Affiliate&) { ++records; });
  if (info.ok() && read.ok()) {
    Check(records == info->connections + info->settings + info->orders + info->affiliates);
  }

  attrib::engine::FakeClock clock(1'700'000'000'000);
  attrib::engine::EngineOptions options;
  options.shard_count = 4;  // make_corpus writes its snapshots with 4 shards.
  options.clock = &clock;
  attrib::engine::Engine engine(options);
  attrib::persistence::LoadSnapshotOptions load_options;
  load_options.threads = 1;
  absl::StatusOr<attrib::persistence::SnapshotInfo> loaded =
      attrib::persistence::LoadSnapshot(&fs, path, &engine, load_options);
  if (loaded.ok()) {
    Check(info.ok());  // What loads also verifies.
    Check(loaded->connections == info->connections && loaded->orders == info->orders &&
          loaded->settings == info->settings && loaded->affiliates == info->affiliates);
    Check(engine.affiliates().size() <= info->affiliates);  // Repeats replace.
  } else {
    Check(!loaded.status().message().empty());
  }
  return 0;
}
