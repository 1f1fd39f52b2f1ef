// What the host itself says, beyond libvirt's view of it: facts read from
// the running kernel that change which choices can work here.
#ifndef OVA2VIRT_VIRTDRIVER_HOST_PROBE_H_
#define OVA2VIRT_VIRTDRIVER_HOST_PROBE_H_

#include <string>

namespace ova2virt {

// True when this host's /dev/kvm is kvm_pvm, a paravirtual kvm that runs
// inside a virtual machine (as on this project's CI hosts): firmware and
// kernels fail under it with "emulation failure", so libvirt's "kvm is
// available" does not mean a guest can run. Looks for the kvm_pvm module
// under `sysfs` (the sysfs mount; tests pass a directory of their own).
// Only meaningful for a local connection.
bool KvmIsPvm(const std::string& sysfs = "/sys");

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_HOST_PROBE_H_
