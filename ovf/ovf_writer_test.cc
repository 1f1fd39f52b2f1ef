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
// sections the reader did not understand, and the descriptor's version (the
// writer states its own; checked below).
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
      CHECK(back->ovf_version == (major == 2 ? "2.0" : "1.1"));
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

// A machine with a disk, a CD-ROM holding an ISO, an empty CD-ROM and a NIC.
ApplianceSpec SmallMachine() {
  ApplianceSpec a;
  VmSpec vm;
  vm.name = "small";
  vm.vcpus = 2;
  vm.memory_bytes = 512ull << 20;
  vm.controllers = {
      {"ide0", ControllerKind::kIde, ControllerModel::kPiix4, "", 1},
      {"scsi0", ControllerKind::kScsi, ControllerModel::kLsiLogic, "", 0}};
  Disk disk;
  disk.id = "disk1";
  disk.capacity = 1ull << 30;
  disk.controller_id = "scsi0";
  disk.unit = 0;
  disk.source.href = "small-disk1.vmdk";
  disk.source.format = ImageFormat::kVmdkStreamOptimized;
  Disk cd;
  cd.id = "cd1";
  cd.device = DiskDevice::kCdrom;
  cd.controller_id = "ide0";
  cd.unit = 0;
  cd.source.href = "small.iso";
  cd.source.format = ImageFormat::kIso;
  Disk empty = cd;
  empty.id = "cd2";
  empty.unit = 1;
  empty.source = {};
  vm.disks = {disk, cd, empty};
  Nic nic;
  nic.id = "nic1";
  nic.network = "VM Network";
  nic.model = NicModel::kVmxnet3;
  vm.nics = {nic};
  a.networks = {{"VM Network", ""}};
  a.systems = {vm};
  return a;
}

// Issue 13: govmomi (vcsim, govc) reads only `Item`s, and COT reads OVF 2
// StorageItem/EthernetPortItem only in namespaces the DMTF schema does not
// declare (a `.xsd` suffix, as VirtualBox writes them). Every device as a
// RASD `Item` is valid in both versions and read by all of them.
TEST_CASE("ovf writer: OVF 2 devices are RASD Items every reader reads") {
  for (int major : {1, 2}) {
    CAPTURE(major);
    auto xml = FormatOvfDescriptor(SmallMachine(), {major}, nullptr);
    REQUIRE_OK(xml);
    CHECK(xml->find("StorageItem") == std::string::npos);
    CHECK(xml->find("EthernetPortItem") == std::string::npos);
    CHECK(xml->find("sasd") == std::string::npos);
    CHECK(xml->find("epasd") == std::string::npos);
    // CPU, memory, two controllers, disk, two CD-ROMs, NIC.
    size_t items = 0;
    for (size_t at = xml->find("<Item"); at != std::string::npos;
         at = xml->find("<Item", at + 1)) {
      ++items;
    }
    CHECK(items == 8);
    for (const char* type : {"17", "15", "10"}) {
      CHECK(xml->find(std::string("<rasd:ResourceType>") + type +
                      "</rasd:ResourceType>") != std::string::npos);
    }
    // The version the help and the man page name, stated in the file.
    std::string version = major == 2 ? "2.0" : "1.1";
    CHECK(xml->find("ovf:version=\"" + version + "\"") != std::string::npos);
    if (testing::HaveTool("xmllint")) CHECK(SchemaErrors(*xml, major) == "");
    auto back = ParseOvfDescriptor(*xml, {}, nullptr);
    REQUIRE_OK(back);
    CHECK(back->ovf_version == version);
    REQUIRE(back->systems.size() == 1);
    CHECK(back->systems[0].disks.size() == 3);
    CHECK(back->systems[0].nics.size() == 1);
  }
}

// VirtualBox's reader refuses memory in any unit but MB/GB, and vcsim reads
// the quantity as MiB whatever the unit: memory is written in whole MiB,
// rounded up, and said so.
TEST_CASE("ovf writer: memory is whole MiB, rounded up with a warning") {
  ApplianceSpec a = SmallMachine();
  a.systems[0].memory_bytes = (512ull << 20) + 512 * 1024;
  Diagnostics diag;
  auto xml = FormatOvfDescriptor(a, {2}, &diag);
  REQUIRE_OK(xml);
  CHECK(xml->find("<rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>") !=
        std::string::npos);
  CHECK(xml->find("<rasd:VirtualQuantity>513</rasd:VirtualQuantity>") !=
        std::string::npos);
  bool warned = false;
  for (const Diagnostic& d : diag.items()) {
    warned |= d.id == "ovf.memory-rounded";
  }
  CHECK(warned);
  auto back = ParseOvfDescriptor(*xml, {}, nullptr);
  REQUIRE_OK(back);
  CHECK(back->systems[0].memory_bytes == 513ull << 20);
  CHECK(WithOvfDefaults(a).systems[0].memory_bytes == 513ull << 20);
  // Whole MiB stay as they are, without a word.
  a.systems[0].memory_bytes = 512ull << 20;
  Diagnostics quiet;
  REQUIRE_OK(FormatOvfDescriptor(a, {1}, &quiet));
  CHECK(quiet.items().empty());
}

}  // namespace
}  // namespace ova2virt
