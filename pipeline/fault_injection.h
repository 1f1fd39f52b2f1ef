// Fault injection the command line arms for end-to-end rollback tests, so
// that cli/ needs no header below pipeline/: the libvirt seam
// (virtdriver/libvirt_faults.h) from $OVA2VIRT_LIBVIRT_FAULT. Unit tests
// fail calls through a FakeConnection (pipeline/fake_connection.h) instead.
#ifndef OVA2VIRT_PIPELINE_FAULT_INJECTION_H_
#define OVA2VIRT_PIPELINE_FAULT_INJECTION_H_

#include <string_view>

#include "core/status.h"

namespace ova2virt {

// Arms the process-wide libvirt fault plan from `spec`, "STEP[:N][:after]"
// (ParseLibvirtFaultSpec: "define", "create:2:after"). kUsage for anything
// else; nothing is armed then.
Status ArmLibvirtFaultSpec(std::string_view spec);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_FAULT_INJECTION_H_
