// Writes the model as an OVF descriptor: OVF 1.x in the shape VMware's
// ovftool writes (what ESXi, Workstation and VirtualBox import), or OVF 2.0.
#ifndef OVA2VIRT_OVF_OVF_WRITER_H_
#define OVA2VIRT_OVF_OVF_WRITER_H_

#include <string>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"

namespace ova2virt {

struct OvfWriteOptions {
  int ovf_major = 1;  // 1 (DSP8023 1.1) or 2 (DSP8023 2.0)
};

// The model as the writer will state it: where the model is silent and an
// OVF needs a value, the defaults filled in (vssd:VirtualSystemType vmx-10,
// or vmx-14 with NVMe, secure boot or a vTPM; the OS names the OS table
// maps to, CIM "Other" without one; Info texts; device labels; the applied
// deployment option as the default; memory rounded up to whole MiB, the
// only unit VirtualBox and govmomi read). Reading a written descriptor gives
// back exactly this model, less what OVF cannot hold (unknown items and
// sections, boot order; see docs/ovf-mapping.md).
ApplianceSpec WithOvfDefaults(const ApplianceSpec& appliance);

// A deterministic descriptor (same model, same bytes) that validates
// against the DMTF schema of its version. What the OVF cannot say is
// reported in `diagnostics` (unknown items are not written; see
// docs/ovf-mapping.md). kUsage for an ovf_major other than 1 or 2, or a
// disk image whose capacity is unknown (an OVF disk needs ovf:capacity).
Result<std::string> FormatOvfDescriptor(const ApplianceSpec& appliance,
                                        const OvfWriteOptions& options,
                                        Diagnostics* diagnostics);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVF_OVF_WRITER_H_
