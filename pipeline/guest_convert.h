// --convert-guest: guest conversion by the tool that owns it. After the
// disks are written and before the domain is defined, virt-v2v-in-place
// (Debian's virt-v2v package) installs virtio drivers in the guest and
// rebuilds its initramfs, working on the imported disk files themselves;
// the domain is then defined with virtio disks and NIC.
#ifndef OVA2VIRT_PIPELINE_GUEST_CONVERT_H_
#define OVA2VIRT_PIPELINE_GUEST_CONVERT_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace ova2virt {

// One disk of the domain to convert, as written by the import.
struct GuestDisk {
  std::string path;    // a local file
  std::string format;  // "qcow2" | "raw"
};

struct GuestConversion {
  std::string tool;      // the program run
  double seconds = 0;    // how long it ran
  std::string messages;  // its output (stdout and stderr), capped
};

// The virt-v2v-in-place to run: $OVA2VIRT_VIRT_V2V_IN_PLACE if set, else
// the first on PATH. kNotFound, saying which package provides it, when
// there is none.
Result<std::string> FindVirtV2vInPlace();

// Checks, at plan time, that a conversion can run: the tool exists and the
// disks will be local files (a --storage-dir, or a pool whose volumes are
// files on this host). kUnsupported with the reason otherwise.
Status CheckGuestConversion(bool local_files);

// The libvirt XML virt-v2v-in-place reads (-i libvirtxml): the domain's
// name, memory and vCPUs and its disks as files. Pure.
std::string GuestConversionXml(const std::string& name, uint64_t memory_mib,
                               int vcpus, const std::vector<GuestDisk>& disks);

// Runs `TOOL -i libvirtxml XML_FILE` (XML_FILE written in work_dir,
// removed afterwards) with LIBGUESTFS_BACKEND=direct unless the environment
// sets it, and with `force_tcg` LIBGUESTFS_BACKEND_SETTINGS=force_tcg (the
// domain runs under TCG because this host's KVM cannot run it: neither can
// libguestfs' appliance). kFailed with the tool's last lines when it exits
// non-zero or dies.
Result<GuestConversion> ConvertGuestInPlace(const std::string& tool,
                                            const std::string& xml,
                                            const std::string& work_dir,
                                            bool force_tcg = false);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_GUEST_CONVERT_H_
