#include "pipeline/export_os.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/strings.h"
#include "ovf/os_table.h"

namespace ova2virt {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Families whose releases the OS table does not list one by one: the
// closest VMware guest id. VMware asks for nothing more than a family to
// pick defaults (and its tools), so an approximation is fine, but said.
struct FamilyGuess {
  std::string_view prefix;  // libosinfo short-id prefix
  std::string_view vmware;
};
constexpr std::array<FamilyGuess, 18> kFamilies = {{
    {"ubuntu", "ubuntu64Guest"},
    {"debian", "debian12_64Guest"},
    {"centos-stream", "centos8_64Guest"},
    {"centos", "centos64Guest"},
    {"rhel", "rhel9_64Guest"},
    {"rocky", "rhel9_64Guest"},
    {"almalinux", "rhel9_64Guest"},
    {"ol", "oracleLinux64Guest"},
    {"fedora", "other5xLinux64Guest"},
    {"sles", "sles15_64Guest"},
    {"opensuse", "suse64Guest"},
    {"archlinux", "other5xLinux64Guest"},
    {"alpinelinux", "other5xLinux64Guest"},
    {"photon", "vmwarePhoton64Guest"},
    {"freebsd", "freebsd64Guest"},
    {"solaris", "solaris11_64Guest"},
    {"win2k", "windows2019srvNext_64Guest"},
    {"win", "windows9_64Guest"},
}};

// The RHEL-like families name their VMware id by major version.
std::string RhelLikeGuess(std::string_view id) {
  for (std::string_view family : {"rhel", "rocky", "almalinux", "centos"}) {
    if (!StartsWith(id, family)) continue;
    std::string_view version = id.substr(family.size());
    size_t dot = version.find('.');
    std::string major(version.substr(0, dot));
    if (major.empty() || !std::all_of(major.begin(), major.end(), ::isdigit)) {
      return "";
    }
    std::string prefix = family == "centos" ? "centos" : "rhel";
    std::string guess = prefix + major + "_64Guest";
    if (FindOsByVmware(guess)) return guess;
  }
  return "";
}

// Fills `os` from what the domain says: our metadata (an imported
// appliance's own names), else libvirt's libosinfo URI.
}  // namespace

void NameExportOs(const ParsedDomain& d, VmSpec* vm, Diagnostics* diags) {
  OsInfo& os = vm->os;
  if (os.libosinfo_id.empty() && !d.options.libosinfo_id.empty()) {
    os.libosinfo_id = LibosinfoShortId(d.options.libosinfo_id);
  }
  bool named =
      os.cim_id || !os.vmware_os_type.empty() || !os.virtualbox_os_type.empty();
  if (named) {
    CompleteOsInfo(&os);
    return;
  }
  if (os.libosinfo_id.empty()) {
    diags->Warn("export.os-unknown", vm->name,
                "the domain does not say its guest operating system; the "
                "ovf says 'other', and VMware and VirtualBox will ask");
    return;
  }
  if (FindOsByLibosinfo(os.libosinfo_id)) {
    CompleteOsInfo(&os);
    return;
  }
  std::string guess = RhelLikeGuess(os.libosinfo_id);
  if (guess.empty()) {
    for (const FamilyGuess& f : kFamilies) {
      if (StartsWith(os.libosinfo_id, f.prefix)) {
        guess = std::string(f.vmware);
        break;
      }
    }
  }
  if (guess.empty()) {
    diags->Warn("export.os-unknown", vm->name,
                "os " + Quote(os.libosinfo_id) +
                    " has no VMware or CIM name; the ovf says 'other'");
    return;
  }
  os.vmware_os_type = guess;
  CompleteOsInfo(&os);
  diags->Warn("export.os-approximated", vm->name,
              "os " + Quote(os.libosinfo_id) + " is written as VMware's " +
                  Quote(guess) + ", the closest guest type it has");
}

bool IsWindowsGuest(const OsInfo& os) {
  return StartsWith(os.libosinfo_id, "win") ||
         StartsWith(Lower(os.vmware_os_type), "win") ||
         StartsWith(Lower(os.virtualbox_os_type), "windows") ||
         Lower(os.cim_description).find("windows") != std::string::npos;
}

bool HasVmxnet3Driver(const OsInfo& os) {
  if (IsWindowsGuest(os)) return false;
  const OsEntry* e = FindOs(os);
  if (e == nullptr) return false;
  std::string vmw = Lower(e->vmware);
  for (std::string_view family :
       {"ubuntu", "debian", "rhel", "centos", "oraclelinux", "sles", "suse",
        "other3xlinux", "other4xlinux", "other5xlinux", "otherlinux64",
        "other26xlinux64", "vmwarephoton", "freebsd", "solaris11"}) {
    if (StartsWith(vmw, family)) return true;
  }
  return false;
}

std::string LibosinfoShortId(std::string_view uri) {
  // http://HOST/FAMILY/VERSION -> FAMILY VERSION, checked by mapping back.
  size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view path = uri.substr(scheme + 3);
  size_t last = path.rfind('/');
  if (last == std::string_view::npos || last == 0) return "";
  size_t before = path.rfind('/', last - 1);
  if (before == std::string_view::npos) return "";
  std::string id = std::string(path.substr(before + 1, last - before - 1)) +
                   std::string(path.substr(last + 1));
  return LibosinfoUri(id) == uri ? id : "";
}

}  // namespace ova2virt
