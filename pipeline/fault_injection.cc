#include "pipeline/fault_injection.h"

#include "virtdriver/libvirt_faults.h"

namespace ova2virt {

Status ArmLibvirtFaultSpec(std::string_view spec) {
  ASSIGN_OR_RETURN(LibvirtFaultPlan plan, ParseLibvirtFaultSpec(spec));
  ArmLibvirtFault(plan);
  return OkStatus();
}

}  // namespace ova2virt
