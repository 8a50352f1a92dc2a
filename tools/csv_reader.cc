// tools/csv_reader.cc: the RFC 4180 reader (see the header for the accepted grammar).
#include "tools/csv_reader.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace attrib::tools {
namespace {

constexpr int kEof = std::char_traits<char>::eof();

}  // namespace

CsvReader::CsvReader(std::istream* in, CsvOptions options)
    : in_(in->rdbuf()), options_(options) {}

int CsvReader::Get() {
  const int c = in_->sbumpc();
  if (c == '\n') ++line_;
  return c;
}

int CsvReader::Peek() { return in_->sgetc(); }

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  if (done_) return false;
  if (!started_) {
    started_ = true;
    // A UTF-8 BOM (EF BB BF), as spreadsheet programs write, is not data.
    if (Peek() == 0xEF) {
      in_->sbumpc();
      if (in_->sbumpc() != 0xBB || in_->sbumpc() != 0xBF) {
        done_ = true;
        error_line_ = 1;
        return absl::InvalidArgumentError(
            "line 1: the file starts with a broken byte order mark");
      }
    }
  }
  auto fail = [&](int64_t line, absl::string_view what) {
    done_ = true;
    error_line_ = line;
    fields->clear();
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
  };
  for (;;) {  // Until a record that is not an empty line.
    fields->assign(1, std::string());
    record_line_ = line_;
    size_t record_bytes = 0;
    bool quoted = false;       // The current field started with a quote...
    bool after_quote = false;  // ...which has been closed.
    for (;;) {
      int c = Get();
      if (c == '\r' && Peek() == '\n') c = Get();  // CRLF ends a line like LF.
      const bool line_end = c == '\n' || c == kEof;
      if (after_quote && c != ',' && !line_end) {
        return fail(line_, absl::StrCat("unexpected character '",
                                        std::string(1, static_cast<char>(c)),
                                        "' after a closing quote (write \"\" for a quote "
                                        "inside a quoted field)"));
      }
      if (line_end) {
        if (c == kEof) done_ = true;
        if (fields->size() == 1 && fields->front().empty() && !quoted) {
          if (c == kEof) return false;  // Nothing after the last line end.
          break;                        // An empty line: skip it.
        }
        return true;
      }
      if (c == ',') {
        fields->emplace_back();
        quoted = after_quote = false;
        continue;
      }
      std::string& field = fields->back();
      if (c == '"' && field.empty() && !quoted) {
        quoted = true;
        const int64_t opened_on = line_;
        for (;;) {
          c = Get();
          if (c == kEof) {
            return fail(opened_on, "unterminated quoted field (no closing quote before "
                                   "the end of the input)");
          }
          if (c == '"') {
            if (Peek() != '"') break;
            Get();  // "" is one quote.
          }
          field.push_back(static_cast<char>(c));
          if (++record_bytes > options_.max_record_bytes) break;
        }
        after_quote = true;
      } else {
        field.push_back(static_cast<char>(c));  // Includes a '"' inside the field.
        ++record_bytes;
      }
      if (record_bytes > options_.max_record_bytes) {
        return fail(record_line_, absl::StrCat("record longer than ",
                                               options_.max_record_bytes,
                                               " bytes (an unbalanced quote?)"));
      }
    }
  }
}

}  // namespace attrib::tools
