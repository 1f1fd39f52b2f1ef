// Machines built in code for tests: together they cover every device
// class of VmSpec and every choice ApplyImportPolicy makes (golden domain
// XML in pipeline/domain_golden_test.cc; booted in QEMU by
// tests/integration/). Header-only: no library code depends on it.
#ifndef OVA2VIRT_PIPELINE_TEST_MACHINES_H_
#define OVA2VIRT_PIPELINE_TEST_MACHINES_H_

#include <optional>
#include <string>

#include "core/vmspec.h"

namespace ova2virt::test_machines {

inline Controller Ctl(std::string id, ControllerKind kind,
                      ControllerModel model, int bus, std::string raw = "") {
  Controller c;
  c.id = std::move(id);
  c.kind = kind;
  c.model = model;
  c.bus = bus;
  c.raw_model = std::move(raw);
  return c;
}

inline Disk HardDisk(std::string id, std::string ctl, std::optional<int> unit,
                     uint64_t gib) {
  Disk d;
  d.id = std::move(id);
  d.controller_id = std::move(ctl);
  d.unit = unit;
  d.capacity = gib << 30;
  d.source.href = d.id + ".vmdk";
  d.source.format = ImageFormat::kVmdkStreamOptimized;
  return d;
}

inline Disk Drive(std::string id, DiskDevice device, std::string ctl,
                  std::optional<int> unit, std::string href = "") {
  Disk d;
  d.id = std::move(id);
  d.device = device;
  d.controller_id = std::move(ctl);
  d.unit = unit;
  d.source.href = std::move(href);
  return d;
}

inline Nic MakeNic(std::string id, std::string network, NicModel model,
                   std::string mac = "", std::string raw = "") {
  Nic n;
  n.id = std::move(id);
  n.network = std::move(network);
  n.model = model;
  n.mac = std::move(mac);
  n.raw_model = std::move(raw);
  return n;
}

// What ovftool exports from vSphere: LSI Logic SCSI, two IDE channels with
// a CD-ROM, a floppy, e1000 + vmxnet3, serial to a file on the ESXi host,
// EHCI, ES1371, SVGA, a product with properties.
inline VmSpec VmwareBios() {
  VmSpec vm;
  vm.id = vm.name = "vmware-appliance";
  vm.description = "A VMware appliance\nwith two lines & <markup>";
  vm.vcpus = 4;
  vm.cores_per_socket = 2;
  vm.memory_bytes = 2ull << 30;
  vm.firmware = Firmware::kBios;
  vm.os.cim_id = 94;
  vm.os.cim_description = "Ubuntu Linux (64-bit)";
  vm.os.vmware_os_type = "ubuntu64Guest";
  vm.os.libosinfo_id = "ubuntu22.04";
  vm.controllers = {
      Ctl("3", ControllerKind::kIde, ControllerModel::kUnspecified, 0),
      Ctl("4", ControllerKind::kIde, ControllerModel::kUnspecified, 1),
      Ctl("5", ControllerKind::kScsi, ControllerModel::kLsiLogic, 0,
          "lsilogic"),
  };
  vm.disks = {HardDisk("vmdisk1", "5", 0, 16), HardDisk("vmdisk2", "5", 1, 4),
              Drive("cdrom1", DiskDevice::kCdrom, "4", 0),
              Drive("floppy1", DiskDevice::kFloppy, "", std::nullopt)};
  vm.disks[0].boot_order = 1;
  vm.nics = {
      MakeNic("eth0", "VM Network", NicModel::kE1000, "00:50:56:aa:bb:01"),
      MakeNic("eth1", "Storage", NicModel::kVmxnet3, "00:50:56:aa:bb:02")};
  vm.nics[1].connected = false;
  vm.serial_ports = {{0, "file", "[datastore1] vm/serial.log"}};
  vm.usb_controllers = {{"ehci"}};
  vm.sound_cards = {{"ensoniq1371"}};
  vm.video = Video{"vmvga", 8u << 20, 1, false};
  ProductInfo p;
  p.product = "Example Appliance";
  p.vendor = "Example & Co";
  p.version = "1.2";
  p.full_version = "1.2.3-build4";
  p.product_url = "https://example.com/appliance";
  Property hostname;
  hostname.key = "hostname";
  hostname.type = "string";
  hostname.default_value = "appliance.local";
  hostname.user_configurable = true;
  hostname.label = "Host name";
  Property secret;
  secret.key = "root_password";
  secret.type = "string";
  secret.password = true;
  secret.default_value = "must-not-appear";
  p.properties = {hostname, secret};
  vm.products = {p};
  return vm;
}

// What VirtualBox exports: one PIIX4 IDE controller with the disk as
// primary master and a CD-ROM image as secondary slave; PCnet; AC'97; OHCI.
inline VmSpec VirtualBoxIde() {
  VmSpec vm;
  vm.id = vm.name = "vbox-legacy";
  vm.vcpus = 1;
  vm.memory_bytes = 512ull << 20;
  vm.firmware = Firmware::kBios;
  vm.os.cim_id = 1;
  vm.os.virtualbox_os_type = "WindowsXP";
  vm.os.libosinfo_id = "winxp";
  vm.controllers = {
      Ctl("ide", ControllerKind::kIde, ControllerModel::kPiix4, 0, "PIIX4")};
  vm.disks = {HardDisk("disk1", "ide", 0, 10),
              Drive("dvd", DiskDevice::kCdrom, "ide", 3, "tools.iso")};
  vm.disks[0].boot_order = 2;
  vm.disks[1].boot_order = 1;
  vm.nics = {MakeNic("nic1", "NAT", NicModel::kPcnet, "08:00:27:12:34:56")};
  vm.sound_cards = {{"ac97"}};
  vm.usb_controllers = {{"ohci"}};
  vm.video = Video{"vboxvga", 16u << 20, 1, true};
  return vm;
}

// UEFI with secure boot: NVMe boot disk, a paravirtual SCSI data disk, a
// SATA CD-ROM, vmxnet3, TPM 2.0, Windows.
inline VmSpec EfiSecureBoot() {
  VmSpec vm;
  vm.id = vm.name = "win-secure";
  vm.vcpus = 8;
  vm.cores_per_socket = 4;
  vm.threads_per_core = 2;
  vm.memory_bytes = 8ull << 30;
  vm.firmware = Firmware::kEfi;
  vm.secure_boot = true;
  vm.os.vmware_os_type = "windows9_64Guest";
  vm.os.libosinfo_id = "win10";
  vm.controllers = {
      Ctl("nvme0", ControllerKind::kNvme, ControllerModel::kNvme, 0, "nvme"),
      Ctl("pv", ControllerKind::kScsi, ControllerModel::kPvscsi, 0,
          "VirtualSCSI"),
      Ctl("sata0", ControllerKind::kSata, ControllerModel::kAhci, 0, "ahci")};
  vm.disks = {HardDisk("boot", "nvme0", 0, 64), HardDisk("data", "pv", 8, 100),
              Drive("cd", DiskDevice::kCdrom, "sata0", 1)};
  vm.nics = {MakeNic("n0", "LAN", NicModel::kVmxnet3, "00:50:56:00:00:10")};
  vm.tpm = Tpm{"2.0"};
  vm.nvram_href = "win-secure.nvram";
  vm.video = Video{"svga", 4u << 20, 2, true};
  vm.usb_controllers = {{"xhci"}};
  vm.sound_cards = {{"hda"}};
  return vm;
}

// UEFI without secure boot and the odd corners: BusLogic, LSI SAS, a SATA
// controller with more disks than AHCI has ports, NICs QEMU lacks, a
// topology that does not divide, no memory or vcpus stated, unknown
// devices, a bad MAC, an unmapped OS id.
inline VmSpec EfiOddities() {
  VmSpec vm;
  vm.id = "odd";
  vm.name = "odd-machine";
  vm.firmware = Firmware::kEfi;
  vm.cores_per_socket = 2;
  vm.os.libosinfo_id = "plan9";
  vm.controllers = {
      Ctl("bl", ControllerKind::kScsi, ControllerModel::kBusLogic, 0,
          "buslogic"),
      Ctl("sas", ControllerKind::kScsi, ControllerModel::kLsiLogicSas, 1,
          "lsilogicsas"),
      Ctl("sata", ControllerKind::kSata, ControllerModel::kAhci, 0, "ahci"),
      Ctl("weird", ControllerKind::kOther, ControllerModel::kOther, 0,
          "hyperv-storvsc")};
  vm.disks = {HardDisk("bl0", "bl", 0, 1), HardDisk("sas0", "sas", 0, 1),
              HardDisk("sas1", "sas", 0, 1),  // collides with sas0
              HardDisk("odd0", "weird", std::nullopt, 1)};
  for (int i = 0; i < 8; ++i) {
    vm.disks.push_back(HardDisk("s" + std::to_string(i), "sata", i, 1));
  }
  vm.nics = {MakeNic("a", "net-a", NicModel::kVlance),
             MakeNic("b", "net-b", NicModel::kVmxnet2, "01:00:5e:00:00:01"),
             MakeNic("c", "net-a", NicModel::kUnspecified)};
  vm.serial_ports = {{0, "pipe", "\\\\.\\pipe\\com1"}, {1, "", ""}};
  vm.usb_controllers = {{"usb-c-hub"}};
  vm.sound_cards = {{"gravis-ultrasound"}};
  vm.video = Video{"hologram", std::nullopt, std::nullopt, false};
  vm.vcpus = 3;
  return vm;
}

}  // namespace ova2virt::test_machines

#endif  // OVA2VIRT_PIPELINE_TEST_MACHINES_H_
