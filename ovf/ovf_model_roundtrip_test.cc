// Models built in code -> OVF 1 and 2 -> model: lossless for what the
// model holds (after the writer's documented defaults), schema-valid.
#include "core/vmspec_dump.h"
#include "ovf/ovf_reader.h"
#include "ovf/ovf_writer.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

std::string SchemaErrors(const std::string& xml, int major) {
  testing::TempDir dir;
  std::string path = dir.Join("d.ovf");
  testing::WriteFileOrDie(path, xml);
  std::string xsd = testing::CorpusPath(
      major == 1 ? "xsd/dsp8023_1.1.1_xo/dsp8023_1.1.1.xsd"
                 : "xsd/dsp8023_2.0.1_itchy/dsp8023_2.0.1.xsd");
  auto r = testing::RunCommand("xmllint --nonet --noout --schema " +
                               testing::ShellQuote(xsd) + " " +
                               testing::ShellQuote(path) + " 2>&1");
  return r.exit_code == 0 ? std::string() : r.out;
}

// A machine using every field the model has.
ApplianceSpec RichAppliance() {
  ApplianceSpec a;
  a.name = "appliance";
  a.files = {{"f-root", "root disk.vmdk", 1000, "", std::nullopt},
             {"f-data", "data.vmdk.gz", 2000, "gzip", std::nullopt},
             {"f-iso", "tools.iso", 3000, "", 1000},
             {"f-nvram", "vm.nvram", 512, "", std::nullopt}};
  a.networks = {{"Mgmt", "management"}, {"Data", ""}};
  a.deployment_options = {{"small", "Small", "one cpu", false},
                          {"big", "Big", "many cpus", true}};
  a.deployment = "big";
  VmSpec vm;
  vm.id = "vm-1";
  vm.name = "Rich VM";
  vm.description = "line one\nline two & <three>";
  vm.info = "A machine";
  vm.system_type = "vmx-19";
  vm.vcpus = 8;
  vm.cores_per_socket = 4;
  vm.memory_bytes = 6 * kGiB;
  vm.firmware = Firmware::kEfi;
  vm.secure_boot = true;
  vm.os.cim_id = 94;
  vm.os.cim_description = "Ubuntu 64-Bit";
  vm.os.vmware_os_type = "ubuntu64Guest";
  vm.os.virtualbox_os_type = "Ubuntu_64";
  vm.controllers = {
      {"ide0", ControllerKind::kIde, ControllerModel::kPiix4, "PIIX4", 0},
      {"sata0", ControllerKind::kSata, ControllerModel::kAhci, "", 0},
      {"scsi0", ControllerKind::kScsi, ControllerModel::kPvscsi, "VirtualSCSI",
       0},
      {"nvme0", ControllerKind::kNvme, ControllerModel::kNvme, "", 0},
      {"scsi1", ControllerKind::kScsi, ControllerModel::kLsiLogicSas, "", 1},
  };
  Disk root;
  root.id = "disk-root";
  root.label = "Root";
  root.capacity = 20 * kGiB;
  root.populated_size = 3 * kGiB;
  root.controller_id = "nvme0";
  root.unit = 0;
  root.source.disk_id = "vmdisk-root";
  root.source.file_id = "f-root";
  root.source.href = "root disk.vmdk";
  root.source.format = ImageFormat::kVmdkStreamOptimized;
  root.source.raw_format = std::string(
      "http://www.vmware.com/interfaces/specifications/"
      "vmdk.html#streamOptimized");
  root.source.size = 1000;
  Disk data = root;
  data.id = "disk-data";
  data.label = "Data";
  data.capacity = 1536 * (1ull << 20);
  data.populated_size.reset();
  data.controller_id = "scsi0";
  data.unit = 3;
  data.source.disk_id = "vmdisk-data";
  data.source.file_id = "f-data";
  data.source.href = "data.vmdk.gz";
  data.source.size = 2000;
  data.source.compression = "gzip";
  Disk cd;
  cd.id = "cd";
  cd.device = DiskDevice::kCdrom;
  cd.label = "Tools";
  cd.controller_id = "sata0";
  cd.unit = 1;
  cd.source.file_id = "f-iso";
  cd.source.href = "tools.iso";
  cd.source.format = ImageFormat::kIso;
  cd.source.size = 3000;
  cd.source.chunk_size = 1000;
  Disk floppy;
  floppy.id = "fd";
  floppy.device = DiskDevice::kFloppy;
  floppy.label = "Floppy";
  Disk scratch;  // a blank disk with no image
  scratch.id = "scratch";
  scratch.label = "Scratch";
  scratch.capacity = 4 * kGiB;
  scratch.controller_id = "scsi1";
  scratch.unit = 0;
  vm.disks = {root, data, cd, floppy, scratch};
  vm.nics = {
      {"n1", "Mgmt NIC", "Mgmt", NicModel::kVmxnet3, "VmxNet3",
       "00:50:56:aa:bb:cc", true},
      {"n2", "Data NIC", "Data", NicModel::kE1000e, "", "", false},
      {"n3", "Virtio NIC", "Data", NicModel::kVirtio, "virtio", "", true}};
  vm.serial_ports = {{0, "network", "telnet://:2001"}, {1, "", ""}};
  vm.usb_controllers = {{"xhci"}, {""}};
  vm.sound_cards = {{"hda"}};
  vm.video = Video{"", 16u << 20, 2, true};
  vm.nvram_href = "vm.nvram";
  vm.tpm = Tpm{"2.0"};
  ProductInfo p;
  p.class_id = "com.example";
  p.instance_id = "1";
  p.info = "Product";
  p.product = "Example";
  p.vendor = "Example Inc.";
  p.version = "1.2";
  p.full_version = "1.2.3";
  p.product_url = "https://example.com/p";
  p.vendor_url = "https://example.com";
  p.app_url = "https://${ip}/";
  Property host{"hostname",   "com.example",   "1",      "string",
                "MaxLen(64)", "appliance",     true,     false,
                "Host name",  "The host name", "Network"};
  Property pass{"password",   "com.example", "1",  "password", "",
                std::nullopt, true,          true, "Password", "",
                "Network"};
  Property debug{"debug", "com.example", "1", "boolean", "", "false",
                 false,   false,         "",  "",        ""};
  p.properties = {host, pass, debug};
  vm.products = {p};
  vm.eulas = {"Be nice.\nReally."};
  vm.environment_transport = "iso com.vmware.guestInfo";
  vm.extra_config = {{"svga.autodetect", "TRUE"}};
  vm.vmware_config = {{"tools.syncTimeWithHost", "false"}};
  a.systems.push_back(vm);
  return a;
}

void ExpectLosslessRoundTrip(const ApplianceSpec& a) {
  for (int major : {1, 2}) {
    CAPTURE(major);
    Diagnostics diag;
    auto xml = FormatOvfDescriptor(a, {major}, &diag);
    REQUIRE_OK(xml);
    CHECK(SchemaErrors(*xml, major) == "");
    auto back = ParseOvfDescriptor(*xml, {}, nullptr);
    REQUIRE_OK(back);
    back->ovf_version.clear();
    std::string got = DumpAppliance(*back);
    std::string want = DumpAppliance(WithOvfDefaults(a));
    CHECK(got == want);
    CHECK(back->systems.at(0).eulas == a.systems.at(0).eulas);
  }
}

TEST_CASE("model round trip: a machine using every field") {
  ApplianceSpec a = RichAppliance();
  ExpectLosslessRoundTrip(a);
  // Defaults left nothing to fill in this model but what OVF derives.
  ApplianceSpec d = WithOvfDefaults(a);
  CHECK(d.systems[0].system_type == "vmx-19");
  CHECK(d.systems[0].os.cim_id == 94);
}

TEST_CASE("model round trip: a collection of two machines with a delta disk") {
  ApplianceSpec a = RichAppliance();
  VmSpec second;
  second.id = "vm-2";
  second.name = "Second";
  second.vcpus = 1;
  second.memory_bytes = 512u << 20;
  second.firmware = Firmware::kBios;
  second.controllers = {
      {"c", ControllerKind::kScsi, ControllerModel::kLsiLogic, "", 0}};
  Disk base;
  base.id = "base";
  base.capacity = kGiB;
  base.source.disk_id = "base-disk";
  base.source.href = "base.vmdk";
  base.source.format = ImageFormat::kVmdkStreamOptimized;
  Disk delta;
  delta.id = "delta";
  delta.label = "Delta";
  delta.capacity = kGiB;
  delta.controller_id = "c";
  delta.unit = 0;
  delta.parent_id = "base";
  delta.source.disk_id = "delta-disk";
  delta.source.href = "delta.vmdk";
  delta.source.format = ImageFormat::kVmdkStreamOptimized;
  second.disks = {base, delta};
  a.systems.push_back(second);
  a.products.push_back(a.systems[0].products[0]);
  a.eulas = {"Collection licence"};
  a.annotation = "Two machines";
  a.startup = {{"vm-1", 1, 30, std::nullopt, true, "powerOn", "guestShutdown"},
               {"vm-2", 2, std::nullopt, 10, false, "", ""}};
  // Generated file ids for the hrefs the model gives without one.
  a.files.push_back({"file5", "base.vmdk", std::nullopt, "", std::nullopt});
  a.files.push_back({"file6", "delta.vmdk", std::nullopt, "", std::nullopt});
  a.systems[1].disks[0].source.file_id = "file5";
  a.systems[1].disks[1].source.file_id = "file6";
  ExpectLosslessRoundTrip(a);
}

TEST_CASE("model round trip: a sparse model (as from libvirt) gets defaults") {
  ApplianceSpec a;
  VmSpec vm;
  vm.name = "from-libvirt";
  vm.vcpus = 2;
  vm.memory_bytes = 2 * kGiB;
  vm.firmware = Firmware::kEfi;
  vm.os.libosinfo_id = "win10";
  vm.controllers = {
      {"sata0", ControllerKind::kSata, ControllerModel::kAhci, "", 0}};
  Disk d;
  d.id = "vda";
  d.capacity = 10 * kGiB;
  d.controller_id = "sata0";
  d.unit = 0;
  d.source.href = "from-libvirt-disk1.vmdk";
  d.source.format = ImageFormat::kVmdkStreamOptimized;
  vm.disks = {d};
  vm.nics = {{"net0", "", "default", NicModel::kE1000e, "", "52:54:00:12:34:56",
              true}};
  a.systems.push_back(vm);
  a.networks = {{"default", ""}};
  for (int major : {1, 2}) {
    auto xml = FormatOvfDescriptor(a, {major}, nullptr);
    REQUIRE_OK(xml);
    CHECK(SchemaErrors(*xml, major) == "");
    auto back = ParseOvfDescriptor(*xml, {}, nullptr);
    REQUIRE_OK(back);
    const VmSpec& b = back->systems.at(0);
    CHECK(b.name == "from-libvirt");
    CHECK(b.os.vmware_os_type == "windows9_64Guest");  // from libosinfo win10
    CHECK(b.os.libosinfo_id == "win10");
    CHECK(b.system_type == "vmx-10");
    CHECK(b.firmware == Firmware::kEfi);
    CHECK(b.disks.at(0).source.href == "from-libvirt-disk1.vmdk");
    CHECK(b.disks.at(0).capacity == 10 * kGiB);
    CHECK(b.nics.at(0).mac == "52:54:00:12:34:56");
    // Stable: a second pass changes nothing.
    auto again = FormatOvfDescriptor(*back, {major}, nullptr);
    REQUIRE_OK(again);
    CHECK(*again == *xml);
  }
}

TEST_CASE("model round trip: what the writer refuses") {
  ApplianceSpec a = RichAppliance();
  CHECK(FormatOvfDescriptor(a, {3}, nullptr).status().code() ==
        ErrorCode::kUsage);
  a.systems[0].disks[0].capacity.reset();
  auto r = FormatOvfDescriptor(a, {1}, nullptr);
  CHECK(r.status().code() == ErrorCode::kUsage);
  a = RichAppliance();
  a.files[0].href = "disk#1.vmdk";
  a.systems[0].disks[0].source.href = "disk#1.vmdk";
  CHECK(FormatOvfDescriptor(a, {1}, nullptr).status().code() ==
        ErrorCode::kUsage);
}

}  // namespace
}  // namespace ova2virt
