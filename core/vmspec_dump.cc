#include "core/vmspec_dump.h"

#include "core/status.h"

namespace ova2virt {
namespace {

class Dumper {
 public:
  void Line(int depth, std::string_view key, std::string_view value) {
    out_.append(2 * depth, ' ');
    out_ += key;
    out_ += ": ";
    // Values may hold newlines (annotations, EULAs): keep one line each.
    for (char c : value) {
      if (c == '\n')
        out_ += "\\n";
      else if (c == '\r')
        out_ += "\\r";
      else
        out_ += c;
    }
    out_ += '\n';
  }
  void Str(int d, std::string_view k, std::string_view v) {
    if (!v.empty()) Line(d, k, v);
  }
  template <typename T>
  void Opt(int d, std::string_view k, const std::optional<T>& v) {
    if (v) Line(d, k, std::to_string(*v));
  }
  void Bool(int d, std::string_view k, bool v) {
    if (v) Line(d, k, "true");
  }
  void Head(int depth, std::string_view title) {
    out_.append(2 * depth, ' ');
    out_ += title;
    out_ += '\n';
  }
  std::string Take() { return std::move(out_); }

  void Products(int d, const std::vector<ProductInfo>& products) {
    for (size_t i = 0; i < products.size(); ++i) {
      const ProductInfo& p = products[i];
      Head(d, "product " + std::to_string(i) + ":");
      Str(d + 1, "class", p.class_id);
      Str(d + 1, "instance", p.instance_id);
      Str(d + 1, "info", p.info);
      Str(d + 1, "product", p.product);
      Str(d + 1, "vendor", p.vendor);
      Str(d + 1, "version", p.version);
      Str(d + 1, "full_version", p.full_version);
      Str(d + 1, "product_url", p.product_url);
      Str(d + 1, "vendor_url", p.vendor_url);
      Str(d + 1, "app_url", p.app_url);
      for (const Property& prop : p.properties) {
        Head(d + 1, "property " + prop.FullKey() + ":");
        Str(d + 2, "type", prop.type);
        Str(d + 2, "qualifiers", prop.qualifiers);
        if (prop.default_value) Line(d + 2, "default", *prop.default_value);
        Bool(d + 2, "user_configurable", prop.user_configurable);
        Bool(d + 2, "password", prop.password);
        Str(d + 2, "label", prop.label);
        Str(d + 2, "description", prop.description);
        Str(d + 2, "category", prop.category);
      }
    }
  }

  void Unknown(int d, const std::vector<UnknownItem>& items) {
    for (const UnknownItem& u : items) {
      Head(d, "unknown " + u.where + ":");
      Str(d + 1, "kind", u.kind);
      for (const auto& [k, v] : u.fields) Line(d + 1, k, v);
    }
  }

  void Eulas(int d, const std::vector<std::string>& eulas) {
    for (size_t i = 0; i < eulas.size(); ++i) {
      Line(d, "eula " + std::to_string(i) + " bytes",
           std::to_string(eulas[i].size()));
    }
  }

 private:
  std::string out_;
};

void DumpInto(Dumper& o, const VmSpec& vm, int d) {
  o.Str(d, "id", vm.id);
  o.Str(d, "name", vm.name);
  o.Str(d, "description", vm.description);
  o.Str(d, "info", vm.info);
  o.Str(d, "uuid", vm.uuid);
  o.Str(d, "system_type", vm.system_type);
  o.Opt(d, "vcpus", vm.vcpus);
  o.Opt(d, "cores_per_socket", vm.cores_per_socket);
  o.Opt(d, "threads_per_core", vm.threads_per_core);
  o.Opt(d, "memory_bytes", vm.memory_bytes);
  o.Line(d, "firmware", ToString(vm.firmware));
  o.Bool(d, "secure_boot", vm.secure_boot);
  if (vm.os.cim_id) o.Line(d, "os.cim_id", std::to_string(*vm.os.cim_id));
  o.Str(d, "os.cim_description", vm.os.cim_description);
  o.Str(d, "os.version", vm.os.version);
  o.Str(d, "os.vmware", vm.os.vmware_os_type);
  o.Str(d, "os.virtualbox", vm.os.virtualbox_os_type);
  o.Str(d, "os.libosinfo", vm.os.libosinfo_id);
  for (const Controller& c : vm.controllers) {
    o.Head(d, "controller " + c.id + ":");
    o.Line(d + 1, "kind", ToString(c.kind));
    o.Line(d + 1, "model", ToString(c.model));
    o.Str(d + 1, "raw_model", c.raw_model);
    o.Line(d + 1, "bus", std::to_string(c.bus));
  }
  for (const Disk& k : vm.disks) {
    o.Head(d, std::string(ToString(k.device)) + " " + k.id + ":");
    o.Str(d + 1, "label", k.label);
    o.Opt(d + 1, "capacity", k.capacity);
    o.Opt(d + 1, "populated_size", k.populated_size);
    o.Str(d + 1, "controller", k.controller_id);
    o.Opt(d + 1, "unit", k.unit);
    o.Opt(d + 1, "boot_order", k.boot_order);
    o.Str(d + 1, "parent", k.parent_id);
    o.Bool(d + 1, "read_only", k.read_only);
    const ImageSource& s = k.source;
    o.Str(d + 1, "disk_id", s.disk_id);
    o.Str(d + 1, "file_id", s.file_id);
    o.Str(d + 1, "href", s.href);
    if (s.format != ImageFormat::kUnknown) {
      o.Line(d + 1, "format", ToString(s.format));
    }
    o.Str(d + 1, "raw_format", s.raw_format);
    o.Opt(d + 1, "file_size", s.size);
    o.Str(d + 1, "compression", s.compression);
    o.Opt(d + 1, "chunk_size", s.chunk_size);
    o.Str(d + 1, "pool", s.pool);
    o.Str(d + 1, "volume", s.volume);
  }
  for (const Nic& n : vm.nics) {
    o.Head(d, "nic " + n.id + ":");
    o.Str(d + 1, "label", n.label);
    o.Str(d + 1, "network", n.network);
    o.Line(d + 1, "model", ToString(n.model));
    o.Str(d + 1, "raw_model", n.raw_model);
    o.Str(d + 1, "mac", n.mac);
    if (!n.connected) o.Line(d + 1, "connected", "false");
  }
  for (const SerialPort& s : vm.serial_ports) {
    o.Head(d, "serial " + std::to_string(s.index) + ":");
    o.Str(d + 1, "type", s.type);
    o.Str(d + 1, "target", s.target);
  }
  for (const UsbController& u : vm.usb_controllers) {
    o.Line(d, "usb", u.model.empty() ? "unspecified" : u.model);
  }
  for (const SoundCard& s : vm.sound_cards) {
    o.Line(d, "sound", s.model.empty() ? "unspecified" : s.model);
  }
  if (vm.video) {
    o.Head(d, "video:");
    o.Str(d + 1, "model", vm.video->model);
    o.Opt(d + 1, "vram_bytes", vm.video->vram_bytes);
    o.Opt(d + 1, "heads", vm.video->heads);
    o.Bool(d + 1, "accel3d", vm.video->accel3d);
  }
  o.Str(d, "nvram", vm.nvram_href);
  if (vm.tpm)
    o.Line(d, "tpm", vm.tpm->version.empty() ? "yes" : vm.tpm->version);
  o.Products(d, vm.products);
  o.Eulas(d, vm.eulas);
  o.Str(d, "environment_transport", vm.environment_transport);
  for (const auto& [k, v] : vm.extra_config) o.Line(d, "extra " + k, v);
  for (const auto& [k, v] : vm.vmware_config) o.Line(d, "vmware " + k, v);
  o.Unknown(d, vm.unknown_items);
}

}  // namespace

std::string DumpVmSpec(const VmSpec& vm) {
  Dumper o;
  DumpInto(o, vm, 0);
  return o.Take();
}

std::string DumpAppliance(const ApplianceSpec& a) {
  Dumper o;
  o.Str(0, "ovf_version", a.ovf_version);
  o.Str(0, "name", a.name);
  o.Str(0, "annotation", a.annotation);
  for (const FileRef& f : a.files) {
    o.Head(0, "file " + f.id + ":");
    o.Str(1, "href", f.href);
    o.Opt(1, "size", f.size);
    o.Str(1, "compression", f.compression);
    o.Opt(1, "chunk_size", f.chunk_size);
  }
  for (const NetworkDef& n : a.networks) {
    o.Head(0, "network " + n.name + ":");
    o.Str(1, "description", n.description);
  }
  for (const DeploymentOption& opt : a.deployment_options) {
    o.Head(0, "deployment_option " + opt.id + ":");
    o.Str(1, "label", opt.label);
    o.Str(1, "description", opt.description);
    o.Bool(1, "default", opt.is_default);
  }
  o.Str(0, "deployment", a.deployment);
  for (const StartupEntry& s : a.startup) {
    o.Head(0, "startup " + s.id + ":");
    o.Opt(1, "order", s.order);
    o.Opt(1, "start_delay", s.start_delay);
    o.Opt(1, "stop_delay", s.stop_delay);
    o.Bool(1, "wait_for_guest", s.wait_for_guest);
    o.Str(1, "start_action", s.start_action);
    o.Str(1, "stop_action", s.stop_action);
  }
  o.Products(0, a.products);
  o.Eulas(0, a.eulas);
  o.Unknown(0, a.unknown_sections);
  for (size_t i = 0; i < a.systems.size(); ++i) {
    o.Head(0, "virtual_system " + std::to_string(i) + ":");
    DumpInto(o, a.systems[i], 1);
  }
  return o.Take();
}

}  // namespace ova2virt
