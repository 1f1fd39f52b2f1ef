// A stable, line-oriented text dump of the model, for golden files and for
// comparing what two readers made of the same machine. Only fields that are
// set appear; the order is fixed.
#ifndef OVA2VIRT_CORE_VMSPEC_DUMP_H_
#define OVA2VIRT_CORE_VMSPEC_DUMP_H_

#include <string>

#include "core/vmspec.h"

namespace ova2virt {

std::string DumpVmSpec(const VmSpec& vm);
std::string DumpAppliance(const ApplianceSpec& appliance);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_VMSPEC_DUMP_H_
