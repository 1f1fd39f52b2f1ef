#include "core/xml.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

constexpr std::string_view kOvf1 = "http://schemas.dmtf.org/ovf/envelope/1";

TEST_CASE("xml: prefixes resolve to namespaces, however they are spelled") {
  auto a = ParseXml(R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
      xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
      <References><File ovf:id="f1" ovf:href="disk.vmdk"/></References>
    </Envelope>)");
  REQUIRE_OK(a);
  auto b =
      ParseXml(R"(<x:Envelope xmlns:x="http://schemas.dmtf.org/ovf/envelope/1">
      <x:References><x:File x:id="f1" x:href="disk.vmdk"/></x:References>
    </x:Envelope>)");
  REQUIRE_OK(b);
  for (const XmlElement* root : {&*a, &*b}) {
    CHECK(root->Is(kOvf1, "Envelope"));
    const XmlElement* refs = root->Child(kOvf1, "References");
    REQUIRE(refs != nullptr);
    const XmlElement* file = refs->Child(kOvf1, "File");
    REQUIRE(file != nullptr);
    CHECK(file->Attribute(kOvf1, "href") == "disk.vmdk");
    CHECK(file->line == (root == &*a ? 3 : 2));
  }
}

TEST_CASE("xml: locally re-declared prefixes apply inside their element") {
  auto r = ParseXml(
      R"(<a xmlns:p="urn:one"><p:b/><c xmlns:p="urn:two"><p:d/></c></a>)");
  REQUIRE_OK(r);
  CHECK(r->children[0].ns == "urn:one");
  CHECK(r->children[1].children[0].ns == "urn:two");
}

TEST_CASE("xml: a DOCTYPE (entity tricks, XXE) is refused") {
  auto r = ParseXml(R"(<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<foo>&xxe;</foo>)");
  REQUIRE(!r.ok());
  CHECK(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message().find("DOCTYPE") != std::string::npos);
}

TEST_CASE("xml: malformed documents report line and column") {
  auto r = ParseXml("<a>\n  <b>\n</a>");
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("line 3") == 0);
}

TEST_CASE("xml: control characters are refused, raw or as references") {
  // Found by ovf_reader_fuzz: an ovf:id of one BEL character was read,
  // then lost when the descriptor was written back out.
  for (std::string doc :
       {std::string("<a id=\"\a\"/>"), std::string("<a id=\"&#7;\"/>"),
        std::string("<a>\n<b>x&#x1b;y</b></a>")}) {
    auto r = ParseXml(doc);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == ErrorCode::kCorrupt);
    CHECK(r.status().message().find("control character U+00") !=
          std::string::npos);
  }
  auto b = ParseXml("<a>\n<b>x&#x1b;y</b></a>");
  CHECK(b.status().message().find("line 2") == 0);
  // Tab, LF and CR are characters XML has.
  CHECK(ParseXml("<a id=\"x&#9;&#10;&#13;\">\t\r\n</a>").ok());
}

TEST_CASE("xml: limits on depth and size") {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "<a>";
  for (int i = 0; i < 200; ++i) deep += "</a>";
  CHECK(ParseXml(deep).status().code() == ErrorCode::kCorrupt);
  XmlLimits small;
  small.max_bytes = 10;
  CHECK(!ParseXml("<abcdefghijk/>", small).ok());
  CHECK(!ParseXml(R"(<a><p:b/></a>)").ok());  // undeclared prefix
}

TEST_CASE("xml: element and attribute counts are capped before parsing") {
  XmlLimits limits;
  limits.max_elements = 1000;
  limits.max_attributes = 4;
  limits.max_total_attributes = 50;
  std::string many = "<r>";
  for (int i = 0; i < 1000; ++i) many += "<i/>";
  many += "</r>";
  auto r = ParseXml(many, limits);
  REQUIRE(!r.ok());
  CHECK(r.status().message() == "more than 1000 elements");
  // '<' in comments, CDATA and processing instructions opens nothing.
  std::string quoted = "<r><!-- <a><a><a> --><![CDATA[<b><b>]]><?pi <c>?>";
  for (int i = 0; i < 990; ++i) quoted += "<i/>";
  quoted += "</r>";
  CHECK_OK(ParseXml(quoted, limits));
  auto wide = ParseXml(R"(<r a="1" b="2" c='x=y' d="4" e="5"/>)", limits);
  REQUIRE(!wide.ok());
  CHECK(wide.status().message() == "line 1, column 1: more than 4 attributes");
  CHECK_OK(ParseXml(R"(<r a="1" b="=" c='x=y' d="4"/>)", limits));
  std::string spread = "<r>";
  for (int i = 0; i < 20; ++i) spread += R"(<i a="1" b="2" c="3"/>)";
  spread += "</r>";
  auto total = ParseXml(spread, limits);
  REQUIRE(!total.ok());
  CHECK(total.status().message() == "more than 50 attributes");
}

TEST_CASE("xml: line numbers need no memory per line") {
  std::string text = "<r>" + std::string(100000, '\n') + "<a>\n  <b/>\n</r>";
  auto r = ParseXml(text);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("line 100003,") == 0);
  auto ok = ParseXml("<r>\n\n<a/>\n<b/></r>");
  REQUIRE_OK(ok);
  CHECK(ok->children.at(0).line == 3);
  CHECK(ok->children.at(1).line == 4);
  CHECK(ok->children.at(1).column == 2);  // pugixml points past the "<"
}

TEST_CASE("xml: the writer escapes and round-trips") {
  XmlWriter w;
  w.Open("root").Attr("k", "a\"<&>\nb");
  w.Leaf("t", "x < y & z");
  w.Open("empty").Close();
  std::string doc = w.Finish();
  CHECK(doc ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<root k=\"a&quot;&lt;&amp;&gt;&#10;b\">\n"
        "  <t>x &lt; y &amp; z</t>\n"
        "  <empty/>\n"
        "</root>\n");
  auto back = ParseXml(doc);
  REQUIRE_OK(back);
  CHECK(back->Attribute("", "k") == "a\"<&>\nb");
  CHECK(back->ChildText("", "t") == "x < y & z");
}

TEST_CASE("xml: invalid UTF-8 is refused with line and column") {
  auto r = ParseXml("<?xml version=\"1.0\"?>\n<a>\n  <n>bad\xC0\xAF</n>\n</a>");
  REQUIRE(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message() ==
        "line 3, column 9: invalid UTF-8: overlong encoding (bytes 0xc0 "
        "0xaf)");
  // In an attribute, a surrogate; declared UTF-8 is checked the same way.
  auto s =
      ParseXml("<?xml version='1.0' encoding='utf-8'?><a n=\"\xED\xA0\x80\"/>");
  CHECK(s.status().message().find("surrogate U+D800") != std::string::npos);
  auto t = ParseXml("<a>\xF4\x90\x80\x80</a>");
  CHECK(t.status().message().find("above U+10FFFF") != std::string::npos);
  // With a UTF-8 byte order mark.
  auto bom = ParseXml("\xEF\xBB\xBF<a>caf\xC3\xA9</a>");
  REQUIRE_OK(bom);
  CHECK(bom->text == "caf\xC3\xA9");
  CHECK(ParseXml("\xEF\xBB\xBF<a>\xFF</a>").status().code() ==
        ErrorCode::kCorrupt);
}

TEST_CASE("xml: a declared 8-bit encoding is converted to UTF-8") {
  auto r = ParseXml(
      "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a n=\"\xE9\">\x80"
      "</a>");
  REQUIRE_OK(r);
  CHECK(r->Attribute("", "n") == "\xC3\xA9");
  CHECK(r->text == "\xE2\x82\xAC");
  // pugixml alone would convert Latin-1 too: converted once, not twice.
  auto l = ParseXml("<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE9</a>");
  REQUIRE_OK(l);
  CHECK(l->text == "\xC3\xA9");
  auto undefined = ParseXml(
      "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<a>\x81</a>");
  CHECK(undefined.status().message() ==
        "line 2, column 4: invalid WINDOWS-1252: byte 0x81 at byte 49 is not "
        "a character");
  auto unknown =
      ParseXml("<?xml version=\"1.0\" encoding=\"x-nonesuch\"?><a/>");
  CHECK(unknown.status().code() == ErrorCode::kUnsupported);
}

TEST_CASE("xml: UTF-16 by byte order mark or by its spelling of '<?'") {
  auto widen = [](std::string_view ascii, bool big_endian) {
    std::string out;
    for (char c : ascii) {
      if (big_endian) out.push_back('\0');
      out.push_back(c);
      if (!big_endian) out.push_back('\0');
    }
    return out;
  };
  const std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a n=\"x\">hi</a>";
  for (bool be : {false, true}) {
    for (bool bom : {false, true}) {
      std::string text = widen(doc, be);
      if (bom)
        text = (be ? std::string("\xFE\xFF") : std::string("\xFF\xFE")) + text;
      auto r = ParseXml(text);
      REQUIRE_OK(r);
      CHECK(r->text == "hi");
      CHECK(r->Attribute("", "n") == "x");
    }
  }
  // A lone surrogate in UTF-16 is invalid too.
  std::string lone =
      widen("<a>", false) + std::string("\x00\xD8", 2) + widen("</a>", false);
  CHECK(ParseXml("\xFF\xFE" + lone).status().code() == ErrorCode::kCorrupt);
  // Declared UTF-16 but written in single bytes (XenServer): read as the
  // UTF-8 it is, and checked as such.
  auto liar =
      ParseXml("<?xml version=\"1.0\" encoding=\"utf-16\"?><a>\xC3\xA9</a>");
  REQUIRE_OK(liar);
  CHECK(liar->text == "\xC3\xA9");
  CHECK(ParseXml("<?xml version=\"1.0\" encoding=\"utf-16\"?><a>\xE9</a>")
            .status()
            .code() == ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace ova2virt
