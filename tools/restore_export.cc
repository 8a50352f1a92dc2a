// tools/restore_export.cc: `attrib-restore export` (see the header).
#include "tools/restore_export.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/identity_index.h"
#include "tools/import_rows.h"
#include "tools/json_writer.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

// A customer's identifiers as the export writes them (import_rows.h): the external
// id and the emails other than the row's own, in link order.
struct ExportIdentifiers {
  std::string external_id;
  std::vector<std::string> more_emails;
};

ExportIdentifiers IdentifiersOf(const engine::CustomerIdentifiers* ids, absl::string_view key) {
  ExportIdentifiers out;
  if (engine::IsExternalIdKey(key)) out.external_id = std::string(engine::ExternalIdOfKey(key));
  if (ids == nullptr) return out;
  for (const std::string& a : ids->aliases) {
    if (engine::IsExternalIdKey(a)) {
      out.external_id = std::string(engine::ExternalIdOfKey(a));
    } else {
      out.more_emails.push_back(a);
    }
  }
  return out;
}

// The rows of one customer, its connection or none (then the customer is one with
// linked identifiers and no connection: the import links them again).
void AppendCsv(engine::ShopId shop, absl::string_view key, const engine::Connection* c,
               const ExportIdentifiers& ids, std::string* out) {
  const bool by_email = !engine::IsExternalIdKey(key);
  const absl::string_view email = !by_email ? "" : c != nullptr ? c->entered_email : key;
  absl::StrAppend(out, CsvField(email), ",");
  if (c != nullptr) {
    absl::StrAppend(out, c->affiliate, ",", CsvField(c->name), ",", c->connected_at, ",");
  } else {
    absl::StrAppend(out, ",,,");
  }
  absl::StrAppend(out, CsvField(by_email ? key : ""), ",", shop, ",");
  if (c != nullptr) {
    absl::StrAppend(out, engine::SourceName(c->source), ",", c->order_count, ",",
                    c->last_order_at, ",");
  } else {
    absl::StrAppend(out, ",,,");
  }
  absl::StrAppend(out, CsvField(ids.external_id), ",",
                  CsvField(absl::StrJoin(ids.more_emails,
                                         std::string(1, kEmailListSeparator))),
                  "\n");
}

void AppendJson(engine::ShopId shop, absl::string_view key, const engine::Connection* c,
                const ExportIdentifiers& ids, std::string* out) {
  const bool by_email = !engine::IsExternalIdKey(key);
  std::string emails = "[";
  for (size_t i = 0; i < ids.more_emails.size(); ++i) {
    absl::StrAppend(&emails, i > 0 ? "," : "", JsonString(ids.more_emails[i]));
  }
  emails += "]";
  JsonObject o;
  o.Uint("shop", shop)
      .Str("canonical_email", by_email ? key : "")
      .Str("entered_email", !by_email ? "" : c != nullptr ? c->entered_email : key)
      .Uint("affiliate", c != nullptr ? c->affiliate : 0)
      .Str("source", c != nullptr ? engine::SourceName(c->source) : "")
      .Int("connected_at", c != nullptr ? c->connected_at : 0)
      .Str("name", c != nullptr ? c->name : "")
      .Uint("order_count", c != nullptr ? c->order_count : 0)
      .Int("last_order_at", c != nullptr ? c->last_order_at : 0)
      .Str("external_id", ids.external_id)
      .Raw("emails", emails);
  absl::StrAppend(out, o.Done(), "\n");
}

}  // namespace

ExportCounts WriteExport(const engine::Engine& engine, engine::ShopId shop, ExportFormat format,
                         std::ostream& out, Progress* progress) {
  // The customers with linked identifiers (few, next to the connections): by
  // (shop, primary key), so connectionless ones come out in order after the rest.
  std::map<std::pair<engine::ShopId, std::string>, engine::CustomerIdentifiers> linked;
  engine.identity().ForEachLocked(
      [&](engine::ShopId s, const engine::CustomerIdentifiers& c) {
        if (shop == 0 || s == shop) linked.emplace(std::make_pair(s, c.primary), c);
      },
      [] {});
  std::string buffer;
  if (format == ExportFormat::kCsv) {
    absl::StrAppend(&buffer, absl::StrJoin(kExportCsvColumns, ","), "\n");
  }
  const auto append = [&](engine::ShopId s, absl::string_view key, const engine::Connection* c) {
    auto it = linked.find(std::make_pair(s, std::string(key)));
    const ExportIdentifiers ids =
        IdentifiersOf(it == linked.end() ? nullptr : &it->second, key);
    if (it != linked.end()) linked.erase(it);
    if (format == ExportFormat::kCsv) {
      AppendCsv(s, key, c, ids, &buffer);
    } else {
      AppendJson(s, key, c, ids, &buffer);
    }
  };
  const uint64_t total = shop == 0 ? engine.store().size() : engine.store().CountShop(shop);
  ExportCounts counts;
  ForEachConnectionSorted(engine, shop, [&](const engine::Connection& c) {
    append(c.shop, c.canonical_email, &c);
    ++counts.connections;
    if (buffer.size() >= kFlushBytes) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (progress != nullptr) progress->Update(counts.connections, total, "connections");
    }
  });
  // What is left: customers whose identifiers are linked, without a connection.
  while (!linked.empty()) {
    const auto first = linked.begin();
    const engine::ShopId s = first->first.first;
    const std::string key = first->first.second;
    append(s, key, nullptr);
    ++counts.unconnected_customers;
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  return counts;
}

int RunExport(const RestoreOptions& options, const RestoreEnv& env) {
  if (options.args.size() != 1) return env.Usage("export: expected one data directory");
  ExportFormat format;
  if (options.format == "csv") {
    format = ExportFormat::kCsv;
  } else if (options.format == "jsonl") {
    format = ExportFormat::kJsonl;
  } else {
    return env.Usage(options.format.empty()
                         ? "export: --format=csv or --format=jsonl is required"
                         : absl::StrCat("export: --format: '", options.format,
                                        "' is not one of csv, jsonl"));
  }
  persistence::RecoveryOptions ro;
  ro.archive_dir = options.archive;
  absl::StatusOr<LoadedDataDir> loaded =
      LoadDataDir(env.fs, options.args[0], ro, options.order_window_ms);
  if (!loaded.ok()) return env.Fail("export", loaded.status());
  for (const std::string& w : loaded->report.warnings) env.Warn("export", w);

  const bool to_stdout = options.out.empty() || options.out == "-";
  std::ofstream file;
  if (!to_stdout) {
    file.open(options.out, std::ios::binary | std::ios::trunc);
    if (!file) return env.Fail("export", absl::StrCat("cannot write '", options.out, "'"));
  }
  std::ostream& out = to_stdout ? *env.out : file;
  Progress progress(env, "export");
  const ExportCounts written =
      WriteExport(*loaded->engine, options.shop, format, out, &progress);
  progress.Finish();
  if (!out) {
    return env.Fail("export", absl::StrCat("writing ", to_stdout ? "stdout" : options.out,
                                           " failed (disk full?)"));
  }
  if (!to_stdout) {
    file.close();
    if (!file) return env.Fail("export", absl::StrCat("closing '", options.out, "' failed"));
  }
  *env.err << "attrib-restore: export: " << written.connections << " connections"
           << (written.unconnected_customers != 0
                   ? absl::StrCat(" and ", written.unconnected_customers,
                                  " customers with linked identifiers and no connection")
                   : std::string())
           << (options.shop != 0 ? absl::StrCat(" of shop ", options.shop) : std::string())
           << " (state at seq " << loaded->last_seq() << ") written to "
           << (to_stdout ? std::string("stdout") : options.out) << "\n";
  return kExitOk;
}

}  // namespace attrib::tools
