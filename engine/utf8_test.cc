// engine/utf8_test.cc: strict UTF-8 validation (RFC 3629 ranges).
#include "engine/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace attrib::engine {
namespace {

TEST(Utf8Test, AcceptsEveryLengthAtItsBoundaries) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii \x7f"));
  EXPECT_TRUE(IsValidUtf8("\xC2\x80\xDF\xBF"));              // U+0080, U+07FF
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80\xEF\xBF\xBF"));      // U+0800, U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF\xEE\x80\x80"));      // U+D7FF, U+E000
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));  // U+10000, U+10FFFF
  EXPECT_TRUE(IsValidUtf8("Jane Doe — Bücher"));
}

TEST(Utf8Test, ReportsTheOffsetOfTheFirstBadSequence) {
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);                  // Stray continuation.
  EXPECT_EQ(FindInvalidUtf8("a\xC0\xAF"), 1u);               // Overlong '/'.
  EXPECT_EQ(FindInvalidUtf8("a\xC1\xBF"), 1u);               // Overlong.
  EXPECT_EQ(FindInvalidUtf8("\xE0\x9F\xBF"), 0u);            // Overlong 3-byte.
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);           // Surrogate U+D800.
  EXPECT_EQ(FindInvalidUtf8("\xF0\x8F\xBF\xBF"), 0u);        // Overlong 4-byte.
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);        // Above U+10FFFF.
  EXPECT_EQ(FindInvalidUtf8("\xF5\x80\x80\x80"), 0u);        // Invalid lead.
  EXPECT_EQ(FindInvalidUtf8("ok\xE2\x82"), 2u);              // Truncated at the end.
  EXPECT_EQ(FindInvalidUtf8("ok\xE2\x28\xA1"), 2u);          // Bad continuation.
  EXPECT_EQ(FindInvalidUtf8(std::string("a\0b", 3)), 3u);    // NUL is valid UTF-8.
}

TEST(Utf8Test, DecodeReturnsTheCodePoint) {
  uint32_t cp = 0;
  const auto* euro = reinterpret_cast<const uint8_t*>("\xE2\x82\xAC");
  EXPECT_EQ(DecodeUtf8(euro, 3, &cp), 3u);
  EXPECT_EQ(cp, 0x20ACu);
  EXPECT_EQ(DecodeUtf8(euro, 2, &cp), 0u);  // Not enough bytes available.
}

}  // namespace
}  // namespace attrib::engine
