#include "ovf/ovf_reader.h"

#include <cctype>
#include <memory>

#include "ovf/os_table.h"
#include "ovf/ovf_format.h"
#include "ovf/ovf_read_context.h"
#include "ovf/units.h"

namespace ova2virt {
namespace {

using ovf::OvfAttr;
using ovf::OvfName;
using ovf::ReadContext;

// Sections every VirtualSystem or collection may carry that the model does
// not hold are kept verbatim; these are the ones a reader simply reads.
bool IsRequired(const XmlElement& e) {
  auto r = OvfAttr(e, "required");
  return !r || (*r != "false" && *r != "0");
}

void KeepUnknownSection(const XmlElement& e, ReadContext& ctx,
                        std::vector<UnknownItem>* out) {
  std::string name = OvfName(e);
  if (name.empty()) name = e.qname;
  UnknownItem u = ovf::RawElement(e, "section " + name + " at " + e.Where(),
                                  "section " + e.qname);
  out->push_back(std::move(u));
  if (IsRequired(e) && !ovf::IsOvfNs(e.ns)) {
    ctx.Warn("ovf.unknown-required-section", "section at " + e.Where(),
             "section " + Quote(e.qname) +
                 " is marked required but ova2virt does not act on it; kept "
                 "verbatim");
  } else {
    ctx.Warn("ovf.unknown-section", "section at " + e.Where(),
             "section " + Quote(e.qname) +
                 " is not used by ova2virt; kept verbatim");
  }
}

Status ReadReferences(const XmlElement& refs, ReadContext& ctx,
                      ApplianceSpec* out) {
  for (const XmlElement& f : refs.children) {
    if (OvfName(f) != "File") continue;
    if (out->files.size() >= ovf::kMaxFiles) {
      return CorruptError(f.Where() + ": more than " +
                          std::to_string(ovf::kMaxFiles) + " files");
    }
    FileRef r;
    std::string where = "file at " + f.Where();
    r.id = OvfAttr(f, "id").value_or("");
    r.href = OvfAttr(f, "href").value_or("");
    if (auto s = OvfAttr(f, "size")) {
      ASSIGN_OR_RETURN(r.size, ovf::ReadNumber(ctx, *s, "file size", where));
    }
    r.compression = OvfAttr(f, "compression").value_or("");
    if (auto c = OvfAttr(f, "chunkSize")) {
      ASSIGN_OR_RETURN(r.chunk_size,
                       ovf::ReadNumber(ctx, *c, "chunk size", where));
    }
    if (r.id.empty()) {
      ctx.Warn("ovf.file-without-id", where,
               "file " + Quote(r.href) + " has no ovf:id; nothing can use it");
    } else if (ctx.files.count(r.id) != 0) {
      ctx.Warn("ovf.duplicate-file-id", where,
               "file id " + Quote(r.id) + " is used twice; the first counts");
    } else {
      ctx.files[r.id] = r;
    }
    out->files.push_back(std::move(r));
  }
  return OkStatus();
}

Status ReadDiskSection(const XmlElement& section, ReadContext& ctx) {
  for (const XmlElement& d : section.children) {
    if (OvfName(d) != "Disk") continue;
    if (ctx.disks.size() >= ovf::kMaxDisks) {
      return CorruptError(d.Where() + ": more than " +
                          std::to_string(ovf::kMaxDisks) + " disks");
    }
    ovf::DiskDef def;
    def.where = "disk at " + d.Where();
    def.id = OvfAttr(d, "diskId").value_or("");
    def.file_id = OvfAttr(d, "fileRef").value_or("");
    def.capacity = OvfAttr(d, "capacity").value_or("");
    def.capacity_units = OvfAttr(d, "capacityAllocationUnits").value_or("");
    def.format = OvfAttr(d, "format").value_or("");
    def.parent_ref = OvfAttr(d, "parentRef").value_or("");
    if (auto p = OvfAttr(d, "populatedSize")) {
      ASSIGN_OR_RETURN(def.populated_size,
                       ovf::ReadNumber(ctx, *p, "populated size", def.where));
    }
    if (!def.capacity_units.empty()) {
      // Check the units now so a bad one is reported even if unused.
      RETURN_IF_ERROR(
          ParseByteUnits(def.capacity_units).status().WithContext(def.where));
    }
    if (def.id.empty()) {
      ctx.Warn("ovf.disk-without-id", def.where,
               "disk without ovf:diskId; nothing can use it");
      continue;
    }
    ctx.disks[def.id] = std::move(def);
  }
  return OkStatus();
}

void ReadNetworkSection(const XmlElement& section, const ReadContext& ctx,
                        ApplianceSpec* out) {
  for (const XmlElement& n : section.children) {
    if (OvfName(n) != "Network") continue;
    NetworkDef def;
    def.name = OvfAttr(n, "name").value_or("");
    def.description = ctx.ChildText(n, "Description");
    out->networks.push_back(std::move(def));
  }
}

void ReadDeploymentOptions(const XmlElement& section, const ReadContext& ctx,
                           ApplianceSpec* out) {
  for (const XmlElement& c : section.children) {
    if (OvfName(c) != "Configuration") continue;
    DeploymentOption opt;
    opt.id = OvfAttr(c, "id").value_or("");
    opt.label = ctx.ChildText(c, "Label");
    opt.description = ctx.ChildText(c, "Description");
    auto def = OvfAttr(c, "default");
    opt.is_default = def && (*def == "true" || *def == "1");
    out->deployment_options.push_back(std::move(opt));
  }
}

// The messages of the descriptor's own Strings sections: those in the
// envelope's language (or with none) win over other languages.
void ReadStrings(const XmlElement& root, ReadContext& ctx) {
  std::string lang = root.Attribute(kXmlNs, "lang").value_or("");
  for (int pass = 0; pass < 2; ++pass) {
    for (const XmlElement& s : root.children) {
      if (OvfName(s) != "Strings") continue;
      std::string l = s.Attribute(kXmlNs, "lang").value_or("");
      bool preferred = l.empty() || l == lang;
      if ((pass == 0) != preferred) continue;
      for (const XmlElement& m : s.children) {
        if (OvfName(m) != "Msg") continue;
        if (auto id = OvfAttr(m, "msgid")) {
          ctx.messages.emplace(*id, m.TrimmedText());
        }
      }
    }
  }
}

class EnvelopeReader {
 public:
  EnvelopeReader(ReadContext& ctx, ApplianceSpec* out) : ctx_(ctx), out_(out) {}

  Status ReadVirtualSystem(const XmlElement& e) {
    if (out_->systems.size() >= ovf::kMaxSystems) {
      return CorruptError(e.Where() + ": more than " +
                          std::to_string(ovf::kMaxSystems) +
                          " virtual systems");
    }
    VmSpec vm;
    auto id = OvfAttr(e, "id");
    if (!id || id->empty()) {
      return CorruptError(e.Where() + ": VirtualSystem has no ovf:id");
    }
    vm.id = *id;
    const XmlElement* vhs = nullptr;
    std::vector<const XmlElement*> boot_orders;
    std::vector<std::string> vbox_macs;
    for (const XmlElement& c : e.children) {
      std::string name = OvfName(c);
      if (name == "Info") {
        vm.info = ctx_.Text(c);
      } else if (name == "Name") {
        vm.name = ctx_.Text(c);
      } else if (name == "VirtualHardwareSection") {
        if (vhs == nullptr) {
          vhs = &c;
        } else {
          ctx_.Warn("ovf.extra-hardware-section", "section at " + c.Where(),
                    "VirtualSystem " + Quote(vm.id) +
                        " has more than one VirtualHardwareSection; the "
                        "first is used");
        }
      } else if (name == "OperatingSystemSection") {
        ovf::ReadOperatingSystemSection(c, ctx_, &vm.os);
      } else if (name == "ProductSection") {
        vm.products.push_back(ovf::ReadProductSection(c, ctx_));
      } else if (name == "EulaSection") {
        vm.eulas.push_back(ctx_.ChildText(c, "License"));
      } else if (name == "AnnotationSection") {
        vm.description = ctx_.ChildText(c, "Annotation");
      } else if (ovf::NormalizeNs(c.ns) == ovf::kVboxNs &&
                 c.local == "Machine") {
        ovf::ReadVirtualBoxMachine(c, &vm, &vbox_macs);
      } else if (ovf::IsVmwareNs(c.ns) && c.local == "BootOrderSection") {
        boot_orders.push_back(&c);
      } else {
        KeepUnknownSection(c, ctx_, &vm.unknown_items);
      }
    }
    // Hardware last: disk capacities may name properties of this system.
    if (vhs != nullptr) {
      RETURN_IF_ERROR(ovf::ReadVirtualHardware(*vhs, ctx_, &vm)
                          .WithContext("VirtualSystem " + Quote(vm.id)));
    } else {
      ctx_.Warn(
          "ovf.no-hardware", "VirtualSystem at " + e.Where(),
          "VirtualSystem " + Quote(vm.id) + " has no VirtualHardwareSection");
    }
    // VirtualBox keeps MACs only in its own section: one enabled adapter
    // per NIC item, in order. Anything else is too ambiguous to pair.
    if (!vbox_macs.empty() && vbox_macs.size() == vm.nics.size()) {
      for (size_t i = 0; i < vm.nics.size(); ++i) {
        if (vm.nics[i].mac.empty()) vm.nics[i].mac = vbox_macs[i];
      }
    }
    for (const XmlElement* b : boot_orders) {
      ovf::ReadBootOrderSection(*b, ctx_, &vm);
    }
    if (vm.name.empty()) vm.name = vm.id;
    vm.os.libosinfo_id = std::string(LibosinfoFor(vm.os));
    out_->systems.push_back(std::move(vm));
    return OkStatus();
  }

  Status ReadCollection(const XmlElement& e, int depth) {
    if (depth > 16) {
      return CorruptError(e.Where() +
                          ": VirtualSystemCollections nested too deeply");
    }
    // Sections of the collection first: its properties are visible to the
    // systems inside it.
    auto products = std::make_unique<std::vector<ProductInfo>>();
    for (const XmlElement& c : e.children) {
      std::string name = OvfName(c);
      if (name == "Info" || name == "VirtualSystem" ||
          name == "VirtualSystemCollection") {
        continue;
      } else if (name == "Name") {
        if (out_->name.empty()) out_->name = ctx_.Text(c);
      } else if (name == "ProductSection") {
        products->push_back(ovf::ReadProductSection(c, ctx_));
      } else if (name == "EulaSection") {
        out_->eulas.push_back(ctx_.ChildText(c, "License"));
      } else if (name == "AnnotationSection") {
        if (out_->annotation.empty()) {
          out_->annotation = ctx_.ChildText(c, "Annotation");
        }
      } else if (name == "StartupSection") {
        ASSIGN_OR_RETURN(auto entries, ovf::ReadStartupSection(c, ctx_));
        for (auto& s : entries) out_->startup.push_back(std::move(s));
      } else {
        KeepUnknownSection(c, ctx_, &out_->unknown_sections);
      }
    }
    ctx_.outer_products.push_back(products.get());
    for (const XmlElement& c : e.children) {
      std::string name = OvfName(c);
      if (name == "VirtualSystem") {
        RETURN_IF_ERROR(ReadVirtualSystem(c));
      } else if (name == "VirtualSystemCollection") {
        RETURN_IF_ERROR(ReadCollection(c, depth + 1));
      }
    }
    ctx_.outer_products.pop_back();
    for (auto& p : *products) out_->products.push_back(std::move(p));
    return OkStatus();
  }

 private:
  ReadContext& ctx_;
  ApplianceSpec* out_;
};

// XenServer labels its ASCII descriptors encoding="utf-16". The bytes are
// read as what they are (UTF-8); say so, since other tools refuse them.
void WarnAboutDeclaredEncoding(std::string_view xml, Diagnostics* diag) {
  if (diag == nullptr || xml.substr(0, 5) != "<?xml") return;
  size_t end = xml.find("?>");
  std::string decl(xml.substr(0, end == std::string_view::npos ? 0 : end));
  for (char& c : decl)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t p = decl.find("encoding=");
  if (p == std::string::npos || p + 10 > decl.size()) return;
  std::string enc = decl.substr(p + 10);
  enc = enc.substr(0, enc.find_first_of("'\""));
  if (enc.rfind("utf-16", 0) == 0 || enc.rfind("ucs", 0) == 0 ||
      enc.rfind("utf-32", 0) == 0) {
    diag->Warn("ovf.encoding-mismatch", "xml declaration",
               "the document says it is " + Quote(enc) +
                   " but its bytes are 8-bit; read as UTF-8");
  }
}

Status ChooseDeployment(const OvfReadOptions& options, ReadContext& ctx,
                        ApplianceSpec* out) {
  auto& opts = out->deployment_options;
  ctx.has_deployment_options = !opts.empty();
  if (!options.deployment.empty()) {
    std::string known;
    for (const DeploymentOption& o : opts) {
      if (o.id == options.deployment) {
        ctx.deployment = o.id;
        out->deployment = o.id;
        return OkStatus();
      }
      known += (known.empty() ? "" : ", ") + Quote(o.id);
    }
    return UsageError(
        "deployment option " + Quote(options.deployment) +
        " is not in the descriptor" +
        (known.empty() ? std::string(" (it has none)") : "; it has " + known));
  }
  if (opts.empty()) return OkStatus();
  const DeploymentOption* chosen = &opts.front();
  for (const DeploymentOption& o : opts) {
    if (o.is_default) {
      chosen = &o;
      break;
    }
  }
  ctx.deployment = chosen->id;
  out->deployment = chosen->id;
  return OkStatus();
}

}  // namespace

Result<ApplianceSpec> ParseOvfDescriptor(std::string_view xml,
                                         const OvfReadOptions& options,
                                         Diagnostics* diagnostics) {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return CorruptError("the descriptor is empty");
  }
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  WarnAboutDeclaredEncoding(xml, diagnostics);
  auto major = ovf::EnvelopeMajor(root.ns);
  if (root.local != "Envelope" || !major) {
    return CorruptError(root.Where() + ": root element " + Quote(root.qname) +
                        " (namespace " + Quote(root.ns) +
                        ") is not an OVF Envelope");
  }
  if (*major > 2) {
    return UnsupportedError(root.Where() + ": OVF version " +
                            std::to_string(*major) + ".x (namespace " +
                            Quote(root.ns) +
                            ") is not supported; ova2virt reads 0.9, 1.x and "
                            "2.x");
  }
  ApplianceSpec out;
  std::string declared = OvfAttr(root, "version").value_or("");
  out.ovf_version = !declared.empty() ? declared
                    : *major == 0     ? "0.9"
                    : *major == 1     ? "1.0"
                                      : "2.0";
  ReadContext ctx;
  ctx.diag = diagnostics;
  ReadStrings(root, ctx);

  const XmlElement* content = nullptr;
  for (const XmlElement& c : root.children) {
    std::string name = OvfName(c);
    if (name == "References") {
      RETURN_IF_ERROR(ReadReferences(c, ctx, &out));
    } else if (name == "DiskSection") {
      RETURN_IF_ERROR(ReadDiskSection(c, ctx));
    } else if (name == "NetworkSection") {
      ReadNetworkSection(c, ctx, &out);
    } else if (name == "DeploymentOptionSection") {
      ReadDeploymentOptions(c, ctx, &out);
    } else if (name == "StartupSection") {
      // XenServer puts it on the envelope rather than on a collection.
      ASSIGN_OR_RETURN(auto entries, ovf::ReadStartupSection(c, ctx));
      for (auto& s : entries) out.startup.push_back(std::move(s));
    } else if (name == "Strings") {
      // Read above; external bundles (ovf:fileRef) are not opened.
    } else if (name == "VirtualSystem" || name == "VirtualSystemCollection") {
      if (content == nullptr) {
        content = &c;
      } else {
        ctx.Warn("ovf.extra-content", "element at " + c.Where(),
                 "the envelope has more than one top-level system; the "
                 "first is used");
      }
    } else {
      KeepUnknownSection(c, ctx, &out.unknown_sections);
    }
  }
  RETURN_IF_ERROR(ChooseDeployment(options, ctx, &out));

  EnvelopeReader reader(ctx, &out);
  if (content == nullptr) {
    ctx.Warn("ovf.no-virtual-system", "",
             "the descriptor describes no virtual system");
  } else if (OvfName(*content) == "VirtualSystem") {
    RETURN_IF_ERROR(reader.ReadVirtualSystem(*content));
    out.name = out.systems.front().name;
  } else {
    RETURN_IF_ERROR(reader.ReadCollection(*content, 0));
    if (out.name.empty()) out.name = OvfAttr(*content, "id").value_or("");
    if (out.systems.empty()) {
      ctx.Warn("ovf.no-virtual-system", "",
               "the collection holds no virtual system");
    }
  }
  for (const auto& [id, def] : ctx.disks) {
    if (ctx.used_disks.count(id) == 0) {
      ctx.Warn("ovf.unused-disk", def.where,
               "disk " + Quote(id) + " is attached to no virtual system" +
                   (ctx.deployment.empty()
                        ? std::string()
                        : " in deployment option " + Quote(ctx.deployment)));
    }
  }
  return out;
}

}  // namespace ova2virt
