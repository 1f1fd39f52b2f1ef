// One table of guest operating systems as each world names them: the CIM
// OsType number OVF's OperatingSystemSection carries, VMware's guest id
// (vmw:osType, and .vmx guestOS in its own spelling), VirtualBox's OSType,
// and libosinfo's short id where one maps exactly.
#ifndef OVA2VIRT_OVF_OS_TABLE_H_
#define OVA2VIRT_OVF_OS_TABLE_H_

#include <span>
#include <string>
#include <string_view>

#include "core/vmspec.h"

namespace ova2virt {

struct OsEntry {
  int cim_id;
  std::string_view cim_name;    // CIM's description ("Microsoft Windows XP")
  std::string_view vmware;      // VMware API guest id ("winXPProGuest")
  std::string_view virtualbox;  // "WindowsXP"; empty if none
  std::string_view libosinfo;   // "winxp"; empty if none maps exactly
};

// Every row, in table order (the first row for a CIM id is its canonical
// one).
std::span<const OsEntry> OsTable();

// Lookups; nullptr when nothing matches. VMware ids match in either the API
// spelling ("windows7_64Guest") or the .vmx one ("windows7-64"), case
// insensitively; VirtualBox and libosinfo names case insensitively.
const OsEntry* FindOsByCim(int cim_id);
const OsEntry* FindOsByVmware(std::string_view guest_id);
const OsEntry* FindOsByVirtualBox(std::string_view os_type);
const OsEntry* FindOsByLibosinfo(std::string_view short_id);

// The best row for what `os` says, trying the most specific name first
// (VMware, VirtualBox, libosinfo, then the CIM id); nullptr if none.
const OsEntry* FindOs(const OsInfo& os);

// The libosinfo id for what a source said: from its VMware or VirtualBox
// name, else from its CIM id when every row with that id agrees (a CIM id
// alone names a family, such as "Debian 64-Bit", not a release). Empty when
// nothing maps exactly.
std::string_view LibosinfoForCim(int cim_id);
std::string_view LibosinfoFor(const OsInfo& os);

// Fills the names `os` lacks from the table row that matches it (never
// overwrites what a source said). Returns true if a row matched.
bool CompleteOsInfo(OsInfo* os);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVF_OS_TABLE_H_
