// tools/import_rows.cc: the import CSV and its report (see the header).
#include "tools/import_rows.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/validation.h"
#include "tools/cli_values.h"

namespace attrib::tools {
namespace {

// The email of a rejected row as the report shows it: as is, or as a JSON string
// when it holds control characters (a quoted field may hold a newline).
std::string Printable(absl::string_view text) {
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  return plain ? std::string(text) : JsonString(text);
}

const std::string& Field(const std::vector<std::string>& fields, int index) {
  return fields[static_cast<size_t>(index)];
}

// A directory time: ms since the epoch or RFC 3339; empty or "0": none.
absl::StatusOr<int64_t> ParseDirectoryTime(absl::string_view column, absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text == "0") return 0;
  return ParseTimeMs(column, text);
}

// The row's directory entry (import_rows.h): none when every directory column is
// absent or empty; else parsed and checked, errors naming the column.
absl::StatusOr<std::optional<engine::CustomerEntry>> ParseDirectoryEntry(
    const ImportColumns& columns, const std::vector<std::string>& fields) {
  const auto get = [&](int index) -> absl::string_view {
    return index == -1 ? absl::string_view() : absl::string_view(Field(fields, index));
  };
  const absl::string_view name = get(columns.directory_name);
  const absl::string_view orders = absl::StripAsciiWhitespace(get(columns.directory_orders_seen));
  const absl::string_view first = get(columns.directory_first_order_at);
  const absl::string_view last = get(columns.directory_last_order_at);
  if (name.empty() && orders.empty() && absl::StripAsciiWhitespace(first).empty() &&
      absl::StripAsciiWhitespace(last).empty()) {
    return std::nullopt;
  }
  engine::CustomerEntry e;
  e.name = std::string(name);
  if (!orders.empty() && !absl::SimpleAtoi(orders, &e.orders_seen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "directory_orders_seen: '", orders, "' is not a count (a whole number in [0, ",
        std::numeric_limits<uint32_t>::max(), "])"));
  }
  absl::StatusOr<int64_t> at = ParseDirectoryTime("directory_first_order_at", first);
  if (!at.ok()) return at.status();
  e.first_order_at = *at;
  at = ParseDirectoryTime("directory_last_order_at", last);
  if (!at.ok()) return at.status();
  e.last_order_at = *at;
  if (absl::Status s = engine::ValidateCustomerEntry(e, "directory_"); !s.ok()) return s;
  return e;
}

}  // namespace

absl::StatusOr<ImportColumns> MapImportHeader(const std::vector<std::string>& header) {
  ImportColumns columns;
  columns.count = header.size();
  std::vector<std::string> seen;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("import: column '", name, "' appears twice in the header"));
    }
    seen.push_back(name);
    int* slot = name == "email"                      ? &columns.email
                : name == "affiliate_id"             ? &columns.affiliate
                : name == "name"                     ? &columns.name
                : name == "connected_at"             ? &columns.connected_at
                : name == "shop"                     ? &columns.shop
                : name == "external_id"              ? &columns.external_id
                : name == "emails"                   ? &columns.emails
                : name == "directory_name"           ? &columns.directory_name
                : name == "directory_orders_seen"    ? &columns.directory_orders_seen
                : name == "directory_first_order_at" ? &columns.directory_first_order_at
                : name == "directory_last_order_at"  ? &columns.directory_last_order_at
                : nullptr;
    if (slot != nullptr) {
      *slot = static_cast<int>(i);
      continue;
    }
    if (std::find(std::begin(kExportCsvColumns), std::end(kExportCsvColumns), name) ==
        std::end(kExportCsvColumns)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "import: unknown column '", header[i], "' in the header (columns: ",
          absl::StrJoin(kExportCsvColumns, ", "), ")"));
    }
    // An export column an import does not use (see the header comment).
  }
  if ((columns.email == -1 && columns.external_id == -1) || columns.affiliate == -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "import: the header must name the columns affiliate_id and email (or external_id, "
        "or both) (got '",
        absl::StrJoin(header, ","), "')"));
  }
  return columns;
}

void ImportTally::Count(engine::ConnectResult::Outcome outcome) {
  switch (outcome) {
    case engine::ConnectResult::Outcome::kCreated: ++created; break;
    case engine::ConnectResult::Outcome::kReplaced: ++replaced; break;
    case engine::ConnectResult::Outcome::kUnchanged: ++unchanged; break;
  }
}

void ImportTally::Reject(int64_t line, absl::string_view email, absl::Status status) {
  rejections.push_back({line, std::string(email), std::move(status)});
}

ImportRowReader::ImportRowReader(std::istream* in, engine::ConnectRequest base)
    : reader_(in), base_(std::move(base)) {}

absl::Status ImportRowReader::ReadHeader(absl::string_view path) {
  std::vector<std::string> header;
  absl::StatusOr<bool> has_header = reader_.Next(&header);
  if (!has_header.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("import: ", has_header.status().message()));
  }
  if (!*has_header) {
    return absl::InvalidArgumentError(absl::StrCat("import: '", path, "' has no header row"));
  }
  absl::StatusOr<ImportColumns> columns = MapImportHeader(header);
  if (!columns.ok()) return columns.status();
  columns_ = *columns;
  return absl::OkStatus();
}

engine::CustomerRef ImportRow::customer() const {
  engine::CustomerRef ref;
  if (!connect.email.empty()) {
    ref.email = connect.email;
  } else {
    ref.external_id = connect.external_id;
  }
  return ref;
}

std::string ImportRow::label() const {
  if (!connect.email.empty() || !connect.external_id) return connect.email;
  return absl::StrCat("external_id:", *connect.external_id);
}

std::vector<engine::CustomerRef> ImportRow::Links() const {
  std::vector<engine::CustomerRef> links;
  if (!connects() && !connect.email.empty() && connect.external_id) {
    links.push_back({std::nullopt, connect.external_id});
  }
  for (const std::string& e : more_emails) links.push_back({e, std::nullopt});
  return links;
}

absl::Status LinkFailed(const ImportRow& row, const engine::CustomerRef& id,
                        const absl::Status& status) {
  const std::string what = id.email ? absl::StrCat("emails: ", *id.email)
                                    : absl::StrCat("external_id: ", id.external_id.value_or(""));
  return absl::Status(status.code(),
                      absl::StrCat(what, ": not linked: ", status.message(),
                                   row.connects() ? " (the row's connect stands)" : ""));
}

absl::Status DirectoryEntryFailed(const ImportRow& row, const absl::Status& status) {
  const bool others = row.connects() || !row.Links().empty();
  return absl::Status(status.code(),
                      absl::StrCat("directory: not stored: ", status.message(),
                                   others ? " (the row's connect and links stand)" : ""));
}

bool ImportRowReader::Next(ImportTally* tally, ImportRow* row, int64_t* line) {
  for (;;) {
    absl::StatusOr<bool> more = reader_.Next(&fields_);
    if (!more.ok()) {
      absl::string_view why = more.status().message();
      absl::ConsumePrefix(&why, absl::StrCat("line ", reader_.error_line(), ": "));
      ++tally->rows;  // The record the error is in.
      tally->Reject(reader_.error_line(), "",
                    absl::InvalidArgumentError(absl::StrCat(why, "; reading stopped here")));
      return false;
    }
    if (!*more) return false;
    ++tally->rows;
    *line = reader_.record_line();
    const std::string email =
        columns_.email != -1 && fields_.size() > static_cast<size_t>(columns_.email)
            ? Field(fields_, columns_.email)
            : std::string();
    if (fields_.size() != columns_.count) {
      tally->Reject(*line, email,
                    absl::InvalidArgumentError(absl::StrCat("expected ", columns_.count,
                                                            " fields (as the header), got ",
                                                            fields_.size())));
      continue;
    }
    if (columns_.shop != -1 && !absl::StripAsciiWhitespace(Field(fields_, columns_.shop)).empty()) {
      absl::StatusOr<uint64_t> shop = ParseId("shop", Field(fields_, columns_.shop));
      if (!shop.ok()) {
        tally->Reject(*line, email, shop.status());
        continue;
      }
      if (*shop != base_.shop) {
        tally->Reject(*line, email,
                      absl::InvalidArgumentError(absl::StrCat(
                          "shop: the row is of shop ", *shop, ", this import is into shop ",
                          base_.shop, " (export one shop with export --shop)")));
        continue;
      }
    }
    std::optional<std::string> external_id;
    if (columns_.external_id != -1 && !Field(fields_, columns_.external_id).empty()) {
      external_id = Field(fields_, columns_.external_id);
    }
    std::vector<std::string> more_emails;
    if (columns_.emails != -1) {
      for (absl::string_view e : absl::StrSplit(Field(fields_, columns_.emails),
                                                kEmailListSeparator, absl::SkipWhitespace())) {
        more_emails.emplace_back(absl::StripAsciiWhitespace(e));
      }
    }
    const std::string label =
        !email.empty() || !external_id ? email : absl::StrCat("external_id:", *external_id);
    if (email.empty() && !external_id) {
      tally->Reject(*line, label,
                    absl::InvalidArgumentError("email: required (or external_id, or both)"));
      continue;
    }
    absl::StatusOr<std::optional<engine::CustomerEntry>> directory =
        ParseDirectoryEntry(columns_, fields_);
    if (!directory.ok()) {
      tally->Reject(*line, label, directory.status());
      continue;
    }
    uint64_t affiliate_id = 0;
    if (!absl::StripAsciiWhitespace(Field(fields_, columns_.affiliate)).empty()) {
      absl::StatusOr<uint64_t> affiliate =
          ParseId("affiliate_id", Field(fields_, columns_.affiliate));
      if (!affiliate.ok()) {
        tally->Reject(*line, label, affiliate.status());
        continue;
      }
      affiliate_id = *affiliate;
    } else if (!directory->has_value() &&
               (email.empty() ? 0 : 1) + (external_id ? 1 : 0) + more_emails.size() < 2) {
      // Only identifiers to link: a row of one identifier would do nothing.
      tally->Reject(*line, label,
                    absl::InvalidArgumentError(
                        "affiliate_id: required (a row without one only links the customer's "
                        "identifiers or stores its directory entry, and has neither)"));
      continue;
    }
    int64_t connected_at = 0;
    if (columns_.connected_at != -1) {
      absl::StatusOr<int64_t> at =
          ParseOptionalTimeMs("connected_at", Field(fields_, columns_.connected_at));
      if (!at.ok()) {
        tally->Reject(*line, email, at.status());
        continue;
      }
      connected_at = *at;
    }
    engine::ConnectRequest* request = &row->connect;
    *request = base_;
    request->email = email;
    request->external_id = std::move(external_id);
    request->affiliate = affiliate_id;
    if (columns_.name != -1 && !Field(fields_, columns_.name).empty()) {
      request->name = Field(fields_, columns_.name);
    }
    if (connected_at != 0) request->connected_at = connected_at;
    row->more_emails = std::move(more_emails);
    row->directory = *std::move(directory);
    return true;
  }
}

void WriteImportReport(ImportTally* tally, bool json, std::ostream& out,
                       const std::function<void(JsonObject&)>& summary_extra) {
  std::stable_sort(tally->rejections.begin(), tally->rejections.end(),
                   [](const ImportRejection& a, const ImportRejection& b) {
                     return a.line < b.line;
                   });
  if (json) {
    for (const ImportRejection& r : tally->rejections) {
      out << JsonObject()
                 .Int("line", r.line)
                 .Str("email", r.email)
                 .Raw("error", ErrorJson(r.status))
                 .Done()
          << '\n';
    }
    JsonObject summary;
    summary.Uint("rows", tally->rows)
        .Uint("created", tally->created)
        .Uint("replaced", tally->replaced)
        .Uint("unchanged", tally->unchanged);
    if (tally->linked > 0) summary.Uint("linked", tally->linked);
    if (tally->directory > 0) summary.Uint("directory", tally->directory);
    if (tally->directory_skipped > 0) summary.Uint("directory_skipped", tally->directory_skipped);
    summary.Uint("rejected", tally->rejections.size());
    if (summary_extra) summary_extra(summary);
    out << summary.Done() << '\n';
  } else {
    out << "rows read:           " << tally->rows << '\n'
        << "connected (created): " << tally->created << '\n'
        << "replaced:            " << tally->replaced << '\n'
        << "unchanged:           " << tally->unchanged << '\n';
    if (tally->linked > 0) out << "identifiers linked:  " << tally->linked << '\n';
    if (tally->directory > 0) out << "directory entries:   " << tally->directory << '\n';
    if (tally->directory_skipped > 0) {
      out << "directory entries skipped: " << tally->directory_skipped
          << " (attribctl import does not carry the customer directory; import the file "
             "with attrib-restore import)\n";
    }
    out << "rejected:            " << tally->rejections.size() << '\n';
    for (const ImportRejection& r : tally->rejections) {
      out << "  line " << r.line;
      if (!r.email.empty()) out << " (" << Printable(r.email) << ")";
      out << ": " << r.status.message() << '\n';
    }
  }
  out.flush();
}

}  // namespace attrib::tools
