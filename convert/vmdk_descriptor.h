// The VMDK text descriptor ("# Disk DescriptorFile"): a file of its own for
// flat and split disks, or embedded in a sparse extent's header area.
#ifndef OVA2VIRT_CONVERT_VMDK_DESCRIPTOR_H_
#define OVA2VIRT_CONVERT_VMDK_DESCRIPTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ova2virt {

// One extent line: `RW 4192256 SPARSE "disk-s001.vmdk"` or
// `RW 10247 FLAT "disk-flat.vmdk" 0` or `RW 2048 ZERO`.
struct VmdkExtent {
  std::string access;  // "RW", "RDONLY", "NOACCESS"
  uint64_t sectors = 0;
  std::string type;     // "SPARSE", "FLAT", "ZERO", "VMFS", "VMFSSPARSE"...
  std::string file;     // empty for ZERO
  uint64_t offset = 0;  // sectors into the file (FLAT, VMFS)
};

struct VmdkDescriptor {
  std::string version;  // "1"
  std::string cid;
  std::string parent_cid;  // "ffffffff" when there is no parent
  std::string create_type;
  std::string parent_file_name_hint;
  std::string encoding;
  bool encrypted = false;  // an "encryption" key is present
  std::vector<VmdkExtent> extents;
  // Disk database entries ("ddb.adapterType" -> "lsilogic"), in file order.
  std::vector<std::pair<std::string, std::string>> ddb;

  // The value of a ddb key, if present.
  std::optional<std::string> Ddb(std::string_view key) const;
  // Sum of the extents' sizes in bytes (checked; kCorrupt on overflow).
  Result<uint64_t> CapacityBytes() const;
};

// True if `text` starts like a descriptor file (a UTF-8 BOM is allowed).
bool LooksLikeVmdkDescriptor(std::string_view text);

// Parses descriptor text. Embedded descriptors are NUL-padded: parsing stops
// at the first NUL. Malformed lines are kCorrupt naming the line number;
// more than vmdk::kMaxExtents extents or more than 1 MiB of text is
// kCorrupt. Unknown keys are kept out of the way, not refused.
Result<VmdkDescriptor> ParseVmdkDescriptor(std::string_view text);

// Refuses what a reader must not follow: a parent (delta disks), encryption,
// and create types outside the allowlist (kUnsupported naming the value).
Status CheckVmdkDescriptorSupported(const VmdkDescriptor& descriptor);

// True for the create types ova2virt reads.
bool IsSupportedCreateType(std::string_view create_type);

// An extent file name from a descriptor may name only a file beside the
// descriptor or below it: not empty, not absolute, no ".." component, no
// backslash or control characters. kCorrupt otherwise: a descriptor is
// never allowed to reach out to other host files.
Status CheckExtentName(std::string_view name);

// The text of a descriptor, in the layout VMware tools write (header keys,
// "# Extent description", "# The Disk Data Base", "#DDB", ddb keys).
std::string FormatVmdkDescriptor(const VmdkDescriptor& descriptor);

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_VMDK_DESCRIPTOR_H_
