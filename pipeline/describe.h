// Describing a lone descriptor: an .ovf or a .vmx read into the model, for
// `inspect` of a descriptor whose disks may not be there yet, and for the
// import pipeline once the package reader has found the descriptor.
#ifndef OVA2VIRT_PIPELINE_DESCRIBE_H_
#define OVA2VIRT_PIPELINE_DESCRIBE_H_

#include <optional>
#include <string_view>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"
#include "ovf/ovf_reader.h"

namespace ova2virt {

enum class DescriptorKind { kOvf, kVmx };

// The kind of a descriptor from its file name (".ovf", ".vmx", any case),
// else from its first bytes (an XML document is OVF; `key = value` lines
// are VMX); nullopt when neither tells.
std::optional<DescriptorKind> GuessDescriptorKind(std::string_view file_name,
                                                  std::string_view text);

// Reads the descriptor into the model (ParseOvfDescriptor or ParseVmx; see
// their errors). Opens no file.
Result<ApplianceSpec> DescribeDescriptor(std::string_view text,
                                         DescriptorKind kind,
                                         const OvfReadOptions& options,
                                         Diagnostics* diagnostics);

// For a lone descriptor (no package reader to refuse them): a warning,
// ovf.href-outside-package, for each file reference that is absolute, has
// a ".." component, a URL scheme or a backslash, i.e. one that would not
// name a file beside the descriptor. Returns how many there were.
int WarnAboutOutsideHrefs(const ApplianceSpec& appliance,
                          Diagnostics* diagnostics);

// For a lone descriptor in folder `dir`: a warning, ovf.file-missing, for
// each referenced file (References, disk images, NVRAM) that is not a
// regular file beside it. hrefs that leave the folder are not looked up
// (WarnAboutOutsideHrefs reports them). Returns how many are missing.
int WarnAboutMissingFiles(const ApplianceSpec& appliance, std::string_view dir,
                          Diagnostics* diagnostics);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_DESCRIBE_H_
