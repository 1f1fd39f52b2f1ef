// Our <metadata> (namespace kOva2virtXmlns) and libosinfo's: written by
// the formatter, read back by the parser, one place for both directions.
#include "virtdriver/domain_metadata.h"

#include <charconv>

#include "virtdriver/domain_names.h"

namespace ova2virt {
namespace {

void OptAttr(XmlWriter& w, std::string_view name, const std::string& v) {
  if (!v.empty()) w.Attr(name, v);
}

std::string Attr(const XmlElement* e, std::string_view name) {
  if (!e) return "";
  return domain_names::WritableText(e->Attribute("", name).value_or(""));
}

}  // namespace

void WriteDomainMetadata(XmlWriter& w, const VmSpec& vm, const DomainOptions& o,
                         Diagnostics* diags) {
  std::string osinfo =
      o.libosinfo_id.empty() ? vm.os.libosinfo_id : o.libosinfo_id;
  std::string uri = LibosinfoUri(osinfo);
  if (!osinfo.empty() && uri.empty()) {
    if (diags)
      diags->Warn(
          "domain.os-unmapped", "",
          "os id " + Quote(osinfo) + " has no libosinfo uri; not recorded");
  }
  w.Open("metadata");
  w.Open("ova2virt:appliance").Attr("xmlns:ova2virt", kOva2virtXmlns);
  for (const auto& [k, v] : o.metadata) {
    w.Open("ova2virt:meta").Attr("name", k).Text(v).Close();
  }
  if (!vm.environment_transport.empty()) {
    // The transport, and which CD carries the environment: an export
    // leaves that CD out (the next import makes a new one from the
    // properties below).
    w.Open("ova2virt:environment").Attr("transport", vm.environment_transport);
    for (const DiskBinding& b : o.disks) {
      if (o.environment_disk_id.empty() || b.disk_id != o.environment_disk_id) {
        continue;
      }
      bool volume = !b.pool.empty() && !b.volume.empty();
      if (volume) {
        w.Attr("cd-pool", b.pool).Attr("cd-volume", b.volume);
      } else {
        OptAttr(w, "cd-path", b.path);
      }
    }
    w.Close();
  }
  const OsInfo& os = vm.os;
  if (os.cim_id || !os.cim_description.empty() || !os.version.empty() ||
      !os.vmware_os_type.empty() || !os.virtualbox_os_type.empty() ||
      !os.libosinfo_id.empty()) {
    w.Open("ova2virt:os");
    if (os.cim_id) w.Attr("cim-id", std::to_string(*os.cim_id));
    OptAttr(w, "version", os.version);
    OptAttr(w, "vmware", os.vmware_os_type);
    OptAttr(w, "virtualbox", os.virtualbox_os_type);
    OptAttr(w, "libosinfo", os.libosinfo_id);
    OptAttr(w, "description", os.cim_description);
    w.Close();
  }
  for (const ProductInfo& p : vm.products) {
    w.Open("ova2virt:product");
    OptAttr(w, "class", p.class_id);
    OptAttr(w, "instance", p.instance_id);
    OptAttr(w, "info", p.info);
    OptAttr(w, "name", p.product);
    OptAttr(w, "vendor", p.vendor);
    OptAttr(w, "version", p.version);
    OptAttr(w, "full-version", p.full_version);
    OptAttr(w, "product-url", p.product_url);
    OptAttr(w, "vendor-url", p.vendor_url);
    OptAttr(w, "app-url", p.app_url);
    for (const Property& prop : p.properties) {
      w.Open("ova2virt:property").Attr("key", prop.key);
      OptAttr(w, "type", prop.type);
      OptAttr(w, "qualifiers", prop.qualifiers);
      if (prop.user_configurable) w.Attr("user-configurable", "yes");
      // A password's value would be readable by every libvirt client.
      if (prop.password) {
        w.Attr("password", "yes");
      } else if (prop.default_value) {
        w.Attr("value", *prop.default_value);
      }
      OptAttr(w, "label", prop.label);
      OptAttr(w, "description", prop.description);
      OptAttr(w, "category", prop.category);
      w.Close();
    }
    w.Close();
  }
  w.Close();
  if (!uri.empty()) {
    w.Open("libosinfo:libosinfo").Attr("xmlns:libosinfo", kLibosinfoXmlns);
    w.Open("libosinfo:os").Attr("id", uri).Close();
    w.Close();
  }
  w.Close();
}

void ParseDomainMetadata(const XmlElement& md, VmSpec* spec,
                         DomainOptions* options, DiskBinding* environment_cd) {
  VmSpec& vm = *spec;
  *environment_cd = DiskBinding();
  if (const XmlElement* li = md.Child(kLibosinfoXmlns, "libosinfo")) {
    if (const XmlElement* os = li->Child(kLibosinfoXmlns, "os")) {
      // Only a usable URI is kept; a malformed one is as good as none.
      options->libosinfo_id = LibosinfoUri(Attr(os, "id"));
    }
  }
  const XmlElement* app = md.Child(kOva2virtXmlns, "appliance");
  if (!app) return;
  for (const XmlElement* m : app->Children(kOva2virtXmlns, "meta")) {
    options->metadata.push_back(
        {Attr(m, "name"), domain_names::WritableText(m->text)});
  }
  if (const XmlElement* env = app->Child(kOva2virtXmlns, "environment")) {
    vm.environment_transport = Attr(env, "transport");
    environment_cd->path = Attr(env, "cd-path");
    environment_cd->pool = Attr(env, "cd-pool");
    environment_cd->volume = Attr(env, "cd-volume");
  }
  if (const XmlElement* os = app->Child(kOva2virtXmlns, "os")) {
    std::string cim = Attr(os, "cim-id");
    int id = 0;
    auto [p, ec] = std::from_chars(cim.data(), cim.data() + cim.size(), id);
    if (!cim.empty() && ec == std::errc() && p == cim.data() + cim.size()) {
      vm.os.cim_id = id;
    }
    vm.os.version = Attr(os, "version");
    vm.os.vmware_os_type = Attr(os, "vmware");
    vm.os.virtualbox_os_type = Attr(os, "virtualbox");
    vm.os.libosinfo_id = Attr(os, "libosinfo");
    vm.os.cim_description = Attr(os, "description");
  }
  for (const XmlElement* pe : app->Children(kOva2virtXmlns, "product")) {
    ProductInfo p;
    p.class_id = Attr(pe, "class");
    p.instance_id = Attr(pe, "instance");
    p.info = Attr(pe, "info");
    p.product = Attr(pe, "name");
    p.vendor = Attr(pe, "vendor");
    p.version = Attr(pe, "version");
    p.full_version = Attr(pe, "full-version");
    p.product_url = Attr(pe, "product-url");
    p.vendor_url = Attr(pe, "vendor-url");
    p.app_url = Attr(pe, "app-url");
    for (const XmlElement* q : pe->Children(kOva2virtXmlns, "property")) {
      Property prop;
      prop.key = Attr(q, "key");
      prop.class_id = p.class_id;
      prop.instance_id = p.instance_id;
      prop.type = Attr(q, "type");
      prop.qualifiers = Attr(q, "qualifiers");
      prop.user_configurable = Attr(q, "user-configurable") == "yes";
      prop.password = Attr(q, "password") == "yes";
      if (auto v = q->Attribute("", "value")) {
        prop.default_value = domain_names::WritableText(*v);
      }
      prop.label = Attr(q, "label");
      prop.description = Attr(q, "description");
      prop.category = Attr(q, "category");
      p.properties.push_back(std::move(prop));
    }
    vm.products.push_back(std::move(p));
  }
}

}  // namespace ova2virt
