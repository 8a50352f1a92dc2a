// tools/restore_export.cc: `attrib-restore export` (see the header).
#include "tools/restore_export.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/import_rows.h"
#include "tools/json_writer.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

void AppendCsv(const engine::Connection& c, std::string* out) {
  absl::StrAppend(out, CsvField(c.entered_email), ",", c.affiliate, ",", CsvField(c.name), ",",
                  c.connected_at, ",", CsvField(c.canonical_email), ",", c.shop, ",",
                  engine::SourceName(c.source), ",", c.order_count, ",", c.last_order_at, "\n");
}

void AppendJson(const engine::Connection& c, std::string* out) {
  absl::StrAppend(out,
                  JsonObject()
                      .Uint("shop", c.shop)
                      .Str("canonical_email", c.canonical_email)
                      .Str("entered_email", c.entered_email)
                      .Uint("affiliate", c.affiliate)
                      .Str("source", engine::SourceName(c.source))
                      .Int("connected_at", c.connected_at)
                      .Str("name", c.name)
                      .Uint("order_count", c.order_count)
                      .Int("last_order_at", c.last_order_at)
                      .Done(),
                  "\n");
}

}  // namespace

uint64_t WriteExport(const engine::Engine& engine, engine::ShopId shop, ExportFormat format,
                     std::ostream& out, Progress* progress) {
  std::string buffer;
  if (format == ExportFormat::kCsv) {
    absl::StrAppend(&buffer, absl::StrJoin(kExportCsvColumns, ","), "\n");
  }
  const uint64_t total = shop == 0 ? engine.store().size() : engine.store().CountShop(shop);
  uint64_t written = 0;
  ForEachConnectionSorted(engine, shop, [&](const engine::Connection& c) {
    if (format == ExportFormat::kCsv) {
      AppendCsv(c, &buffer);
    } else {
      AppendJson(c, &buffer);
    }
    ++written;
    if (buffer.size() >= kFlushBytes) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (progress != nullptr) progress->Update(written, total, "connections");
    }
  });
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  return written;
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
  const uint64_t written = WriteExport(*loaded->engine, options.shop, format, out, &progress);
  progress.Finish();
  if (!out) {
    return env.Fail("export", absl::StrCat("writing ", to_stdout ? "stdout" : options.out,
                                           " failed (disk full?)"));
  }
  if (!to_stdout) {
    file.close();
    if (!file) return env.Fail("export", absl::StrCat("closing '", options.out, "' failed"));
  }
  *env.err << "attrib-restore: export: " << written << " connections"
           << (options.shop != 0 ? absl::StrCat(" of shop ", options.shop) : std::string())
           << " (state at seq " << loaded->last_seq() << ") written to "
           << (to_stdout ? std::string("stdout") : options.out) << "\n";
  return kExitOk;
}

}  // namespace attrib::tools
