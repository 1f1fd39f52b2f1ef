#include "cli/render_appliance.h"

#include <cinttypes>
#include <cstdio>

#include "core/status.h"

namespace ova2virt::cli {
namespace {

using nlohmann::json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json StrOrNull(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

// The name a person would use for the guest: libosinfo's id, else what the
// source called it.
std::string OsName(const OsInfo& os) {
  if (!os.libosinfo_id.empty()) return os.libosinfo_id;
  if (!os.vmware_os_type.empty()) return os.vmware_os_type;
  if (!os.virtualbox_os_type.empty()) return os.virtualbox_os_type;
  if (!os.cim_description.empty()) return os.cim_description;
  if (os.cim_id) return "cim-" + std::to_string(*os.cim_id);
  return {};
}

json PropertiesJson(const std::vector<Property>& props) {
  json out = json::array();
  for (const Property& p : props) {
    json j = {{"key", p.FullKey()},
              {"type", p.type},
              {"user_configurable", p.user_configurable},
              {"password", p.password},
              {"label", p.label},
              {"description", p.description},
              {"category", p.category},
              {"qualifiers", p.qualifiers}};
    // A password's default is a secret even in a descriptor.
    j["default"] =
        p.password || !p.default_value ? json(nullptr) : json(*p.default_value);
    j["has_default"] = p.default_value.has_value();
    out.push_back(std::move(j));
  }
  return out;
}

json ProductsJson(const std::vector<ProductInfo>& products) {
  json out = json::array();
  for (const ProductInfo& p : products) {
    out.push_back({{"class", p.class_id},
                   {"instance", p.instance_id},
                   {"product", p.product},
                   {"vendor", p.vendor},
                   {"version", p.version},
                   {"full_version", p.full_version},
                   {"product_url", p.product_url},
                   {"vendor_url", p.vendor_url},
                   {"app_url", p.app_url},
                   {"properties", PropertiesJson(p.properties)}});
  }
  return out;
}

json DiskJson(const VmSpec& vm, const Disk& d) {
  const Controller* c = vm.FindController(d.controller_id);
  json j = {{"id", d.id},
            {"label", d.label},
            {"file", StrOrNull(d.source.href)},
            {"capacity_bytes", OrNull(d.capacity)},
            {"format", d.source.format == ImageFormat::kUnknown
                           ? json(nullptr)
                           : json(std::string(ToString(d.source.format)))},
            {"file_size", OrNull(d.source.size)},
            {"compression", StrOrNull(d.source.compression)},
            {"bus", c ? json(std::string(ToString(c->kind))) : json(nullptr)},
            {"controller_model",
             c ? json(std::string(ToString(c->model))) : json(nullptr)},
            {"controller", StrOrNull(d.controller_id)},
            {"unit", OrNull(d.unit)},
            {"boot_order", OrNull(d.boot_order)},
            {"parent", StrOrNull(d.parent_id)}};
  return j;
}

json SystemJson(const VmSpec& vm) {
  json j;
  j["id"] = vm.id;
  j["name"] = vm.name;
  j["cpus"] = OrNull(vm.vcpus);
  j["cores_per_socket"] = OrNull(vm.cores_per_socket);
  j["sockets"] = vm.vcpus ? json(vm.Sockets()) : json(nullptr);
  j["memory_bytes"] = OrNull(vm.memory_bytes);
  j["memory_mib"] =
      vm.memory_bytes ? json(*vm.memory_bytes >> 20) : json(nullptr);
  j["firmware"] = std::string(ToString(vm.firmware));
  j["secure_boot"] = vm.secure_boot;
  j["os"] = OsName(vm.os);
  j["os_info"] = {{"cim_id", OrNull(vm.os.cim_id)},
                  {"description", vm.os.cim_description},
                  {"vmware", vm.os.vmware_os_type},
                  {"virtualbox", vm.os.virtualbox_os_type},
                  {"libosinfo", vm.os.libosinfo_id}};
  j["hardware_version"] = vm.system_type;
  j["uuid"] = StrOrNull(vm.uuid);
  json disks = json::array(), cdroms = json::array(), floppies = json::array();
  for (const Disk& d : vm.disks) {
    json dj = DiskJson(vm, d);
    switch (d.device) {
      case DiskDevice::kDisk:
        disks.push_back(std::move(dj));
        break;
      case DiskDevice::kCdrom:
        cdroms.push_back(std::move(dj));
        break;
      case DiskDevice::kFloppy:
        floppies.push_back(std::move(dj));
        break;
    }
  }
  j["disks"] = std::move(disks);
  j["cdroms"] = std::move(cdroms);
  j["floppies"] = std::move(floppies);
  json controllers = json::array();
  for (const Controller& c : vm.controllers) {
    controllers.push_back({{"id", c.id},
                           {"kind", std::string(ToString(c.kind))},
                           {"model", std::string(ToString(c.model))},
                           {"raw_model", c.raw_model},
                           {"bus", c.bus}});
  }
  j["controllers"] = std::move(controllers);
  json nics = json::array();
  for (const Nic& n : vm.nics) {
    nics.push_back({{"id", n.id},
                    {"label", n.label},
                    {"network", n.network},
                    {"model", std::string(ToString(n.model))},
                    {"raw_model", n.raw_model},
                    {"mac", StrOrNull(n.mac)},
                    {"connected", n.connected}});
  }
  j["nics"] = std::move(nics);
  json serial = json::array();
  for (const SerialPort& s : vm.serial_ports) {
    serial.push_back(
        {{"index", s.index}, {"type", s.type}, {"target", s.target}});
  }
  j["serial_ports"] = std::move(serial);
  json usb = json::array(), sound = json::array();
  for (const UsbController& u : vm.usb_controllers) usb.push_back(u.model);
  for (const SoundCard& s : vm.sound_cards) sound.push_back(s.model);
  j["usb"] = std::move(usb);
  j["sound"] = std::move(sound);
  j["video"] = vm.video ? json{{"model", vm.video->model},
                               {"vram_bytes", OrNull(vm.video->vram_bytes)},
                               {"heads", OrNull(vm.video->heads)},
                               {"accel3d", vm.video->accel3d}}
                        : json(nullptr);
  j["tpm"] = vm.tpm ? json(vm.tpm->version) : json(nullptr);
  j["nvram"] = StrOrNull(vm.nvram_href);
  j["environment_transport"] = StrOrNull(vm.environment_transport);
  j["annotation"] = vm.description;
  j["products"] = ProductsJson(vm.products);
  j["eulas"] = vm.eulas;
  json unknown = json::array();
  for (const UnknownItem& u : vm.unknown_items) {
    unknown.push_back({{"where", u.where}, {"kind", u.kind}});
  }
  j["unknown_items"] = std::move(unknown);
  return j;
}

std::string Bytes(uint64_t b) {
  char buf[64];
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  double v = static_cast<double>(b);
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " bytes", b);
  } else if (v == static_cast<double>(static_cast<uint64_t>(v))) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

// One line of text from a value that may hold newlines.
std::string OneLine(std::string s, size_t max = 100) {
  // Control characters (newlines, escape sequences) from a hostile file
  // must not forge lines or recolour a terminal.
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

void DeviceText(const VmSpec& vm, const Disk& d, std::string& out) {
  const char* what = d.device == DiskDevice::kCdrom    ? "CD/DVD"
                     : d.device == DiskDevice::kFloppy ? "Floppy"
                                                       : "Disk";
  out += "  " + std::string(what) + " " + d.id + ": ";
  out += d.source.href.empty()
             ? (d.device == DiskDevice::kDisk ? "(no image)" : "(empty)")
             : d.source.href;
  if (d.capacity) out += ", " + Bytes(*d.capacity);
  if (d.source.format != ImageFormat::kUnknown) {
    out += ", " + std::string(ToString(d.source.format));
  }
  if (!d.source.compression.empty()) out += " (" + d.source.compression + ")";
  if (const Controller* c = vm.FindController(d.controller_id)) {
    out += ", on " + std::string(ToString(c->kind));
    if (c->model != ControllerModel::kUnspecified) {
      out += " (" + std::string(ToString(c->model)) + ")";
    }
    if (d.unit) out += " unit " + std::to_string(*d.unit);
  }
  if (!d.parent_id.empty()) out += ", delta of " + d.parent_id;
  if (d.boot_order) out += ", boot " + std::to_string(*d.boot_order);
  out += "\n";
}

void ProductsText(const std::vector<ProductInfo>& products, const char* indent,
                  std::string& out) {
  for (const ProductInfo& p : products) {
    std::string line = p.product.empty() ? p.class_id : p.product;
    if (!p.version.empty()) line += " " + p.version;
    if (!p.vendor.empty()) line += " by " + p.vendor;
    out += std::string(indent) + "Product: " + OneLine(line) + "\n";
    for (const Property& prop : p.properties) {
      out += std::string(indent) + "  property " + prop.FullKey() + " (" +
             (prop.type.empty() ? "string" : prop.type) + ")";
      if (prop.password) {
        out += " password";
      } else if (prop.default_value) {
        out += " = " + OneLine(Quote(*prop.default_value), 60);
      }
      if (prop.user_configurable) out += ", user-configurable";
      if (!prop.label.empty()) out += ": " + OneLine(prop.label, 60);
      out += "\n";
    }
  }
}

}  // namespace

nlohmann::json ApplianceJson(const ApplianceSpec& a) {
  json j;
  j["ovf_version"] = a.ovf_version;
  j["name"] = a.name;
  j["annotation"] = a.annotation;
  j["deployment"] = StrOrNull(a.deployment);
  json options = json::array();
  for (const DeploymentOption& o : a.deployment_options) {
    options.push_back({{"id", o.id},
                       {"label", o.label},
                       {"description", o.description},
                       {"default", o.is_default}});
  }
  j["deployment_options"] = std::move(options);
  json networks = json::array();
  for (const NetworkDef& n : a.networks) {
    networks.push_back({{"name", n.name}, {"description", n.description}});
  }
  j["networks"] = std::move(networks);
  json files = json::array();
  for (const FileRef& f : a.files) {
    files.push_back({{"id", f.id},
                     {"href", f.href},
                     {"size", OrNull(f.size)},
                     {"compression", StrOrNull(f.compression)},
                     {"chunk_size", OrNull(f.chunk_size)}});
  }
  j["files"] = std::move(files);
  json startup = json::array();
  for (const StartupEntry& s : a.startup) {
    startup.push_back({{"id", s.id},
                       {"order", OrNull(s.order)},
                       {"start_delay", OrNull(s.start_delay)},
                       {"stop_delay", OrNull(s.stop_delay)},
                       {"start_action", s.start_action},
                       {"stop_action", s.stop_action},
                       {"wait_for_guest", s.wait_for_guest}});
  }
  j["startup"] = std::move(startup);
  j["products"] = ProductsJson(a.products);
  j["eulas"] = a.eulas;
  json systems = json::array();
  for (const VmSpec& vm : a.systems) systems.push_back(SystemJson(vm));
  j["virtual_systems"] = std::move(systems);
  return j;
}

nlohmann::json ApplianceReportJson(const ApplianceSpec& a,
                                   const Diagnostics& diagnostics) {
  json j = ApplianceJson(a);
  json warnings = json::array();
  for (const Diagnostic& d : diagnostics.items()) {
    warnings.push_back(
        {{"id", d.id}, {"where", d.where}, {"message", d.message}});
  }
  j["warnings"] = std::move(warnings);
  return j;
}

std::string ApplianceText(const ApplianceSpec& a) {
  std::string out;
  std::string version =
      a.ovf_version == "vmx" ? "VMware .vmx" : "OVF " + a.ovf_version;
  out += "Appliance " + Quote(a.name) + " (" + version + "), " +
         std::to_string(a.systems.size()) + " virtual system" +
         (a.systems.size() == 1 ? "" : "s") + "\n";
  if (!a.deployment_options.empty()) {
    out += "Deployment: " + a.deployment + " (options:";
    for (const DeploymentOption& o : a.deployment_options) {
      out += " " + o.id + (o.is_default ? "*" : "");
    }
    out += ")\n";
  }
  if (!a.networks.empty()) {
    out += "Networks:";
    for (const NetworkDef& n : a.networks) out += " " + Quote(n.name);
    out += "\n";
  }
  if (!a.annotation.empty())
    out += "Annotation: " + OneLine(a.annotation) + "\n";
  ProductsText(a.products, "", out);
  for (const std::string& e : a.eulas) {
    out += "EULA: " + std::to_string(e.size()) + " bytes: " + OneLine(e, 60) +
           "\n";
  }
  for (const VmSpec& vm : a.systems) {
    out += "\nVirtual system " + Quote(vm.name) +
           (vm.id != vm.name ? " (id " + Quote(vm.id) + ")" : "") + "\n";
    if (vm.vcpus) {
      out += "  CPUs: " + std::to_string(*vm.vcpus);
      if (vm.cores_per_socket) {
        out += " (" + std::to_string(vm.Sockets()) + " socket(s) x " +
               std::to_string(*vm.cores_per_socket) + " core(s))";
      }
      out += "\n";
    }
    if (vm.memory_bytes) out += "  Memory: " + Bytes(*vm.memory_bytes) + "\n";
    out += "  Firmware: " + std::string(ToString(vm.firmware)) +
           (vm.secure_boot ? " (secure boot)" : "") + "\n";
    std::string os = OsName(vm.os);
    if (!os.empty()) out += "  OS: " + os + "\n";
    if (!vm.system_type.empty()) out += "  Hardware: " + vm.system_type + "\n";
    for (const Disk& d : vm.disks) DeviceText(vm, d, out);
    for (const Nic& n : vm.nics) {
      out += "  NIC " + n.id + ": " + std::string(ToString(n.model));
      if (n.model == NicModel::kOther) out += " (" + n.raw_model + ")";
      out += n.network.empty() ? ", no network" : " on " + Quote(n.network);
      if (!n.mac.empty()) out += ", mac " + n.mac;
      if (!n.connected) out += ", disconnected";
      out += "\n";
    }
    for (const SerialPort& s : vm.serial_ports) {
      out += "  Serial " + std::to_string(s.index) +
             (s.type.empty() ? "" : ": " + s.type) +
             (s.target.empty() ? "" : " " + s.target) + "\n";
    }
    for (const UsbController& u : vm.usb_controllers) {
      out +=
          "  USB: " + (u.model.empty() ? std::string("controller") : u.model) +
          "\n";
    }
    for (const SoundCard& s : vm.sound_cards) {
      out += "  Sound: " + (s.model.empty() ? std::string("card") : s.model) +
             "\n";
    }
    if (vm.tpm) out += "  TPM: " + vm.tpm->version + "\n";
    if (!vm.nvram_href.empty()) out += "  NVRAM: " + vm.nvram_href + "\n";
    if (!vm.environment_transport.empty()) {
      out += "  OVF environment: " + vm.environment_transport + "\n";
    }
    ProductsText(vm.products, "  ", out);
    for (const std::string& e : vm.eulas) {
      out += "  EULA: " + std::to_string(e.size()) +
             " bytes: " + OneLine(e, 60) + "\n";
    }
    if (!vm.description.empty()) {
      out += "  Annotation: " + OneLine(vm.description) + "\n";
    }
    if (!vm.unknown_items.empty()) {
      out += "  Not understood: " + std::to_string(vm.unknown_items.size()) +
             " item(s), kept (see warnings)\n";
    }
  }
  return out;
}

}  // namespace ova2virt::cli
