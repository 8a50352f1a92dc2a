// tools/restore_export.cc: `attrib-restore export` (see the header).
#include "tools/restore_export.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
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
               const ExportIdentifiers& ids, const engine::CustomerEntry* entry,
               std::string* out) {
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
                  ",");
  if (entry != nullptr) {
    absl::StrAppend(out, CsvField(entry->name), ",", entry->orders_seen, ",",
                    entry->first_order_at, ",", entry->last_order_at, "\n");
  } else {
    absl::StrAppend(out, ",,,\n");
  }
}

void AppendJson(engine::ShopId shop, absl::string_view key, const engine::Connection* c,
                const ExportIdentifiers& ids, const engine::CustomerEntry* entry,
                std::string* out) {
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
      .Raw("emails", emails)
      .Raw("directory", entry == nullptr ? std::string("null")
                                         : JsonObject()
                                               .Str("name", entry->name)
                                               .Uint("orders_seen", entry->orders_seen)
                                               .Int("first_order_at", entry->first_order_at)
                                               .Int("last_order_at", entry->last_order_at)
                                               .Done());
  absl::StrAppend(out, o.Done(), "\n");
}

}  // namespace

ExportCounts WriteExport(const engine::Engine& engine, engine::ShopId shop, ExportFormat format,
                         std::ostream& out, Progress* progress) {
  using Key = std::pair<engine::ShopId, std::string>;
  // The customers with linked identifiers (few, next to the connections): by
  // (shop, primary key), so connectionless ones come out in order after the rest.
  std::map<Key, engine::CustomerIdentifiers> linked;
  engine.identity().ForEachLocked(
      [&](engine::ShopId s, const engine::CustomerIdentifiers& c) {
        if (shop == 0 || s == shop) linked.emplace(std::make_pair(s, c.primary), c);
      },
      [] {});
  // The customer directory's entries (by primary key too): a connection's row
  // carries its customer's, the rest are customers without a connection.
  std::map<Key, engine::CustomerEntry> directory;
  engine.customers().ForEachLocked(
      [&](engine::ShopId s, absl::string_view key, const engine::CustomerEntry& e) {
        if (shop == 0 || s == shop) directory.emplace(std::make_pair(s, std::string(key)), e);
      },
      [] {});
  std::string buffer;
  if (format == ExportFormat::kCsv) {
    absl::StrAppend(&buffer, absl::StrJoin(kExportCsvColumns, ","), "\n");
  }
  ExportCounts counts;
  const auto append = [&](const Key& key, const engine::Connection* c) {
    auto it = linked.find(key);
    const ExportIdentifiers ids =
        IdentifiersOf(it == linked.end() ? nullptr : &it->second, key.second);
    if (it != linked.end()) linked.erase(it);
    std::optional<engine::CustomerEntry> entry;
    if (auto d = directory.find(key); d != directory.end()) {
      entry = std::move(d->second);
      directory.erase(d);
      ++counts.directory_entries;
    }
    const engine::CustomerEntry* e = entry ? &*entry : nullptr;
    if (format == ExportFormat::kCsv) {
      AppendCsv(key.first, key.second, c, ids, e, &buffer);
    } else {
      AppendJson(key.first, key.second, c, ids, e, &buffer);
    }
  };
  const uint64_t total = shop == 0 ? engine.store().size() : engine.store().CountShop(shop);
  ForEachConnectionSorted(engine, shop, [&](const engine::Connection& c) {
    append(std::make_pair(c.shop, c.canonical_email), &c);
    ++counts.connections;
    if (buffer.size() >= kFlushBytes) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (progress != nullptr) progress->Update(counts.connections, total, "connections");
    }
  });
  // What is left: customers without a connection, whose identifiers are linked or
  // who are in the directory (or both), merged in key order.
  while (!linked.empty() || !directory.empty()) {
    const bool from_linked =
        directory.empty() || (!linked.empty() && linked.begin()->first <= directory.begin()->first);
    const Key key = from_linked ? linked.begin()->first : directory.begin()->first;
    if (from_linked) {
      ++counts.unconnected_customers;
    } else {
      ++counts.directory_only;
    }
    append(key, nullptr);
    if (buffer.size() >= kFlushBytes) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
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
           << (written.directory_only != 0
                   ? absl::StrCat(" and ", written.directory_only,
                                  " customers in the directory only")
                   : std::string())
           << (written.directory_entries != 0
                   ? absl::StrCat(" (", written.directory_entries,
                                  " rows with a directory entry)")
                   : std::string())
           << (options.shop != 0 ? absl::StrCat(" of shop ", options.shop) : std::string())
           << " (state at seq " << loaded->last_seq() << ") written to "
           << (to_stdout ? std::string("stdout") : options.out) << "\n";
  return kExitOk;
}

}  // namespace attrib::tools
