#include "virtdriver/domain_xml.h"

#include "core/xml.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

// A minimal machine the formatter accepts: one SATA disk bound to a file.
VmSpec Minimal() {
  VmSpec vm;
  vm.name = "mini";
  vm.vcpus = 1;
  vm.memory_bytes = 64ull << 20;
  vm.firmware = Firmware::kBios;
  Controller c;
  c.id = "sata0";
  c.kind = ControllerKind::kSata;
  c.model = ControllerModel::kAhci;
  vm.controllers = {c};
  Disk d;
  d.id = "d0";
  d.controller_id = "sata0";
  d.unit = 0;
  vm.disks = {d};
  return vm;
}

DomainOptions Bound() {
  DomainOptions o;
  o.disks = {{"d0", "/images/mini.qcow2", "", "", "qcow2"}};
  return o;
}

Result<XmlElement> FormatAndParse(const VmSpec& vm, const DomainOptions& o,
                                  Diagnostics* d = nullptr) {
  ASSIGN_OR_RETURN(std::string xml, FormatDomainXml(vm, o, d));
  return ParseXml(xml);
}

TEST_CASE("domain xml: target names follow libvirt's scheme") {
  CHECK(DiskTargetName("sd", 0) == "sda");
  CHECK(DiskTargetName("sd", 25) == "sdz");
  CHECK(DiskTargetName("sd", 26) == "sdaa");
  CHECK(DiskTargetName("vd", 27) == "vdab");
  CHECK(DiskTargetName("hd", 2) == "hdc");
  CHECK(DiskTargetName("sd", 26 + 26 * 26) == "sdaaa");
}

TEST_CASE("domain xml: the uuid libvirt gave a domain") {
  // As `virsh dumpxml` shows a domain defined without a uuid (test:///).
  CHECK(DomainUuid("<domain type='qemu'>\n  <name>web</name>\n"
                   "  <uuid> 6695eb01-f6a4-8304-79aa-97f2502e193f </uuid>\n"
                   "  <memory unit='KiB'>1048576</memory>\n</domain>") ==
        "6695eb01-f6a4-8304-79aa-97f2502e193f");
  CHECK(DomainUuid("<domain><name>x</name></domain>").empty());
  CHECK(DomainUuid("<domain><devices><uuid>no</uuid></devices></domain>")
            .empty());
  CHECK(DomainUuid("not xml").empty());
  CHECK(DomainUuid("").empty());
}

TEST_CASE("domain xml: libosinfo ids map to uris by family") {
  CHECK(LibosinfoUri("ubuntu22.04") == "http://ubuntu.com/ubuntu/22.04");
  CHECK(LibosinfoUri("debian12") == "http://debian.org/debian/12");
  CHECK(LibosinfoUri("centos-stream9") == "http://centos.org/centos-stream/9");
  CHECK(LibosinfoUri("centos7.0") == "http://centos.org/centos/7.0");
  CHECK(LibosinfoUri("win2k19") == "http://microsoft.com/win/2k19");
  CHECK(LibosinfoUri("http://x.org/y/1") == "http://x.org/y/1");
  CHECK(LibosinfoUri("plan9").empty());
  CHECK(LibosinfoUri("ubuntu").empty());
  CHECK(LibosinfoUri("http://x.org/\"<evil>").empty());
}

TEST_CASE("domain xml: missing essentials are usage errors") {
  VmSpec vm = Minimal();
  DomainOptions o = Bound();
  SUBCASE("no name") {
    vm.name.clear();
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() == ErrorCode::kUsage);
  }
  SUBCASE("a slash in the name") {
    o.name = "a/b";
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() == ErrorCode::kUsage);
  }
  SUBCASE("no memory") {
    vm.memory_bytes.reset();
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() == ErrorCode::kUsage);
  }
  SUBCASE("a disk without storage") {
    o.disks.clear();
    auto r = FormatDomainXml(vm, o, nullptr);
    CHECK(r.status().code() == ErrorCode::kUsage);
    CHECK(r.status().message().find("'d0'") != std::string::npos);
  }
  SUBCASE("a relative image path") {
    o.disks[0].path = "mini.qcow2";
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() == ErrorCode::kUsage);
  }
  SUBCASE("a bad uuid") {
    o.uuid = "not-a-uuid";
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() == ErrorCode::kUsage);
  }
  SUBCASE("a nic bound to nothing") {
    Nic n;
    n.id = "n";
    vm.nics = {n};
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() == ErrorCode::kUsage);
  }
}

TEST_CASE("domain xml: what qemu cannot do is refused, not dropped") {
  VmSpec vm = Minimal();
  DomainOptions o = Bound();
  SUBCASE("ide on q35") {
    vm.controllers[0].kind = ControllerKind::kIde;
    auto r = FormatDomainXml(vm, o, nullptr);
    CHECK(r.status().code() == ErrorCode::kUnsupported);
    o.machine = "pc";
    CHECK_OK(FormatDomainXml(vm, o, nullptr));
  }
  SUBCASE("buslogic") {
    vm.controllers[0].kind = ControllerKind::kScsi;
    vm.controllers[0].model = ControllerModel::kBusLogic;
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() ==
          ErrorCode::kUnsupported);
  }
  SUBCASE("nvme") {
    vm.controllers[0].kind = ControllerKind::kNvme;
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() ==
          ErrorCode::kUnsupported);
  }
  SUBCASE("a sata port beyond ahci's six") {
    vm.disks[0].unit = 6;
    auto r = FormatDomainXml(vm, o, nullptr);
    CHECK(r.status().code() == ErrorCode::kUnsupported);
    CHECK(r.status().message().find("unit 6") != std::string::npos);
  }
  SUBCASE("two disks on one address") {
    Disk d = vm.disks[0];
    d.id = "d1";
    vm.disks.push_back(d);
    o.disks.push_back({"d1", "/images/d1.raw", "", "", "raw"});
    auto r = FormatDomainXml(vm, o, nullptr);
    CHECK(r.status().code() == ErrorCode::kUnsupported);
    CHECK(r.status().message().find("share") != std::string::npos);
  }
  SUBCASE("a vmxnet2 nic") {
    Nic n;
    n.id = "n";
    n.model = NicModel::kVmxnet2;
    vm.nics = {n};
    o.nics = {{"n", NicBinding::kNetwork, "default"}};
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() ==
          ErrorCode::kUnsupported);
  }
  SUBCASE("secure boot without uefi") {
    vm.secure_boot = true;
    CHECK(FormatDomainXml(vm, o, nullptr).status().code() ==
          ErrorCode::kUnsupported);
  }
}

TEST_CASE("domain xml: disks without a unit take the first free one") {
  VmSpec vm = Minimal();
  DomainOptions o = Bound();
  for (int i = 1; i <= 2; ++i) {
    Disk d = vm.disks[0];
    d.id = "d" + std::to_string(i);
    d.unit.reset();
    vm.disks.push_back(d);
    o.disks.push_back({d.id, "/images/" + d.id + ".raw", "", "", "raw"});
  }
  auto root = FormatAndParse(vm, o);
  REQUIRE_OK(root);
  std::vector<std::string> units;
  for (const XmlElement* d : root->Child("", "devices")->Children("", "disk")) {
    units.push_back(*d->Child("", "address")->Attribute("", "unit"));
  }
  CHECK(units == std::vector<std::string>{"0", "1", "2"});
}

TEST_CASE("domain xml: boot orders become distinct and keep their order") {
  VmSpec vm = Minimal();
  DomainOptions o = Bound();
  vm.disks[0].boot_order = 5;
  Disk cd;
  cd.id = "cd";
  cd.device = DiskDevice::kCdrom;
  cd.controller_id = "sata0";
  cd.unit = 1;
  cd.boot_order = 2;
  vm.disks.push_back(cd);
  auto root = FormatAndParse(vm, o);
  REQUIRE_OK(root);
  auto disks = root->Child("", "devices")->Children("", "disk");
  CHECK(disks[0]->Child("", "boot")->Attribute("", "order") == "2");
  CHECK(disks[1]->Child("", "boot")->Attribute("", "order") == "1");
}

TEST_CASE("domain xml: uefi asks for the firmware the source had") {
  VmSpec vm = Minimal();
  vm.firmware = Firmware::kEfi;
  auto root = FormatAndParse(vm, Bound());
  REQUIRE_OK(root);
  const XmlElement* os = root->Child("", "os");
  CHECK(os->Attribute("", "firmware") == "efi");
  // Without secure boot: both features off, so libvirt does not pick the
  // OVMF build with Microsoft's keys enrolled.
  for (const XmlElement* f :
       os->Child("", "firmware")->Children("", "feature")) {
    CHECK(f->Attribute("", "enabled") == "no");
  }
  vm.secure_boot = true;
  root = FormatAndParse(vm, Bound());
  REQUIRE_OK(root);
  CHECK(root->Child("", "features")->Child("", "smm") != nullptr);
}

TEST_CASE("domain xml: password properties never reach the xml") {
  VmSpec vm = Minimal();
  ProductInfo p;
  Property pw;
  pw.key = "pw";
  pw.password = true;
  pw.default_value = "hunter2";
  p.properties = {pw};
  vm.products = {p};
  auto xml = FormatDomainXml(vm, Bound(), nullptr);
  REQUIRE_OK(xml);
  CHECK(xml->find("hunter2") == std::string::npos);
  auto back = ParseDomainXml(*xml, nullptr);
  REQUIRE_OK(back);
  CHECK(back->products[0].properties[0].password);
  CHECK(!back->products[0].properties[0].default_value);
}

// The import's view of an appliance with ovf:transport="iso": its disk,
// the OVF environment CD it made, and a property with the value given.
VmSpec WithEnvironment() {
  VmSpec vm = Minimal();
  vm.environment_transport = "iso";
  Disk cd;
  cd.id = "ovf-env";
  cd.device = DiskDevice::kCdrom;
  cd.controller_id = "sata0";
  cd.unit = 1;
  vm.disks.push_back(cd);
  ProductInfo p;
  Property host;
  host.key = "hostname";
  host.type = "string";
  host.user_configurable = true;
  host.default_value = "web-new";
  p.properties = {host};
  vm.products = {p};
  return vm;
}

TEST_CASE("domain xml: the environment transport and its cd round-trip") {
  VmSpec vm = WithEnvironment();
  DomainOptions o = Bound();
  o.disks.push_back({"ovf-env", "/images/mini-ovf-env.iso", "", "", "raw"});
  o.environment_disk_id = "ovf-env";
  auto xml = FormatDomainXml(vm, o, nullptr);
  REQUIRE_OK(xml);
  auto back = ParseDomain(*xml, nullptr);
  REQUIRE_OK(back);
  CHECK(back->spec.environment_transport == "iso");
  CHECK(back->options.environment_disk_id == "sdb");
  REQUIRE(back->spec.disks.size() == 2);
  CHECK(back->spec.disks[1].id == "sdb");
  CHECK(back->spec.disks[1].device == DiskDevice::kCdrom);
  REQUIRE(back->spec.products.size() == 1);
  REQUIRE(back->spec.products[0].properties.size() == 1);
  const Property& p = back->spec.products[0].properties[0];
  CHECK(p.key == "hostname");
  CHECK(p.type == "string");
  CHECK(p.user_configurable);
  CHECK(p.default_value == std::optional<std::string>("web-new"));
  // Formatting what was read gives the same document.
  auto again = FormatDomainXml(back->spec, back->options, nullptr);
  REQUIRE_OK(again);
  CHECK(*again == *xml);

  // Media the user put in the drive since is not the environment CD.
  std::string swapped = *xml;
  size_t at = swapped.find("/images/mini-ovf-env.iso");
  REQUIRE(at != std::string::npos);
  swapped.replace(at, 24, "/iso/install-media.iso");
  auto other = ParseDomain(swapped, nullptr);
  REQUIRE_OK(other);
  CHECK(other->spec.environment_transport == "iso");
  CHECK(other->options.environment_disk_id.empty());

  // A pool volume is recognised by pool and volume.
  DomainOptions v = Bound();
  v.disks.push_back({"ovf-env", "/var/lib/libvirt/images/mini-ovf-env.iso",
                     "default", "mini-ovf-env.iso", "raw"});
  v.environment_disk_id = "ovf-env";
  auto vxml = FormatDomainXml(vm, v, nullptr);
  REQUIRE_OK(vxml);
  auto vback = ParseDomain(*vxml, nullptr);
  REQUIRE_OK(vback);
  CHECK(vback->options.environment_disk_id == "sdb");

  // No transport: nothing recorded, nothing found.
  VmSpec plain = Minimal();
  auto pxml = FormatDomainXml(plain, Bound(), nullptr);
  REQUIRE_OK(pxml);
  CHECK(pxml->find("environment") == std::string::npos);
}

TEST_CASE("domain xml: parsing libvirt's own output (virt-install style)") {
  // As `virsh dumpxml` prints a virt-install guest: implicit controllers,
  // pci addresses, sizes in KiB, a volume disk and a file disk.
  const char* xml = R"(<domain type='kvm' id='3'>
  <name>guest</name>
  <uuid>2f1b0e3c-9a45-4e0c-8f7b-1f2e3d4c5b6a</uuid>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/guest_VARS.fd</nvram>
  </os>
  <cpu mode='host-passthrough'><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source pool='default' volume='guest.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/isos/install.iso'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
    <controller type='sata' index='0'/>
    <controller type='usb' index='0' model='qemu-xhci' ports='15'/>
    <controller type='pci' index='0' model='pcie-root'/>
    <interface type='bridge'>
      <mac address='52:54:00:AB:CD:EF'/>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
    <interface type='direct'>
      <source dev='eth0' mode='bridge'/>
    </interface>
    <serial type='pty'><target type='isa-serial' port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <video><model type='virtio' heads='1' primary='yes'/></video>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
  </devices>
</domain>)";
  Diagnostics d;
  auto parsed = ParseDomain(xml, &d);
  REQUIRE_OK(parsed);
  const VmSpec& vm = parsed->spec;
  CHECK(vm.name == "guest");
  CHECK(vm.memory_bytes == (2ull << 30));
  CHECK(vm.vcpus == 2u);
  CHECK(vm.cores_per_socket == 2u);
  CHECK(vm.firmware == Firmware::kEfi);
  CHECK(vm.secure_boot);
  CHECK(parsed->options.machine == "q35");
  REQUIRE(vm.disks.size() == 2);
  CHECK(vm.disks[0].source.pool == "default");
  CHECK(vm.disks[0].source.volume == "guest.qcow2");
  CHECK(vm.disks[0].source.format == ImageFormat::kQcow2);
  CHECK(vm.FindController(vm.disks[0].controller_id)->kind ==
        ControllerKind::kVirtio);
  CHECK(vm.disks[1].device == DiskDevice::kCdrom);
  CHECK(vm.disks[1].source.href == "/isos/install.iso");
  CHECK(vm.disks[1].unit == 1);  // sdb, derived from the name
  REQUIRE(vm.nics.size() == 2);
  CHECK(vm.nics[0].mac == "52:54:00:ab:cd:ef");
  CHECK(vm.nics[0].model == NicModel::kVirtio);
  CHECK(parsed->options.nics[0].kind == NicBinding::kBridge);
  CHECK(d.Has("domain.nic-type-unsupported"));
  CHECK(vm.usb_controllers.size() == 1);
  CHECK(vm.tpm.has_value());
  CHECK(vm.video->model == "virtio");
  // And it formats again (the direct nic is left out, as warned).
  auto again = FormatDomainXml(vm, parsed->options, nullptr);
  CHECK_OK(again);
}

TEST_CASE("domain xml: hostile input is refused with a position") {
  for (const char* bad : {
           "<domain><name>x</name><memory unit='KiB'>99999999999999999999"
           "</memory></domain>",
           "<domain><name>x</name><memory unit='EiB'>1</memory></domain>",
           "<domain><name>x</name><vcpu>0</vcpu></domain>",
           "<domain><name>x</name><devices><disk device='disk'><target "
           "dev='sda' bus='sata'/><address type='drive' controller='-1'/>"
           "</disk></devices></domain>",
           "<domain><name>x</name><devices><disk device='tape'/></devices>"
           "</domain>",
           "<notadomain/>",
           "<domain/>",
       }) {
    INFO(bad);
    auto r = ParseDomainXml(bad, nullptr);
    CHECK(r.status().code() == ErrorCode::kCorrupt);
  }
}

}  // namespace
}  // namespace ova2virt
