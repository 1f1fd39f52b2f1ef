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

}  // namespace
}  // namespace ova2virt
