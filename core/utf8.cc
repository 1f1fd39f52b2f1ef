#include "core/utf8.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace ova2virt {
namespace {

std::string Hex(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

// "bytes 0xe2 0x82": the first n bytes at `at`.
std::string Bytes(std::string_view text, size_t at, size_t n) {
  std::string out = n == 1 ? "byte" : "bytes";
  for (size_t i = 0; i < n && at + i < text.size(); ++i) {
    out += " " + Hex(static_cast<uint8_t>(text[at + i]));
  }
  return out;
}

// "line L, column C" of byte `offset`, counting bytes in the line.
std::string Position(std::string_view text, size_t offset) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " +
         std::to_string(offset - line_start + 1);
}

bool IsContinuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// Why the sequence at `i` is not UTF-8; empty when it is, with *length
// set to its length.
std::string CheckSequence(std::string_view text, size_t i, size_t* length) {
  const uint8_t lead = static_cast<uint8_t>(text[i]);
  if (lead < 0x80) {
    *length = 1;
    return {};
  }
  if (IsContinuation(lead)) {
    return Hex(lead) + " is a continuation byte with no lead byte";
  }
  if (lead == 0xC0 || lead == 0xC1) {
    return "overlong encoding (" + Bytes(text, i, 2) + ")";
  }
  if (lead >= 0xF5) {
    return lead >= 0xF8
               ? "byte " + Hex(lead) + " never appears in UTF-8"
               : "code point above U+10FFFF (" + Bytes(text, i, 4) + ")";
  }
  const size_t n = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= text.size()) {
      return "sequence cut short by the end of the text (" + Bytes(text, i, k) +
             ")";
    }
    if (!IsContinuation(static_cast<uint8_t>(text[i + k]))) {
      return "sequence cut short (" + Bytes(text, i, k) + " then " +
             Hex(static_cast<uint8_t>(text[i + k])) + ")";
    }
  }
  // The second byte's range decides overlong forms, surrogates and code
  // points past U+10FFFF (table 3-7).
  const uint8_t second = static_cast<uint8_t>(text[i + 1]);
  if ((lead == 0xE0 && second < 0xA0) || (lead == 0xF0 && second < 0x90)) {
    return "overlong encoding (" + Bytes(text, i, n) + ")";
  }
  if (lead == 0xED && second >= 0xA0) {
    uint32_t cp = (0xDu << 12) | ((second & 0x3Fu) << 6) |
                  (static_cast<uint8_t>(text[i + 2]) & 0x3Fu);
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return std::string("surrogate ") + buf + " (" + Bytes(text, i, n) + ")";
  }
  if (lead == 0xF4 && second >= 0x90) {
    return "code point above U+10FFFF (" + Bytes(text, i, n) + ")";
  }
  *length = n;
  return {};
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

Status CheckUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // ASCII runs are most of every descriptor.
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    std::string why = CheckSequence(text, i, &length);
    if (!why.empty()) {
      return CorruptError(Position(text, i) + ": invalid UTF-8: " + why);
    }
    i += length;
  }
  return OkStatus();
}

bool IsUtf8EncodingName(std::string_view encoding) {
  std::string e = Upper(encoding);
  return e == "UTF-8" || e == "UTF8";
}

Result<std::string> ConvertToUtf8(std::string_view text,
                                  std::string_view encoding) {
  if (IsUtf8EncodingName(encoding)) {
    RETURN_IF_ERROR(CheckUtf8(text));
    return std::string(text);
  }
  const std::string name(encoding);
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return UnsupportedError("encoding " + Quote(encoding) +
                            " is not supported");
  }
  std::string out;
  // Every encoding iconv knows takes at most 4 UTF-8 bytes a byte.
  out.resize(text.size() * 4 + 16);
  char* in = const_cast<char*>(text.data());
  size_t in_left = text.size();
  char* dst = out.data();
  size_t out_left = out.size();
  size_t r = iconv(cd, &in, &in_left, &dst, &out_left);
  const int err = errno;
  iconv_close(cd);
  const size_t done = out.size() - out_left;
  out.resize(done);
  if (r == static_cast<size_t>(-1)) {
    const size_t at = text.size() - in_left;
    std::string where = Position(out, done) + ": invalid " + Upper(encoding);
    if (err == EINVAL) {
      return CorruptError(where + ": sequence cut short by the end of the " +
                          "text (" +
                          Bytes(text, at, std::min<size_t>(in_left, 4)) + ")");
    }
    if (err == EILSEQ) {
      return CorruptError(where + ": " + Bytes(text, at, 1) + " at byte " +
                          std::to_string(at) + " is not a character");
    }
    return CorruptError(where + ": cannot convert to UTF-8 (" +
                        std::string(std::strerror(err)) + ")");
  }
  // What iconv wrote is UTF-8 by construction; checked all the same, since
  // what follows relies on it.
  RETURN_IF_ERROR(CheckUtf8(out));
  return out;
}

}  // namespace ova2virt
