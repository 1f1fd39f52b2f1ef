#include "virtdriver/host_xml.h"

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

}  // namespace

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
