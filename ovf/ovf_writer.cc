#include "ovf/ovf_writer.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "core/xml.h"
#include "ovf/os_table.h"
#include "ovf/ovf_format.h"
#include "ovf/ovf_write_items.h"
#include "ovf/units.h"

namespace ova2virt {
namespace {

using ovf::DiskPlan;
using ovf::WritePlan;

std::string Unique(const std::string& base, const std::set<std::string>& used) {
  if (used.count(base) == 0) return base;
  // Ids come from the model, so a clash is rare; the scan is bounded by the
  // number of ids in use.
  for (size_t k = 2;; ++k) {
    std::string c = base + "-" + std::to_string(k);
    if (used.count(c) == 0) return c;
  }
}

// An href is written as the xs:anyURI the schema asks for, and read back
// verbatim by importers, so characters that would change its meaning as a
// URI reference cannot be written.
Status CheckHref(std::string_view href) {
  for (char c : href) {
    if (c == '#' || c == '?' || c == '%' ||
        static_cast<unsigned char>(c) < 0x20) {
      return UsageError("file name " + Quote(href) +
                        " cannot be an OVF file reference: it contains " +
                        Quote(std::string(1, c)));
    }
  }
  return OkStatus();
}

// Decides file ids, disk ids and which disks are DiskSection entries,
// before anything is written.
class Planner {
 public:
  explicit Planner(const ApplianceSpec& a) : a_(a) {}

  Result<WritePlan> Plan() {
    WritePlan plan;
    plan.files = a_.files;
    for (const FileRef& f : plan.files) RETURN_IF_ERROR(CheckHref(f.href));
    for (const VmSpec& vm : a_.systems) {
      for (const Disk& d : vm.disks) RETURN_IF_ERROR(CheckHref(d.source.href));
      RETURN_IF_ERROR(CheckHref(vm.nvram_href));
    }
    for (const FileRef& f : plan.files) file_ids_.insert(f.id);
    plan.vms.resize(a_.systems.size());
    for (size_t v = 0; v < a_.systems.size(); ++v) {
      const VmSpec& vm = a_.systems[v];
      auto& disk_ids = plan.vms[v].disk_ids;
      for (const Disk& d : vm.disks) {
        if (!NeedsDiskEntry(d)) continue;
        std::string id = d.source.disk_id;
        if (id.empty())
          id = Unique("vmdisk" + std::to_string(++disk_counter_), disk_keys_);
        DiskPlan entry;
        entry.id = id;
        if (!d.capacity) {
          return UsageError("disk " + Quote(d.id) + " of " + Quote(vm.name) +
                            ": its capacity is unknown, and an OVF disk needs "
                            "ovf:capacity");
        }
        entry.capacity = *d.capacity;
        entry.populated_size = d.populated_size;
        entry.format = !d.source.raw_format.empty()
                           ? d.source.raw_format
                           : std::string(ovf::UriForFormat(d.source.format));
        if (!d.source.href.empty()) entry.file_id = FileIdFor(d.source, &plan);
        auto it = plan.disks_by_id.find(id);
        if (it != plan.disks_by_id.end()) {
          if (!SameDisk(plan.disks[it->second], entry)) {
            // Two different images under one id: give this one its own.
            entry.id = Unique(id, disk_keys_);
            plan.disks_by_id[entry.id] = plan.disks.size();
            plan.disks.push_back(entry);
            disk_keys_.insert(entry.id);
          }
        } else {
          plan.disks_by_id[id] = plan.disks.size();
          plan.disks.push_back(entry);
          disk_keys_.insert(id);
        }
        disk_ids[d.id] = entry.id;
      }
      // Parents are named by disk id.
      for (const Disk& d : vm.disks) {
        if (d.parent_id.empty()) continue;
        auto child = disk_ids.find(d.id);
        auto parent = disk_ids.find(d.parent_id);
        if (child != disk_ids.end() && parent != disk_ids.end()) {
          plan.disks[plan.disks_by_id[child->second]].parent = parent->second;
        }
      }
      // Images attached without a DiskSection entry (CD-ROM ISOs).
      for (const Disk& d : vm.disks) {
        if (!NeedsDiskEntry(d) && !d.source.href.empty()) {
          plan.vms[v].file_ids[d.id] = FileIdFor(d.source, &plan);
        }
      }
      if (!vm.nvram_href.empty()) {
        ImageSource s;
        s.href = vm.nvram_href;
        plan.vms[v].nvram_file_id = FileIdFor(s, &plan);
      }
    }
    return plan;
  }

  static bool NeedsDiskEntry(const Disk& d) {
    if (!d.source.disk_id.empty()) return true;
    return d.device == DiskDevice::kDisk && !d.source.href.empty();
  }

 private:
  static bool SameDisk(const DiskPlan& a, const DiskPlan& b) {
    return a.capacity == b.capacity && a.file_id == b.file_id &&
           a.format == b.format;
  }

  std::string FileIdFor(const ImageSource& s, WritePlan* plan) {
    for (const FileRef& f : plan->files) {
      if (!s.file_id.empty() && f.id == s.file_id) return f.id;
    }
    for (const FileRef& f : plan->files) {
      if (f.href == s.href) return f.id;
    }
    FileRef f;
    f.id =
        s.file_id.empty()
            ? Unique("file" + std::to_string(plan->files.size() + 1), file_ids_)
            : Unique(s.file_id, file_ids_);
    f.href = s.href;
    f.size = s.size;
    f.compression = s.compression;
    f.chunk_size = s.chunk_size;
    file_ids_.insert(f.id);
    plan->files.push_back(f);
    return f.id;
  }

  const ApplianceSpec& a_;
  std::set<std::string> file_ids_;
  std::set<std::string> disk_keys_;
  int disk_counter_ = 0;
};

void WriteReferences(const WritePlan& plan, XmlWriter& w) {
  w.Open("References");
  for (const FileRef& f : plan.files) {
    w.Open("File").Attr("ovf:href", f.href).Attr("ovf:id", f.id);
    if (f.size) w.Attr("ovf:size", std::to_string(*f.size));
    if (!f.compression.empty()) w.Attr("ovf:compression", f.compression);
    if (f.chunk_size) w.Attr("ovf:chunkSize", std::to_string(*f.chunk_size));
    w.Close();
  }
  w.Close();
}

void WriteDiskSection(const WritePlan& plan, XmlWriter& w) {
  if (plan.disks.empty()) return;
  w.Open("DiskSection").Leaf("Info", "Virtual disk information");
  for (const DiskPlan& d : plan.disks) {
    uint64_t quantity = 0;
    std::string units = ChooseByteUnits(d.capacity, &quantity);
    w.Open("Disk").Attr("ovf:capacity", std::to_string(quantity));
    if (units != "byte") w.Attr("ovf:capacityAllocationUnits", units);
    w.Attr("ovf:diskId", d.id);
    if (!d.file_id.empty()) w.Attr("ovf:fileRef", d.file_id);
    if (!d.format.empty()) w.Attr("ovf:format", d.format);
    if (!d.parent.empty()) w.Attr("ovf:parentRef", d.parent);
    if (d.populated_size) {
      w.Attr("ovf:populatedSize", std::to_string(*d.populated_size));
    }
    w.Close();
  }
  w.Close();
}

void WriteNetworkSection(const ApplianceSpec& a, XmlWriter& w,
                         Diagnostics* diag) {
  std::set<std::string> declared;
  for (const NetworkDef& n : a.networks) declared.insert(n.name);
  for (const VmSpec& vm : a.systems) {
    for (const Nic& n : vm.nics) {
      if (!n.network.empty() && declared.count(n.network) == 0 && diag) {
        diag->Warn("ovf.network-not-declared", "network adapter " + n.id,
                   "network " + Quote(n.network) +
                       " is not in the appliance's network list; importers "
                       "may ask for a mapping");
      }
    }
  }
  if (a.networks.empty()) return;
  w.Open("NetworkSection").Leaf("Info", "The list of logical networks");
  for (const NetworkDef& n : a.networks) {
    w.Open("Network").Attr("ovf:name", n.name);
    if (!n.description.empty()) w.Leaf("Description", n.description);
    w.Close();
  }
  w.Close();
}

void WriteDeploymentOptions(const ApplianceSpec& a, XmlWriter& w) {
  if (a.deployment_options.empty()) return;
  // The items written are those of the applied option, so it is the
  // default of the descriptor written.
  w.Open("DeploymentOptionSection")
      .Leaf("Info", "The list of deployment options");
  for (const DeploymentOption& o : a.deployment_options) {
    bool is_default =
        a.deployment.empty() ? o.is_default : o.id == a.deployment;
    w.Open("Configuration");
    if (is_default) w.Attr("ovf:default", "true");
    w.Attr("ovf:id", o.id);
    w.Leaf("Label", o.label).Leaf("Description", o.description).Close();
  }
  w.Close();
}

void WriteStartup(const std::vector<StartupEntry>& entries, XmlWriter& w) {
  if (entries.empty()) return;
  w.Open("StartupSection")
      .Leaf("Info", "The startup order of the virtual systems");
  for (const StartupEntry& s : entries) {
    w.Open("Item").Attr("ovf:id", s.id);
    w.Attr("ovf:order", std::to_string(s.order.value_or(0)));
    if (s.start_delay) w.Attr("ovf:startDelay", std::to_string(*s.start_delay));
    if (s.wait_for_guest) w.Attr("ovf:waitingForGuest", "true");
    if (s.stop_delay) w.Attr("ovf:stopDelay", std::to_string(*s.stop_delay));
    if (!s.start_action.empty()) w.Attr("ovf:startAction", s.start_action);
    if (!s.stop_action.empty()) w.Attr("ovf:stopAction", s.stop_action);
    w.Close();
  }
  w.Close();
}

void WriteProducts(const std::vector<ProductInfo>& products, XmlWriter& w) {
  for (const ProductInfo& p : products) {
    w.Open("ProductSection");
    if (!p.class_id.empty()) w.Attr("ovf:class", p.class_id);
    if (!p.instance_id.empty()) w.Attr("ovf:instance", p.instance_id);
    w.Leaf("Info", p.info.empty() ? "Information about the installed software"
                                  : p.info);
    auto leaf = [&](const char* name, const std::string& v) {
      if (!v.empty()) w.Leaf(name, v);
    };
    leaf("Product", p.product);
    leaf("Vendor", p.vendor);
    leaf("Version", p.version);
    leaf("FullVersion", p.full_version);
    leaf("ProductUrl", p.product_url);
    leaf("VendorUrl", p.vendor_url);
    leaf("AppUrl", p.app_url);
    std::string category;
    for (const Property& prop : p.properties) {
      if (prop.category != category) {
        w.Leaf("Category", prop.category);
        category = prop.category;
      }
      w.Open("Property").Attr("ovf:key", prop.key);
      w.Attr("ovf:type", prop.type.empty() ? "string" : prop.type);
      if (!prop.qualifiers.empty()) w.Attr("ovf:qualifiers", prop.qualifiers);
      if (prop.user_configurable) w.Attr("ovf:userConfigurable", "true");
      if (prop.default_value) w.Attr("ovf:value", *prop.default_value);
      if (prop.password) w.Attr("ovf:password", "true");
      if (!prop.label.empty()) w.Leaf("Label", prop.label);
      if (!prop.description.empty()) w.Leaf("Description", prop.description);
      w.Close();
    }
    w.Close();
  }
}

void WriteEulas(const std::vector<std::string>& eulas, XmlWriter& w) {
  for (const std::string& e : eulas) {
    w.Open("EulaSection").Leaf("Info", "An end-user license agreement");
    w.Leaf("License", e).Close();
  }
}

void WriteAnnotation(const std::string& text, XmlWriter& w) {
  if (text.empty()) return;
  w.Open("AnnotationSection").Leaf("Info", "A human-readable annotation");
  w.Leaf("Annotation", text).Close();
}

void WriteOperatingSystem(const OsInfo& given, XmlWriter& w) {
  OsInfo os = given;
  CompleteOsInfo(&os);
  w.Open("OperatingSystemSection");
  w.Attr("ovf:id", std::to_string(os.cim_id.value_or(1)));
  if (!os.version.empty()) w.Attr("ovf:version", os.version);
  if (!os.vmware_os_type.empty()) w.Attr("vmw:osType", os.vmware_os_type);
  w.Leaf("Info", "The kind of installed guest operating system");
  std::string description = given.cim_description;
  if (description.empty()) {
    if (const OsEntry* e = FindOs(os)) description = std::string(e->cim_name);
  }
  if (!description.empty()) w.Leaf("Description", description);
  if (!given.virtualbox_os_type.empty()) {
    w.Open("vbox:OSType").Attr("ovf:required", "false");
    w.Text(given.virtualbox_os_type).Close();
  }
  w.Close();
}

void WriteVirtualSystem(const VmSpec& vm, size_t index, const WritePlan& plan,
                        XmlWriter& w, Diagnostics* diag) {
  std::string id = !vm.id.empty()     ? vm.id
                   : !vm.name.empty() ? vm.name
                                      : "vm" + std::to_string(index + 1);
  w.Open("VirtualSystem").Attr("ovf:id", id);
  w.Leaf("Info", vm.info.empty() ? "A virtual machine" : vm.info);
  w.Leaf("Name", vm.name.empty() ? id : vm.name);
  WriteAnnotation(vm.description, w);
  WriteProducts(vm.products, w);
  WriteEulas(vm.eulas, w);
  WriteOperatingSystem(vm.os, w);
  ovf::WriteVirtualHardware(vm, plan.vms[index], w, diag);
  w.Close();
  for (const Disk& d : vm.disks) {
    if (d.boot_order && diag != nullptr) {
      // DMTF 1.1 has no boot order, and VMware's vmw:BootOrderSection is
      // not valid against the DMTF schema: validity wins.
      diag->Warn("ovf.boot-order-not-written", "virtual system " + Quote(id),
                 "the boot order is not written; importers boot the first "
                 "disk");
      break;
    }
  }
  if (diag != nullptr && !vm.unknown_items.empty()) {
    diag->Warn("ovf.unknown-not-written", "virtual system " + Quote(id),
               std::to_string(vm.unknown_items.size()) +
                   " items ova2virt did not understand are not written");
  }
}

bool NeedsCollection(const ApplianceSpec& a) {
  return a.systems.size() != 1 || !a.products.empty() || !a.eulas.empty() ||
         !a.annotation.empty() || !a.startup.empty() ||
         a.name != a.systems.front().name;
}

bool IsParentOnly(const VmSpec& vm, const Disk& d) {
  if (!d.controller_id.empty()) return false;
  for (const Disk& other : vm.disks) {
    if (other.parent_id == d.id) return true;
  }
  return false;
}

std::string DefaultSystemType(const VmSpec& vm) {
  // Hardware version 14 (ESXi 6.7, Workstation 15) brings NVMe, secure
  // boot and vTPM; 10 (ESXi 5.5) imports almost everywhere.
  bool modern = vm.secure_boot || vm.tpm.has_value();
  for (const Controller& c : vm.controllers) {
    modern = modern || c.kind == ControllerKind::kNvme;
  }
  return modern ? "vmx-14" : "vmx-10";
}

// Memory in whole MiB, rounded up: VirtualBox's reader refuses any memory
// unit but MB/GB (ovfreader.cpp), and vcsim reads VirtualQuantity as MiB
// whatever the unit says; rounding up never gives a guest less.
uint64_t MemoryAsWritten(uint64_t bytes) {
  constexpr uint64_t kMiB = 1ull << 20;
  if (bytes % kMiB == 0 || bytes > UINT64_MAX - kMiB) return bytes;
  return (bytes / kMiB + 1) * kMiB;
}

std::string DefaultLabel(const Disk& d) {
  switch (d.device) {
    case DiskDevice::kCdrom:
      return "CD/DVD drive";
    case DiskDevice::kFloppy:
      return "Floppy drive";
    case DiskDevice::kDisk:
      break;
  }
  return "Hard disk";
}

}  // namespace

ApplianceSpec WithOvfDefaults(const ApplianceSpec& appliance) {
  ApplianceSpec a = appliance;
  if (!a.deployment.empty()) {
    for (DeploymentOption& o : a.deployment_options) {
      o.is_default = o.id == a.deployment;
    }
  } else if (!a.deployment_options.empty()) {
    bool any = false;
    for (const DeploymentOption& o : a.deployment_options) any |= o.is_default;
    if (!any) a.deployment_options.front().is_default = true;
    for (const DeploymentOption& o : a.deployment_options) {
      if (o.is_default) {
        a.deployment = o.id;
        break;
      }
    }
  }
  for (size_t i = 0; i < a.systems.size(); ++i) {
    VmSpec& vm = a.systems[i];
    if (vm.id.empty()) {
      vm.id = !vm.name.empty() ? vm.name : "vm" + std::to_string(i + 1);
    }
    if (vm.name.empty()) vm.name = vm.id;
    if (vm.info.empty()) vm.info = "A virtual machine";
    if (vm.system_type.empty()) vm.system_type = DefaultSystemType(vm);
    if (vm.memory_bytes) vm.memory_bytes = MemoryAsWritten(*vm.memory_bytes);
    CompleteOsInfo(&vm.os);
    if (!vm.os.cim_id) {
      vm.os.cim_id = 1;  // CIM "Other"
      CompleteOsInfo(&vm.os);
    }
    if (vm.os.cim_description.empty()) {
      if (const OsEntry* e = FindOsByCim(*vm.os.cim_id)) {
        vm.os.cim_description = std::string(e->cim_name);
      }
    }
    if (vm.os.libosinfo_id.empty()) {
      vm.os.libosinfo_id = std::string(LibosinfoFor(vm.os));
    }
    for (Disk& d : vm.disks) {
      // ovf:format is said for DiskSection disks only.
      bool disk_entry =
          !d.source.disk_id.empty() ||
          (d.device == DiskDevice::kDisk && !d.source.href.empty());
      if (d.source.raw_format.empty() && disk_entry) {
        d.source.raw_format = std::string(ovf::UriForFormat(d.source.format));
      }
      // A parent image is only a DiskSection entry: it has no item to
      // label, and its disk id is its name.
      if (IsParentOnly(vm, d)) {
        if (d.source.disk_id.empty()) d.source.disk_id = d.id;
        for (Disk& child : vm.disks) {
          if (child.parent_id == d.id) child.parent_id = d.source.disk_id;
        }
        d.id = d.source.disk_id;
      } else if (d.label.empty()) {
        d.label = DefaultLabel(d);
      }
    }
    for (Nic& n : vm.nics) {
      if (n.label.empty()) n.label = "Network adapter";
      if (n.raw_model.empty()) n.raw_model = std::string(ovf::NicSubtype(n));
    }
    for (Controller& c : vm.controllers) {
      if (c.raw_model.empty()) {
        c.raw_model = std::string(ovf::ControllerSubtype(c));
      }
    }
    for (ProductInfo& p : vm.products) {
      if (p.info.empty()) p.info = "Information about the installed software";
    }
  }
  for (ProductInfo& p : a.products) {
    if (p.info.empty()) p.info = "Information about the installed software";
  }
  if (a.name.empty()) {
    a.name = a.systems.size() == 1 ? a.systems.front().name : "collection";
  }
  return a;
}

Result<std::string> FormatOvfDescriptor(const ApplianceSpec& input,
                                        const OvfWriteOptions& options,
                                        Diagnostics* diag) {
  const ApplianceSpec a = WithOvfDefaults(input);
  for (const VmSpec& vm : input.systems) {
    if (vm.memory_bytes && diag != nullptr &&
        MemoryAsWritten(*vm.memory_bytes) != *vm.memory_bytes) {
      diag->Warn("ovf.memory-rounded",
                 "virtual system " + Quote(vm.name.empty() ? vm.id : vm.name),
                 std::to_string(*vm.memory_bytes) +
                     " bytes of memory are "
                     "written as " +
                     std::to_string(MemoryAsWritten(*vm.memory_bytes) >> 20) +
                     " MiB: VMware and VirtualBox read memory in whole MiB");
    }
  }
  if (options.ovf_major != 1 && options.ovf_major != 2) {
    return UsageError("ovf version " + std::to_string(options.ovf_major) +
                      " cannot be written; choose 1 or 2");
  }
  ASSIGN_OR_RETURN(WritePlan plan, Planner(a).Plan());
  bool v2 = options.ovf_major == 2;
  std::string_view ns = v2 ? ovf::kOvf2Ns : ovf::kOvf1Ns;
  XmlWriter w;
  w.Comment("written by ova2virt");
  w.Open("Envelope")
      .Attr("xmlns", ns)
      .Attr("xmlns:cim", ovf::kCimNs)
      .Attr("xmlns:ovf", ns)
      .Attr("xmlns:rasd", ovf::kRasdNs)
      .Attr("xmlns:vbox", ovf::kVboxNs)
      .Attr("xmlns:vmw", ovf::kVmwNs)
      .Attr("xmlns:vssd", ovf::kVssdNs)
      .Attr("xmlns:xsi", ovf::kXsiNs);
  // The version the descriptor follows, as VirtualBox states it; readers
  // (ours, VirtualBox's) show it, and the schema lets any attribute stand
  // on the Envelope.
  w.Attr("ovf:version", ovf::WrittenOvfVersion(options.ovf_major));
  WriteReferences(plan, w);
  WriteDiskSection(plan, w);
  WriteNetworkSection(a, w, diag);
  WriteDeploymentOptions(a, w);
  if (!NeedsCollection(a)) {
    WriteVirtualSystem(a.systems.front(), 0, plan, w, diag);
  } else {
    std::string id = a.name.empty() ? "collection" : a.name;
    w.Open("VirtualSystemCollection").Attr("ovf:id", id);
    w.Leaf("Info", "A collection of virtual machines");
    w.Leaf("Name", id);
    WriteStartup(a.startup, w);
    WriteAnnotation(a.annotation, w);
    WriteProducts(a.products, w);
    WriteEulas(a.eulas, w);
    for (size_t i = 0; i < a.systems.size(); ++i) {
      WriteVirtualSystem(a.systems[i], i, plan, w, diag);
    }
    w.Close();
  }
  if (diag != nullptr && !a.unknown_sections.empty()) {
    diag->Warn("ovf.unknown-not-written", "appliance",
               std::to_string(a.unknown_sections.size()) +
                   " sections ova2virt did not understand are not written");
  }
  return w.Finish();
}

}  // namespace ova2virt
