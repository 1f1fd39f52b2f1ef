#include "core/utf8.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

std::string Why(std::string_view text) {
  Status s = CheckUtf8(text);
  CHECK(s.code() == ErrorCode::kCorrupt);
  return s.message();
}

TEST_CASE("utf8: well-formed text of every length passes") {
  CHECK_OK(CheckUtf8(""));
  CHECK_OK(CheckUtf8("plain ascii\n\twith tabs"));
  CHECK_OK(CheckUtf8(std::string_view("a\0b", 3)));
  // 2, 3 and 4 bytes, and the edges of each range.
  CHECK_OK(CheckUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_OK(CheckUtf8("\xC2\x80\xDF\xBF"));                  // U+0080, U+07FF
  CHECK_OK(CheckUtf8("\xE0\xA0\x80\xEF\xBF\xBF"));          // U+0800, U+FFFF
  CHECK_OK(CheckUtf8("\xED\x9F\xBF\xEE\x80\x80"));          // U+D7FF, U+E000
  CHECK_OK(CheckUtf8("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));  // U+10000..10FFFF
  CHECK_OK(CheckUtf8("\xEF\xBB\xBF<x/>"));                  // a byte order mark
}

TEST_CASE("utf8: every kind of invalid sequence, with line and column") {
  CHECK(Why("ab\x80") ==
        "line 1, column 3: invalid UTF-8: 0x80 is a continuation byte with "
        "no lead byte");
  CHECK(Why("x\n\nab\xC0\xAF") ==
        "line 3, column 3: invalid UTF-8: overlong encoding (bytes 0xc0 "
        "0xaf)");
  CHECK(Why("\xC1\xBF").find("overlong") != std::string::npos);
  CHECK(Why("\xE0\x80\xAF") ==
        "line 1, column 1: invalid UTF-8: overlong encoding (bytes 0xe0 0x80 "
        "0xaf)");
  CHECK(Why("\xF0\x80\x80\xAF").find("overlong") != std::string::npos);
  CHECK(Why("\xED\xA0\x80") ==
        "line 1, column 1: invalid UTF-8: surrogate U+D800 (bytes 0xed 0xa0 "
        "0x80)");
  CHECK(Why("\xED\xBF\xBF").find("surrogate U+DFFF") != std::string::npos);
  CHECK(Why("\xF4\x90\x80\x80") ==
        "line 1, column 1: invalid UTF-8: code point above U+10FFFF (bytes "
        "0xf4 0x90 0x80 0x80)");
  CHECK(Why("\xF5\x80\x80\x80").find("above U+10FFFF") != std::string::npos);
  CHECK(Why("\xFF") ==
        "line 1, column 1: invalid UTF-8: byte 0xff never appears in UTF-8");
  CHECK(Why("\xFE").find("never appears") != std::string::npos);
  CHECK(Why("name=\xE2\x82") ==
        "line 1, column 6: invalid UTF-8: sequence cut short by the end of "
        "the text (bytes 0xe2 0x82)");
  CHECK(Why("\xE2\x82"
            "A") ==
        "line 1, column 1: invalid UTF-8: sequence cut short (bytes 0xe2 "
        "0x82 then 0x41)");
  CHECK(Why("\xC3").find("cut short") != std::string::npos);
  // Valid text before an error moves the column by bytes.
  CHECK(Why("\xC3\xA9\xC3").rfind("line 1, column 3:", 0) == 0);
}

TEST_CASE("utf8: conversion from declared encodings (iconv)") {
  CHECK(IsUtf8EncodingName("utf-8"));
  CHECK(IsUtf8EncodingName("UTF8"));
  CHECK_FALSE(IsUtf8EncodingName("windows-1252"));
  auto latin = ConvertToUtf8("caf\xE9 \x80", "windows-1252");
  REQUIRE_OK(latin);
  CHECK(*latin == "caf\xC3\xA9 \xE2\x82\xAC");
  auto iso = ConvertToUtf8("\xE9t\xE9", "ISO-8859-1");
  REQUIRE_OK(iso);
  CHECK(*iso == "\xC3\xA9t\xC3\xA9");
  auto utf16 = ConvertToUtf8(std::string_view("h\0\xE9\0", 4), "UTF-16LE");
  REQUIRE_OK(utf16);
  CHECK(*utf16 == "h\xC3\xA9");
  // UTF-8 is only checked.
  CHECK(
      ConvertToUtf8("a\xC0\xAF", "UTF-8").status().message().find("overlong") !=
      std::string::npos);
  // A byte the encoding does not define (0x81 in windows-1252).
  auto bad = ConvertToUtf8("ok\nx\x81", "windows-1252");
  CHECK(bad.status().code() == ErrorCode::kCorrupt);
  CHECK(bad.status().message() ==
        "line 2, column 2: invalid WINDOWS-1252: byte 0x81 at byte 4 is not "
        "a character");
  // A lone UTF-16 surrogate.
  auto lone = ConvertToUtf8(std::string_view("a\0\x00\xD8"
                                             "b\0",
                                             6),
                            "UTF-16LE");
  CHECK(lone.status().code() == ErrorCode::kCorrupt);
  auto cut = ConvertToUtf8(std::string_view("a\0b", 3), "UTF-16LE");
  CHECK(cut.status().code() == ErrorCode::kCorrupt);
  CHECK(cut.status().message().find("cut short") != std::string::npos);
  auto unknown = ConvertToUtf8("x", "klingon-8");
  CHECK(unknown.status().code() == ErrorCode::kUnsupported);
  CHECK(unknown.status().message() == "encoding 'klingon-8' is not supported");
}

}  // namespace
}  // namespace ova2virt
