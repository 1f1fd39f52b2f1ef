// --disk-bus auto (issue 14): the boot disk goes where the guest's own
// drivers reach it, by guest family; the table in docs/mapping.md.
#include "pipeline/boot_policy.h"

#include <string>

#include "pipeline/policy.h"
#include "pipeline/test_machines.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using namespace test_machines;  // NOLINT

OsInfo Vmware(std::string id) {
  OsInfo os;
  os.vmware_os_type = std::move(id);
  return os;
}

// One boot disk on `model` SCSI, a data disk beside it, an IDE CD-ROM.
VmSpec OnScsi(ControllerModel model, OsInfo os, Firmware fw = Firmware::kBios) {
  VmSpec vm;
  vm.name = "m";
  vm.vcpus = 1;
  vm.memory_bytes = 1ull << 30;
  vm.firmware = fw;
  vm.os = std::move(os);
  vm.controllers = {
      Ctl("ide0", ControllerKind::kIde, ControllerModel::kPiix4, 0),
      Ctl("scsi0", ControllerKind::kScsi, model, 0)};
  vm.disks = {HardDisk("boot", "scsi0", 0, 8), HardDisk("data", "scsi0", 1, 8),
              Drive("cd", DiskDevice::kCdrom, "ide0", 0)};
  return vm;
}

struct Placed {
  TargetPlan plan;
  Diagnostics diags;
};

Placed Plan(const VmSpec& vm, std::string bus = "auto") {
  Placed p;
  ImportPolicy policy;
  policy.disk_bus = *ParseDiskBusChoice(bus);
  auto r = ApplyImportPolicy(vm, policy, &p.diags);
  REQUIRE_OK(r);
  p.plan = std::move(r).value();
  return p;
}

const Controller& Of(const Placed& p, const std::string& disk) {
  for (const Disk& d : p.plan.spec.disks) {
    if (d.id != disk) continue;
    const Controller* c = p.plan.spec.FindController(d.controller_id);
    REQUIRE(c != nullptr);
    return *c;
  }
  FAIL("no disk " << disk);
  static Controller none;
  return none;
}

TEST_CASE("boot policy: guest families from every kind of OS name") {
  CHECK(ClassifyGuest(Vmware("ubuntu64Guest")) == GuestFamily::kLinux);
  CHECK(ClassifyGuest(Vmware("debian12-64")) == GuestFamily::kLinux);
  CHECK(ClassifyGuest(Vmware("rhel9_64Guest")) == GuestFamily::kLinux);
  CHECK(ClassifyGuest(Vmware("other5xLinux64Guest")) == GuestFamily::kLinux);
  CHECK(ClassifyGuest(Vmware("windows7_64Guest")) ==
        GuestFamily::kWindowsLegacy);
  CHECK(ClassifyGuest(Vmware("windows7Server64Guest")) ==
        GuestFamily::kWindowsLegacy);
  CHECK(ClassifyGuest(Vmware("winXPProGuest")) == GuestFamily::kWindowsLegacy);
  CHECK(ClassifyGuest(Vmware("winLonghorn64Guest")) ==
        GuestFamily::kWindowsLegacy);
  CHECK(ClassifyGuest(Vmware("windows8Server64Guest")) ==
        GuestFamily::kWindowsModern);
  CHECK(ClassifyGuest(Vmware("windows9-64")) == GuestFamily::kWindowsModern);
  CHECK(ClassifyGuest(Vmware("windows2019srvNext_64Guest")) ==
        GuestFamily::kWindowsModern);
  CHECK(ClassifyGuest(Vmware("windows11_64Guest")) ==
        GuestFamily::kWindowsModern);
  CHECK(ClassifyGuest(Vmware("freebsd64Guest")) == GuestFamily::kOther);
  CHECK(ClassifyGuest(Vmware("otherGuest")) == GuestFamily::kUnknown);
  CHECK(ClassifyGuest(OsInfo{}) == GuestFamily::kUnknown);

  OsInfo vbox;
  vbox.virtualbox_os_type = "Windows2012_64";
  CHECK(ClassifyGuest(vbox) == GuestFamily::kWindowsModern);
  vbox.virtualbox_os_type = "WindowsVista_64";
  CHECK(ClassifyGuest(vbox) == GuestFamily::kWindowsLegacy);
  vbox.virtualbox_os_type = "Debian_64";
  CHECK(ClassifyGuest(vbox) == GuestFamily::kLinux);

  OsInfo osinfo;
  osinfo.libosinfo_id = "win2k12r2";
  CHECK(ClassifyGuest(osinfo) == GuestFamily::kWindowsModern);
  osinfo.libosinfo_id = "win2k8r2";
  CHECK(ClassifyGuest(osinfo) == GuestFamily::kWindowsLegacy);
  osinfo.libosinfo_id = "win10";
  CHECK(ClassifyGuest(osinfo) == GuestFamily::kWindowsModern);
  osinfo.libosinfo_id = "almalinux9";
  CHECK(ClassifyGuest(osinfo) == GuestFamily::kLinux);

  // An OVF with only the CIM id: 96 is "Debian 64-Bit", 112 Server 2012,
  // 105 Windows 7.
  OsInfo cim;
  cim.cim_id = 96;
  CHECK(ClassifyGuest(cim) == GuestFamily::kLinux);
  cim.cim_id = 112;
  CHECK(ClassifyGuest(cim) == GuestFamily::kWindowsModern);
  cim.cim_id = 105;
  CHECK(ClassifyGuest(cim) == GuestFamily::kWindowsLegacy);
}

TEST_CASE("boot policy: lsi logic on linux boots from sata, data stays") {
  Placed p = Plan(OnScsi(ControllerModel::kLsiLogic, Vmware("debian12_64")));
  CHECK(Of(p, "boot").kind == ControllerKind::kSata);
  CHECK(Of(p, "data").kind == ControllerKind::kScsi);
  CHECK(Of(p, "data").model == ControllerModel::kLsiLogic);
  CHECK(p.plan.machine == "q35");
  REQUIRE(p.diags.Has("policy.boot-disk-bus"));
  std::string why;
  for (const Diagnostic& d : p.diags.items()) {
    if (d.id == "policy.boot-disk-bus") why = d.where + ": " + d.message;
  }
  CHECK(why.find("boot: ") == 0);
  CHECK(why.find("sym53c8xx") != std::string::npos);
  // No disk had a boot order: the moved disk gets one, since firmware
  // might otherwise try the SCSI data disk first.
  CHECK(p.plan.spec.disks[0].boot_order == 1);

  // keep is what it was: the closest device, and no boot warning.
  Placed k =
      Plan(OnScsi(ControllerModel::kLsiLogic, Vmware("debian12_64")), "keep");
  CHECK(Of(k, "boot").kind == ControllerKind::kScsi);
  CHECK(Of(k, "boot").model == ControllerModel::kLsiLogic);
  CHECK(!k.diags.Has("policy.boot-disk-bus"));
}

TEST_CASE("boot policy: the table, row by row") {
  struct Row {
    ControllerModel model;
    const char* os;
    Firmware fw;
    ControllerKind boot_on;
    const char* machine;
  };
  const Row rows[] = {
      {ControllerModel::kLsiLogicSas, "ubuntu64Guest", Firmware::kBios,
       ControllerKind::kSata, "q35"},
      {ControllerModel::kBusLogic, "otherLinuxGuest", Firmware::kBios,
       ControllerKind::kSata, "q35"},
      {ControllerModel::kLsiLogic, "windows9_64Guest", Firmware::kBios,
       ControllerKind::kSata, "q35"},
      {ControllerModel::kLsiLogicSas, "windows8Server64Guest", Firmware::kEfi,
       ControllerKind::kSata, "q35"},
      // Windows 7 / 2008 R2: IDE, which only i440fx has.
      {ControllerModel::kLsiLogic, "windows7_64Guest", Firmware::kBios,
       ControllerKind::kIde, "pc"},
      {ControllerModel::kLsiLogicSas, "windows7Server64Guest", Firmware::kBios,
       ControllerKind::kIde, "pc"},
      {ControllerModel::kBusLogic, "winNetStandardGuest", Firmware::kBios,
       ControllerKind::kIde, "pc"},
      // Unknown OS: SATA, which every current guest drives.
      {ControllerModel::kLsiLogic, "otherGuest", Firmware::kBios,
       ControllerKind::kSata, "q35"},
      // PVSCSI: SeaBIOS boots it; OVMF cannot.
      {ControllerModel::kPvscsi, "ubuntu64Guest", Firmware::kBios,
       ControllerKind::kScsi, "q35"},
      {ControllerModel::kPvscsi, "ubuntu64Guest", Firmware::kEfi,
       ControllerKind::kSata, "q35"},
      {ControllerModel::kVirtioScsi, "ubuntu64Guest", Firmware::kEfi,
       ControllerKind::kScsi, "q35"},
  };
  for (const Row& r : rows) {
    INFO(ToString(r.model) << " " << r.os << " efi "
                           << (r.fw == Firmware::kEfi));
    Placed p = Plan(OnScsi(r.model, Vmware(r.os), r.fw));
    CHECK(Of(p, "boot").kind == r.boot_on);
    CHECK(p.plan.machine == r.machine);
    CHECK(p.diags.Has("policy.boot-disk-bus") ==
          (r.boot_on != ControllerKind::kScsi));
    // The data disk stays on SCSI (auto moves the boot disk only).
    CHECK(Of(p, "data").kind == ControllerKind::kScsi);
  }
}

TEST_CASE("boot policy: ide and sata boot disks stay where they are") {
  VmSpec ide = VirtualBoxIde();  // Windows XP, IDE only
  Placed p = Plan(ide);
  CHECK(p.plan.machine == "pc");
  CHECK(!p.diags.Has("policy.boot-disk-bus"));

  // Windows 7 booting from IDE with a SCSI data disk keeps IDE (i440fx):
  // under keep, q35 would move it to AHCI, which Windows 7 has off.
  VmSpec w7 = OnScsi(ControllerModel::kLsiLogic, Vmware("windows7_64Guest"));
  w7.disks[0].controller_id = "ide0";
  w7.disks[0].unit = 1;
  Placed q = Plan(w7);
  CHECK(q.plan.machine == "pc");
  CHECK(Of(q, "boot").kind == ControllerKind::kIde);
  CHECK(Plan(w7, "keep").plan.machine == "q35");

  VmSpec sata = OnScsi(ControllerModel::kLsiLogic, Vmware("ubuntu64Guest"));
  sata.controllers.push_back(
      Ctl("sata0", ControllerKind::kSata, ControllerModel::kAhci, 0));
  sata.disks[0].controller_id = "sata0";
  Placed s = Plan(sata);
  CHECK(!s.diags.Has("policy.boot-disk-bus"));
}

TEST_CASE("boot policy: the moved disk joins an existing controller") {
  VmSpec vm = OnScsi(ControllerModel::kLsiLogic, Vmware("ubuntu64Guest"));
  vm.controllers.push_back(
      Ctl("sata0", ControllerKind::kSata, ControllerModel::kAhci, 0));
  vm.disks.push_back(Drive("cd2", DiskDevice::kCdrom, "sata0", 0));
  vm.disks[0].boot_order = 2;
  Placed p = Plan(vm);
  CHECK(Of(p, "boot").id == "sata0");
  // Port 0 is the CD-ROM's: the boot disk takes the next free one.
  CHECK(p.plan.spec.disks[0].unit == 1);
  CHECK(p.plan.spec.disks[0].boot_order == 2);  // the source's, kept
}

}  // namespace
}  // namespace ova2virt
