// tools/csv_reader.h
//
// A streaming RFC 4180 CSV reader, for `attribctl import`:
//  - fields separated by ',', records ended by CRLF or LF (the last one may be
//    unterminated);
//  - a field that starts with '"' is quoted: it may hold ',', CR, LF, and '""' for
//    one '"'; after its closing quote only ',' or the end of the record may follow;
//  - a '"' inside an unquoted field is kept as a literal character (lenient: such
//    files are common, and the meaning is unambiguous);
//  - a UTF-8 byte order mark at the very start is skipped;
//  - empty lines (nothing between two line ends) are skipped, not returned as a
//    record with one empty field.
// Fields are returned as bytes; the reader does not check their encoding.
//
// Line numbers are 1-based physical lines, so a record with a quoted newline spans
// several lines; record_line() is the line the record starts on, the number a user
// sees in an editor. Errors are InvalidArgument "line N: ..." and leave the reader
// at end of input (a broken quote makes the rest of the file unreliable); for an
// unterminated quoted field, N is the line of its opening quote.
//
// Thread-safety: a CsvReader is used by one thread; it reads only from its istream.
#ifndef ATTRIB_TOOLS_CSV_READER_H_
#define ATTRIB_TOOLS_CSV_READER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace attrib::tools {

struct CsvOptions {
  // A record (all its fields) longer than this is an error: an unbalanced quote
  // would otherwise swallow the whole file into one field.
  size_t max_record_bytes = 1 << 20;
};

class CsvReader {
 public:
  // `in` must outlive the reader.
  explicit CsvReader(std::istream* in, CsvOptions options = {});
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into `fields` (replacing its contents): true when a record
  // was read, false at the end of the input, or an error.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);

  // The line the last record returned by Next() started on (1-based).
  int64_t record_line() const { return record_line_; }
  // After an error: the line it names (its message starts "line N: ").
  int64_t error_line() const { return error_line_; }

 private:
  int Get();   // Next byte or EOF; counts lines.
  int Peek();

  std::streambuf* const in_;
  const CsvOptions options_;
  bool started_ = false;     // The BOM check has been done.
  bool done_ = false;        // End of input or an error.
  int64_t line_ = 1;         // Line of the next byte.
  int64_t record_line_ = 0;
  int64_t error_line_ = 0;
};

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_CSV_READER_H_
