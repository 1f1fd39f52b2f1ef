#include "ovf/ovf_format.h"

#include <cctype>
#include <vector>

#include "core/strings.h"
#include "ovf/units.h"

namespace ova2virt::ovf {
namespace {

// Splits on white space and commas: "virtio lsilogic", "someother, x".
std::vector<std::string> Tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

struct ControllerModelName {
  std::string_view token;
  ControllerModel model;
};
constexpr ControllerModelName kControllerModels[] = {
    {"piix3", ControllerModel::kPiix3},
    {"piix4", ControllerModel::kPiix4},
    {"ich6", ControllerModel::kIch6},
    {"ahci", ControllerModel::kAhci},
    {"vmware.sata.ahci", ControllerModel::kAhci},
    {"lsilogic", ControllerModel::kLsiLogic},
    {"lsilogicsas", ControllerModel::kLsiLogicSas},
    {"lsisas1068", ControllerModel::kLsiLogicSas},
    {"buslogic", ControllerModel::kBusLogic},
    {"virtualscsi", ControllerModel::kPvscsi},
    {"pvscsi", ControllerModel::kPvscsi},
    {"virtio", ControllerModel::kVirtioScsi},
    {"virtio-scsi", ControllerModel::kVirtioScsi},
    {"virtioscsi", ControllerModel::kVirtioScsi},
    {"vmware.nvme.controller", ControllerModel::kNvme},
    {"nvme", ControllerModel::kNvme},
};

struct NicModelName {
  std::string_view token;
  NicModel model;
};
constexpr NicModelName kNicModels[] = {
    {"e1000", NicModel::kE1000},       {"i82540em", NicModel::kE1000},
    {"i82543gc", NicModel::kE1000},    {"i82545em", NicModel::kE1000},
    {"e1000e", NicModel::kE1000e},     {"vmxnet3", NicModel::kVmxnet3},
    {"vmxnet2", NicModel::kVmxnet2},   {"vmxnet", NicModel::kVmxnet2},
    {"pcnet32", NicModel::kPcnet},     {"pcnet", NicModel::kPcnet},
    {"am79c970a", NicModel::kPcnet},   {"am79c973", NicModel::kPcnet},
    {"vlance", NicModel::kVlance},     {"virtio", NicModel::kVirtio},
    {"virtio-net", NicModel::kVirtio}, {"rtl8139", NicModel::kRtl8139},
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string NormalizeNs(std::string_view uri) {
  std::string_view s = Trim(uri);
  // One producer ends its URIs with a stray dot; oVirt with a slash;
  // VirtualBox's OVF 2.0 names the schema file.
  while (!s.empty() && (s.back() == '/' || s.back() == '.')) s.remove_suffix(1);
  if (EndsWith(s, ".xsd")) s.remove_suffix(4);
  return std::string(s);
}

std::optional<int> EnvelopeMajor(std::string_view ns) {
  std::string n = NormalizeNs(ns);
  if (n == kOvf09Ns) return 0;
  if (n.compare(0, kOvfEnvelopePrefix.size(), kOvfEnvelopePrefix) != 0) {
    return std::nullopt;
  }
  auto major =
      ParseDecimal(std::string_view(n).substr(kOvfEnvelopePrefix.size()));
  if (!major || *major > 1000) return std::nullopt;
  return static_cast<int>(*major);
}

bool IsOvfNs(std::string_view ns) { return EnvelopeMajor(ns).has_value(); }

bool IsVmwareNs(std::string_view ns) { return NormalizeNs(ns) == kVmwNs; }

std::string OvfName(const XmlElement& e) {
  // Some OVF 0.9 producers prefix the envelope and leave its children
  // unqualified, with no default namespace; those children are OVF too.
  if (!e.ns.empty() && !IsOvfNs(e.ns)) return {};
  if (e.local == "Section" || e.local == "Content") {
    if (auto type = e.Attribute(kXsiNs, "type")) {
      std::string_view t = *type;
      if (size_t colon = t.find(':'); colon != std::string_view::npos) {
        t.remove_prefix(colon + 1);
      }
      if (EndsWith(t, "_Type")) t.remove_suffix(5);
      return std::string(t);
    }
  }
  return e.local;
}

std::optional<std::string> OvfAttr(const XmlElement& e, std::string_view name) {
  for (const XmlAttribute& a : e.attributes) {
    if (a.local == name && IsOvfNs(a.ns)) return a.value;
  }
  return e.Attribute("", name);
}

std::optional<std::string> VmwAttr(const XmlElement& e, std::string_view name) {
  for (const XmlAttribute& a : e.attributes) {
    if (a.local == name && IsVmwareNs(a.ns)) return a.value;
  }
  return std::nullopt;
}

const XmlElement* OvfChild(const XmlElement& parent, std::string_view name) {
  for (const XmlElement& c : parent.children) {
    if (OvfName(c) == name) return &c;
  }
  return nullptr;
}

ImageFormat FormatFromUri(std::string_view uri) {
  std::string u = Lower(uri);
  if (u.empty()) return ImageFormat::kUnknown;
  if (u.find("vmdk") != std::string::npos) {
    // "#compressed" is what early VMware tools called streamOptimized.
    if (EndsWith(u, "#streamoptimized") || EndsWith(u, "#compressed")) {
      return ImageFormat::kVmdkStreamOptimized;
    }
    if (EndsWith(u, "#sparse")) return ImageFormat::kVmdkMonolithicSparse;
    return ImageFormat::kVmdk;
  }
  if (u.find("qcow") != std::string::npos) return ImageFormat::kQcow2;
  if (u.find("vhdx") != std::string::npos) return ImageFormat::kVhdx;
  if (u.find("vhd") != std::string::npos ||
      u.find("bb676673") != std::string::npos) {
    return ImageFormat::kVhd;
  }
  if (u.find("vdi") != std::string::npos) return ImageFormat::kVdi;
  if (u.find("ecma-119") != std::string::npos || u == "iso") {
    return ImageFormat::kIso;
  }
  if (u == "raw" || EndsWith(u, "/wiki/byte")) return ImageFormat::kRaw;
  return ImageFormat::kOther;
}

std::string_view UriForFormat(ImageFormat format) {
  switch (format) {
    case ImageFormat::kVmdkStreamOptimized:
      return kVmdkStreamOptimizedUri;
    case ImageFormat::kVmdkMonolithicSparse:
      return kVmdkSparseUri;
    case ImageFormat::kVmdk:
      return kVmdkUri;
    case ImageFormat::kQcow2:
      return kQcow2Uri;
    case ImageFormat::kRaw:
      return kRawUri;
    case ImageFormat::kIso:
      return kIsoUri;
    case ImageFormat::kVhd:
      return kVhdUri;
    case ImageFormat::kVhdx:
      return kVhdxUri;
    case ImageFormat::kVdi:
      return kVdiUri;
    case ImageFormat::kUnknown:
    case ImageFormat::kOther:
      return {};
  }
  return {};
}

std::optional<ControllerModel> ControllerModelFromSubtype(
    std::string_view subtype) {
  for (const std::string& t : Tokens(subtype)) {
    std::string l = Lower(t);
    for (const auto& m : kControllerModels) {
      if (l == m.token) return m.model;
    }
  }
  return std::nullopt;
}

std::optional<NicModel> NicModelFromSubtype(std::string_view subtype) {
  for (const std::string& t : Tokens(subtype)) {
    std::string l = Lower(t);
    for (const auto& m : kNicModels) {
      if (l == m.token) return m.model;
    }
  }
  return std::nullopt;
}

std::optional<std::string> NormalizeMac(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ':' || c == '-' || c == ' ' || c == '\t' || c == '\n' ||
        c == '\r') {
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 12) return std::nullopt;
  std::string mac;
  for (size_t i = 0; i < 12; i += 2) {
    if (!mac.empty()) mac += ':';
    mac += hex.substr(i, 2);
  }
  return mac;
}

}  // namespace ova2virt::ovf
