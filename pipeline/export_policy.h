// Export policy: what a libvirt domain becomes in an OVF that VMware (ESXi,
// Workstation, Fusion, ovftool) and VirtualBox import. Pure: no connection,
// no files. Devices VMware has are kept as they are; those it lacks
// (virtio-blk, virtio-scsi, virtio-net, ...) become the closest device it
// has, by the rules in docs/mapping.md ("Export: libvirt back to
// VMware/VirtualBox"), each such choice a warning with a stable export.* id:
// the guest carries drivers only for what it ran on.
#ifndef OVA2VIRT_PIPELINE_EXPORT_POLICY_H_
#define OVA2VIRT_PIPELINE_EXPORT_POLICY_H_

#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {

struct ExportPolicy {
  // CD-ROM and floppy images go into the package (as ovftool does); false
  // (--no-media) leaves the drives empty.
  bool include_media = true;
};

// Where the bytes of one exported drive come from on the host.
struct ExportSource {
  std::string disk_id;  // Disk::id in ExportMachine::spec
  std::string target;   // the libvirt target ("vda", "sdb"), for messages
  DiskDevice device = DiskDevice::kDisk;
  std::string path;          // host path (file or block device); may be empty
  std::string pool, volume;  // a volume disk (type='volume')
  // "qcow2", "raw" or "vmdk" for hard disks (libvirt's driver type; none
  // means raw, as libvirt reads it); "raw" for CD/floppy images, which
  // are copied as they are.
  std::string format;
};

struct ExportMachine {
  // The machine as the OVF will state it: VMware's devices, numeric item
  // ids (older VirtualBox reads InstanceID as a number), no host paths,
  // hvm type, OS names. Disk sources are left empty for the exporter to
  // name the package files.
  VmSpec spec;
  std::vector<ExportSource> sources;  // drives with an image, in spec order
  std::vector<NetworkDef> networks;   // every network a NIC names, sorted
};

// Domain (as ParseDomain read it) -> the exported machine. Warnings:
// export.disk-bus-changed, export.controller-substituted, export.disk-moved,
// export.nic-model-changed, export.media-dropped, export.readonly-dropped,
// export.serial-host-dropped, export.usb-substituted,
// export.sound-substituted, export.video-generic, export.nvram-not-exported,
// export.tpm-state-not-exported, export.memory-rounded,
// export.threads-as-cores, export.os-approximated, export.os-unknown,
// export.environment-cd-dropped (the import's OVF environment CD: the drive
// is left out; the transport and properties are kept).
// kUnsupported for a hard disk with no readable source (network disks), a
// disk format other than qcow2, raw and vmdk, or more drives than VMware's
// controllers hold.
Result<ExportMachine> ApplyExportPolicy(const ParsedDomain& domain,
                                        const ExportPolicy& policy,
                                        Diagnostics* diags);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_EXPORT_POLICY_H_
