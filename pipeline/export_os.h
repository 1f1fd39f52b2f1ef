// Internal to the export policy: naming a domain's guest OS the way VMware
// and VirtualBox do, and what that OS has drivers for.
#ifndef OVA2VIRT_PIPELINE_EXPORT_OS_H_
#define OVA2VIRT_PIPELINE_EXPORT_OS_H_

#include <string>
#include <string_view>

#include "core/diagnostics.h"
#include "core/vmspec.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {

// Fills vm->os (which holds what our metadata said) from the domain: our
// metadata's names win; else libvirt's libosinfo URI, by the OS table's
// release, else by its family (export.os-approximated); nothing known is
// export.os-unknown.
void NameExportOs(const ParsedDomain& domain, VmSpec* vm, Diagnostics* diags);

// Windows, by any of the names `os` holds.
bool IsWindowsGuest(const OsInfo& os);
// An OS whose kernel ships a vmxnet3 driver (Linux since 2.6.32, FreeBSD,
// Solaris 11), as opposed to Windows (a driver only with VMware Tools) and
// the unknown.
bool HasVmxnet3Driver(const OsInfo& os);

// The short libosinfo id a libosinfo URI stands for
// ("http://ubuntu.com/ubuntu/22.04" -> "ubuntu22.04"); empty when the URI
// does not follow the per-family scheme.
std::string LibosinfoShortId(std::string_view uri);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_EXPORT_OS_H_
