// Reads a VMware .vmx configuration file into the neutral model.
#ifndef OVA2VIRT_OVF_VMX_READER_H_
#define OVA2VIRT_OVF_VMX_READER_H_

#include <string_view>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"

namespace ova2virt {

// Parses `key = "value"` lines (keys case-insensitive, VMware's |XX escapes
// decoded) into an appliance with one system and ovf_version "vmx".
// Devices with `.present = "FALSE"` are skipped; disk capacities stay unset
// (only the .vmdk knows them); file names are recorded verbatim, no file is
// opened. Keys the model has no field for are kept in extra_config.
// The text is UTF-8, or converted from the encoding `.encoding` names.
// Errors: kCorrupt for an empty file, one with no `key = value` line, more
// than 4 MiB, absurd sizes (memsize, numvcpus), or text that is not valid
// in its encoding ("line L, column C: invalid UTF-8: ...", also for a value
// whose |XX escapes decode to invalid UTF-8); kUnsupported for an
// `.encoding` the C library's iconv does not know.
Result<ApplianceSpec> ParseVmx(std::string_view text, Diagnostics* diagnostics);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVF_VMX_READER_H_
