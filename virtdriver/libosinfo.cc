// Short libosinfo ids ("ubuntu22.04") to the URIs libvirt's metadata and
// virt-manager use ("http://ubuntu.com/ubuntu/22.04"). The osinfo database
// is not a dependency: the URI scheme is regular per family, so a table of
// family prefixes covers what appliances carry.
#include <array>
#include <utility>

#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

struct Family {
  std::string_view prefix;  // short-id prefix, before the version
  std::string_view base;    // URI up to the version
};

// Longer prefixes first where one is a prefix of another ("opensuse" before
// "open...", "rhel-atomic" is not covered).
constexpr std::array<Family, 20> kFamilies = {{
    {"ubuntu", "http://ubuntu.com/ubuntu/"},
    {"debian", "http://debian.org/debian/"},
    {"centos-stream", "http://centos.org/centos-stream/"},
    {"centos", "http://centos.org/centos/"},
    {"rhel", "http://redhat.com/rhel/"},
    {"rocky", "http://rockylinux.org/rocky/"},
    {"almalinux", "http://almalinux.org/almalinux/"},
    {"ol", "http://oracle.com/ol/"},
    {"fedora", "http://fedoraproject.org/fedora/"},
    {"sles", "http://suse.com/sles/"},
    {"sled", "http://suse.com/sled/"},
    {"opensuse", "http://opensuse.org/opensuse/"},
    {"freebsd", "http://freebsd.org/freebsd/"},
    {"openbsd", "http://openbsd.org/openbsd/"},
    {"netbsd", "http://netbsd.org/netbsd/"},
    {"alpinelinux", "http://alpinelinux.org/alpinelinux/"},
    {"archlinux", "http://archlinux.org/archlinux/"},
    {"win", "http://microsoft.com/win/"},
    {"solaris", "http://oracle.com/solaris/"},
    {"photon", "http://vmware.com/photon/"},
}};

bool IsVersionText(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' ||
              c == '-';
    if (!ok) return false;
  }
  return s[0] >= '0' && s[0] <= '9';
}

}  // namespace

std::string LibosinfoUri(std::string_view id) {
  if (id.find("://") != std::string_view::npos) {
    // Already a URI; keep only plain ones (it lands in an attribute, and
    // libvirt clients match on it).
    for (char c : id) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<') {
        return "";
      }
    }
    return std::string(id);
  }
  for (const Family& f : kFamilies) {
    if (id.substr(0, f.prefix.size()) != f.prefix) continue;
    std::string_view version = id.substr(f.prefix.size());
    // Windows ids name editions: win10, win2k19, winxp.
    if (f.prefix == "win") {
      if (version.empty() || version.size() > 8) return "";
      return std::string(f.base) + std::string(version);
    }
    if (IsVersionText(version))
      return std::string(f.base) + std::string(version);
    if (version == "-unknown" || version == "unknown") {
      return std::string(f.base) + "unknown";
    }
    return "";
  }
  return "";
}

}  // namespace ova2virt
