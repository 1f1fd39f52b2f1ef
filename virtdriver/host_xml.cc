#include "virtdriver/host_xml.h"

#include <algorithm>

#include "core/checked_math.h"
#include "core/xml.h"

namespace ova2virt {
namespace {

// A decimal id of at most 10 digits that fits 32 bits.
std::optional<uint32_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// "+UID:+GID" (libvirt's numeric DAC label).
std::optional<EmulatorIdentity> ParseLabel(std::string_view label) {
  size_t colon = label.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view u = label.substr(0, colon), g = label.substr(colon + 1);
  if (u.empty() || u[0] != '+' || g.empty() || g[0] != '+') {
    return std::nullopt;
  }
  auto uid = ParseId(u.substr(1)), gid = ParseId(g.substr(1));
  if (!uid || !gid) return std::nullopt;
  return EmulatorIdentity{*uid, *gid};
}

// A volume XML timestamp, "SECONDS[.NANOSECONDS]" (libvirt's storage
// driver, from stat), in nanoseconds; nullopt for anything else.
std::optional<int64_t> TimestampNs(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view sec = text.substr(0, dot);
  std::string_view frac =
      dot == std::string_view::npos ? "" : text.substr(dot + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  if (sec.empty() || sec.size() > 18 || frac.size() > 9 || !digits(sec) ||
      !digits(frac) || (dot != std::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  int64_t seconds = 0;
  for (char c : sec) seconds = seconds * 10 + (c - '0');
  int64_t fraction = 0;
  for (size_t i = 0; i < 9; ++i) {
    fraction = fraction * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  }
  auto ns = CheckedMul<int64_t>(seconds, 1000000000);
  if (!ns) return std::nullopt;
  return CheckedAdd<int64_t>(*ns, fraction);
}

std::string Attr(const XmlElement* e, std::string_view name) {
  if (!e) return "";
  return e->Attribute("", name).value_or("");
}

// The values of the <enum name=NAME> children of `parent`.
std::vector<std::string> EnumValues(const XmlElement* parent,
                                    std::string_view name) {
  std::vector<std::string> out;
  if (!parent) return out;
  for (const XmlElement* en : parent->Children("", "enum")) {
    if (Attr(en, "name") != name) continue;
    for (const XmlElement* v : en->Children("", "value")) {
      out.push_back(v->TrimmedText());
    }
  }
  return out;
}

bool Has(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

}  // namespace

Result<VolumeXml> ParseVolumeXml(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  VolumeXml out;
  if (const XmlElement* t = root.Child("", "target")) {
    out.format = Attr(t->Child("", "format"), "type");
    if (const XmlElement* ts = t->Child("", "timestamps")) {
      out.mtime_ns = TimestampNs(ts->ChildText("", "mtime").value_or(""));
    }
  }
  return out;
}

Result<HostGuestCaps> ParseHostGuestCaps(std::string_view caps_xml) {
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(caps_xml));
  HostGuestCaps caps;
  for (const XmlElement* guest : root.Children("", "guest")) {
    const XmlElement* arch = guest->Child("", "arch");
    if (guest->ChildText("", "os_type") != "hvm" ||
        Attr(arch, "name") != "x86_64") {
      continue;
    }
    for (const XmlElement* m : arch->Children("", "machine")) {
      caps.machines.push_back(m->TrimmedText());
      std::string canonical = Attr(m, "canonical");
      if (!canonical.empty()) caps.machines.push_back(canonical);
    }
    for (const XmlElement* d : arch->Children("", "domain")) {
      std::string type = Attr(d, "type");
      if (type == "kvm") caps.kvm = true;
      if (type == "qemu") caps.qemu = true;
    }
  }
  return caps;
}

Result<DomainCapsXml> ParseDomainCapsXml(std::string_view domcaps_xml) {
  ASSIGN_OR_RETURN(XmlElement d, ParseXml(domcaps_xml));
  DomainCapsXml caps;
  if (const XmlElement* os = d.Child("", "os")) {
    caps.efi = Has(EnumValues(os, "firmware"), "efi");
    caps.secure_boot =
        Has(EnumValues(os->Child("", "loader"), "secure"), "yes");
  }
  const XmlElement* devices = d.Child("", "devices");
  caps.disk_buses =
      EnumValues(devices ? devices->Child("", "disk") : nullptr, "bus");
  return caps;
}

Result<PoolXml> ParsePoolXml(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  if (!root.Is("", "pool")) {
    return CorruptError("pool description: the root element is <" + root.qname +
                        ">, not <pool>");
  }
  PoolXml out;
  out.type = root.Attribute("", "type").value_or("");
  if (const XmlElement* t = root.Child("", "target")) {
    out.target_path = t->ChildText("", "path").value_or("");
  }
  return out;
}

std::optional<EmulatorIdentity> ParseDacBaseLabel(std::string_view caps_xml,
                                                  std::string_view virt_type) {
  auto root = ParseXml(caps_xml);
  if (!root.ok()) return std::nullopt;
  const XmlElement* host = root->Child("", "host");
  if (!host) return std::nullopt;
  for (const XmlElement* model : host->Children("", "secmodel")) {
    if (model->ChildText("", "model") != "dac") continue;
    std::vector<const XmlElement*> labels = model->Children("", "baselabel");
    if (labels.empty()) return std::nullopt;
    const XmlElement* chosen = labels.front();
    for (const XmlElement* l : labels) {
      if (l->Attribute("", "type") == virt_type) chosen = l;
    }
    return ParseLabel(chosen->TrimmedText());
  }
  return std::nullopt;
}

std::optional<std::string> DefaultPoolPath(std::string_view uri,
                                           std::string_view xdg_data_home,
                                           std::string_view home) {
  // "driver[+transport]://[user@][host][:port]/path[?query]"
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string_view scheme = uri.substr(0, scheme_end);
  std::string_view driver = scheme.substr(0, scheme.find('+'));
  std::string_view transport = scheme.find('+') == std::string_view::npos
                                   ? std::string_view()
                                   : scheme.substr(scheme.find('+') + 1);
  if (driver != "qemu") return std::nullopt;
  std::string_view rest = uri.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view host = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);
  path = path.substr(0, path.find('?'));
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/system") return std::string("/var/lib/libvirt/images");
  if (path != "/session") return std::nullopt;
  bool local = host.empty() && (transport.empty() || transport == "unix");
  if (!local) return std::nullopt;
  // XDG Base Directory: a relative $XDG_DATA_HOME is to be ignored.
  if (!xdg_data_home.empty() && xdg_data_home[0] == '/') {
    return std::string(xdg_data_home) + "/libvirt/images";
  }
  if (home.empty()) return std::nullopt;
  return std::string(home) + "/.local/share/libvirt/images";
}

}  // namespace ova2virt
