#include "pipeline/export_policy.h"

#include <set>

#include "ovf/ovf_writer.h"
#include "pipeline/export_os.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

// A domain with `devices` (and `extra` at the top level), as libvirt
// would hand it over.
std::string Domain(const std::string& devices, const std::string& extra = "",
                   const std::string& os = "") {
  return "<domain type='kvm'><name>web01</name><uuid>"
         "4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"
         "<memory unit='MiB'>1024</memory><vcpu>2</vcpu>" +
         extra + "<os" + os +
         "><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>"
         "<devices>" +
         devices + "</devices></domain>";
}

std::string FileDisk(const std::string& path, const std::string& dev,
                     const std::string& bus, const std::string& format,
                     const std::string& extra = "") {
  return "<disk type='file' device='disk'><driver name='qemu' type='" + format +
         "'/><source file='" + path + "'/><target dev='" + dev + "' bus='" +
         bus + "'/>" + extra + "</disk>";
}

std::string Nic(const std::string& model, const std::string& mac) {
  return "<interface type='network'><mac address='" + mac +
         "'/><source network='default'/><model type='" + model +
         "'/></interface>";
}

std::string Linux() {
  return "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo."
         "org/xmlns/libvirt/domain/1.0'><libosinfo:os id='http://debian.org/"
         "debian/12'/></libosinfo:libosinfo></metadata>";
}
std::string Windows() {
  return "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo."
         "org/xmlns/libvirt/domain/1.0'><libosinfo:os id='http://microsoft."
         "com/win/10'/></libosinfo:libosinfo></metadata>";
}

struct Exported {
  Result<ExportMachine> machine = FailedError("not run");
  Diagnostics diags;
};

Exported Export(const std::string& xml, ExportPolicy policy = {}) {
  Exported e;
  auto parsed = ParseDomain(xml, &e.diags);
  REQUIRE_OK(parsed);
  e.machine = ApplyExportPolicy(*parsed, policy, &e.diags);
  return e;
}

const Controller& ControllerOf(const VmSpec& vm, const Disk& d) {
  const Controller* c = vm.FindController(d.controller_id);
  REQUIRE(c != nullptr);
  return *c;
}

std::set<std::string> Ids(const Diagnostics& d) {
  std::set<std::string> out;
  for (const Diagnostic& x : d.items()) out.insert(x.id);
  return out;
}

TEST_CASE("export policy: VMware's own devices are kept as they are") {
  Exported e = Export(Domain(
      "<controller type='scsi' index='0' model='lsilogic'/>"
      "<controller type='scsi' index='1' model='lsisas1068'/>"
      "<controller type='scsi' index='2' model='vmpvscsi'/>" +
          FileDisk("/img/a.qcow2", "sda", "scsi", "qcow2",
                   "<address type='drive' controller='0' bus='0' target='0' "
                   "unit='3'/>") +
          FileDisk("/img/b.raw", "sdb", "scsi", "raw",
                   "<address type='drive' controller='1' bus='0' target='0' "
                   "unit='0'/>") +
          FileDisk("/img/c.raw", "sdc", "scsi", "raw",
                   "<address type='drive' controller='2' bus='0' target='9' "
                   "unit='0'/>") +
          FileDisk("/img/d.raw", "sdd", "sata", "raw") +
          "<disk type='file' device='cdrom'><target dev='sde' bus='sata'/>"
          "<readonly/></disk>" +
          Nic("e1000", "52:54:00:00:00:01") +
          Nic("e1000e", "52:54:00:00:00:02") +
          Nic("vmxnet3", "52:54:00:00:00:03"),
      Linux()));
  REQUIRE_OK(e.machine);
  const VmSpec& vm = e.machine->spec;
  CHECK(e.diags.items().empty());
  CHECK(vm.name == "web01");
  CHECK(vm.id == "web01");
  CHECK(vm.uuid.empty());
  CHECK(vm.system_type == "vmx-10");
  CHECK(vm.firmware == Firmware::kBios);
  REQUIRE(vm.disks.size() == 5);
  CHECK(ControllerOf(vm, vm.disks[0]).model == ControllerModel::kLsiLogic);
  CHECK(vm.disks[0].unit == 3);
  CHECK(ControllerOf(vm, vm.disks[1]).model == ControllerModel::kLsiLogicSas);
  CHECK(ControllerOf(vm, vm.disks[2]).model == ControllerModel::kPvscsi);
  CHECK(vm.disks[2].unit == 9);  // pvscsi addresses by target
  CHECK(ControllerOf(vm, vm.disks[3]).kind == ControllerKind::kSata);
  CHECK(ControllerOf(vm, vm.disks[4]).kind == ControllerKind::kSata);
  CHECK(vm.disks[4].device == DiskDevice::kCdrom);
  CHECK(vm.disks[3].unit != vm.disks[4].unit);
  // Item ids are numbers from 3 (cpu and memory take 1 and 2), unique.
  std::set<std::string> ids;
  for (const Controller& c : vm.controllers) ids.insert(c.id);
  for (const Disk& d : vm.disks) ids.insert(d.id);
  for (const ova2virt::Nic& n : vm.nics) ids.insert(n.id);
  CHECK(ids.size() == vm.controllers.size() + vm.disks.size() + 3);
  CHECK(ids.count("3") == 1);
  for (const std::string& id : ids) {
    CHECK(id.find_first_not_of("0123456789") == std::string::npos);
  }
  // No host path reaches the descriptor; the sources say where to read.
  for (const Disk& d : vm.disks) CHECK(d.source.href.empty());
  REQUIRE(e.machine->sources.size() == 4);  // the empty cd-rom has none
  CHECK(e.machine->sources[0].path == "/img/a.qcow2");
  CHECK(e.machine->sources[0].format == "qcow2");
  CHECK(e.machine->sources[0].target == "sda");
  CHECK(e.machine->sources[0].disk_id == vm.disks[0].id);
  REQUIRE(vm.nics.size() == 3);
  CHECK(vm.nics[0].model == NicModel::kE1000);
  CHECK(vm.nics[1].model == NicModel::kE1000e);
  CHECK(vm.nics[2].model == NicModel::kVmxnet3);
  CHECK(vm.nics[0].mac == "52:54:00:00:00:01");
  REQUIRE(e.machine->networks.size() == 1);
  CHECK(e.machine->networks[0].name == "default");
}

TEST_CASE("export policy: virtio disks go to SATA, virtio-scsi to pvscsi") {
  std::string devices =
      "<controller type='scsi' index='0' "
      "model='virtio-scsi'/>";
  for (const char* dev : {"vda", "vdb", "vdc"}) {
    devices += FileDisk(std::string("/img/") + dev, dev, "virtio", "qcow2");
  }
  devices += FileDisk("/img/s", "sda", "scsi", "raw");
  devices +=
      "<disk type='file' device='cdrom'><driver name='qemu' "
      "type='raw'/><source file='/iso/install.iso'/><target dev='sdb' "
      "bus='sata'/><readonly/><address type='drive' controller='0' bus='0' "
      "target='0' unit='0'/></disk>";
  Exported e = Export(Domain(devices, Linux()));
  REQUIRE_OK(e.machine);
  const VmSpec& vm = e.machine->spec;
  REQUIRE(vm.disks.size() == 5);
  // The domain's order is kept; the kept cd-rom holds its port, the virtio
  // disks take the free ones.
  std::set<int> sata_units;
  for (size_t i : {0, 1, 2, 4}) {
    CHECK(ControllerOf(vm, vm.disks[i]).kind == ControllerKind::kSata);
    CHECK(ControllerOf(vm, vm.disks[i]).model == ControllerModel::kAhci);
    sata_units.insert(*vm.disks[i].unit);
  }
  CHECK(sata_units.size() == 4);
  CHECK(vm.disks[0].unit == 1);  // the cd-rom is on port 0
  CHECK(ControllerOf(vm, vm.disks[3]).model == ControllerModel::kPvscsi);
  CHECK(e.diags.Has("export.disk-bus-changed"));
  CHECK(e.diags.Has("export.controller-substituted"));
  // The cd-rom's image is packed, read as raw.
  REQUIRE(e.machine->sources.size() == 5);
  CHECK(e.machine->sources[4].device == DiskDevice::kCdrom);
  CHECK(e.machine->sources[4].path == "/iso/install.iso");
  CHECK(e.machine->sources[4].format == "raw");
  // --no-media: the drive stays, empty.
  Exported bare = Export(Domain(devices, Linux()), ExportPolicy{false});
  REQUIRE_OK(bare.machine);
  CHECK(bare.machine->sources.size() == 4);
  CHECK(bare.machine->spec.disks.size() == 5);
  CHECK(bare.diags.Has("export.media-dropped"));
}

TEST_CASE(
    "export policy: a virtio nic becomes what the guest has drivers for") {
  struct Case {
    std::string metadata;
    NicModel want;
  } cases[] = {
      {Linux(), NicModel::kVmxnet3},
      {Windows(), NicModel::kE1000e},
      {"", NicModel::kE1000},
  };
  for (const Case& c : cases) {
    Exported e = Export(Domain(Nic("virtio", "52:54:00:aa:bb:cc"), c.metadata));
    REQUIRE_OK(e.machine);
    REQUIRE(e.machine->spec.nics.size() == 1);
    CHECK(e.machine->spec.nics[0].model == c.want);
    CHECK(e.diags.Has("export.nic-model-changed"));
  }
  // Models VMware lacks become the e1000; PCnet is VMware's and VirtualBox's.
  Exported e = Export(Domain(Nic("rtl8139", "52:54:00:00:00:01") +
                             Nic("pcnet", "52:54:00:00:00:02")));
  REQUIRE_OK(e.machine);
  CHECK(e.machine->spec.nics[0].model == NicModel::kE1000);
  CHECK(e.machine->spec.nics[1].model == NicModel::kPcnet);
}

TEST_CASE("export policy: the operating system, named for VMware") {
  Exported linux_ = Export(Domain("", Linux()));
  REQUIRE_OK(linux_.machine);
  CHECK(linux_.machine->spec.os.vmware_os_type == "debian12_64Guest");
  CHECK(linux_.machine->spec.os.cim_id == 96);
  CHECK(!linux_.diags.Has("export.os-approximated"));
  // A release the table lacks: the family's id, said.
  std::string ubuntu =
      "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/"
      "xmlns/libvirt/domain/1.0'><libosinfo:os id='http://ubuntu.com/ubuntu/"
      "24.04'/></libosinfo:libosinfo></metadata>";
  Exported u = Export(Domain("", ubuntu));
  REQUIRE_OK(u.machine);
  CHECK(u.machine->spec.os.vmware_os_type == "ubuntu64Guest");
  CHECK(u.diags.Has("export.os-approximated"));
  std::string rocky =
      "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/"
      "xmlns/libvirt/domain/1.0'><libosinfo:os id='http://rockylinux.org/"
      "rocky/8.6'/></libosinfo:libosinfo></metadata>";
  Exported r = Export(Domain("", rocky));
  REQUIRE_OK(r.machine);
  CHECK(r.machine->spec.os.vmware_os_type == "rhel8_64Guest");
  // Nothing said: other, and a warning.
  Exported none = Export(Domain(""));
  REQUIRE_OK(none.machine);
  CHECK(none.diags.Has("export.os-unknown"));
  // An imported appliance's own names win.
  std::string ours =
      "<metadata><ova2virt:appliance xmlns:ova2virt='https://ova2virt.example/"
      "xmlns/1.0'><ova2virt:os cim-id='102' vmware='otherGuest64'/>"
      "</ova2virt:appliance></metadata>";
  Exported o = Export(Domain("", ours));
  REQUIRE_OK(o.machine);
  CHECK(o.machine->spec.os.vmware_os_type == "otherGuest64");
  CHECK(o.machine->spec.os.cim_id == 102);
  CHECK(o.diags.items().empty());
}

TEST_CASE("export policy: libosinfo uris back to short ids") {
  CHECK(LibosinfoShortId("http://ubuntu.com/ubuntu/22.04") == "ubuntu22.04");
  CHECK(LibosinfoShortId("http://microsoft.com/win/2k19") == "win2k19");
  CHECK(LibosinfoShortId("http://centos.org/centos-stream/9") ==
        "centos-stream9");
  CHECK(LibosinfoShortId("http://example.com/nothing/1") == "");
  CHECK(LibosinfoShortId("ubuntu22.04") == "");
  CHECK(LibosinfoShortId("http://ubuntu.com/") == "");
  CHECK(LibosinfoShortId("") == "");
}

TEST_CASE("export policy: IDE channels become VMware's two IDE controllers") {
  std::string devices;
  for (const char* dev : {"hda", "hdb", "hdc", "hdd"}) {
    devices += FileDisk(std::string("/img/") + dev, dev, "ide", "raw");
  }
  Exported e = Export(Domain(devices, Linux()));
  REQUIRE_OK(e.machine);
  const VmSpec& vm = e.machine->spec;
  REQUIRE(vm.disks.size() == 4);
  int units[4][2];
  for (int i = 0; i < 4; ++i) {
    const Controller& c = ControllerOf(vm, vm.disks[i]);
    CHECK(c.kind == ControllerKind::kIde);
    units[i][0] = c.bus;
    units[i][1] = *vm.disks[i].unit;
  }
  CHECK(units[0][0] == 0);
  CHECK(units[0][1] == 0);
  CHECK(units[1][0] == 0);
  CHECK(units[1][1] == 1);
  CHECK(units[2][0] == 1);
  CHECK(units[2][1] == 0);
  CHECK(units[3][0] == 1);
  CHECK(units[3][1] == 1);
  CHECK(vm.controllers.size() == 2);
  CHECK(e.diags.items().empty());
}

TEST_CASE("export policy: SCSI ID 7 is the adapter's; the disk moves") {
  Exported e = Export(
      Domain("<controller type='scsi' index='0' model='vmpvscsi'/>" +
             FileDisk("/img/a", "sda", "scsi", "raw",
                      "<address type='drive' controller='0' bus='0' target='7' "
                      "unit='0'/>")));
  REQUIRE_OK(e.machine);
  CHECK(e.machine->spec.disks[0].unit == 0);
  CHECK(e.diags.Has("export.disk-moved"));
}

TEST_CASE("export policy: firmware, secure boot and vTPM") {
  Exported e = Export(Domain(
      "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>", "",
      " firmware='efi'><firmware><feature enabled='yes' "
      "name='secure-boot'/></firmware"));
  REQUIRE_OK(e.machine);
  const VmSpec& vm = e.machine->spec;
  CHECK(vm.firmware == Firmware::kEfi);
  CHECK(vm.secure_boot);
  CHECK(vm.tpm.has_value());
  CHECK(vm.system_type == "vmx-14");
  CHECK(e.diags.Has("export.nvram-not-exported"));
  CHECK(e.diags.Has("export.tpm-state-not-exported"));
  Exported plain = Export(Domain("", "", " firmware='efi'"));
  REQUIRE_OK(plain.machine);
  CHECK(plain.machine->spec.system_type == "vmx-10");
  CHECK(!plain.machine->spec.secure_boot);
}

TEST_CASE("export policy: memory, topology, and host-side details") {
  std::string xml =
      "<domain type='kvm'><name>odd</name><memory unit='KiB'>1049600</memory>"
      "<vcpu>8</vcpu><cpu><topology sockets='2' dies='1' cores='2' "
      "threads='2'/></cpu><os><type>hvm</type></os><devices>" +
      FileDisk("/img/a", "vda", "virtio", "raw", "<readonly/>") +
      "<serial type='file'><source path='/var/log/x.log'/><target "
      "port='0'/></serial><serial type='pty'><target port='1'/></serial>"
      "<sound model='ich9'/><sound model='es1370'/>"
      "<controller type='usb' index='0' model='qemu-xhci'/>"
      "<video><model type='qxl' vram='65536' heads='1'/></video>"
      "</devices></domain>";
  Exported e = Export(xml);
  REQUIRE_OK(e.machine);
  const VmSpec& vm = e.machine->spec;
  CHECK(vm.memory_bytes == 1028ull << 20);  // 1025 MiB up to 4 MiB steps
  CHECK(vm.cores_per_socket == 4);          // 2 cores x 2 threads
  CHECK(!vm.threads_per_core.has_value());
  CHECK(vm.vcpus == 8);
  CHECK(!vm.disks[0].read_only);
  REQUIRE(vm.serial_ports.size() == 2);
  CHECK(vm.serial_ports[0].type.empty());
  CHECK(vm.serial_ports[0].target.empty());
  REQUIRE(vm.sound_cards.size() == 2);
  CHECK(vm.sound_cards[0].model == "hda");
  CHECK(vm.sound_cards[1].model == "ensoniq1371");
  REQUIRE(vm.usb_controllers.size() == 1);
  CHECK(vm.usb_controllers[0].model == "xhci");
  REQUIRE(vm.video.has_value());
  CHECK(vm.video->model.empty());
  CHECK(vm.video->vram_bytes == 64ull << 20);
  for (const char* id :
       {"export.memory-rounded", "export.threads-as-cores",
        "export.readonly-dropped", "export.serial-host-dropped",
        "export.sound-substituted", "export.video-generic",
        "export.disk-bus-changed"}) {
    INFO(id);
    CHECK(Ids(e.diags).count(id) == 1);
  }
}

TEST_CASE("export policy: what cannot be exported says why") {
  Exported net = Export(Domain(
      "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
      "<source protocol='rbd' name='pool/img'/><target dev='vda' "
      "bus='virtio'/></disk>"));
  REQUIRE(!net.machine.ok());
  CHECK(net.machine.status().code() == ErrorCode::kUnsupported);
  CHECK(net.machine.status().message().find("'vda'") != std::string::npos);
  Exported vdi = Export(Domain(FileDisk("/img/a.vdi", "vda", "virtio", "vdi")));
  REQUIRE(!vdi.machine.ok());
  CHECK(vdi.machine.status().message() ==
        "disk 'vda': format 'vdi' cannot be exported (qcow2, raw or vmdk)");
  // libvirt reads a disk with no driver type as raw; so does export.
  Exported untyped = Export(
      Domain("<disk type='file' device='disk'><source file='/img/a'/><target "
             "dev='vda' bus='virtio'/></disk>"));
  REQUIRE_OK(untyped.machine);
  CHECK(untyped.machine->sources[0].format == "raw");
  // More drives than VMware's four SATA controllers hold.
  std::string many;
  for (int i = 0; i < 121; ++i) {
    std::string dev = DiskTargetName("vd", i);
    many += FileDisk("/img/" + dev, dev, "virtio", "raw");
  }
  Exported full = Export(Domain(many));
  REQUIRE(!full.machine.ok());
  CHECK(full.machine.status().code() == ErrorCode::kUnsupported);
  // 120 fit: four controllers of 30 ports.
  many.clear();
  for (int i = 0; i < 120; ++i) {
    std::string dev = DiskTargetName("vd", i);
    many += FileDisk("/img/" + dev, dev, "virtio", "raw");
  }
  Exported fits = Export(Domain(many));
  REQUIRE_OK(fits.machine);
  CHECK(fits.machine->spec.controllers.size() == 4);
}

TEST_CASE("export policy: no disks at all") {
  Exported e = Export(Domain(Nic("e1000", "52:54:00:00:00:09")));
  REQUIRE_OK(e.machine);
  CHECK(e.machine->spec.disks.empty());
  CHECK(e.machine->spec.controllers.empty());
  CHECK(e.machine->sources.empty());
}

TEST_CASE("export policy: the import's ovf environment cd is left out") {
  // What `import` records for an appliance with ovf:transport="iso",
  // given --prop hostname=web-new: the transport, the CD it made, and the
  // property with the value the guest was given.
  std::string metadata =
      "<metadata><ova2virt:appliance "
      "xmlns:ova2virt='https://ova2virt.example/xmlns/1.0'>"
      "<ova2virt:environment transport='iso' "
      "cd-path='/img/web01-ovf-env.iso'/>"
      "<ova2virt:product class='org.example' name='Web'>"
      "<ova2virt:property key='hostname' type='string' "
      "user-configurable='yes' value='web-new' label='Host name'/>"
      "</ova2virt:product></ova2virt:appliance></metadata>";
  std::string cd =
      "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
      "<source file='/img/web01-ovf-env.iso'/><target dev='sdb' bus='sata'/>"
      "<readonly/></disk>";
  std::string devices = FileDisk("/img/a.qcow2", "sda", "sata", "qcow2") + cd;
  Exported e = Export(Domain(devices, metadata));
  REQUIRE_OK(e.machine);
  VmSpec vm = e.machine->spec;
  REQUIRE(vm.disks.size() == 1);
  CHECK(vm.disks[0].device == DiskDevice::kDisk);
  REQUIRE(e.machine->sources.size() == 1);
  CHECK(e.machine->sources[0].path == "/img/a.qcow2");
  CHECK(e.diags.Has("export.environment-cd-dropped"));
  CHECK(!e.diags.Has("export.media-dropped"));
  CHECK(vm.environment_transport == "iso");

  // The descriptor asks for the environment CD again, with the property.
  vm.disks[0].capacity = 1ull << 30;
  vm.disks[0].source.href = "web01-disk1.vmdk";
  vm.disks[0].source.format = ImageFormat::kVmdkStreamOptimized;
  vm.disks[0].source.size = 4096;
  ApplianceSpec a;
  a.name = vm.name;
  a.networks = e.machine->networks;
  a.systems.push_back(vm);
  Diagnostics writer;
  auto ovf = FormatOvfDescriptor(a, OvfWriteOptions{}, &writer);
  REQUIRE_OK(ovf);
  CHECK(ovf->find("ovf:transport=\"iso\"") != std::string::npos);
  CHECK(ovf->find("ovf:key=\"hostname\"") != std::string::npos);
  CHECK(ovf->find("ovf:value=\"web-new\"") != std::string::npos);
  CHECK(ovf->find("ovf-env") == std::string::npos);
  CHECK(ovf->find("CD/DVD") == std::string::npos);

  // Other media in that drive is the user's: packed as usual.
  std::string swapped = cd;
  swapped.replace(swapped.find("web01-ovf-env"), 13, "install-media");
  Exported m = Export(Domain(
      FileDisk("/img/a.qcow2", "sda", "sata", "qcow2") + swapped, metadata));
  REQUIRE_OK(m.machine);
  CHECK(m.machine->spec.disks.size() == 2);
  CHECK(m.machine->sources.size() == 2);
  CHECK(!m.diags.Has("export.environment-cd-dropped"));
  CHECK(m.machine->spec.environment_transport == "iso");
}

}  // namespace
}  // namespace ova2virt
