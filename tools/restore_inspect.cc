// tools/restore_inspect.cc: `attrib-restore inspect` (see the header).
#include "tools/restore_inspect.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "persistence/log_format.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_format.h"
#include "tools/cli_values.h"

namespace attrib::tools {
namespace {

absl::string_view PolicyName(uint8_t value) {
  if (value == static_cast<uint8_t>(engine::EmailPolicy::kProvider) ||
      value == static_cast<uint8_t>(engine::EmailPolicy::kStandard)) {
    return engine::EmailPolicyName(static_cast<engine::EmailPolicy>(value));
  }
  return "unknown";
}

// `head`: the file's first bytes (up to a segment header's worth).
int InspectSegment(const std::string& path, absl::string_view head, const RestoreEnv& env) {
  std::ostream& out = *env.out;
  out << "segment " << path << ": ";
  absl::StatusOr<persistence::SegmentHeader> header = persistence::DecodeSegmentHeader(head);
  if (header.ok()) {
    out << "first seq " << header->first_seq << ", email policy "
        << PolicyName(header->email_policy) << "\n";
  } else {
    out << "bad header: " << header.status().message() << "\n";
  }
  uint64_t undecodable = 0;
  absl::StatusOr<persistence::SegmentScan> scan = persistence::ScanSegment(
      env.fs, path, [&](const persistence::LogRecordRef& rec) {
        absl::StatusOr<engine::Mutation> m = persistence::DecodeMutation(rec.payload);
        out << "seq " << rec.seq << " @" << rec.offset << " ";
        if (m.ok()) {
          out << IsoTime(m->made_at) << " " << persistence::DescribeMutation(*m) << "\n";
        } else {
          ++undecodable;
          out << "UNDECODABLE: " << m.status().message() << "\n";
        }
        return absl::OkStatus();
      });
  if (!scan.ok()) return env.Fail("inspect", scan.status());
  const persistence::SegmentScan& s = *scan;
  out << "end: " << s.records << " records";
  if (s.records > 0) out << " (seq " << s.first_seq << ".." << s.last_seq << ")";
  out << ", " << s.file_bytes << " bytes, ends " << persistence::SegmentTailName(s.tail);
  if (s.tail != persistence::SegmentScan::Tail::kClean) {
    out << " at offset " << s.bad_offset << ": " << s.problem << " (" << s.dropped_bytes()
        << " bytes after the last good record)";
  }
  out << "\n";
  if (undecodable > 0) {
    out << "  " << undecodable << " records pass their checksum but do not decode\n";
  }
  out.flush();
  return s.tail == persistence::SegmentScan::Tail::kCorrupt || undecodable > 0 ? kExitFailed
                                                                                : kExitOk;
}

template <typename T>
std::string Range(const std::vector<T>& v) {
  if (v.empty()) return "none";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return absl::StrCat(*lo, "..", *hi);
}

int InspectSnapshot(const std::string& path, bool records, const RestoreEnv& env) {
  std::ostream& out = *env.out;
  absl::StatusOr<persistence::SnapshotInfo> info = persistence::ReadSnapshotInfo(env.fs, path);
  if (!info.ok()) return env.Fail("inspect", info.status());
  out << "snapshot " << path << ": " << info->bytes << " bytes, created "
      << IsoTime(info->created_at_ms) << ", email policy " << PolicyName(info->email_policy)
      << ", " << info->shard_count << " shards\n"
      << "  fences: settings " << info->fences.settings << ", connection shards "
      << Range(info->fences.connection_shards) << ", order shards "
      << Range(info->fences.order_shards) << "; the log is replayed from seq "
      << info->oldest_fence + 1 << " (changes up to seq " << info->newest_fence
      << " may be in it)\n"
      << "  " << info->connections << " connections, " << info->settings
      << " shops with settings, " << info->orders << " remembered orders, "
      << info->affiliates << " affiliates (affiliate directory fence "
      << info->fences.affiliates << ")\n";
  if (records) {
    absl::Status s = persistence::ReadSnapshotRecords(
        env.fs, path,
        [&](engine::ShopId shop, const engine::ShopSettings& st) {
          out << "settings " << SettingsLine(shop, st) << "\n";
        },
        [&](const engine::Connection& c) { out << "connection " << ConnectionLine(c) << "\n"; },
        [&](const engine::OrderRecord& o) { out << "order " << OrderLine(o) << "\n"; },
        [&](const engine::Affiliate& a) { out << "affiliate " << AffiliateLine(a) << "\n"; });
    if (!s.ok()) return env.Fail("inspect", s);
  }
  out.flush();
  return kExitOk;
}

}  // namespace

int RunInspect(const RestoreOptions& options, const RestoreEnv& env) {
  if (options.args.size() != 1) return env.Usage("inspect: expected one FILE");
  const std::string& path = options.args[0];
  // The magic tells the kinds apart; the readers verify the rest.
  std::ifstream file(path, std::ios::binary);
  if (!file) return env.Fail("inspect", absl::StrCat("cannot open '", path, "'"));
  char bytes[persistence::kSegmentHeaderBytes] = {};
  file.read(bytes, sizeof(bytes));
  const absl::string_view first(bytes, static_cast<size_t>(file.gcount()));
  const absl::string_view head = first.substr(0, 8);
  if (head == absl::string_view(persistence::kSegmentMagic, sizeof(persistence::kSegmentMagic))) {
    return InspectSegment(path, first, env);
  }
  if (head == absl::string_view(persistence::kSnapshotMagic,
                                sizeof(persistence::kSnapshotMagic))) {
    return InspectSnapshot(path, options.records, env);
  }
  return env.Fail("inspect", absl::StrCat(path,
                                          " is neither a log segment nor a snapshot (its first "
                                          "bytes are not ATRBWAL1 or ATRBSNP1)"));
}

}  // namespace attrib::tools
