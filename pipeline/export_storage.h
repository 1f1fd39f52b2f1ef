// Internal to the export policy: where each drive goes on VMware's
// controllers (docs/mapping.md, "Export", "Storage controllers").
#ifndef OVA2VIRT_PIPELINE_EXPORT_STORAGE_H_
#define OVA2VIRT_PIPELINE_EXPORT_STORAGE_H_

#include <string>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"

namespace ova2virt {

// Places every drive of `source` (as ParseDomain read it) on a controller
// VMware has, keeping its controller and unit where VMware has them;
// out->controllers and out->disks receive the result, disks in the
// domain's order with their libvirt ids. Warnings: export.disk-moved,
// export.disk-bus-changed, export.controller-substituted. kUnsupported when
// VMware's controllers cannot hold the drives.
Status PlaceExportDrives(const VmSpec& source, VmSpec* out, Diagnostics* diags);

// "disk", "cd-rom" or "floppy", for messages.
std::string DeviceNoun(DiskDevice d);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_EXPORT_STORAGE_H_
