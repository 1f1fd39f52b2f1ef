// The OVF writer: schema-valid output (xmllint with the DMTF schemas as the
// referee), determinism, and lossless round trips model -> OVF -> model.
#include "ovf/ovf_writer.h"

#include <filesystem>

#include "core/vmspec_dump.h"
#include "ovf/ovf_reader.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

std::string SchemaFor(int major) {
  return testing::CorpusPath(major == 1
                                 ? "xsd/dsp8023_1.1.1_xo/dsp8023_1.1.1.xsd"
                                 : "xsd/dsp8023_2.0.1_itchy/dsp8023_2.0.1.xsd");
}

// xmllint's verdict on a descriptor: empty when it validates, else its
// complaint.
std::string SchemaErrors(const std::string& xml, int major) {
  testing::TempDir dir;
  std::string path = dir.Join("d.ovf");
  testing::WriteFileOrDie(path, xml);
  auto r = testing::RunCommand("xmllint --nonet --noout --schema " +
                               testing::ShellQuote(SchemaFor(major)) + " " +
                               testing::ShellQuote(path) + " 2>&1");
  return r.exit_code == 0 ? std::string() : r.out;
}

// What the writer cannot carry, by design (docs/ovf-mapping.md): items and
// sections the reader did not understand, and the descriptor's version.
// Boot order: DMTF 1.1 has none, and VMware's vmw:BootOrderSection is not
// valid against the DMTF schema.
ApplianceSpec WithoutUnwritable(ApplianceSpec a) {
  a.ovf_version.clear();
  a.unknown_sections.clear();
  for (VmSpec& vm : a.systems) {
    vm.unknown_items.clear();
    for (Disk& d : vm.disks) d.boot_order.reset();
  }
  return a;
}

// Files whose disks have no usable capacity (templates, Ganeti exports):
// an OVF disk must state one, so the writer refuses them.
bool HasDiskWithoutCapacity(const ApplianceSpec& a) {
  for (const VmSpec& vm : a.systems) {
    for (const Disk& d : vm.disks) {
      if (!d.source.disk_id.empty() && !d.capacity) return true;
    }
  }
  return false;
}

bool HasUnwritableHref(const ApplianceSpec& a) {
  for (const FileRef& f : a.files) {
    if (f.href.find_first_of("#?%") != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("ovf writer: the schema referee rejects what it should") {
  // Guards the tests below: an xmllint that accepted anything would make
  // them pass vacuously.
  std::string bad =
      "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\">"
      "<NotAnOvfElement/></Envelope>";
  CHECK(SchemaErrors(bad, 1) != "");
  CHECK(SchemaErrors(bad, 2) != "");
}

TEST_CASE("ovf writer: every corpus descriptor round-trips, schema-valid") {
  if (!testing::HaveTool("xmllint")) FAIL("xmllint is needed (libxml2-utils)");
  int round_trips = 0;
  for (const std::string& path : testing::CorpusFiles("ovf")) {
    std::string base = std::filesystem::path(path).filename().string();
    CAPTURE(base);
    auto in = ParseOvfDescriptor(testing::ReadFileOrDie(path), {}, nullptr);
    if (!in.ok()) continue;  // the negative files (reader tests)
    for (int major : {1, 2}) {
      CAPTURE(major);
      Diagnostics diag;
      auto xml = FormatOvfDescriptor(*in, {major}, &diag);
      if (HasUnwritableHref(*in)) {
        // oVirt's templates: "#DISK_ID#/#VOL_ID#" is no URI reference.
        REQUIRE(!xml.ok());
        CHECK(xml.status().code() == ErrorCode::kUsage);
        CHECK(xml.status().message().find("cannot be an OVF file reference") !=
              std::string::npos);
        continue;
      }
      if (HasDiskWithoutCapacity(*in)) {
        REQUIRE(!xml.ok());
        CHECK(xml.status().code() == ErrorCode::kUsage);
        CHECK(xml.status().message().find("capacity is unknown") !=
              std::string::npos);
        continue;
      }
      REQUIRE_OK(xml);
      CHECK(SchemaErrors(*xml, major) == "");
      auto back = ParseOvfDescriptor(*xml, {}, nullptr);
      REQUIRE_OK(back);
      std::string got = DumpAppliance(WithoutUnwritable(*back));
      std::string want = DumpAppliance(WithoutUnwritable(WithOvfDefaults(*in)));
      CHECK(got == want);
      for (size_t i = 0; i < in->systems.size() && i < back->systems.size();
           ++i) {
        CHECK(back->systems[i].eulas == in->systems[i].eulas);
      }
      CHECK(back->eulas == in->eulas);
      // Deterministic: the same model gives the same bytes.
      CHECK(*FormatOvfDescriptor(*in, {major}, nullptr) == *xml);
      ++round_trips;
    }
  }
  CHECK(round_trips >= 100);
}

}  // namespace
}  // namespace ova2virt
