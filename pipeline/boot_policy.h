// The boot disk under `--disk-bus auto` (issue 14): the device the guest
// boots from must be one its own drivers can drive, or it never finds its
// root file system. Internal to ApplyImportPolicy; docs/mapping.md has the
// table and the evidence for each row.
#ifndef OVA2VIRT_PIPELINE_BOOT_POLICY_H_
#define OVA2VIRT_PIPELINE_BOOT_POLICY_H_

#include "core/diagnostics.h"
#include "core/vmspec.h"

namespace ova2virt {

// The guest families whose inbox storage drivers differ.
enum class GuestFamily {
  kUnknown,
  kLinux,
  kWindowsLegacy,  // before Windows 8 / Server 2012: no AHCI driver on
  kWindowsModern,  // Windows 8 / Server 2012 and later: storahci inbox
  kOther,          // BSDs, Solaris, ...: ahci in their kernels
};

// What the OS names in `os` say (VMware id, VirtualBox type, libosinfo id,
// CIM id and description, in that order of trust).
GuestFamily ClassifyGuest(const OsInfo& os);

// The disk firmware boots from: the lowest boot order, else the first hard
// disk; nullptr when there is none.
const Disk* BootDisk(const VmSpec& vm);

// Moves the boot disk of `vm` (the source spec, before placement) to the
// controller its guest can drive, as the table in docs/mapping.md says:
// LSI Logic, LSI SAS, BusLogic and unnamed SCSI go to SATA, or to IDE for
// Windows before 8/2012; PVSCSI stays on BIOS and goes to SATA on UEFI;
// IDE, SATA, virtio and virtio-scsi stay. The disk joins the first
// controller of the new kind, or a new one (shared with IDE drives that q35
// puts on AHCI), at the first free unit, and gets boot order 1 when no disk
// had one and other hard disks remain (it may no longer be the first disk
// firmware finds). Each move is a `policy.boot-disk-bus` warning saying
// why. Returns true when the boot disk now sits on IDE (the machine then
// wants i440fx, which has IDE).
bool PlaceBootDisk(VmSpec& vm, Diagnostics* diags);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_BOOT_POLICY_H_
