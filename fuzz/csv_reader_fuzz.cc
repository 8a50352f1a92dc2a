// fuzz/csv_reader_fuzz.cc
//
// libFuzzer target for the import CSV: tools/csv_reader.h (CsvReader) and the row
// parser on top of it (tools/import_rows.h, ImportRowReader). The first input byte
// picks CsvOptions::max_record_bytes (16..4111), the rest is the file. Checks:
//  - neither reader crashes, hangs or throws;
//  - every record CsvReader returns holds at most max_record_bytes field bytes, its
//    line numbers increase, and an error is InvalidArgument "line N: ..." after
//    which the reader stays at the end of input;
//  - every row ImportRowReader accepts keeps the base request's shop, starts after
//    the header line, names a customer (an email or an external id), and has an
//    affiliate > 0 or at least two identifiers to link; every row it reads is
//    either accepted or rejected.
//
// Thread-safety: libFuzzer calls the entry point from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "tools/csv_reader.h"
#include "tools/import_rows.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// Returns the number of records read.
uint64_t ReadCsv(const std::string& text, size_t max_record_bytes) {
  std::istringstream in(text);
  attrib::tools::CsvOptions options;
  options.max_record_bytes = max_record_bytes;
  attrib::tools::CsvReader reader(&in, options);
  std::vector<std::string> fields;
  uint64_t records = 0;
  int64_t last_line = 0;
  for (;;) {
    absl::StatusOr<bool> next = reader.Next(&fields);
    if (!next.ok()) {
      Check(absl::IsInvalidArgument(next.status()));
      Check(absl::StartsWith(next.status().message(), "line "));
      Check(reader.error_line() >= 1);
      absl::StatusOr<bool> after = reader.Next(&fields);
      Check(after.ok() && !*after);
      return records;
    }
    if (!*next) return records;
    ++records;
    Check(!fields.empty());
    size_t bytes = 0;
    for (const std::string& field : fields) bytes += field.size();
    Check(bytes <= max_record_bytes);
    Check(reader.record_line() > last_line);
    last_line = reader.record_line();
  }
}

void ReadImport(const std::string& text) {
  std::istringstream in(text);
  attrib::engine::ConnectRequest base;
  base.shop = 42;
  attrib::tools::ImportRowReader reader(&in, base);
  if (!reader.ReadHeader("fuzz.csv").ok()) return;
  attrib::tools::ImportTally tally;
  attrib::tools::ImportRow row;
  int64_t line = 0;
  uint64_t accepted = 0;
  while (reader.Next(&tally, &row, &line)) {
    ++accepted;
    Check(row.connect.shop == 42);
    Check(!row.connect.email.empty() || row.connect.external_id.has_value());
    Check(row.connects() || !row.Links().empty());
    Check(line >= 2);
  }
  Check(accepted + tally.rejections.size() == tally.rows);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_record_bytes = 16 + static_cast<size_t>(data[0]) * 16;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  ReadCsv(text, max_record_bytes);
  ReadImport(text);
  return 0;
}
