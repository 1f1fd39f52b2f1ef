// A small, safe, namespace-aware XML tree, and a deterministic writer.
//
// Descriptors and domain XML come from strangers, so parsing is defensive:
// no DTDs (a DOCTYPE is rejected, so no entity can expand or reach outside),
// caps on size, depth and element count, and errors with line:column. Names
// are resolved to (namespace URI, local name), whatever prefixes a producer
// chose or re-declared locally. pugixml does the tokenizing; nothing outside
// this file sees it.
#ifndef OVA2VIRT_CORE_XML_H_
#define OVA2VIRT_CORE_XML_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ova2virt {

// Matches any namespace in lookups.
inline constexpr std::string_view kAnyNs = "*";
inline constexpr std::string_view kXmlNs =
    "http://www.w3.org/XML/1998/namespace";

struct XmlAttribute {
  std::string ns;     // resolved namespace URI; empty for unprefixed
  std::string local;  // local name
  std::string qname;  // as written ("ovf:id")
  std::string value;  // entity references decoded
};

struct XmlElement {
  std::string ns;
  std::string local;
  std::string qname;
  std::vector<XmlAttribute> attributes;  // namespace declarations left out
  std::vector<XmlElement> children;
  std::string text;  // the element's own character data, concatenated
  int line = 0;      // where the start tag is (1-based; 0 unknown)
  int column = 0;

  bool Is(std::string_view ns_uri, std::string_view local_name) const;
  // The first child element with this name; nullptr if none.
  const XmlElement* Child(std::string_view ns_uri,
                          std::string_view local_name) const;
  // Every child element with this name, in document order.
  std::vector<const XmlElement*> Children(std::string_view ns_uri,
                                          std::string_view local_name) const;
  const XmlAttribute* FindAttribute(std::string_view ns_uri,
                                    std::string_view local_name) const;
  // The attribute's value, if present.
  std::optional<std::string> Attribute(std::string_view ns_uri,
                                       std::string_view local_name) const;
  // Text with leading and trailing white space removed.
  std::string TrimmedText() const;
  // Trimmed text of the first child with this name, if there is such a child.
  std::optional<std::string> ChildText(std::string_view ns_uri,
                                       std::string_view local_name) const;
  // "line L, column C" for messages.
  std::string Where() const;
};

struct XmlLimits {
  size_t max_bytes = 32u << 20;
  int max_depth = 128;
  size_t max_elements = 500000;
  size_t max_attributes = 256;  // per element
  // In the whole document: each costs a few hundred bytes once parsed.
  size_t max_total_attributes = 500000;
};

// Parses a whole document. kCorrupt for malformed XML ("line L, column C:
// ..."), a DOCTYPE, or a limit exceeded. The caller adds the file name.
// Text is UTF-8 (checked: "line L, column C: invalid UTF-8: ..."), UTF-16
// or UTF-32 (byte order mark or "<?" spelled in wide characters), or the
// encoding the XML declaration names, converted with iconv (kUnsupported
// for one the C library does not know; a 16- or 32-bit one declared over
// 8-bit bytes, as XenServer writes, is read as UTF-8); every string in the
// tree is UTF-8.
Result<XmlElement> ParseXml(std::string_view text,
                            const XmlLimits& limits = XmlLimits());

// Writes XML deterministically: attributes in the order given, two-space
// indentation, elements with only text on one line, UTF-8, '\n' newlines.
class XmlWriter {
 public:
  XmlWriter();  // starts with the XML declaration
  // An XmlWriter without the declaration (fragments such as domain XML).
  static XmlWriter Fragment();

  XmlWriter& Open(std::string_view qname);
  XmlWriter& Attr(std::string_view qname, std::string_view value);
  XmlWriter& Text(std::string_view text);
  XmlWriter& Close();
  // <qname>text</qname> in one call.
  XmlWriter& Leaf(std::string_view qname, std::string_view text);
  // A comment on its own line.
  XmlWriter& Comment(std::string_view text);
  // Closes everything still open and returns the document.
  std::string Finish();

 private:
  explicit XmlWriter(bool declaration);
  void EndStartTag();
  void Indent();

  struct Frame {
    std::string qname;
    bool has_children = false;
    bool has_text = false;
  };
  std::string out_;
  std::vector<Frame> stack_;
  bool in_start_tag_ = false;
};

// Escapes text for element content or attribute values.
std::string XmlEscape(std::string_view text, bool attribute);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_XML_H_
