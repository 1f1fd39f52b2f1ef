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

}  // namespace
}  // namespace ova2virt
