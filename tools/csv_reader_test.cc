// tools/csv_reader_test.cc: the RFC 4180 reader, on in-memory streams.
#include "tools/csv_reader.h"

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Fields = std::vector<std::string>;

struct Record {
  int64_t line;
  Fields fields;
  friend bool operator==(const Record&, const Record&) = default;
};

std::ostream& operator<<(std::ostream& os, const Record& r) {
  os << "line " << r.line << ":";
  for (const std::string& f : r.fields) os << " [" << f << "]";
  return os;
}

// Every record of `text`, or the first error's message (as the last "record").
std::vector<Record> ReadAll(const std::string& text, CsvOptions options = {}) {
  std::istringstream in(text);
  CsvReader reader(&in, options);
  std::vector<Record> records;
  Fields fields;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&fields);
    if (!more.ok()) {
      records.push_back({-1, {std::string(more.status().message())}});
      EXPECT_TRUE(absl::IsInvalidArgument(more.status()));
      EXPECT_FALSE(*reader.Next(&fields)) << "an error ends the input";
      break;
    }
    if (!*more) break;
    records.push_back({reader.record_line(), fields});
  }
  return records;
}

TEST(CsvReaderTest, PlainFields) {
  EXPECT_THAT(ReadAll("email,affiliate_id\na@b.com,42\n"),
              ElementsAre(Record{1, {"email", "affiliate_id"}}, Record{2, {"a@b.com", "42"}}));
}

TEST(CsvReaderTest, LastLineWithoutNewline) {
  EXPECT_THAT(ReadAll("a,b\nc,d"), ElementsAre(Record{1, {"a", "b"}}, Record{2, {"c", "d"}}));
}

TEST(CsvReaderTest, EmptyInput) {
  EXPECT_THAT(ReadAll(""), ElementsAre());
  EXPECT_THAT(ReadAll("\n\r\n\n"), ElementsAre());
}

TEST(CsvReaderTest, EmptyFields) {
  EXPECT_THAT(ReadAll("a,,c\n,\n,x,\n"),
              ElementsAre(Record{1, {"a", "", "c"}}, Record{2, {"", ""}},
                          Record{3, {"", "x", ""}}));
}

TEST(CsvReaderTest, QuotedFields) {
  EXPECT_THAT(ReadAll("\"a,b\",\"\",c\n"), ElementsAre(Record{1, {"a,b", "", "c"}}));
  // A quoted empty field is a record, not an empty line.
  EXPECT_THAT(ReadAll("\"\"\n"), ElementsAre(Record{1, {""}}));
}

TEST(CsvReaderTest, DoubledQuotesAreOneQuote) {
  EXPECT_THAT(ReadAll("\"say \"\"hi\"\"\",\"\"\"\"\n"),
              ElementsAre(Record{1, {"say \"hi\"", "\""}}));
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsLiteral) {
  EXPECT_THAT(ReadAll("ab\"c,d\"\n"), ElementsAre(Record{1, {"ab\"c", "d\""}}));
}

TEST(CsvReaderTest, CrLfLineEnds) {
  EXPECT_THAT(ReadAll("a,b\r\nc,\"d\"\r\ne,f"),
              ElementsAre(Record{1, {"a", "b"}}, Record{2, {"c", "d"}}, Record{3, {"e", "f"}}));
}

TEST(CsvReaderTest, LoneCrIsData) {
  EXPECT_THAT(ReadAll("a\rb,c\n"), ElementsAre(Record{1, {"a\rb", "c"}}));
}

TEST(CsvReaderTest, EmbeddedNewlinesKeepLineNumbers) {
  EXPECT_THAT(ReadAll("h1,h2\n\"multi\nline\r\ntext\",x\nnext,y\n"),
              ElementsAre(Record{1, {"h1", "h2"}}, Record{2, {"multi\nline\r\ntext", "x"}},
                          Record{5, {"next", "y"}}));
}

TEST(CsvReaderTest, EmptyLinesAreSkippedButCounted) {
  EXPECT_THAT(ReadAll("a\n\n\r\nb\n\n"), ElementsAre(Record{1, {"a"}}, Record{4, {"b"}}));
}

TEST(CsvReaderTest, ByteOrderMarkIsSkipped) {
  EXPECT_THAT(ReadAll("\xEF\xBB\xBF" "email,id\nx,1\n"),
              ElementsAre(Record{1, {"email", "id"}}, Record{2, {"x", "1"}}));
  // Only at the very start.
  EXPECT_THAT(ReadAll("a\n\xEF\xBB\xBF" "b\n"),
              ElementsAre(Record{1, {"a"}}, Record{2, {"\xEF\xBB\xBF" "b"}}));
}

TEST(CsvReaderTest, BrokenByteOrderMark) {
  std::vector<Record> r = ReadAll("\xEF\xBBx\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].fields[0], HasSubstr("byte order mark"));
}

TEST(CsvReaderTest, NonAsciiBytesPassThrough) {
  EXPECT_THAT(ReadAll("user@bücher.de,\"Zoë\"\n"),
              ElementsAre(Record{1, {"user@bücher.de", "Zoë"}}));
}

TEST(CsvReaderTest, UnterminatedQuoteNamesTheLineItOpensOn) {
  std::istringstream in("a,b\nc,\"open\nmore\nstill\n");
  CsvReader reader(&in);
  Fields fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_THAT(fields, ElementsAre("a", "b"));
  absl::StatusOr<bool> more = reader.Next(&fields);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().message(),
            "line 2: unterminated quoted field (no closing quote before the end of the "
            "input)");
  EXPECT_EQ(reader.error_line(), 2);
}

TEST(CsvReaderTest, CharacterAfterClosingQuote) {
  std::vector<Record> r = ReadAll("ok\n\"a\"b,c\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[1].fields[0], HasSubstr("line 2: unexpected character 'b' after a closing"));
}

TEST(CsvReaderTest, QuotedFieldFollowedByCrLfOrEof) {
  EXPECT_THAT(ReadAll("\"a\"\r\n\"b\""), ElementsAre(Record{1, {"a"}}, Record{2, {"b"}}));
}

TEST(CsvReaderTest, RecordLimit) {
  CsvOptions options;
  options.max_record_bytes = 8;
  EXPECT_THAT(ReadAll("1234,5678\n", options), ElementsAre(Record{1, {"1234", "5678"}}));
  std::vector<Record> r = ReadAll("ok\n\"123456789\n", options);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[1].fields[0], HasSubstr("line 2: record longer than 8 bytes"));
  r = ReadAll("12345,67890\n", options);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].fields[0], HasSubstr("line 1: record longer than 8 bytes"));
}

}  // namespace
}  // namespace attrib::tools
