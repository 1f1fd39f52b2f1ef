// The VMX reader against the corpus (golden dumps, spot checks) and small
// files built here.
#include "ovf/vmx_reader.h"

#include <filesystem>

#include "core/vmspec_dump.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

std::string DumpWithWarnings(const ApplianceSpec& a, const Diagnostics& d) {
  std::string out = DumpAppliance(a);
  for (const Diagnostic& w : d.items()) {
    out += "warning " + w.id + ": " + w.where + ": " + w.message + "\n";
  }
  return out;
}

TEST_CASE("vmx reader: every corpus file matches its golden dump") {
  for (const std::string& path : testing::CorpusFiles("vmx")) {
    std::string base = std::filesystem::path(path).filename().string();
    CAPTURE(base);
    Diagnostics diag;
    auto r = ParseVmx(testing::ReadFileOrDie(path), &diag);
    REQUIRE_OK(r);
    CHECK(testing::MatchesGolden("tests/golden/vmx/" + base + ".txt",
                                 DumpWithWarnings(*r, diag)));
  }
}

TEST_CASE("vmx reader: text must be UTF-8, or converted from .encoding") {
  Diagnostics diag;
  auto bad = ParseVmx(
      ".encoding = \"UTF-8\"\nconfig.version = \"8\"\n"
      "displayName = \"caf\xC3\xA9 \xC0\xAF\"\n",
      &diag);
  REQUIRE(bad.status().code() == ErrorCode::kCorrupt);
  CHECK(bad.status().message() ==
        "line 3, column 22: invalid UTF-8: overlong encoding (bytes 0xc0 "
        "0xaf)");
  // No .encoding at all: UTF-8 too.
  CHECK(ParseVmx("displayName = \"\xED\xA0\x80\"\n", &diag)
            .status()
            .message()
            .find("surrogate") != std::string::npos);
  // |XX escapes that decode to invalid UTF-8.
  auto escaped = ParseVmx("displayName = \"a|C0|AF\"\n", &diag);
  REQUIRE(escaped.status().code() == ErrorCode::kCorrupt);
  CHECK(escaped.status().message() ==
        "line 1: the value of 'displayName', its |XX escapes decoded, is "
        "invalid UTF-8: overlong encoding (bytes 0xc0 0xaf)");
  // windows-1252, as VMware Workstation on Windows wrote: converted.
  auto cp1252 = ParseVmx(
      ".encoding = \"windows-1252\"\ndisplayName = \"Caf\xE9 \x80\"\n"
      "memsize = \"512\"\n",
      &diag);
  REQUIRE_OK(cp1252);
  CHECK(cp1252->systems[0].name == "Caf\xC3\xA9 \xE2\x82\xAC");
  auto sjis = ParseVmx(
      ".encoding = \"Shift_JIS\"\ndisplayName = \"\x83\x65\x83\x58\x83\x67\"\n",
      &diag);
  REQUIRE_OK(sjis);
  CHECK(sjis->systems[0].name == "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88");
  auto unknown =
      ParseVmx(".encoding = \"x-nonesuch\"\ndisplayName = \"a\"\n", &diag);
  CHECK(unknown.status().code() == ErrorCode::kUnsupported);
  auto undefined =
      ParseVmx(".encoding = \"windows-1252\"\ndisplayName = \"\x81\"\n", &diag);
  CHECK(undefined.status().code() == ErrorCode::kCorrupt);
  CHECK(undefined.status().message().find("invalid WINDOWS-1252") !=
        std::string::npos);
}

}  // namespace
}  // namespace ova2virt
