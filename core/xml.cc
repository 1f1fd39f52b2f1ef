#include "core/xml.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <pugixml.hpp>

#include "core/strings.h"
#include "core/utf8.h"

namespace ova2virt {
namespace {

std::string Loc(std::pair<int, int> lc) {
  return "line " + std::to_string(lc.first) + ", column " +
         std::to_string(lc.second);
}

// Line and column of byte offsets. Elements are converted in document
// order, so offsets mostly grow: a cursor moves forward through the text
// (no table of line starts, whose size a document of newlines would choose)
// and starts over only for an offset behind it.
class LineIndex {
 public:
  explicit LineIndex(std::string_view t) : text_(t) {}
  std::pair<int, int> At(ptrdiff_t offset) const {
    if (offset < 0) return {0, 0};
    size_t off = std::min(static_cast<size_t>(offset), text_.size());
    if (off < pos_) {
      pos_ = 0;
      line_ = 1;
      line_start_ = 0;
    }
    for (; pos_ < off; ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
    }
    return {static_cast<int>(line_), static_cast<int>(off - line_start_ + 1)};
  }

 private:
  std::string_view text_;
  mutable size_t pos_ = 0, line_ = 1, line_start_ = 0;
};

// Counts start tags and the attributes of each before pugixml builds a
// tree, whose size (tens of bytes a node) the document would otherwise
// choose: 32 MiB of "<i/>" is 8 million nodes. '<' cannot appear in text or
// attribute values, so outside comments, CDATA, processing instructions and
// the DOCTYPE every '<' not followed by '/' opens an element; '=' outside
// quotes inside a start tag separates an attribute from its value.
Status PrescanXml(std::string_view t, const XmlLimits& limits,
                  const LineIndex& index) {
  size_t elements = 0, total_attributes = 0;
  size_t i = 0;
  auto skip_past = [&](std::string_view end) {
    size_t e = t.find(end, i);
    i = e == std::string_view::npos ? t.size() : e + end.size();
  };
  while ((i = t.find('<', i)) != std::string_view::npos) {
    std::string_view rest = t.substr(i);
    if (rest.substr(0, 4) == "<!--") {
      skip_past("-->");
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      skip_past("]]>");
    } else if (rest.substr(0, 2) == "<?") {
      skip_past("?>");
    } else if (rest.substr(0, 2) == "<!" || rest.substr(0, 2) == "</") {
      ++i;  // a DOCTYPE is refused after parsing; end tags cost nothing
    } else {
      size_t start = i;
      if (++elements > limits.max_elements) {
        return CorruptError("more than " + std::to_string(limits.max_elements) +
                            " elements");
      }
      size_t attributes = 0;
      char quote = 0;
      for (++i; i < t.size(); ++i) {
        char c = t[i];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '=') {
          if (++total_attributes > limits.max_total_attributes) {
            return CorruptError("more than " +
                                std::to_string(limits.max_total_attributes) +
                                " attributes");
          }
          if (++attributes > limits.max_attributes) {
            return CorruptError(
                Loc(index.At(static_cast<ptrdiff_t>(start))) + ": more than " +
                std::to_string(limits.max_attributes) + " attributes");
          }
        } else if (c == '>') {
          break;
        }
      }
    }
  }
  return OkStatus();
}

using Scope = std::map<std::string, std::string, std::less<>>;

// XML 1.0 allows no C0 control character but tab, LF and CR, neither raw
// nor as a character reference; pugixml does not check. A value holding one
// is refused here, as a conforming parser would, rather than read and then
// silently lost when the value is written back out.
Status CheckChars(std::string_view value, std::pair<int, int> lc,
                  std::string_view what) {
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", c);
      return CorruptError(Loc(lc) + ": " + std::string(what) +
                          " holds control character " + code +
                          ", which XML does not allow");
    }
  }
  return OkStatus();
}

std::pair<std::string_view, std::string_view> SplitQName(std::string_view q) {
  size_t colon = q.find(':');
  if (colon == std::string_view::npos) return {{}, q};
  return {q.substr(0, colon), q.substr(colon + 1)};
}

struct Converter {
  const XmlLimits& limits;
  const LineIndex& index;
  size_t elements = 0;

  Status Convert(const pugi::xml_node& node, const Scope& parent_scope,
                 int depth, XmlElement* out) {
    if (depth > limits.max_depth) {
      return CorruptError(Loc(index.At(node.offset_debug())) +
                          ": elements nested deeper than " +
                          std::to_string(limits.max_depth));
    }
    if (++elements > limits.max_elements) {
      return CorruptError("more than " + std::to_string(limits.max_elements) +
                          " elements");
    }
    auto lc = index.At(node.offset_debug());
    out->line = lc.first;
    out->column = lc.second;

    // Namespace declarations on this element extend the scope.
    Scope scope;
    const Scope* active = &parent_scope;
    size_t attr_count = 0;
    for (pugi::xml_attribute a : node.attributes()) {
      if (++attr_count > limits.max_attributes) {
        return CorruptError(Loc(lc) + ": more than " +
                            std::to_string(limits.max_attributes) +
                            " attributes");
      }
      std::string_view name = a.name();
      if (name == "xmlns" || name.substr(0, 6) == "xmlns:") {
        if (active == &parent_scope) {
          scope = parent_scope;
          active = &scope;
        }
        std::string prefix(name == "xmlns" ? "" : name.substr(6));
        scope[prefix] = a.value();
      }
    }

    auto resolve = [&](std::string_view prefix, bool is_attribute,
                       std::string* ns) -> Status {
      if (prefix.empty() && is_attribute) return OkStatus();
      if (prefix == "xml") {
        *ns = std::string(kXmlNs);
        return OkStatus();
      }
      auto it = active->find(prefix);
      if (it == active->end()) {
        if (prefix.empty()) return OkStatus();  // no default namespace
        return CorruptError(Loc(lc) + ": namespace prefix " + Quote(prefix) +
                            " is not declared");
      }
      *ns = it->second;
      return OkStatus();
    };

    out->qname = node.name();
    auto [prefix, local] = SplitQName(out->qname);
    out->local = std::string(local);
    RETURN_IF_ERROR(resolve(prefix, false, &out->ns));

    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "xmlns" || name.substr(0, 6) == "xmlns:") continue;
      XmlAttribute attr;
      attr.qname = std::string(name);
      auto [ap, al] = SplitQName(name);
      attr.local = std::string(al);
      RETURN_IF_ERROR(resolve(ap, true, &attr.ns));
      attr.value = a.value();
      RETURN_IF_ERROR(
          CheckChars(attr.value, lc, "attribute " + Quote(attr.qname)));
      out->attributes.push_back(std::move(attr));
    }

    for (pugi::xml_node child : node.children()) {
      switch (child.type()) {
        case pugi::node_element: {
          out->children.emplace_back();
          RETURN_IF_ERROR(
              Convert(child, *active, depth + 1, &out->children.back()));
          break;
        }
        case pugi::node_pcdata:
        case pugi::node_cdata:
          RETURN_IF_ERROR(CheckChars(child.value(),
                                     index.At(child.offset_debug()),
                                     "text of " + Quote(out->qname)));
          out->text.append(child.value());
          break;
        default:
          break;  // comments, processing instructions
      }
    }
    return OkStatus();
  }
};

}  // namespace

bool XmlElement::Is(std::string_view ns_uri,
                    std::string_view local_name) const {
  return local == local_name && (ns_uri == kAnyNs || ns == ns_uri);
}

const XmlElement* XmlElement::Child(std::string_view ns_uri,
                                    std::string_view local_name) const {
  for (const XmlElement& c : children) {
    if (c.Is(ns_uri, local_name)) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(
    std::string_view ns_uri, std::string_view local_name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& c : children) {
    if (c.Is(ns_uri, local_name)) out.push_back(&c);
  }
  return out;
}

const XmlAttribute* XmlElement::FindAttribute(
    std::string_view ns_uri, std::string_view local_name) const {
  for (const XmlAttribute& a : attributes) {
    if (a.local == local_name && (ns_uri == kAnyNs || a.ns == ns_uri)) {
      return &a;
    }
  }
  return nullptr;
}

std::optional<std::string> XmlElement::Attribute(
    std::string_view ns_uri, std::string_view local_name) const {
  const XmlAttribute* a = FindAttribute(ns_uri, local_name);
  if (a == nullptr) return std::nullopt;
  return a->value;
}

// XML's white space (XML 1.0 section 2.3, production S).
std::string XmlElement::TrimmedText() const {
  return std::string(Trim(text, " \t\r\n"));
}

std::optional<std::string> XmlElement::ChildText(
    std::string_view ns_uri, std::string_view local_name) const {
  const XmlElement* c = Child(ns_uri, local_name);
  if (c == nullptr) return std::nullopt;
  return c->TrimmedText();
}

std::string XmlElement::Where() const { return Loc({line, column}); }

namespace {

// The encoding an 8-bit document's XML declaration names ("" when it names
// none, or has no declaration).
std::string DeclaredEncoding(std::string_view text) {
  if (text.substr(0, 5) != "<?xml") return {};
  std::string_view decl = text.substr(0, text.find("?>"));
  size_t at = decl.find("encoding");
  if (at == std::string_view::npos) return {};
  size_t eq = decl.find('=', at);
  if (eq == std::string_view::npos) return {};
  size_t open = decl.find_first_of("\"'", eq);
  if (open == std::string_view::npos) return {};
  size_t close = decl.find(decl[open], open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(decl.substr(open + 1, close - open - 1));
}

// The document as UTF-8, for pugixml to read as UTF-8 (its own detection
// converts UTF-16/32 and Latin-1 but reads every other declared encoding
// as UTF-8, and never checks that UTF-8 is well-formed). UTF-16 and UTF-32
// are recognised by their byte order mark or by how "<?" is spelled
// (XML 1.0, appendix F.1); an 8-bit document is converted from the
// encoding its declaration names (iconv), or checked as UTF-8. Sets
// *converted when the text changed; kCorrupt for invalid text,
// kUnsupported for an encoding the C library does not know.
Status DecodeDocument(std::string_view text, std::optional<std::string>* out) {
  auto starts = [&](std::string_view p) {
    return text.substr(0, p.size()) == p;
  };
  using namespace std::string_view_literals;
  struct Wide {
    std::string_view prefix;
    const char* encoding;
    size_t bom;
  };
  static constexpr Wide kWide[] = {
      {"\x00\x00\xFE\xFF"sv, "UTF-32BE", 4},
      {"\xFF\xFE\x00\x00"sv, "UTF-32LE", 4},
      {"\xFE\xFF"sv, "UTF-16BE", 2},
      {"\xFF\xFE"sv, "UTF-16LE", 2},
      {"\x00\x00\x00<"sv, "UTF-32BE", 0},
      {"<\x00\x00\x00"sv, "UTF-32LE", 0},
      {"\x00<\x00?"sv, "UTF-16BE", 0},
      {"<\x00?\x00"sv, "UTF-16LE", 0},
  };
  for (const Wide& w : kWide) {
    if (!starts(w.prefix)) continue;
    ASSIGN_OR_RETURN(*out, ConvertToUtf8(text.substr(w.bom), w.encoding));
    return OkStatus();
  }
  if (starts("\xEF\xBB\xBF")) return CheckUtf8(text);
  std::string declared = DeclaredEncoding(text);
  if (declared.empty() || IsUtf8EncodingName(declared)) return CheckUtf8(text);
  std::string lower = Lower(declared);
  if (lower.rfind("utf-16", 0) == 0 || lower.rfind("utf-32", 0) == 0 ||
      lower.rfind("ucs", 0) == 0) {
    // A wide encoding declared over 8-bit bytes (XenServer labels its ASCII
    // descriptors "utf-16"): the bytes are read as what they are, UTF-8
    // (the OVF reader warns, ovf.encoding-mismatch).
    return CheckUtf8(text);
  }
  ASSIGN_OR_RETURN(*out, ConvertToUtf8(text, declared));
  return OkStatus();
}

}  // namespace

Result<XmlElement> ParseXml(std::string_view text, const XmlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return CorruptError("xml document of " + std::to_string(text.size()) +
                        " bytes exceeds the limit of " +
                        std::to_string(limits.max_bytes));
  }
  std::optional<std::string> converted;
  RETURN_IF_ERROR(DecodeDocument(text, &converted));
  if (converted) {
    if (converted->size() > limits.max_bytes) {
      return CorruptError("xml document of " +
                          std::to_string(converted->size()) +
                          " bytes (as UTF-8) exceeds the limit of " +
                          std::to_string(limits.max_bytes));
    }
    text = *converted;
  }
  LineIndex index(text);
  RETURN_IF_ERROR(PrescanXml(text, limits, index));
  pugi::xml_document doc;
  // parse_doctype keeps a DOCTYPE as a node so we can refuse it; pugixml
  // never expands entities beyond the five predefined ones and character
  // references, so nothing external is ever read.
  unsigned flags = pugi::parse_default | pugi::parse_doctype;
  pugi::xml_parse_result r =
      doc.load_buffer(text.data(), text.size(), flags, pugi::encoding_utf8);
  if (!r) {
    return CorruptError(Loc(index.At(r.offset)) +
                        ": malformed xml: " + r.description());
  }
  const pugi::xml_node* root = nullptr;
  pugi::xml_node root_node;
  for (pugi::xml_node n : doc.children()) {
    if (n.type() == pugi::node_doctype) {
      return CorruptError(Loc(index.At(n.offset_debug())) +
                          ": document type declarations (DOCTYPE) are not "
                          "allowed");
    }
    if (n.type() == pugi::node_element) {
      if (root != nullptr) {
        return CorruptError("malformed xml: more than one root element");
      }
      root_node = n;
      root = &root_node;
    }
  }
  if (root == nullptr) return CorruptError("malformed xml: no root element");
  Converter conv{limits, index};
  XmlElement out;
  Scope scope;
  RETURN_IF_ERROR(conv.Convert(*root, scope, 1, &out));
  return out;
}

std::string XmlEscape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        if (attribute)
          out += "&quot;";
        else
          out += ch;
        break;
      case '\n':
        if (attribute)
          out += "&#10;";
        else
          out += ch;
        break;
      case '\t':
        if (attribute)
          out += "&#9;";
        else
          out += ch;
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 at all; drop them.
        if (c < 0x20) break;
        out += ch;
    }
  }
  return out;
}

XmlWriter::XmlWriter() : XmlWriter(true) {}
XmlWriter::XmlWriter(bool declaration) {
  if (declaration) out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
}
XmlWriter XmlWriter::Fragment() { return XmlWriter(false); }

void XmlWriter::Indent() { out_.append(2 * stack_.size(), ' '); }

void XmlWriter::EndStartTag() {
  if (in_start_tag_) {
    out_ += '>';
    in_start_tag_ = false;
  }
}

XmlWriter& XmlWriter::Open(std::string_view qname) {
  if (!stack_.empty()) {
    EndStartTag();
    if (!stack_.back().has_children) out_ += '\n';
    stack_.back().has_children = true;
  }
  Indent();
  out_ += '<';
  out_ += qname;
  stack_.push_back({std::string(qname)});
  in_start_tag_ = true;
  return *this;
}

XmlWriter& XmlWriter::Attr(std::string_view qname, std::string_view value) {
  out_ += ' ';
  out_ += qname;
  out_ += "=\"";
  out_ += XmlEscape(value, true);
  out_ += '"';
  return *this;
}

XmlWriter& XmlWriter::Text(std::string_view text) {
  EndStartTag();
  out_ += XmlEscape(text, false);
  if (!stack_.empty()) stack_.back().has_text = true;
  return *this;
}

XmlWriter& XmlWriter::Close() {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  if (in_start_tag_) {
    out_ += "/>\n";
    in_start_tag_ = false;
    return *this;
  }
  if (f.has_children) Indent();
  out_ += "</";
  out_ += f.qname;
  out_ += ">\n";
  return *this;
}

XmlWriter& XmlWriter::Leaf(std::string_view qname, std::string_view text) {
  Open(qname);
  Text(text);
  return Close();
}

XmlWriter& XmlWriter::Comment(std::string_view text) {
  if (!stack_.empty()) {
    EndStartTag();
    if (!stack_.back().has_children) out_ += '\n';
    stack_.back().has_children = true;
  }
  Indent();
  std::string safe(text);
  for (size_t p; (p = safe.find("--")) != std::string::npos;) {
    safe.replace(p, 2, "- -");
  }
  out_ += "<!-- " + safe + " -->\n";
  return *this;
}

std::string XmlWriter::Finish() {
  while (!stack_.empty()) Close();
  return std::move(out_);
}

}  // namespace ova2virt
