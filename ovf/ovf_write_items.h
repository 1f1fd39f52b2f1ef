// Internal to the OVF writer: the plan of file and disk ids decided before
// writing, and the VirtualHardwareSection writer.
#ifndef OVA2VIRT_OVF_OVF_WRITE_ITEMS_H_
#define OVA2VIRT_OVF_OVF_WRITE_ITEMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/vmspec.h"
#include "core/xml.h"

namespace ova2virt::ovf {

struct DiskPlan {
  std::string id;  // ovf:diskId
  uint64_t capacity = 0;
  std::optional<uint64_t> populated_size;
  std::string format;   // ovf:format URI
  std::string file_id;  // ovf:fileRef; empty for a blank disk
  std::string parent;   // ovf:parentRef
};

struct VmPlan {
  std::map<std::string, std::string> disk_ids;  // Disk::id -> ovf:diskId
  std::map<std::string, std::string> file_ids;  // Disk::id -> File ovf:id
  std::string nvram_file_id;
};

struct WritePlan {
  std::vector<FileRef> files;
  std::vector<DiskPlan> disks;
  std::map<std::string, size_t> disks_by_id;
  std::vector<VmPlan> vms;
};

// The rasd:ResourceSubType written for a controller / NIC: what the source
// said when it names the same model, else VMware's spelling; empty when
// the model is unspecified.
std::string_view ControllerSubtype(const Controller& c);
std::string_view NicSubtype(const Nic& n);

// Writes <VirtualHardwareSection> for `vm` (already through
// WithOvfDefaults, so its system type and labels are set): System, Items,
// then vmw:Config and vmw:ExtraConfig. OVF 1 and OVF 2 get the same items:
// every device is an `Item` in the RASD namespace, the one form every OVF 2
// reader we know reads (govmomi ignores StorageItem and EthernetPortItem,
// COT expects them in namespaces the DMTF schema does not declare; see
// docs/ovf-mapping.md). What OVF cannot express is reported in `diag`.
void WriteVirtualHardware(const VmSpec& vm, const VmPlan& plan, XmlWriter& w,
                          Diagnostics* diag);

}  // namespace ova2virt::ovf

#endif  // OVA2VIRT_OVF_OVF_WRITE_ITEMS_H_
