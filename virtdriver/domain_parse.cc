// libvirt domain XML -> VmSpec, for export. The XML may come from any
// libvirt client, so every number is parsed with bounds and every unknown
// device is a warning, not a guess.
#include <algorithm>
#include <charconv>
#include <map>

#include "core/checked_math.h"
#include "core/xml.h"
#include "virtdriver/domain_metadata.h"
#include "virtdriver/domain_names.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

namespace names = domain_names;

constexpr std::string_view kNone = "";  // libvirt's elements: no namespace
constexpr uint64_t kMaxVcpus = 4096;
constexpr size_t kMaxDevices = 1024;  // of each class

Result<uint64_t> ParseNumber(std::string_view text, std::string_view what,
                             const XmlElement& e) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return CorruptError(e.Where() + ": " + std::string(what) + " " +
                        Quote(text) + " is not a number");
  }
  return v;
}

Result<int> ParseSmall(const XmlElement& e, std::string_view attr, int dflt,
                       int max) {
  auto v = e.Attribute(kNone, attr);
  if (!v) return dflt;
  // libvirt writes addresses in decimal, and PCI ones in hex.
  std::string_view s = *v;
  int base = 10;
  if (s.substr(0, 2) == "0x") s.remove_prefix(2), base = 16;
  int out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || out < 0 ||
      out > max) {
    return CorruptError(e.Where() + ": " + std::string(attr) + " " + Quote(*v) +
                        " is out of range");
  }
  return out;
}

// Bytes from a libvirt scaled integer (<memory unit='KiB'>).
Result<uint64_t> ParseScaled(const XmlElement& e) {
  ASSIGN_OR_RETURN(uint64_t v, ParseNumber(e.TrimmedText(), e.local, e));
  std::string unit = e.Attribute(kNone, "unit").value_or("KiB");
  static const std::map<std::string, uint64_t> kScale = {
      {"b", 1},          {"bytes", 1},        {"KB", 1000},
      {"k", 1024},       {"KiB", 1024},       {"MB", 1000000},
      {"M", 1 << 20},    {"MiB", 1 << 20},    {"GB", 1000000000},
      {"G", 1 << 30},    {"GiB", 1 << 30},    {"TB", 1000000000000},
      {"T", 1ull << 40}, {"TiB", 1ull << 40},
  };
  auto it = kScale.find(unit);
  if (it == kScale.end()) {
    return CorruptError(e.Where() + ": unknown unit " + Quote(unit));
  }
  auto bytes = CheckedMul<uint64_t>(v, it->second);
  if (!bytes) return CorruptError(e.Where() + ": size overflows");
  return *bytes;
}

std::string Attr(const XmlElement* e, std::string_view name) {
  if (!e) return "";
  return names::WritableText(e->Attribute(kNone, name).value_or(""));
}

// A child's text, writable, without surrounding white space (in that
// order, so that a second read finds the same).
std::string ChildText(const XmlElement& e, std::string_view name) {
  const XmlElement* c = e.Child(kNone, name);
  if (!c) return "";
  std::string t = names::WritableText(c->text);
  size_t b = t.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t end = t.find_last_not_of(" \t\r\n");
  return t.substr(b, end - b + 1);
}

std::string MachineFamily(std::string_view machine) {
  if (machine == "q35" || machine.substr(0, 7) == "pc-q35-") return "q35";
  if (machine == "pc" || machine.substr(0, 10) == "pc-i440fx-") return "pc";
  return std::string(machine);
}

class Parser {
 public:
  explicit Parser(Diagnostics* d) : diags_(d) {}

  Result<ParsedDomain> Run(std::string_view xml) {
    ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
    if (!root.Is(kNone, "domain")) {
      return CorruptError(root.Where() + ": root element " + Quote(root.qname) +
                          " is not 'domain'");
    }
    VmSpec& vm = out_.spec;
    DomainOptions& o = out_.options;
    o.virt_type = Attr(&root, "type");
    o.name = ChildText(root, "name");
    if (o.name.empty()) return CorruptError("domain has no name");
    vm.name = o.name;
    o.uuid = ChildText(root, "uuid");
    vm.uuid = o.uuid;
    vm.description = ChildText(root, "description");
    if (const XmlElement* m = root.Child(kNone, "memory")) {
      ASSIGN_OR_RETURN(vm.memory_bytes, ParseScaled(*m));
    }
    if (const XmlElement* v = root.Child(kNone, "vcpu")) {
      ASSIGN_OR_RETURN(uint64_t n, ParseNumber(v->TrimmedText(), "vcpu", *v));
      if (n == 0 || n > kMaxVcpus) {
        return CorruptError(v->Where() + ": vcpu count " + std::to_string(n) +
                            " is out of range");
      }
      vm.vcpus = static_cast<uint32_t>(n);
    }
    RETURN_IF_ERROR(ParseCpu(root));
    ParseOs(root);
    DiskBinding env_cd;
    if (const XmlElement* md = root.Child(kNone, "metadata")) {
      ParseDomainMetadata(*md, &out_.spec, &out_.options, &env_cd);
    }
    if (const XmlElement* devices = root.Child(kNone, "devices")) {
      RETURN_IF_ERROR(ParseDevices(*devices));
    }
    FindEnvironmentCd(env_cd);
    return std::move(out_);
  }

 private:
  // The CD-ROM drive that still holds the environment image the import
  // recorded (same volume, or same path).
  void FindEnvironmentCd(const DiskBinding& cd) {
    bool by_volume = !cd.pool.empty() && !cd.volume.empty();
    if (!by_volume && cd.path.empty()) return;
    for (const DiskBinding& b : out_.options.disks) {
      const Disk* d = nullptr;
      for (const Disk& x : out_.spec.disks) {
        if (x.id == b.disk_id) d = &x;
      }
      if (!d || d->device != DiskDevice::kCdrom) continue;
      bool same = by_volume ? b.pool == cd.pool && b.volume == cd.volume
                            : b.volume.empty() && b.path == cd.path;
      if (same) {
        out_.options.environment_disk_id = b.disk_id;
        return;
      }
    }
  }

  void Warn(std::string id, std::string where, std::string message) {
    if (diags_)
      diags_->Warn(std::move(id), std::move(where), std::move(message));
  }

  Status ParseCpu(const XmlElement& root) {
    const XmlElement* cpu = root.Child(kNone, "cpu");
    const XmlElement* topo = cpu ? cpu->Child(kNone, "topology") : nullptr;
    if (!topo) return OkStatus();
    ASSIGN_OR_RETURN(int cores, ParseSmall(*topo, "cores", 1, kMaxVcpus));
    ASSIGN_OR_RETURN(int threads, ParseSmall(*topo, "threads", 1, kMaxVcpus));
    if (cores > 0) out_.spec.cores_per_socket = cores;
    if (threads > 0) out_.spec.threads_per_core = threads;
    return OkStatus();
  }

  void ParseOs(const XmlElement& root) {
    VmSpec& vm = out_.spec;
    const XmlElement* os = root.Child(kNone, "os");
    vm.firmware = Firmware::kBios;
    if (!os) return;
    const XmlElement* type = os->Child(kNone, "type");
    out_.options.machine = MachineFamily(Attr(type, "machine"));
    const XmlElement* loader = os->Child(kNone, "loader");
    if (Attr(os, "firmware") == "efi" || Attr(loader, "type") == "pflash") {
      vm.firmware = Firmware::kEfi;
    }
    if (Attr(loader, "secure") == "yes") vm.secure_boot = true;
    if (const XmlElement* fw = os->Child(kNone, "firmware")) {
      for (const XmlElement* f : fw->Children(kNone, "feature")) {
        if (Attr(f, "name") == "secure-boot") {
          vm.secure_boot = Attr(f, "enabled") == "yes";
        }
      }
    }
  }

  // The VmSpec controller for libvirt controller (type, index), made on
  // first use (libvirt may leave implicit controllers out).
  std::string ControllerFor(const std::string& type, int index) {
    std::string id = type + std::to_string(index);
    if (out_.spec.FindController(id)) return id;
    Controller c;
    c.id = id;
    c.bus = index;
    c.raw_model = declared_models_[{type, index}];
    if (type == "ide") {
      c.kind = ControllerKind::kIde;
    } else if (type == "sata") {
      c.kind = ControllerKind::kSata;
    } else if (type == "scsi") {
      c.kind = ControllerKind::kScsi;
      c.model = names::ScsiModelFromName(c.raw_model);
    } else if (type == "virtio") {
      c.kind = ControllerKind::kVirtio;
    } else {
      c.kind = ControllerKind::kOther;
      c.raw_model = type;
    }
    out_.spec.controllers.push_back(c);
    return id;
  }

  Status ParseDevices(const XmlElement& devices) {
    for (const XmlElement* c : devices.Children(kNone, "controller")) {
      ASSIGN_OR_RETURN(int index, ParseSmall(*c, "index", 0, 255));
      std::string type = Attr(c, "type");
      std::string model = Attr(c, "model");
      declared_models_[{type, index}] = model;
      if (type == "usb" && model != "none") {
        out_.spec.usb_controllers.push_back(
            {model.empty() ? "piix3-uhci" : model});
      }
    }
    // Declared storage controllers appear even when no disk uses them.
    for (const XmlElement* c : devices.Children(kNone, "controller")) {
      std::string type = Attr(c, "type");
      if (type == "ide" || type == "sata" || type == "scsi") {
        ControllerFor(type, ParseSmall(*c, "index", 0, 255).value());
      }
    }
    auto disks = devices.Children(kNone, "disk");
    auto nics = devices.Children(kNone, "interface");
    if (disks.size() > kMaxDevices || nics.size() > kMaxDevices) {
      return CorruptError("domain has more than " +
                          std::to_string(kMaxDevices) + " disks or nics");
    }
    int virtio_units = 0;
    for (const XmlElement* d : disks) {
      RETURN_IF_ERROR(ParseDisk(*d, &virtio_units));
    }
    for (size_t i = 0; i < nics.size(); ++i) ParseNic(*nics[i], i);
    for (const XmlElement* s : devices.Children(kNone, "serial")) {
      SerialPort port;
      int next = static_cast<int>(out_.spec.serial_ports.size());
      port.index = next;
      if (const XmlElement* t = s->Child(kNone, "target")) {
        ASSIGN_OR_RETURN(port.index, ParseSmall(*t, "port", next, 255));
      }
      port.type = Attr(s, "type");
      port.target = Attr(s->Child(kNone, "source"), "path");
      if (port.index == 0 && port.type == "file") {
        out_.options.serial_log_path = port.target;
      }
      if (const XmlElement* log = s->Child(kNone, "log");
          log != nullptr && port.index == 0 && port.type == "pty") {
        out_.options.serial_log_path = Attr(log, "file");
        out_.options.serial_pty_with_log = true;
      }
      out_.spec.serial_ports.push_back(port);
    }
    std::sort(out_.spec.serial_ports.begin(), out_.spec.serial_ports.end(),
              [](const SerialPort& a, const SerialPort& b) {
                return a.index < b.index;
              });
    for (const XmlElement* s : devices.Children(kNone, "sound")) {
      out_.spec.sound_cards.push_back({Attr(s, "model")});
    }
    if (const XmlElement* v = devices.Child(kNone, "video")) {
      const XmlElement* m = v->Child(kNone, "model");
      Video video;
      video.model = Attr(m, "type");
      if (m && m->Attribute(kNone, "vram")) {
        ASSIGN_OR_RETURN(int kib, ParseSmall(*m, "vram", 0, 1 << 24));
        video.vram_bytes = static_cast<uint64_t>(kib) * 1024;
      }
      if (m && m->Attribute(kNone, "heads")) {
        ASSIGN_OR_RETURN(video.heads, ParseSmall(*m, "heads", 1, 16));
      }
      const XmlElement* accel = m ? m->Child(kNone, "acceleration") : nullptr;
      video.accel3d = Attr(accel, "accel3d") == "yes";
      if (video.model != "none") out_.spec.video = video;
    }
    if (const XmlElement* t = devices.Child(kNone, "tpm")) {
      std::string version = Attr(t->Child(kNone, "backend"), "version");
      out_.spec.tpm = Tpm{version.empty() ? "2.0" : version};
    }
    out_.options.headless = devices.Child(kNone, "graphics") == nullptr;
    return OkStatus();
  }

  Status ParseDisk(const XmlElement& e, int* virtio_units) {
    Disk d;
    std::string device = Attr(&e, "device");
    if (device.empty() || device == "disk" || device == "lun") {
      d.device = DiskDevice::kDisk;
    } else if (device == "cdrom") {
      d.device = DiskDevice::kCdrom;
    } else if (device == "floppy") {
      d.device = DiskDevice::kFloppy;
    } else {
      return CorruptError(e.Where() + ": disk device " + Quote(device) +
                          " is unknown");
    }
    const XmlElement* target_el = e.Child(kNone, "target");
    std::string dev = Attr(target_el, "dev");
    std::string bus = Attr(target_el, "bus");
    if (dev.empty()) return CorruptError(e.Where() + ": disk has no target");
    d.id = dev;
    d.read_only =
        e.Child(kNone, "readonly") != nullptr && d.device == DiskDevice::kDisk;
    if (const XmlElement* boot = e.Child(kNone, "boot")) {
      ASSIGN_OR_RETURN(d.boot_order, ParseSmall(*boot, "order", 0, 65535));
    }
    // Source and format.
    std::string type = Attr(&e, "type");
    const XmlElement* src = e.Child(kNone, "source");
    std::string fmt = Attr(e.Child(kNone, "driver"), "type");
    d.source.raw_format = fmt;
    d.source.format = names::ImageFormatFromDriverType(fmt);
    DiskBinding b;
    b.disk_id = d.id;
    b.format = fmt;
    if (type == "volume") {
      d.source.pool = b.pool = Attr(src, "pool");
      d.source.volume = b.volume = Attr(src, "volume");
    } else if (type == "file" || type == "block" || type.empty()) {
      d.source.href = b.path = Attr(src, type == "block" ? "dev" : "file");
    } else {
      Warn("domain.disk-source-unsupported", dev,
           "disk source type " + Quote(type) + " cannot be read; left empty");
    }
    bool has_source = !b.path.empty() || !b.volume.empty();
    if (has_source) out_.options.disks.push_back(b);
    // Placement.
    const XmlElement* addr = e.Child(kNone, "address");
    bool drive = addr && Attr(addr, "type") == "drive";
    int ctl = 0, abus = 0, target = 0, unit = 0;
    if (drive) {
      ASSIGN_OR_RETURN(ctl, ParseSmall(*addr, "controller", 0, 255));
      ASSIGN_OR_RETURN(abus, ParseSmall(*addr, "bus", 0, 255));
      ASSIGN_OR_RETURN(target, ParseSmall(*addr, "target", 0, 16383));
      ASSIGN_OR_RETURN(unit, ParseSmall(*addr, "unit", 0, 16383));
    } else if (bus != "virtio") {
      // No address: derive it from the name as libvirt does.
      int index = 0;
      for (size_t i = 2; i < dev.size(); ++i) {
        char c = dev[i];
        if (c < 'a' || c > 'z' || index > 100000) {
          return CorruptError(e.Where() + ": target " + Quote(dev) +
                              " is not a disk name");
        }
        index = index * 26 + (c - 'a' + 1);
      }
      index -= 1;
      int per = bus == "sata" ? 6 : bus == "scsi" ? 7 : bus == "ide" ? 4 : 2;
      ctl = index / per;
      unit = index % per;
      if (bus == "ide") abus = unit / 2, unit = unit % 2;
    }
    if (bus == "fdc" || d.device == DiskDevice::kFloppy) {
      d.unit = unit;
    } else if (bus == "ide") {
      d.controller_id = ControllerFor("ide", ctl);
      d.unit = abus * 2 + unit;
    } else if (bus == "sata" || bus == "scsi") {
      d.controller_id = ControllerFor(bus, ctl);
      d.unit = unit;
      // vmpvscsi and virtio-scsi address by target (SCSI ID) and LUN; we
      // write the ID as target, libvirt's own placement uses LUNs of
      // target 0. Either way one number tells the disks apart.
      std::string model = declared_models_[{bus, ctl}];
      if ((model == "vmpvscsi" || model == "virtio-scsi") && target != 0) {
        if (unit != 0) {
          Warn("domain.scsi-lun-dropped", dev,
               "target " + std::to_string(target) + " lun " +
                   std::to_string(unit) + " becomes unit " +
                   std::to_string(target));
        }
        d.unit = target;
      }
    } else if (bus == "virtio") {
      d.controller_id = ControllerFor("virtio", 0);
      d.unit = (*virtio_units)++;
    } else {
      Warn("domain.disk-bus-unsupported", dev,
           "disk bus " + Quote(bus) + " has no ovf equivalent");
      d.controller_id = ControllerFor(bus.empty() ? "unknown" : bus, ctl);
      d.unit = unit;
    }
    out_.spec.disks.push_back(std::move(d));
    return OkStatus();
  }

  void ParseNic(const XmlElement& e, size_t i) {
    Nic n;
    n.id = "net" + std::to_string(i);
    std::string type = Attr(&e, "type");
    const XmlElement* src = e.Child(kNone, "source");
    NicBinding b;
    b.nic_id = n.id;
    if (type == "network") {
      b.kind = NicBinding::kNetwork;
      b.source = n.network = Attr(src, "network");
    } else if (type == "bridge") {
      b.kind = NicBinding::kBridge;
      b.source = n.network = Attr(src, "bridge");
    } else if (type == "user") {
      b.kind = NicBinding::kUser;
      n.network = "user";
    } else {
      Warn("domain.nic-type-unsupported", n.id,
           "interface type " + Quote(type) + " is not kept");
      b.kind = NicBinding::kNone;
      n.network = type;
    }
    n.raw_model = Attr(e.Child(kNone, "model"), "type");
    n.model = names::NicModelFromName(n.raw_model);
    std::string mac = Attr(e.Child(kNone, "mac"), "address");
    std::transform(mac.begin(), mac.end(), mac.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    n.mac = mac;
    n.connected = Attr(e.Child(kNone, "link"), "state") != "down";
    out_.options.nics.push_back(b);
    out_.spec.nics.push_back(std::move(n));
  }

  Diagnostics* diags_;
  ParsedDomain out_;
  std::map<std::pair<std::string, int>, std::string> declared_models_;
};

}  // namespace

Result<ParsedDomain> ParseDomain(std::string_view xml, Diagnostics* diags) {
  return Parser(diags).Run(xml);
}

Result<VmSpec> ParseDomainXml(std::string_view xml, Diagnostics* diags) {
  ASSIGN_OR_RETURN(ParsedDomain d, ParseDomain(xml, diags));
  return std::move(d.spec);
}

std::string DomainUuid(std::string_view xml) {
  auto doc = ParseXml(xml);
  if (!doc.ok()) return {};
  return doc->ChildText("", "uuid").value_or("");
}

}  // namespace ova2virt
