#include "ovf/os_table.h"

#include <array>
#include <cctype>

#include "core/strings.h"

namespace ova2virt {
namespace {

// CIM ids are DMTF CIM_OperatingSystem.OSType; VMware ids are
// vim.vm.GuestOsDescriptor.GuestOsIdentifier values. Several VMware ids
// share a CIM id; the first such row is the one a CIM id maps back to.
constexpr std::array<OsEntry, 83> kOsTable = {{
    {0, "Unknown", "otherGuest", "Other", ""},
    {1, "Other", "otherGuest", "Other", ""},
    {102, "Other 64-Bit", "otherGuest64", "Other_64", ""},
    {2, "MACOS", "darwin64Guest", "MacOS", ""},
    {12, "OS/2", "os2Guest", "OS2", ""},
    {14, "MSDOS", "dosGuest", "DOS", ""},
    {15, "WIN3x", "win31Guest", "Windows31", ""},
    {16, "WIN95", "win95Guest", "Windows95", "win95"},
    {17, "WIN98", "win98Guest", "Windows98", "win98"},
    {18, "WINNT", "winNTGuest", "WindowsNT4", ""},
    {21, "NetWare", "netware6Guest", "Netware", ""},
    {29, "Solaris", "solaris10Guest", "Solaris", ""},
    {81, "Solaris 64-Bit", "solaris10_64Guest", "Solaris_64", ""},
    {81, "Solaris 64-Bit", "solaris11_64Guest", "Solaris11_64", "solaris11"},
    {36, "LINUX", "otherLinuxGuest", "Linux", ""},
    {101, "Linux 64-Bit", "otherLinux64Guest", "Linux_64", ""},
    {97, "Linux 2.4.x", "other24xLinuxGuest", "Linux24", ""},
    {98, "Linux 2.4.x 64-Bit", "other24xLinux64Guest", "Linux24_64", ""},
    {99, "Linux 2.6.x", "other26xLinuxGuest", "Linux26", ""},
    {100, "Linux 2.6.x 64-Bit", "other26xLinux64Guest", "Linux26_64", ""},
    {36, "LINUX", "other3xLinuxGuest", "", ""},
    {101, "Linux 64-Bit", "other3xLinux64Guest", "", ""},
    {101, "Linux 64-Bit", "other4xLinux64Guest", "", ""},
    {101, "Linux 64-Bit", "other5xLinux64Guest", "", ""},
    {101, "Linux 64-Bit", "vmwarePhoton64Guest", "", ""},
    {42, "FreeBSD", "freebsdGuest", "FreeBSD", ""},
    {78, "FreeBSD 64-Bit", "freebsd64Guest", "FreeBSD_64", ""},
    {78, "FreeBSD 64-Bit", "freebsd13_64Guest", "", "freebsd13.0"},
    {65, "OpenBSD", "otherGuest", "OpenBSD", ""},
    {43, "NetBSD", "otherGuest", "NetBSD", ""},
    {58, "Windows 2000", "win2000ProGuest", "Windows2000", "win2k"},
    {67, "Microsoft Windows XP", "winXPProGuest", "WindowsXP", "winxp"},
    {71, "Windows XP 64-Bit", "winXPPro64Guest", "WindowsXP_64", "winxp"},
    {69, "Microsoft Windows Server 2003", "winNetStandardGuest", "Windows2003",
     "win2k3"},
    {69, "Microsoft Windows Server 2003", "winNetEnterpriseGuest", "",
     "win2k3"},
    {70, "Microsoft Windows Server 2003 64-Bit", "winNetEnterprise64Guest",
     "Windows2003_64", "win2k3"},
    {70, "Microsoft Windows Server 2003 64-Bit", "winNetStandard64Guest", "",
     "win2k3"},
    {73, "Windows Vista", "winVistaGuest", "WindowsVista", "winvista"},
    {74, "Windows Vista 64-Bit", "winVista64Guest", "WindowsVista_64",
     "winvista"},
    {76, "Microsoft Windows Server 2008", "winLonghornGuest", "Windows2008",
     "win2k8"},
    {77, "Microsoft Windows Server 2008 64-Bit", "winLonghorn64Guest",
     "Windows2008_64", "win2k8"},
    {103, "Microsoft Windows Server 2008 R2", "windows7Server64Guest", "",
     "win2k8r2"},
    // CIM has no 64-bit Windows 7; VMware and VirtualBox say 64-bit here.
    {105, "Microsoft Windows 7", "windows7_64Guest", "Windows7_64", "win7"},
    {105, "Microsoft Windows 7", "windows7Guest", "Windows7", "win7"},
    {114, "Microsoft Windows 8 64-Bit", "windows8_64Guest", "Windows8_64",
     "win8"},
    {113, "Microsoft Windows 8", "windows8Guest", "Windows8", "win8"},
    {112, "Microsoft Windows Server 2012", "windows8Server64Guest",
     "Windows2012_64", "win2k12"},
    {116, "Microsoft Windows 8.1", "", "Windows81", "win8.1"},
    {117, "Microsoft Windows 8.1 64-Bit", "", "Windows81_64", "win8.1"},
    {115, "Microsoft Windows Server 2012 R2", "", "", "win2k12r2"},
    {120, "Microsoft Windows 10 64-Bit", "windows9_64Guest", "Windows10_64",
     "win10"},
    {119, "Microsoft Windows 10", "windows9Guest", "Windows10", "win10"},
    {118, "Microsoft Windows Server 2016", "windows9Server64Guest",
     "Windows2016_64", "win2k16"},
    {118, "Microsoft Windows Server 2016", "windows2019srv_64Guest",
     "Windows2019_64", "win2k19"},
    {118, "Microsoft Windows Server 2016", "windows2019srvNext_64Guest",
     "Windows2022_64", "win2k22"},
    {120, "Microsoft Windows 10 64-Bit", "windows11_64Guest", "Windows11_64",
     "win11"},
    {79, "RedHat Enterprise Linux", "rhel5Guest", "RedHat", ""},
    {80, "RedHat Enterprise Linux 64-Bit", "rhel5_64Guest", "RedHat_64", ""},
    {80, "RedHat Enterprise Linux 64-Bit", "rhel6_64Guest", "", ""},
    {80, "RedHat Enterprise Linux 64-Bit", "rhel7_64Guest", "", "rhel7.0"},
    {80, "RedHat Enterprise Linux 64-Bit", "rhel8_64Guest", "", "rhel8.0"},
    {80, "RedHat Enterprise Linux 64-Bit", "rhel9_64Guest", "", "rhel9.0"},
    {82, "SUSE", "suseGuest", "OpenSUSE", ""},
    {83, "SUSE 64-Bit", "suse64Guest", "OpenSUSE_64", ""},
    {84, "SLES", "slesGuest", "", ""},
    {85, "SLES 64-Bit", "sles64Guest", "", ""},
    {85, "SLES 64-Bit", "sles12_64Guest", "", ""},
    {85, "SLES 64-Bit", "sles15_64Guest", "", ""},
    {93, "Ubuntu", "ubuntuGuest", "Ubuntu", ""},
    {94, "Ubuntu 64-Bit", "ubuntu64Guest", "Ubuntu_64", ""},
    {95, "Debian", "", "Debian", ""},
    {96, "Debian 64-Bit", "", "Debian_64", ""},
    {95, "Debian", "debian10Guest", "", "debian10"},
    {96, "Debian 64-Bit", "debian10_64Guest", "", "debian10"},
    {96, "Debian 64-Bit", "debian11_64Guest", "", "debian11"},
    {96, "Debian 64-Bit", "debian12_64Guest", "", "debian12"},
    {106, "CentOS 32-bit", "centosGuest", "", ""},
    {107, "CentOS 64-bit", "centos64Guest", "", ""},
    {107, "CentOS 64-bit", "centos7_64Guest", "", "centos7.0"},
    {107, "CentOS 64-bit", "centos8_64Guest", "", "centos8"},
    {108, "Oracle Linux 32-bit", "oracleLinuxGuest", "Oracle", ""},
    {109, "Oracle Linux 64-bit", "oracleLinux64Guest", "Oracle_64", ""},
    {104, "VMware ESXi", "vmkernel7Guest", "", ""},
}};

// VMware ids in the API form ("windows7_64Guest") and the .vmx form
// ("windows7-64") differ in case, separators and the "Guest" suffix.
std::string NormalizeVmware(std::string_view id) {
  std::string s;
  for (char c : id) {
    if (c == '-' || c == '_') continue;
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  constexpr std::string_view kSuffix = "guest";
  if (s.size() > kSuffix.size() &&
      s.compare(s.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    s.resize(s.size() - kSuffix.size());
  }
  // "otherGuest64" is the odd one out: its suffix comes before "64".
  if (s == "otherguest64") s = "other64";
  return s;
}

template <typename Pred>
const OsEntry* FindRow(Pred pred) {
  for (const OsEntry& e : kOsTable) {
    if (pred(e)) return &e;
  }
  return nullptr;
}

}  // namespace

std::span<const OsEntry> OsTable() { return kOsTable; }

const OsEntry* FindOsByCim(int cim_id) {
  return FindRow([&](const OsEntry& e) { return e.cim_id == cim_id; });
}

const OsEntry* FindOsByVmware(std::string_view guest_id) {
  if (guest_id.empty()) return nullptr;
  std::string want = NormalizeVmware(guest_id);
  return FindRow([&](const OsEntry& e) {
    return !e.vmware.empty() && NormalizeVmware(e.vmware) == want;
  });
}

const OsEntry* FindOsByVirtualBox(std::string_view os_type) {
  if (os_type.empty()) return nullptr;
  return FindRow([&](const OsEntry& e) {
    return !e.virtualbox.empty() && EqualsIgnoreCase(e.virtualbox, os_type);
  });
}

const OsEntry* FindOsByLibosinfo(std::string_view short_id) {
  if (short_id.empty()) return nullptr;
  return FindRow([&](const OsEntry& e) {
    return !e.libosinfo.empty() && EqualsIgnoreCase(e.libosinfo, short_id);
  });
}

std::string_view LibosinfoForCim(int cim_id) {
  std::string_view found;
  for (const OsEntry& e : kOsTable) {
    if (e.cim_id != cim_id) continue;
    if (e.libosinfo.empty() || (!found.empty() && found != e.libosinfo)) {
      return {};
    }
    found = e.libosinfo;
  }
  return found;
}

std::string_view LibosinfoFor(const OsInfo& os) {
  if (const OsEntry* e = FindOsByVmware(os.vmware_os_type)) return e->libosinfo;
  if (const OsEntry* e = FindOsByVirtualBox(os.virtualbox_os_type)) {
    return e->libosinfo;
  }
  if (os.cim_id) return LibosinfoForCim(*os.cim_id);
  return {};
}

const OsEntry* FindOs(const OsInfo& os) {
  if (const OsEntry* e = FindOsByVmware(os.vmware_os_type)) return e;
  if (const OsEntry* e = FindOsByVirtualBox(os.virtualbox_os_type)) return e;
  if (const OsEntry* e = FindOsByLibosinfo(os.libosinfo_id)) return e;
  if (os.cim_id) return FindOsByCim(*os.cim_id);
  return nullptr;
}

bool CompleteOsInfo(OsInfo* os) {
  const OsEntry* e = FindOs(*os);
  if (e == nullptr) return false;
  if (!os->cim_id) os->cim_id = e->cim_id;
  if (os->vmware_os_type.empty()) os->vmware_os_type = std::string(e->vmware);
  if (os->virtualbox_os_type.empty()) {
    os->virtualbox_os_type = std::string(e->virtualbox);
  }
  if (os->libosinfo_id.empty()) os->libosinfo_id = std::string(e->libosinfo);
  return true;
}

}  // namespace ova2virt
