// tools/import_rows.h
//
// The CSV of connections that both importers read, and the report both print:
// `attribctl import` (streams the rows to a server) and `attrib-restore import`
// (loads them offline into a data directory). One reader and one report, so a file
// is accepted, and a row rejected, for the same reasons by both.
//
// The CSV (RFC 4180, tools/csv_reader.h) has a header row naming its columns, in any
// order (names are trimmed and case-insensitive):
//   email          required; the email as entered (the engine canonicalizes it)
//   affiliate_id   required; a decimal id > 0
//   name           optional; empty = not given (a replaced connection keeps its name)
//   connected_at   optional; ms since the epoch or RFC 3339 ("2024-01-31T12:00:00Z");
//                  empty = now. (0, 1970-01-01T00:00:00Z, cannot be given: it reads
//                  as out of range.)
//   shop           optional; when given, a row of another shop than the import's
//                  --shop is rejected (so an export of several shops cannot be
//                  merged into one by mistake)
//   external_id    optional (issue 12); the customer's external id (the shop
//                  platform's customer id). With an email, both identify the one
//                  customer (they are linked); alone (email empty), the customer
//                  is keyed by it
//   emails         optional (issue 12); the customer's OTHER emails, separated by
//                  ';' (no email holds one), each linked to the customer after the
//                  row's connect, in order; empty = none
//   directory_name, directory_orders_seen, directory_first_order_at,
//   directory_last_order_at
//                  optional (issue 12); the customer's customer-directory entry
//                  (engine/customer_directory.h): its directory name (<= 128 bytes of
//                  UTF-8 text, may differ from the connection's `name`), orders seen
//                  (a whole number in [0, 4294967295]) and first and last order time
//                  (ms since the epoch or RFC 3339, as connected_at; 0 = no order
//                  seen). All four empty: the row has no entry (a connected customer
//                  the directory remembers by its connection). Any of them given: the
//                  row's entry is exactly these values (the others read as empty
//                  name, 0), and it REPLACES the customer's entry after the row's
//                  connect and links (so re-importing a file changes nothing). The
//                  entry must be well formed: no order times with 0 orders seen, the
//                  first order not after the last. A shop with customer_directory
//                  off rejects the entry (code customer_directory_off; the row's
//                  connect and links stand). `attribctl import` does not carry
//                  entries: it counts them as skipped (see tools/attribctl_import.h).
// A row with an empty affiliate_id connects nothing: it only links its identifiers
// (a customer without a connection whose identifiers are linked; the export writes
// such customers so) and/or stores its directory entry (a customer in the directory
// only), and needs at least two identifiers or an entry.
//   canonical_email, source, order_count, last_order_at
//                  accepted and ignored: `attrib-restore export` writes them; the
//                  canonical key is recomputed, the source is the import's, and
//                  order counters start at zero (they are earned by orders)
// Any other column name is an error naming it (a usage error for the tools). The
// header must name affiliate_id and email or external_id (or both).
//
// A row is rejected, with its line number and reason, when it is malformed (wrong
// field count, affiliate_id, connected_at or shop not parseable, another shop) or
// when the engine refuses it (already_connected, an invalid email). A CSV syntax
// error (an unterminated quote) stops reading there and is a rejection too.
//
// The report (stdout), human:
//   rows read:           4
//   connected (created): 0
//   replaced:            0
//   unchanged:           1
//   rejected:            3
//     line 3 (bad@@x.com): email: ...
// or with --json one object per rejected row ({"line":3,"email":...,"error":{...}})
// then the summary {"rows":4,"created":0,"replaced":0,"unchanged":1,"rejected":3}.
// When identifiers were linked, a line `identifiers linked: N` (JSON "linked":N)
// follows `unchanged` (absent otherwise, so old files report as before).
// When directory entries were stored, a line `directory entries:   N` (JSON
// "directory":N) follows it, and when they were skipped (attribctl import) a line
// `directory entries skipped: N (...)` (JSON "directory_skipped":N); both absent
// otherwise, too.
//
// Thread-safety: single-threaded values and functions.
#ifndef ATTRIB_TOOLS_IMPORT_ROWS_H_
#define ATTRIB_TOOLS_IMPORT_ROWS_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "tools/csv_reader.h"
#include "tools/json_writer.h"

namespace attrib::tools {

// The columns `attrib-restore export --format csv` writes, in its order; the first
// four are what an import reads.
inline constexpr absl::string_view kExportCsvColumns[] = {
    "email",  "affiliate_id", "name",        "connected_at",  "canonical_email",
    "shop",   "source",       "order_count", "last_order_at", "external_id",
    "emails", "directory_name", "directory_orders_seen", "directory_first_order_at",
    "directory_last_order_at"};
// The separator of the `emails` column's list.
inline constexpr char kEmailListSeparator = ';';

// Field index of each column an import uses; -1 when absent.
struct ImportColumns {
  int email = -1;
  int affiliate = -1;
  int name = -1;
  int connected_at = -1;
  int shop = -1;
  int external_id = -1;
  int emails = -1;
  int directory_name = -1;
  int directory_orders_seen = -1;
  int directory_first_order_at = -1;
  int directory_last_order_at = -1;
  size_t count = 0;  // Fields per row (the header's).
};

// One row: a connect (connect.affiliate == 0: none, the row only links
// identifiers and/or stores its entry), then the other emails to link to the
// customer, then its directory entry.
struct ImportRow {
  engine::ConnectRequest connect;
  std::vector<std::string> more_emails;
  std::optional<engine::CustomerEntry> directory;  // Well formed (ValidateCustomerEntry).
  bool connects() const { return connect.affiliate != 0; }
  // The customer the row names (its email, else its external id), for the links.
  engine::CustomerRef customer() const;
  // How the report names the row: the email, else external_id:ID.
  std::string label() const;
  // The identifiers to link to customer() after the connect (if any), in order: a
  // link-only row's external id (when it has an email too), then more_emails.
  std::vector<engine::CustomerRef> Links() const;
};

// A link of a row that failed: the row is rejected with this status (its connect,
// if any, stands: the message says so).
absl::Status LinkFailed(const ImportRow& row, const engine::CustomerRef& id,
                        const absl::Status& status);

// The directory entry of a row that was refused: the row is rejected with this
// status ("directory: ...", saying that the row's connect and links stand).
absl::Status DirectoryEntryFailed(const ImportRow& row, const absl::Status& status);

// InvalidArgument "import: ..." naming an unknown or repeated column, or the
// missing required ones.
absl::StatusOr<ImportColumns> MapImportHeader(const std::vector<std::string>& header);

struct ImportRejection {
  int64_t line = 0;
  std::string email;
  absl::Status status;
};

// What happened to the rows of one import.
struct ImportTally {
  uint64_t rows = 0;  // Records read (rejected ones included).
  uint64_t created = 0;
  uint64_t replaced = 0;
  uint64_t unchanged = 0;
  uint64_t linked = 0;  // Identifiers linked (the external_id and emails columns).
  uint64_t directory = 0;  // Directory entries stored (the directory_* columns).
  // Rows whose directory entry was not carried (attribctl import: the protocol has
  // no operation that stores a whole entry).
  uint64_t directory_skipped = 0;
  std::vector<ImportRejection> rejections;

  void Count(engine::ConnectResult::Outcome outcome);
  void Reject(int64_t line, absl::string_view email, absl::Status status);
  uint64_t connected() const { return created + replaced + unchanged; }
};

// Reads an import CSV row by row as connect requests.
class ImportRowReader {
 public:
  // `in` must outlive the reader; `base` gives every row's shop, source and mode.
  ImportRowReader(std::istream* in, engine::ConnectRequest base);
  ImportRowReader(const ImportRowReader&) = delete;
  ImportRowReader& operator=(const ImportRowReader&) = delete;

  // Reads the header row: InvalidArgument "import: ..." (a usage error) when there
  // is none or it is not acceptable. `path` names the file in the message.
  absl::Status ReadHeader(absl::string_view path);

  // The next row that parses: true, with *row and its first *line filled; false at
  // the end of the input. Every record read is counted in tally->rows; rows that do
  // not parse, and a CSV syntax error (which ends the input), are rejected there.
  bool Next(ImportTally* tally, ImportRow* row, int64_t* line);

 private:
  CsvReader reader_;
  const engine::ConnectRequest base_;
  ImportColumns columns_;
  std::vector<std::string> fields_;
};

// Writes the report (see the top of this file) to `out`, rejections sorted by line.
// `summary_extra`, when given, adds fields to the JSON summary object.
void WriteImportReport(ImportTally* tally, bool json, std::ostream& out,
                       const std::function<void(JsonObject&)>& summary_extra = nullptr);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_IMPORT_ROWS_H_
