// Explicit checks of what the reader makes of specific corpus files and of
// small descriptors built here for the cases the corpus lacks.
#include "core/vmspec_dump.h"
#include "ovf/ovf_reader.h"
#include "ovf/vmx_reader.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

ApplianceSpec ReadCorpus(std::string_view name, Diagnostics* diag = nullptr,
                         const OvfReadOptions& options = {}) {
  auto r = ParseOvfDescriptor(
      testing::ReadFileOrDie(testing::CorpusPath("ovf/" + std::string(name))),
      options, diag);
  REQUIRE_OK(r);
  return std::move(r).value();
}

const Controller& ControllerOf(const VmSpec& vm, const Disk& d) {
  const Controller* c = vm.FindController(d.controller_id);
  REQUIRE(c != nullptr);
  return *c;
}

const Disk& FindDisk(const VmSpec& vm, std::string_view id) {
  for (const Disk& d : vm.disks) {
    if (d.id == id) return d;
  }
  FAIL("no disk " << id);
  return vm.disks.front();
}

TEST_CASE("checks: ovftool 'byte * 2^20' memory and 2^30 disk capacity") {
  ApplianceSpec a = ReadCorpus("virtv2v_test-i-ova.ovf");
  REQUIRE(a.systems.size() == 1);
  const VmSpec& vm = a.systems[0];
  CHECK(vm.vcpus == 1u);
  CHECK(vm.memory_bytes == 2048 * kMiB);
  CHECK(vm.firmware == Firmware::kBios);
  const Disk& d = FindDisk(vm, "9");
  CHECK(d.capacity == 32 * kGiB);
  CHECK(d.source.href == "test-ova.vmdk");
  CHECK(d.source.format == ImageFormat::kVmdkStreamOptimized);
  CHECK(ControllerOf(vm, d).model == ControllerModel::kLsiLogicSas);
  REQUIRE(vm.nics.size() == 1);
  CHECK(vm.nics[0].network == "VM Network");
  CHECK(vm.nics[0].model == NicModel::kE1000);
}

TEST_CASE("checks: VirtualBox 'MegaBytes', IDE ICH6 and SATA AHCI") {
  const VmSpec vm =
      ReadCorpus("govmomi_vbox5_all_storage_controllers.ovf").systems.at(0);
  CHECK(vm.memory_bytes == 384 * kMiB);
  CHECK(vm.system_type == "virtualbox-2.2");
  CHECK(ControllerOf(vm, FindDisk(vm, "10")).model == ControllerModel::kIch6);
  const Disk& sata = FindDisk(vm, "11");
  CHECK(ControllerOf(vm, sata).kind == ControllerKind::kSata);
  CHECK(sata.unit == 1);
  CHECK(sata.capacity == 10 * kGiB);
}

TEST_CASE("checks: vmw:CoresPerSocket gives the topology") {
  const VmSpec vm =
      ReadCorpus("govmomi_multi-core-vm_coresPerSocket.ovf").systems.at(0);
  CHECK(vm.vcpus == 4u);
  CHECK(vm.cores_per_socket == 2u);
  CHECK(vm.Sockets() == 2u);
  CHECK(vm.memory_bytes == 4 * kMiB);
  CHECK(vm.disks.at(0).capacity == 2 * kMiB);  // "byte * 2^20" capacity
}

TEST_CASE("checks: EFI, secure boot, vTPM and NVRAM") {
  const VmSpec hw20 = ReadCorpus("govmomi_esx-vm-hw20-efi.ovf").systems.at(0);
  CHECK(hw20.firmware == Firmware::kEfi);
  CHECK(hw20.system_type == "vmx-20");
  const VmSpec tpm =
      ReadCorpus("govmomi_vtpm-spec-with-nvram.ovf").systems.at(0);
  CHECK(tpm.firmware == Firmware::kEfi);
  CHECK(tpm.secure_boot);
  REQUIRE(tpm.tpm.has_value());
  CHECK(tpm.nvram_href == "vtpm-spec-with-nvram-2.nvram");
  CHECK(tpm.video->vram_bytes == 8192u * 1024);
  const VmSpec v2v =
      ReadCorpus("virtv2v_test-i-ova-formats_efi.ovf").systems.at(0);
  CHECK(v2v.firmware == Firmware::kEfi);
  const VmSpec pve =
      ReadCorpus("pve_Win10-Liz_no_default_ns.ovf").systems.at(0);
  CHECK(pve.firmware == Firmware::kEfi);
  // rasd: declared on every element instead of the root still resolves.
  CHECK(pve.memory_bytes.has_value());
  CHECK(FindDisk(pve, pve.disks.at(0).id).capacity == 128 * kGiB);
}

TEST_CASE("checks: NVMe controller by subtype, in OVF and in VMX") {
  // The corpus has no OVF with NVMe; VMware writes it as ResourceType 20
  // with subtype vmware.nvme.controller (virt-v2v reads that as SATA).
  std::string ovf = R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
      xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
      xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
    <References><File ovf:href="d.vmdk" ovf:id="f1"/></References>
    <DiskSection><Info/><Disk ovf:capacity="8" ovf:capacityAllocationUnits="byte * 2^30"
       ovf:diskId="d1" ovf:fileRef="f1"/></DiskSection>
    <VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection><Info/>
      <Item><rasd:ElementName>NVME</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>vmware.nvme.controller</rasd:ResourceSubType>
        <rasd:ResourceType>20</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>d</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
    </VirtualHardwareSection></VirtualSystem></Envelope>)";
  auto a = ParseOvfDescriptor(ovf, {}, nullptr);
  REQUIRE_OK(a);
  const VmSpec& vm = a->systems.at(0);
  CHECK(ControllerOf(vm, vm.disks.at(0)).kind == ControllerKind::kNvme);
  CHECK(vm.disks.at(0).capacity == 8 * kGiB);

  auto vmx = ParseVmx(testing::ReadFileOrDie(testing::CorpusPath(
                          "vmx/virtv2v_test-i-vmx-6_nvme.vmx")),
                      nullptr);
  REQUIRE_OK(vmx);
  const VmSpec& v = vmx->systems.at(0);
  const Disk& disk = FindDisk(v, "nvme0:0");
  CHECK(ControllerOf(v, disk).kind == ControllerKind::kNvme);
  CHECK(disk.source.href == "nvme-disk.vmdk");
  CHECK(!disk.capacity.has_value());  // only the .vmdk knows
}

TEST_CASE("checks: a multi-VM collection with deployment options") {
  Diagnostics diag;
  ApplianceSpec a = ReadCorpus("govmomi_ImportOvf2014_complete_vsc.ovf", &diag);
  CHECK(a.name == "Test vApp");
  REQUIRE(a.systems.size() == 2);
  CHECK(a.systems[0].system_type == "vmx-07");
  CHECK(a.systems[1].system_type == "vmx-08");
  CHECK(a.deployment == "medium");  // ovf:default="true"
  REQUIRE(a.startup.size() == 2);
  CHECK(a.startup[1].stop_action == "guestShutdown");
  CHECK(a.startup[1].wait_for_guest);
  REQUIRE(a.products.size() == 1);
  CHECK(a.products[0].properties.size() == 4);
  CHECK(a.products[0].properties[1].category == "Network properties");
  CHECK(a.eulas == std::vector<std::string>{"Contents of vApp license"});
  CHECK(a.annotation == "Annotation on vApp");
  // Two items share one DiskSection disk; the second is the boot disk.
  const VmSpec& vs1 = a.systems[0];
  CHECK(FindDisk(vs1, "8").source.disk_id == "vmdisk1");
  CHECK(FindDisk(vs1, "9").source.disk_id == "vmdisk1");
  CHECK(FindDisk(vs1, "9").boot_order == 1);
  CHECK(vs1.os.vmware_os_type == "centosGuest");
  CHECK(diag.Has("ovf.unknown-required-section"));  // vServiceDependency
}

TEST_CASE("checks: choosing a deployment option") {
  ApplianceSpec def = ReadCorpus("cot_csr1000v.ovf");
  CHECK(def.deployment == "1CPU-4GB");
  CHECK(def.systems[0].vcpus == 1u);
  CHECK(def.systems[0].memory_bytes == 4 * kGiB);
  ApplianceSpec big = ReadCorpus("cot_csr1000v.ovf", nullptr, {"4CPU-8GB"});
  CHECK(big.deployment == "4CPU-8GB");
  CHECK(big.systems[0].vcpus == 4u);
  CHECK(big.systems[0].memory_bytes == 8 * kGiB);
  CHECK(big.systems[0].environment_transport == "iso");
  auto bad = ParseOvfDescriptor(
      testing::ReadFileOrDie(testing::CorpusPath("ovf/cot_csr1000v.ovf")),
      {"huge"}, nullptr);
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == ErrorCode::kUsage);
  CHECK(bad.status().message().find("'4CPU-8GB'") != std::string::npos);
}

TEST_CASE("checks: OVF 0.9 and OVF 2.0 descriptors") {
  const VmSpec v09 = ReadCorpus("cot_v0.9.ovf").systems.at(0);
  CHECK(v09.memory_bytes == 8192 * kMiB);
  CHECK(v09.description.find("version 0.9 OVF.\n\nAre you") !=
        std::string::npos);
  CHECK(v09.eulas.size() == 1);
  CHECK(ControllerOf(v09, FindDisk(v09, "7")).model ==
        ControllerModel::kLsiLogic);
  const VmSpec joomla =
      ReadCorpus("vbox_testcase_joomla-1.1.4_ovf09.ovf").systems.at(0);
  CHECK(joomla.disks.size() == 2);  // unqualified 0.9 elements
  ApplianceSpec v2 = ReadCorpus("untangle_virtualbox-ovf20.ovf.tpl");
  const VmSpec& u = v2.systems.at(0);
  CHECK(v2.ovf_version == "2.0");
  CHECK(ControllerOf(u, u.disks.at(0)).model == ControllerModel::kAhci);
  CHECK(!u.disks.at(0).capacity.has_value());  // "+SIZE+" placeholder
  CHECK(u.nics.size() == 2);
  ApplianceSpec dmtf =
      ReadCorpus("govmomi_dmtf-dsp0243-2.1.1-example3_vsc.ovf");
  CHECK(dmtf.systems.at(1).nics.at(0).mac == "00:16:8b:db:00:5f");
  CHECK(dmtf.systems.at(0).disks.at(0).capacity == kGiB);  // byte*2^30
}

TEST_CASE("checks: properties, EULA and localized strings") {
  const VmSpec vm = ReadCorpus("govmomi_property-types.ovf").systems.at(0);
  REQUIRE(!vm.products.empty());
  bool saw_password = false, saw_qualifiers = false;
  for (const Property& p : vm.products[0].properties) {
    saw_password |= p.password;
    saw_qualifiers |= !p.qualifiers.empty();
  }
  CHECK(saw_qualifiers);
  const VmSpec photon =
      ReadCorpus("govmomi_photon5_ovftool-4.3.ovf").systems.at(0);
  CHECK(!photon.eulas.empty());
  CHECK(photon.eulas[0].size() > 100);
  (void)saw_password;

  std::string l10n = R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
      xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xml:lang="en">
    <References/>
    <VirtualSystem ovf:id="vm"><Info ovf:msgid="info"/><Name ovf:msgid="n"/>
      <AnnotationSection><Info/><Annotation ovf:msgid="a">Default text</Annotation></AnnotationSection>
    </VirtualSystem>
    <Strings xml:lang="de"><Msg ovf:msgid="n">Maschine</Msg></Strings>
    <Strings xml:lang="en"><Msg ovf:msgid="n">Machine</Msg><Msg ovf:msgid="a">Other</Msg></Strings>
  </Envelope>)";
  auto a = ParseOvfDescriptor(l10n, {}, nullptr);
  REQUIRE_OK(a);
  CHECK(a->systems[0].name == "Machine");  // the envelope's language
  CHECK(a->systems[0].description == "Default text");  // element text wins
}

TEST_CASE("checks: disk capacity from a ${property}") {
  std::string ovf = R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1."
      xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1.">
    <References/>
    <DiskSection><Info/><Disk ovf:capacity="${disk_gb}" ovf:capacityAllocationUnits="byte * 2^30"
       ovf:diskId="d1"/></DiskSection>
    <VirtualSystem ovf:id="vm"><Info/>
      <ProductSection><Info/><Property ovf:key="disk_gb" ovf:type="uint16" ovf:value="20"/></ProductSection>
      <VirtualHardwareSection><Info/>
      <Item xmlns:r="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData.">
        <r:ElementName>d</r:ElementName><r:HostResource>ovf:/disk/d1</r:HostResource>
        <r:InstanceID>4</r:InstanceID><r:ResourceType>17</r:ResourceType></Item>
    </VirtualHardwareSection></VirtualSystem></Envelope>)";
  Diagnostics diag;
  auto a = ParseOvfDescriptor(ovf, {}, &diag);
  REQUIRE_OK(a);
  // (The URIs above end with a stray dot, as one producer's do.)
  CHECK(a->ovf_version == "1.0");
  CHECK(a->systems[0].disks.at(0).capacity == 20 * kGiB);
  CHECK(diag.Has("ovf.capacity-from-property"));
}

std::string OneItem(const std::string& item, const std::string& disk = "") {
  return R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
      xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
      xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
    <References/><DiskSection><Info/>)" +
         disk +
         R"(</DiskSection><VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection><Info/>)" +
         item + "</VirtualHardwareSection></VirtualSystem></Envelope>";
}

TEST_CASE("checks: overflowing and absurd sizes are corrupt, not believed") {
  struct Case {
    std::string xml;
    const char* part;
  };
  const Case kCases[] = {
      {OneItem(
           "<Item><rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits>"
           "<rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</"
           "rasd:ResourceType>"
           "<rasd:VirtualQuantity>99999999999</rasd:VirtualQuantity></Item>"),
       "overflows"},
      {OneItem(
           "<Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>"
           "<rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</"
           "rasd:ResourceType>"
           "<rasd:VirtualQuantity>999999999999</rasd:VirtualQuantity></Item>"),
       "not plausible"},
      {OneItem("<Item><rasd:AllocationUnits>byte * 2^99</rasd:AllocationUnits>"
               "<rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</"
               "rasd:ResourceType>"
               "<rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>"),
       "malformed or too large"},
      {OneItem("<Item><rasd:InstanceID>1</"
               "rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>"
               "<rasd:VirtualQuantity>100000</rasd:VirtualQuantity></Item>"),
       "virtual cpus"},
      {OneItem(
           "<Item><rasd:HostResource>ovf:/disk/d</rasd:HostResource>"
           "<rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>17</"
           "rasd:ResourceType></Item>",
           R"(<Disk ovf:diskId="d" ovf:capacity="123456789012345678901234"/>)"),
       "overflows 64 bits"},
      {OneItem(
           "<Item><rasd:HostResource>ovf:/disk/d</rasd:HostResource>"
           "<rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>17</"
           "rasd:ResourceType></Item>",
           R"(<Disk ovf:diskId="d" ovf:capacity="9999999999" ovf:capacityAllocationUnits="byte * 2^30"/>)"),
       "not plausible"},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.part);
    auto r = ParseOvfDescriptor(c.xml, {}, nullptr);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == ErrorCode::kCorrupt);
    CHECK(r.status().message().find(c.part) != std::string::npos);
  }
}

TEST_CASE("checks: counts beyond any real machine are refused") {
  std::string items;
  for (int i = 0; i < 4097; ++i) {
    items +=
        "<Item><rasd:InstanceID>" + std::to_string(i) +
        "</rasd:InstanceID><rasd:ResourceType>23</rasd:ResourceType></Item>";
  }
  auto r = ParseOvfDescriptor(OneItem(items), {}, nullptr);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message().find("more than 4096 items") != std::string::npos);
  // Thousands of copies of one InstanceID: renamed, in linear time.
  items.clear();
  for (int i = 0; i < 4000; ++i) {
    items +=
        "<Item><rasd:InstanceID>x</rasd:InstanceID>"
        "<rasd:ResourceType>21</rasd:ResourceType></Item>";
  }
  auto dup = ParseOvfDescriptor(OneItem(items), {}, nullptr);
  REQUIRE_OK(dup);
  CHECK(dup->systems[0].serial_ports.size() == 4000);
  // A .vmx naming every unit of every controller.
  std::string vmx = "scsi0.present = \"TRUE\"\n";
  for (int u = 0; u <= 256; ++u) {
    vmx += "scsi0:" + std::to_string(u) + ".present = \"TRUE\"\n";
  }
  auto v = ParseVmx(vmx, nullptr);
  REQUIRE_OK(v);
  CHECK(v->systems[0].disks.size() == 257);
}

TEST_CASE("checks: unknown items are kept and warned about, never dropped") {
  Diagnostics diag;
  ApplianceSpec a = ReadCorpus("govmomi_pci-vgpu.ovf", &diag);
  bool kept = false;
  for (const UnknownItem& u : a.systems.at(0).unknown_items) {
    kept |= u.kind.find("vmware.pci.passthrough-vmiop") != std::string::npos;
  }
  CHECK(kept);
  CHECK(diag.Has("ovf.unknown-device"));
}

TEST_CASE("checks: vmx annotation escapes, absent present, defaults") {
  auto a = ParseVmx(R"(displayName = "x"
annotation = "line one|0Aline two|7Cpipe"
memsize = "1024"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsilogic"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "x.vmdk"
scsi0:1.present = "FALSE"
scsi0:1.fileName = "gone.vmdk"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "e1000"
ethernet0.address = "00:50:56:01:02:03"
ide1:0.present = "TRUE"
ide1:0.deviceType = "cdrom-image"
ide1:0.fileName = "install.iso"
)",
                    nullptr);
  REQUIRE_OK(a);
  const VmSpec& vm = a->systems.at(0);
  CHECK(vm.description == "line one\nline two|pipe");
  CHECK(vm.vcpus == 1u);  // VMware's default
  CHECK(vm.firmware == Firmware::kBios);
  CHECK(vm.memory_bytes == 1024 * kMiB);
  CHECK(vm.disks.size() == 2);
  CHECK(FindDisk(vm, "ide1:0").source.format == ImageFormat::kIso);
  CHECK(vm.nics.at(0).mac == "00:50:56:01:02:03");
  CHECK(ParseVmx("", nullptr).status().code() == ErrorCode::kCorrupt);
  CHECK(ParseVmx("\x7f"
                 "ELF\x01\x02",
                 nullptr)
            .status()
            .code() == ErrorCode::kCorrupt);
  CHECK(ParseVmx("memsize = \"99999999999999\"\n", nullptr).status().code() ==
        ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace ova2virt

namespace ova2virt {
namespace {

TEST_CASE("checks: every warning id the readers emit is documented") {
  std::string doc =
      testing::ReadFileOrDie(testing::SourcePath("docs/warnings.md"));
  int ids = 0;
  for (const char* file :
       {"ovf/ovf_reader.cc", "ovf/ovf_hardware.cc", "ovf/ovf_sections.cc",
        "ovf/ovf_writer.cc", "ovf/ovf_write_items.cc", "ovf/vmx_reader.cc",
        "pipeline/describe.cc"}) {
    std::string src = testing::ReadFileOrDie(testing::SourcePath(file));
    for (size_t p = 0; (p = src.find('"', p)) != std::string::npos; ++p) {
      size_t e = src.find('"', p + 1);
      if (e == std::string::npos) break;
      std::string s = src.substr(p + 1, e - p - 1);
      p = e;
      if ((s.rfind("ovf.", 0) != 0 && s.rfind("vmx.", 0) != 0) ||
          s.find_first_not_of("abcdefghijklmnopqrstuvwxyz.-") !=
              std::string::npos) {
        continue;
      }
      CAPTURE(file);
      CAPTURE(s);
      CHECK(doc.find("`" + s + "`") != std::string::npos);
      ++ids;
    }
  }
  CHECK(ids >= 40);
}

}  // namespace
}  // namespace ova2virt
