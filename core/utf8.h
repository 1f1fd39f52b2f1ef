// Text that reaches a descriptor reader must be UTF-8: the names and values
// in it go on to libvirt (which refuses invalid UTF-8 only at define time,
// after the disks were copied), to JSON and to terminals. Every descriptor
// reader (XML, VMX, manifest, certificate) checks its text with CheckUtf8,
// or converts it from the encoding it declares with ConvertToUtf8.
//
// Positions are "line L, column C", 1-based, the column counting bytes of
// the line, as every line:column in ova2virt's messages does.
#ifndef OVA2VIRT_CORE_UTF8_H_
#define OVA2VIRT_CORE_UTF8_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace ova2virt {

// Ok when `text` is well-formed UTF-8 (Unicode 15, table 3-7). Otherwise
// kCorrupt "line L, column C: invalid UTF-8: WHY", WHY naming the bytes
// and what is wrong with them: a continuation byte with no lead byte, an
// overlong encoding, a surrogate (U+D800..U+DFFF), a code point above
// U+10FFFF, a byte that never appears in UTF-8, or a sequence cut short.
Status CheckUtf8(std::string_view text);

// True when `encoding` names UTF-8 ("UTF-8", "utf8", any case).
bool IsUtf8EncodingName(std::string_view encoding);

// `text` converted from `encoding` (a name the C library's iconv knows:
// "windows-1252", "ISO-8859-1", "Shift_JIS", "UTF-16LE"...) to UTF-8, and
// checked. For UTF-8 itself, the text checked and returned unchanged.
// kUnsupported "encoding 'X' is not supported" for a name iconv does not
// know; kCorrupt "line L, column C: invalid X: WHY" for bytes that are not
// text in that encoding (the position is in the text as converted so far).
Result<std::string> ConvertToUtf8(std::string_view text,
                                  std::string_view encoding);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_UTF8_H_
