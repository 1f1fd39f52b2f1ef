// The smaller OVF sections: product, startup, operating system, VirtualBox
// and VMware extensions; and the helpers every part of the reader shares.
#include <cctype>

#include "ovf/ovf_format.h"
#include "ovf/ovf_read_context.h"
#include "ovf/units.h"

namespace ova2virt::ovf {
namespace {

bool IsTrue(const std::optional<std::string>& v) {
  return v && (*v == "true" || *v == "1");
}

void Flatten(const XmlElement& e, const std::string& path, UnknownItem* out) {
  for (const XmlAttribute& a : e.attributes) {
    if (out->fields.size() >= kMaxUnknownFields) return;
    out->fields.emplace_back(path + "@" + a.qname,
                             a.value.substr(0, kMaxUnknownValueBytes));
  }
  std::string text = e.TrimmedText();
  if (!text.empty() && out->fields.size() < kMaxUnknownFields) {
    out->fields.emplace_back(path, text.substr(0, kMaxUnknownValueBytes));
  }
  for (const XmlElement& c : e.children) {
    if (out->fields.size() >= kMaxUnknownFields) return;
    Flatten(c, path.empty() ? c.qname : path + "/" + c.qname, out);
  }
}

}  // namespace

std::string ReadContext::Text(const XmlElement& e) const {
  std::string t = e.TrimmedText();
  if (!t.empty()) return t;
  if (auto id = OvfAttr(e, "msgid")) {
    auto it = messages.find(*id);
    if (it != messages.end()) return it->second;
  }
  return t;
}

std::string ReadContext::ChildText(const XmlElement& parent,
                                   std::string_view name) const {
  const XmlElement* c = OvfChild(parent, name);
  return c ? Text(*c) : std::string();
}

bool ReadContext::ConfigurationMatches(std::string_view configuration) const {
  if (deployment.empty()) return false;
  size_t i = 0;
  while (i < configuration.size()) {
    while (i < configuration.size() &&
           std::isspace(static_cast<unsigned char>(configuration[i])))
      ++i;
    size_t j = i;
    while (j < configuration.size() &&
           !std::isspace(static_cast<unsigned char>(configuration[j])))
      ++j;
    if (j > i && configuration.substr(i, j - i) == deployment) return true;
    i = j;
  }
  return false;
}

Result<std::optional<uint64_t>> ReadNumber(const ReadContext& ctx,
                                           std::string_view text,
                                           std::string_view what,
                                           std::string_view where) {
  if (auto v = ParseDecimal(text)) return std::optional<uint64_t>(*v);
  bool digits = !text.empty();
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) &&
        !std::isspace(static_cast<unsigned char>(c)))
      digits = false;
  }
  if (digits) {
    return CorruptError(std::string(where) + ": " + std::string(what) + " " +
                        Quote(text) + " overflows 64 bits");
  }
  if (!text.empty()) {
    ctx.Warn("ovf.bad-number", std::string(where),
             std::string(what) + " " + Quote(text) +
                 " is not a number (a template placeholder?); left unset");
  }
  return std::optional<uint64_t>();
}

UnknownItem RawElement(const XmlElement& e, std::string where,
                       std::string kind) {
  UnknownItem u;
  u.where = std::move(where);
  u.kind = std::move(kind);
  Flatten(e, "", &u);
  return u;
}

ProductInfo ReadProductSection(const XmlElement& section,
                               const ReadContext& ctx) {
  ProductInfo p;
  p.class_id = OvfAttr(section, "class").value_or("");
  p.instance_id = OvfAttr(section, "instance").value_or("");
  std::string category;
  for (const XmlElement& c : section.children) {
    std::string name = OvfName(c);
    if (name == "Info")
      p.info = ctx.Text(c);
    else if (name == "Product")
      p.product = ctx.Text(c);
    else if (name == "Vendor")
      p.vendor = ctx.Text(c);
    else if (name == "Version")
      p.version = ctx.Text(c);
    else if (name == "FullVersion")
      p.full_version = ctx.Text(c);
    else if (name == "ProductUrl")
      p.product_url = ctx.Text(c);
    else if (name == "VendorUrl")
      p.vendor_url = ctx.Text(c);
    else if (name == "AppUrl")
      p.app_url = ctx.Text(c);
    else if (name == "Category")
      category = ctx.Text(c);
    else if (name == "Property") {
      Property prop;
      prop.key = OvfAttr(c, "key").value_or("");
      prop.class_id = p.class_id;
      prop.instance_id = p.instance_id;
      prop.type = OvfAttr(c, "type").value_or("");
      prop.qualifiers = OvfAttr(c, "qualifiers").value_or("");
      if (prop.qualifiers.empty()) {
        prop.qualifiers = VmwAttr(c, "qualifiers").value_or("");
      }
      prop.default_value = OvfAttr(c, "value");
      prop.user_configurable = IsTrue(OvfAttr(c, "userConfigurable"));
      prop.password = IsTrue(OvfAttr(c, "password"));
      prop.label = ctx.ChildText(c, "Label");
      prop.description = ctx.ChildText(c, "Description");
      prop.category = category;
      // Per-option values (<Value ovf:value=".." ovf:configuration="..">).
      for (const XmlElement& v : c.children) {
        if (OvfName(v) != "Value") continue;
        auto conf = OvfAttr(v, "configuration");
        if (conf && ctx.ConfigurationMatches(*conf)) {
          prop.default_value = OvfAttr(v, "value").value_or("");
        }
      }
      p.properties.push_back(std::move(prop));
    }
  }
  return p;
}

Result<std::vector<StartupEntry>> ReadStartupSection(const XmlElement& section,
                                                     const ReadContext& ctx) {
  std::vector<StartupEntry> out;
  for (const XmlElement& c : section.children) {
    if (OvfName(c) != "Item") continue;
    StartupEntry s;
    s.id = OvfAttr(c, "id").value_or("");
    std::string where = "startup item at " + c.Where();
    auto small = [&](std::string_view name) -> Result<std::optional<int>> {
      auto text = OvfAttr(c, name);
      if (!text) return std::optional<int>();
      ASSIGN_OR_RETURN(auto v, ReadNumber(ctx, *text, name, where));
      if (!v) return std::optional<int>();
      if (*v > 1000000000) {
        return CorruptError(where + ": " + std::string(name) + " " +
                            Quote(*text) + " is not plausible");
      }
      return std::optional<int>(static_cast<int>(*v));
    };
    ASSIGN_OR_RETURN(s.order, small("order"));
    ASSIGN_OR_RETURN(s.start_delay, small("startDelay"));
    ASSIGN_OR_RETURN(s.stop_delay, small("stopDelay"));
    s.wait_for_guest = IsTrue(OvfAttr(c, "waitingForGuest"));
    s.start_action = OvfAttr(c, "startAction").value_or("");
    s.stop_action = OvfAttr(c, "stopAction").value_or("");
    out.push_back(std::move(s));
  }
  return out;
}

void ReadOperatingSystemSection(const XmlElement& section,
                                const ReadContext& ctx, OsInfo* os) {
  if (auto id = OvfAttr(section, "id")) {
    auto v = ParseDecimal(*id);
    if (v && *v < 65536) {
      os->cim_id = static_cast<int>(*v);
    } else {
      ctx.Warn("ovf.bad-number", "operating system at " + section.Where(),
               "operating system id " + Quote(*id) + " is not a CIM number");
    }
  }
  os->version = OvfAttr(section, "version").value_or("");
  os->vmware_os_type = VmwAttr(section, "osType").value_or("");
  os->cim_description = ctx.ChildText(section, "Description");
  // VirtualBox 4 and later add <vbox:OSType>.
  for (const XmlElement& c : section.children) {
    if (NormalizeNs(c.ns) == kVboxNs && c.local == "OSType") {
      os->virtualbox_os_type = c.TrimmedText();
    }
  }
}

void ReadVirtualBoxMachine(const XmlElement& machine, VmSpec* vm,
                           std::vector<std::string>* adapter_macs) {
  if (auto t = machine.Attribute("", "OSType");
      t && vm->os.virtualbox_os_type.empty()) {
    vm->os.virtualbox_os_type = *t;
  }
  const XmlElement* hw = machine.Child(kAnyNs, "Hardware");
  if (hw == nullptr) return;
  if (const XmlElement* net = hw->Child(kAnyNs, "Network")) {
    for (const XmlElement* a : net->Children(kAnyNs, "Adapter")) {
      if (a->Attribute("", "enabled") != "true") continue;
      auto mac = NormalizeMac(a->Attribute("", "MACAddress").value_or(""));
      adapter_macs->push_back(mac.value_or(""));
    }
  }
  if (vm->firmware != Firmware::kUnknown) return;
  const XmlElement* fw = hw->Child(kAnyNs, "Firmware");
  std::string type = fw ? fw->Attribute("", "type").value_or("BIOS") : "BIOS";
  // VirtualBox's default firmware, when the element is absent, is BIOS.
  vm->firmware = type.rfind("EFI", 0) == 0 ? Firmware::kEfi : Firmware::kBios;
}

void ReadBootOrderSection(const XmlElement& section, const ReadContext& ctx,
                          VmSpec* vm) {
  // <vmw:BootOrderSection vmw:instanceId="9" vmw:type="disk"> names one
  // device; a list form nests <vmw:BootOrder ...> children.
  std::vector<std::string> ids;
  if (auto id = VmwAttr(section, "instanceId")) ids.push_back(*id);
  for (const XmlElement& c : section.children) {
    if (auto id = VmwAttr(c, "instanceId")) ids.push_back(*id);
  }
  int order = 1;
  for (const std::string& id : ids) {
    bool found = false;
    for (Disk& d : vm->disks) {
      if (d.id == id) {
        d.boot_order = order++;
        found = true;
      }
    }
    if (!found) {
      ctx.Warn("ovf.unresolved-boot-device", "boot order at " + section.Where(),
               "boot device " + Quote(id) + " is not a disk of this machine");
    }
  }
}

}  // namespace ova2virt::ovf
