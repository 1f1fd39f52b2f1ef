// The OVF reader against the real corpus (golden dumps, spot checks,
// negative files) and against small descriptors built here.
#include "ovf/ovf_reader.h"

#include <filesystem>
#include <set>

#include "core/vmspec_dump.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

std::string Base(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// The dump plus the warnings, as the golden files hold them.
std::string DumpWithWarnings(const ApplianceSpec& a, const Diagnostics& d) {
  std::string out = DumpAppliance(a);
  for (const Diagnostic& w : d.items()) {
    out += "warning " + w.id + ": " + w.where + ": " + w.message + "\n";
  }
  return out;
}

Result<ApplianceSpec> ParseCorpus(std::string_view name, Diagnostics* diag,
                                  const OvfReadOptions& options = {}) {
  return ParseOvfDescriptor(
      testing::ReadFileOrDie(testing::CorpusPath("ovf/" + std::string(name))),
      options, diag);
}

// Files that must fail, and how.
struct Negative {
  const char* file;
  ErrorCode code;
  const char* message_part;
};
constexpr Negative kNegatives[] = {
    {"ganeti_wrong_xml.ovf", ErrorCode::kCorrupt, "line 71, column 7"},
    {"pve_XEE_xxe-attack.ovf", ErrorCode::kCorrupt, "DOCTYPE"},
    {"cot_ersatz_ovf_3.0.ovf", ErrorCode::kUnsupported, "OVF version 3"},
    // Every section empty, and a VirtualSystem without the ovf:id that all
    // OVF versions require (Ganeti's own negative test).
    {"ganeti_empty.ovf", ErrorCode::kCorrupt, "VirtualSystem has no ovf:id"},
};

const Negative* FindNegative(const std::string& base) {
  for (const Negative& n : kNegatives) {
    if (base == n.file) return &n;
  }
  return nullptr;
}

TEST_CASE("ovf reader: every corpus descriptor matches its golden dump") {
  int parsed = 0;
  for (const std::string& path : testing::CorpusFiles("ovf")) {
    std::string base = Base(path);
    CAPTURE(base);
    Diagnostics diag;
    auto r = ParseOvfDescriptor(testing::ReadFileOrDie(path), {}, &diag);
    if (const Negative* n = FindNegative(base)) {
      REQUIRE(!r.ok());
      CHECK(r.status().code() == n->code);
      CHECK(r.status().message().find(n->message_part) != std::string::npos);
      MESSAGE(r.status().message());
      // One line, as the CLI prints it.
      CHECK(r.status().message().find('\n') == std::string::npos);
      continue;
    }
    REQUIRE_OK(r);
    ++parsed;
    CHECK(testing::MatchesGolden("tests/golden/ovf/" + base + ".txt",
                                 DumpWithWarnings(*r, diag)));
  }
  CHECK(parsed >= 60);
}

TEST_CASE("ovf reader: malformed xml reports line and column, one line") {
  Diagnostics diag;
  auto r = ParseCorpus("ganeti_wrong_xml.ovf", &diag);
  REQUIRE(!r.ok());
  CHECK(r.status().message().rfind("line 71, column 7: malformed xml", 0) == 0);
  CHECK(r.status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("ovf reader: the XXE file is refused before any entity is read") {
  Diagnostics diag;
  auto r = ParseCorpus("pve_XEE_xxe-attack.ovf", &diag);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == ErrorCode::kCorrupt);
  // Had the entity been expanded, /proc/self/comm ("ovf_tests") would show.
  CHECK(r.status().message().find("ovf_tests") == std::string::npos);
}

TEST_CASE("ovf reader: Ganeti's 'corrupted resources' is a package fault") {
  // Ganeti's test expects "does not exist": the descriptor names a disk file
  // the package lacks. The descriptor itself is sound (it validates), so it
  // parses here; verify/import fail on the missing member, and inspect of
  // the lone descriptor notes the absent file.
  Diagnostics diag;
  auto r = ParseCorpus("ganeti_corrupted_resources.ovf", &diag);
  REQUIRE_OK(r);
  CHECK(r->files.at(0).href == "other_disk.vmdk");
}

TEST_CASE(
    "ovf reader: XenServer's mislabelled encoding is read, with a warning") {
  Diagnostics diag;
  auto r = ParseCorpus("xenadmin_sample_app_xenovf.ovf", &diag);
  REQUIRE_OK(r);
  CHECK(diag.Has("ovf.encoding-mismatch"));
  CHECK(r->systems.at(0).disks.at(0).source.format == ImageFormat::kVhd);
}

TEST_CASE("ovf reader: VirtualBox MACs come from its vbox:Machine section") {
  Diagnostics diag;
  auto r = ParseCorpus("vbox_testcase_winxp_sharedfolders.ovf", &diag);
  REQUIRE_OK(r);
  CHECK(r->systems.at(0).nics.at(0).mac == "08:00:27:f1:08:6c");
}

TEST_CASE("ovf reader: empty input is corrupt, not a crash") {
  for (std::string_view text : {"", "   \n", "<a/>", "<Envelope/>"}) {
    CAPTURE(text);
    auto r = ParseOvfDescriptor(text, {}, nullptr);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == ErrorCode::kCorrupt);
  }
}

TEST_CASE("ovf reader: a VM name in invalid UTF-8 is refused at parse time") {
  const std::string good =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
      "    xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\">\n"
      "  <References/>\n"
      "  <VirtualSystem ovf:id=\"NAME\"><Info>x</Info>"
      "<Name>NAME</Name></VirtualSystem>\n"
      "</Envelope>\n";
  Diagnostics diag;
  std::string bad = good;
  bad.replace(bad.find("NAME"), 4, "vm\xFF");
  auto r = ParseOvfDescriptor(bad, {}, &diag);
  REQUIRE(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message() ==
        "line 5, column 28: invalid UTF-8: byte 0xff never appears in "
        "UTF-8");
  // The same descriptor declared as windows-1252 is read, converted.
  std::string declared = bad;
  declared.replace(declared.find("UTF-8"), 5, "windows-1252");
  auto ok = ParseOvfDescriptor(declared, {}, &diag);
  REQUIRE_OK(ok);
  CHECK(ok->systems[0].id == "vm\xC3\xBF");
}

}  // namespace
}  // namespace ova2virt
