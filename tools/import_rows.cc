// tools/import_rows.cc: the import CSV and its report (see the header).
#include "tools/import_rows.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
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
    int* slot = name == "email"          ? &columns.email
                : name == "affiliate_id" ? &columns.affiliate
                : name == "name"         ? &columns.name
                : name == "connected_at" ? &columns.connected_at
                : name == "shop"         ? &columns.shop
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
  if (columns.email == -1 || columns.affiliate == -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "import: the header must name the columns email and affiliate_id (got '",
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

bool ImportRowReader::Next(ImportTally* tally, engine::ConnectRequest* request, int64_t* line) {
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
    const std::string email = fields_.size() > static_cast<size_t>(columns_.email)
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
    absl::StatusOr<uint64_t> affiliate = ParseId("affiliate_id", Field(fields_, columns_.affiliate));
    if (!affiliate.ok()) {
      tally->Reject(*line, email, affiliate.status());
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
    *request = base_;
    request->email = email;
    request->affiliate = *affiliate;
    if (columns_.name != -1 && !Field(fields_, columns_.name).empty()) {
      request->name = Field(fields_, columns_.name);
    }
    if (connected_at != 0) request->connected_at = connected_at;
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
        .Uint("unchanged", tally->unchanged)
        .Uint("rejected", tally->rejections.size());
    if (summary_extra) summary_extra(summary);
    out << summary.Done() << '\n';
  } else {
    out << "rows read:           " << tally->rows << '\n'
        << "connected (created): " << tally->created << '\n'
        << "replaced:            " << tally->replaced << '\n'
        << "unchanged:           " << tally->unchanged << '\n'
        << "rejected:            " << tally->rejections.size() << '\n';
    for (const ImportRejection& r : tally->rejections) {
      out << "  line " << r.line;
      if (!r.email.empty()) out << " (" << Printable(r.email) << ")";
      out << ": " << r.status.message() << '\n';
    }
  }
  out.flush();
}

}  // namespace attrib::tools
