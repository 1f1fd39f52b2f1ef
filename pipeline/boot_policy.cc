#include "pipeline/boot_policy.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/strings.h"
#include "ovf/os_table.h"
#include "pipeline/export_os.h"

namespace ova2virt {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Lower case without '-' and '_': "windows7-64" and "windows7_64Guest" alike.
std::string Squash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The number at the start of `s` ("12r2" -> 12); -1 when none.
int LeadingNumber(std::string_view s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return -1;
  return std::atoi(std::string(s.substr(0, 4)).c_str());
}

// A Windows release number as VMware and VirtualBox write it after
// "windows": 7, 8, 81 (8.1), 10, 11, 2012, 2019; 31, 95, 98 are 3.1, 95, 98.
bool ModernRelease(int n) {
  if (n >= 1000) return n >= 2012;
  return n >= 8 && n != 31 && n != 95 && n != 98;
}

// Windows 8 / Server 2012 and later, by whichever name says so; nullopt
// when the names say Windows without a release.
std::optional<bool> ModernWindows(const OsInfo& os) {
  // Lower case only: "windows7_64Guest" must read as 7, not 764.
  std::string vmw = Lower(os.vmware_os_type);
  if (StartsWith(vmw, "windows")) {
    // windows7*, windows8*, windows9* (10), windows11*, windows2019srv*...
    int n = LeadingNumber(std::string_view(vmw).substr(7));
    if (n >= 0) return ModernRelease(n);
  }
  if (StartsWith(vmw, "win")) return false;  // winXPPro, winNet, winVista...
  std::string vbox = Lower(os.virtualbox_os_type);
  if (StartsWith(vbox, "windows")) {
    int n = LeadingNumber(std::string_view(vbox).substr(7));
    return n >= 0 && ModernRelease(n);  // WindowsXP, WindowsVista: legacy
  }
  std::string osi = Lower(os.libosinfo_id);
  if (StartsWith(osi, "win2k")) {
    return LeadingNumber(std::string_view(osi).substr(5)) >= 12;
  }
  if (StartsWith(osi, "win")) {
    int n = LeadingNumber(std::string_view(osi).substr(3));
    if (n >= 0) return n >= 8 && n < 95;
    return false;  // winxp, winvista, winme
  }
  if (os.cim_id && *os.cim_id >= 112 && *os.cim_id <= 120) return true;
  std::string desc = Lower(os.cim_description);
  for (std::string_view modern : {"2012", "2016", "2019", "2022", "2025",
                                  "windows 8", "windows 10", "windows 11"}) {
    if (Contains(desc, modern)) return true;
  }
  if (os.cim_id || !desc.empty()) return false;
  return std::nullopt;
}

bool NamesLinux(std::string_view lower) {
  for (std::string_view family :
       {"linux", "ubuntu", "debian", "rhel", "redhat", "centos", "fedora",
        "sles", "suse", "oracle", "photon", "rocky", "alma", "gentoo", "mandr",
        "asianux", "coreos", "amazonlinux", "alpine"}) {
    if (Contains(lower, family)) return true;
  }
  return StartsWith(lower, "ol");  // libosinfo's Oracle Linux: ol8.0
}

bool NamesOtherUnix(std::string_view lower) {
  for (std::string_view family :
       {"freebsd", "netbsd", "openbsd", "solaris", "darwin", "macos"}) {
    if (Contains(lower, family)) return true;
  }
  return false;
}

const char* Name(ControllerModel m) {
  switch (m) {
    case ControllerModel::kLsiLogic:
      return "LSI Logic";
    case ControllerModel::kLsiLogicSas:
      return "LSI Logic SAS";
    case ControllerModel::kBusLogic:
      return "BusLogic";
    case ControllerModel::kPvscsi:
      return "PVSCSI";
    default:
      return "SCSI";
  }
}

// Why the boot disk leaves its SCSI controller, for the warning.
std::string Reason(const Controller& c, GuestFamily family, bool efi) {
  std::string from = Name(c.model);
  if (efi) {
    return "boot disk on " + from +
           " moves to SATA: UEFI firmware (OVMF) has no driver for QEMU's " +
           from + " adapter, and every UEFI-era guest has an AHCI driver";
  }
  if (family == GuestFamily::kWindowsLegacy) {
    return "boot disk on " + from +
           " moves to IDE: Windows before 8/2012 has no inbox driver for " +
           "QEMU's SCSI adapters, and its AHCI driver (msahci) is off " +
           "unless it was enabled before the move; IDE (intelide) is inbox";
  }
  std::string ahci =
      family == GuestFamily::kLinux
          ? "Linux's ahci is in every distribution kernel and in the "
            "initramfs built on VMware hardware"
      : family == GuestFamily::kWindowsModern
          ? "Windows 8/2012 and later drive AHCI with the inbox storahci"
          : "AHCI is the controller every current guest drives";
  switch (c.model) {
    case ControllerModel::kLsiLogic:
      return "boot disk on LSI Logic moves to SATA: QEMU emulates no "
             "LSI53C1030 (its lsilogic is the LSI53C895A, Linux driver "
             "sym53c8xx, which guests built for VMware lack); " +
             ahci;
    case ControllerModel::kLsiLogicSas:
      return "boot disk on LSI Logic SAS moves to SATA: OVMF cannot boot "
             "QEMU's SAS1068, and a guest's early boot may lack its driver "
             "(Linux's mptsas is often left out of a host-only initramfs); " +
             ahci;
    case ControllerModel::kBusLogic:
      return "boot disk on BusLogic moves to SATA: QEMU emulates no BusLogic "
             "adapter; " +
             ahci;
    default:
      return "boot disk on SCSI" +
             (c.raw_model.empty() ? std::string() : " (" + c.raw_model + ")") +
             " moves to SATA: QEMU's closest adapter (LSI53C895A) needs "
             "sym53c8xx, which the guest may lack; " +
             ahci;
  }
}

}  // namespace

GuestFamily ClassifyGuest(const OsInfo& os) {
  if (IsWindowsGuest(os) ||
      (os.cim_id && FindOsByCim(*os.cim_id) &&
       Contains(Lower(FindOsByCim(*os.cim_id)->cim_name), "win"))) {
    std::optional<bool> modern = ModernWindows(os);
    // A Windows of unknown release: the one that boots both (IDE) is the
    // older rule's choice.
    return modern.value_or(false) ? GuestFamily::kWindowsModern
                                  : GuestFamily::kWindowsLegacy;
  }
  std::string names = Squash(os.vmware_os_type) + " " +
                      Squash(os.virtualbox_os_type) + " " +
                      Lower(os.libosinfo_id) + " " + Lower(os.cim_description);
  if (const OsEntry* e = FindOs(os)) {
    names += " " + Lower(e->cim_name);
  }
  if (NamesLinux(names)) return GuestFamily::kLinux;
  if (NamesOtherUnix(names)) return GuestFamily::kOther;
  return GuestFamily::kUnknown;
}

const Disk* BootDisk(const VmSpec& vm) {
  const Disk* best = nullptr;
  for (const Disk& d : vm.disks) {
    if (d.device != DiskDevice::kDisk) continue;
    if (best == nullptr) best = &d;
    if (d.boot_order &&
        (!best->boot_order || *d.boot_order < *best->boot_order)) {
      best = &d;
    }
  }
  return best;
}

bool PlaceBootDisk(VmSpec& vm, Diagnostics* diags) {
  const Disk* boot = BootDisk(vm);
  if (boot == nullptr) return false;
  const Controller* c = vm.FindController(boot->controller_id);
  if (c == nullptr) return false;
  bool efi = vm.firmware == Firmware::kEfi;
  // An old Windows booting from IDE needs IDE (i440fx): q35 would put the
  // disk on AHCI, which it cannot drive.
  if (c->kind == ControllerKind::kIde) {
    return !efi && !vm.secure_boot &&
           ClassifyGuest(vm.os) == GuestFamily::kWindowsLegacy;
  }
  if (c->kind != ControllerKind::kScsi ||
      c->model == ControllerModel::kVirtioScsi) {
    return false;  // SATA, virtio, and NVMe (planned as SATA anyway)
  }
  // SeaBIOS boots QEMU's pvscsi, and a guest that booted from VMware's
  // PVSCSI has vmw_pvscsi / the VMware Tools driver: the same device.
  if (c->model == ControllerModel::kPvscsi && !efi) return false;
  GuestFamily family = ClassifyGuest(vm.os);
  bool ide = family == GuestFamily::kWindowsLegacy && !efi && !vm.secure_boot;
  ControllerKind kind = ide ? ControllerKind::kIde : ControllerKind::kSata;
  std::string why = Reason(*c, family, efi);
  std::string disk_id = boot->id;
  // The first controller of the new kind, else a new one.
  const Controller* target = nullptr;
  int buses = 0;
  for (const Controller& x : vm.controllers) {
    if (x.kind != kind) continue;
    ++buses;
    if (target == nullptr || x.bus < target->bus) target = &x;
  }
  std::string target_id;
  if (target != nullptr) {
    target_id = target->id;
  } else {
    Controller n;
    // "#ide-sata" is the group the planner gives IDE drives on q35: the
    // boot disk shares that AHCI controller rather than open a second one.
    n.id = ide ? "boot-ide" : "#ide-sata";
    n.kind = kind;
    n.model = ide ? ControllerModel::kPiix3 : ControllerModel::kAhci;
    n.raw_model = std::string(ToString(n.model));
    n.bus = buses;
    vm.controllers.push_back(n);
    target_id = n.id;
  }
  // With other hard disks left on the old controller, firmware might try
  // one of them first: the moved disk then says it is the one to boot.
  bool any_order = std::any_of(vm.disks.begin(), vm.disks.end(),
                               [](const Disk& d) { return d.boot_order; });
  bool others =
      std::any_of(vm.disks.begin(), vm.disks.end(), [&](const Disk& d) {
        return d.device == DiskDevice::kDisk && d.id != disk_id;
      });
  for (Disk& d : vm.disks) {
    if (d.id != disk_id) continue;
    d.controller_id = target_id;
    d.unit.reset();  // the first free unit there
    if (!any_order && others) d.boot_order = 1;
    break;
  }
  if (diags) diags->Warn("policy.boot-disk-bus", disk_id, why);
  return ide;
}

}  // namespace ova2virt
