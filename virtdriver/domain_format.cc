// VmSpec -> libvirt domain XML. See docs/mapping.md for the table.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/checked_math.h"
#include "core/xml.h"
#include "virtdriver/domain_devices.h"
#include "virtdriver/domain_metadata.h"
#include "virtdriver/domain_names.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

namespace names = domain_names;

// Where a controller of the VmSpec lands in libvirt.
struct ControllerPlace {
  ControllerKind kind = ControllerKind::kOther;
  std::string type;   // libvirt controller type; "" for virtio-blk
  int index = 0;      // libvirt controller index
  int rank = 0;       // order among VmSpec controllers of its kind
  std::string model;  // libvirt model, "" for the default
  int max_unit = 0;   // units 0 .. max_unit - 1
};

// Where a disk lands: its drive address and target.
struct DiskPlace {
  const Disk* disk = nullptr;
  std::string bus;     // libvirt target bus
  std::string prefix;  // "sd", "hd", "vd", "fd"
  int kind_order = 0;  // sorts the name space: sata before scsi
  int controller = 0;  // libvirt controller index
  int drive_bus = 0;   // <address bus=...>
  int target = 0;      // <address target=...>
  int unit = 0;        // <address unit=...>
  bool has_address = true;
  std::string dev;     // "sda"
  int boot_order = 0;  // normalized, 0 = none
};

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

bool IsUuid(std::string_view s) {
  std::string hex;
  for (char c : s) {
    if (c == '-') continue;
    if (!IsHex(c)) return false;
    hex += c;
  }
  return hex.size() == 32;
}

// A unicast MAC in "aa:bb:cc:dd:ee:ff" form.
bool IsUnicastMac(std::string_view s) {
  if (s.size() != 17) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2 ? s[i] != ':' : !IsHex(s[i])) return false;
  }
  int first = std::stoi(std::string(s.substr(0, 2)), nullptr, 16);
  return (first & 1) == 0 && s != "00:00:00:00:00:00";
}

std::string Num(uint64_t v) { return std::to_string(v); }

bool IsWindows(const OsInfo& os) {
  auto starts = [](std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
  };
  return starts(os.vmware_os_type, "win") ||
         starts(os.virtualbox_os_type, "Win") ||
         starts(os.libosinfo_id, "win") ||
         os.cim_description.find("Windows") != std::string::npos;
}

class Formatter {
 public:
  Formatter(const VmSpec& vm, const DomainOptions& o, Diagnostics* d)
      : vm_(vm), o_(o), diags_(d) {}

  Result<std::string> Run() {
    RETURN_IF_ERROR(CheckBasics());
    RETURN_IF_ERROR(PlaceControllers());
    RETURN_IF_ERROR(PlaceDisks());
    XmlWriter w = XmlWriter::Fragment();
    w.Open("domain").Attr("type", virt_type_);
    w.Leaf("name", name_);
    if (!o_.uuid.empty()) w.Leaf("uuid", o_.uuid);
    if (!vm_.description.empty()) w.Leaf("description", vm_.description);
    WriteDomainMetadata(w, vm_, o_, diags_);
    w.Open("memory").Attr("unit", "KiB").Text(Num(memory_kib_)).Close();
    w.Open("vcpu").Attr("placement", "static").Text(Num(*vm_.vcpus)).Close();
    RETURN_IF_ERROR(WriteOs(w));
    w.Open("features").Open("acpi").Close().Open("apic").Close();
    if (vm_.secure_boot) w.Open("smm").Attr("state", "on").Close();
    w.Close();
    WriteCpu(w);
    w.Open("clock")
        .Attr("offset", IsWindows(vm_.os) ? "localtime" : "utc")
        .Close();
    w.Leaf("on_poweroff", "destroy");
    w.Leaf("on_reboot", "restart");
    w.Leaf("on_crash", "destroy");
    w.Open("devices");
    WriteControllers(w);
    RETURN_IF_ERROR(WriteDisks(w));
    RETURN_IF_ERROR(WriteNics(w));
    WriteSerials(w, vm_, o_, diags_);
    WriteOtherDevices(w, vm_, o_, q35_, diags_);
    w.Close();
    return w.Finish();
  }

 private:
  void Warn(std::string id, std::string where, std::string message) {
    if (diags_)
      diags_->Warn(std::move(id), std::move(where), std::move(message));
  }

  Status CheckBasics() {
    name_ = o_.name.empty() ? vm_.name : o_.name;
    if (name_.empty()) return UsageError("domain has no name");
    for (unsigned char c : name_) {
      if (c == '/' || c < 0x20) {
        return UsageError("domain name " + Quote(name_) +
                          " contains '/' or a control character");
      }
    }
    if (!o_.uuid.empty() && !IsUuid(o_.uuid)) {
      return UsageError("uuid " + Quote(o_.uuid) + " is not a uuid");
    }
    virt_type_ = o_.virt_type.empty() ? "kvm" : o_.virt_type;
    if (virt_type_ != "kvm" && virt_type_ != "qemu") {
      return UsageError("virt type " + Quote(virt_type_) +
                        " is not 'kvm' or 'qemu'");
    }
    machine_ = o_.machine.empty() ? "q35" : o_.machine;
    if (machine_ != "q35" && machine_ != "pc") {
      return UsageError("machine " + Quote(machine_) + " is not 'q35' or 'pc'");
    }
    q35_ = machine_ == "q35";
    if (!vm_.memory_bytes || *vm_.memory_bytes == 0) {
      return UsageError("domain " + Quote(name_) + " has no memory size");
    }
    memory_kib_ = DivRoundUp(*vm_.memory_bytes, 1024);
    if (!vm_.vcpus || *vm_.vcpus == 0) {
      return UsageError("domain " + Quote(name_) + " has no vcpu count");
    }
    if (vm_.secure_boot && (vm_.firmware != Firmware::kEfi || !q35_)) {
      return UnsupportedError(
          "secure boot needs uefi firmware on a q35 machine (smm)");
    }
    return OkStatus();
  }

  Status PlaceControllers() {
    // Rank controllers of each kind by (bus, position): a dense, stable
    // numbering whatever the source's bus numbers were.
    std::map<ControllerKind, std::vector<std::pair<int, size_t>>> by_kind;
    for (size_t i = 0; i < vm_.controllers.size(); ++i) {
      const Controller& c = vm_.controllers[i];
      if (controllers_.count(c.id)) {
        return CorruptError("controller id " + Quote(c.id) + " is used twice");
      }
      controllers_[c.id] = ControllerPlace();
      by_kind[c.kind].push_back({c.bus, i});
    }
    for (auto& [kind, list] : by_kind) {
      std::sort(list.begin(), list.end());
      for (size_t r = 0; r < list.size(); ++r) {
        const Controller& c = vm_.controllers[list[r].second];
        ControllerPlace& p = controllers_[c.id];
        p.kind = kind;
        p.rank = static_cast<int>(r);
        std::string where = "controller " + Quote(c.id);
        switch (kind) {
          case ControllerKind::kIde:
            if (q35_) {
              return UnsupportedError(
                  where + ": the q35 machine has no ide controller");
            }
            // QEMU's PIIX has one IDE function with two channels; VMware's
            // two "IDE controllers" are those channels (docs/mapping.md).
            p.type = "ide";
            p.index = 0;
            p.max_unit = 4;
            break;
          case ControllerKind::kSata:
            p.type = "sata";
            p.index = p.rank;
            p.max_unit = 6;  // ich9-ahci ports
            break;
          case ControllerKind::kScsi: {
            auto model = names::ScsiModelName(c.model);
            if (!model) {
              return UnsupportedError(where + ": qemu has no " +
                                      std::string(ToString(c.model)) +
                                      " scsi controller");
            }
            p.type = "scsi";
            p.index = p.rank;
            p.model = std::string(*model);
            p.max_unit = p.model == "lsisas1068"    ? 8
                         : p.model == "vmpvscsi"    ? 64
                         : p.model == "virtio-scsi" ? 16384
                                                    : 7;  // lsi53c895a
            break;
          }
          case ControllerKind::kVirtio:
            p.type = "";
            p.max_unit = 1 << 20;
            break;
          case ControllerKind::kNvme:
            return UnsupportedError(
                where + ": libvirt " +
                "9 has no emulated nvme controller (policy maps it to sata)");
          case ControllerKind::kOther:
            return UnsupportedError(where + ": controller type " +
                                    Quote(c.raw_model) + " is not supported");
        }
      }
    }
    return OkStatus();
  }

  Status PlaceDisks() {
    // Pass 1: place disks with a unit; pass 2: give the others the first
    // free unit on their controller (deterministic, in spec order).
    std::map<std::tuple<std::string, int, int, int>, const Disk*> used;
    std::vector<DiskPlace> places(vm_.disks.size());
    std::set<std::string> ids;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < vm_.disks.size(); ++i) {
        const Disk& d = vm_.disks[i];
        if ((pass == 0) != d.unit.has_value()) continue;
        if (!ids.insert(d.id).second) {
          return CorruptError("disk id " + Quote(d.id) + " is used twice");
        }
        DiskPlace& p = places[i];
        p.disk = &d;
        std::string where = "disk " + Quote(d.id);
        int max_unit;
        const ControllerPlace* cp = nullptr;
        if (d.device == DiskDevice::kFloppy) {
          p.bus = "fdc";
          p.prefix = "fd";
          p.kind_order = 4;
          max_unit = 2;
        } else {
          auto it = controllers_.find(d.controller_id);
          if (d.controller_id.empty() || it == controllers_.end()) {
            return UsageError(where + " is on no known controller " +
                              Quote(d.controller_id));
          }
          cp = &it->second;
          max_unit = cp->max_unit;
          p.controller = cp->index;
          switch (cp->kind) {
            case ControllerKind::kIde:
              p.bus = "ide", p.prefix = "hd", p.kind_order = 0;
              break;
            case ControllerKind::kSata:
              p.bus = "sata", p.prefix = "sd", p.kind_order = 1;
              break;
            case ControllerKind::kScsi:
              p.bus = "scsi", p.prefix = "sd", p.kind_order = 2;
              break;
            default:
              p.bus = "virtio", p.prefix = "vd", p.kind_order = 3;
              p.has_address = false;
              break;
          }
        }
        int ide_base =
            (cp && cp->kind == ControllerKind::kIde) ? cp->rank * 2 : 0;
        auto slot_key = [&](int unit) {
          return std::make_tuple(p.bus, p.controller, 0, ide_base + unit);
        };
        int unit;
        if (d.unit) {
          unit = *d.unit;
          if (unit < 0 || ide_base + unit >= max_unit) {
            return UnsupportedError(where + ": unit " + std::to_string(unit) +
                                    " is beyond the " +
                                    std::to_string(max_unit) +
                                    " units of its " + p.bus + " controller");
          }
          auto [it, fresh] = used.emplace(slot_key(unit), &d);
          if (!fresh) {
            return UnsupportedError(
                where + " and disk " + Quote(it->second->id) + " share " +
                p.bus + " controller " + std::to_string(p.controller) +
                " unit " + std::to_string(unit));
          }
        } else {
          unit = 0;
          while (ide_base + unit < max_unit && used.count(slot_key(unit))) {
            ++unit;
          }
          if (ide_base + unit >= max_unit) {
            return UnsupportedError(where + ": its " + p.bus +
                                    " controller has no free unit");
          }
          used.emplace(slot_key(unit), &d);
        }
        if (p.bus == "ide") {
          int slot = ide_base + unit;
          p.drive_bus = slot / 2;
          p.unit = slot % 2;
        } else if (cp &&
                   (cp->model == "vmpvscsi" || cp->model == "virtio-scsi")) {
          // For these HBAs libvirt passes target as the SCSI ID and unit as
          // the LUN; the source's unit number is the SCSI ID.
          p.target = unit;
          p.unit = 0;
        } else {
          p.unit = unit;
        }
      }
    }
    // Target names: ide and floppy by slot (hdc is the secondary master,
    // as guests expect); sd and vd in address order.
    std::vector<DiskPlace*> order;
    for (DiskPlace& p : places) order.push_back(&p);
    // Hard disks before CD-ROMs, so the boot disk is usually sda.
    auto key = [](const DiskPlace* p) {
      return std::make_tuple(p->prefix, p->disk->device != DiskDevice::kDisk,
                             p->kind_order, p->controller, p->drive_bus,
                             p->target, p->unit);
    };
    std::sort(order.begin(), order.end(),
              [&](DiskPlace* a, DiskPlace* b) { return key(a) < key(b); });
    std::map<std::string, int> next;
    for (DiskPlace* p : order) {
      int index = (p->prefix == "hd")   ? p->drive_bus * 2 + p->unit
                  : (p->prefix == "fd") ? p->unit
                                        : next[p->prefix]++;
      p->dev = DiskTargetName(p->prefix, index);
    }
    // Boot order: libvirt wants distinct positive numbers; keep the source's
    // relative order.
    std::vector<std::pair<int, size_t>> boots;
    for (size_t i = 0; i < vm_.disks.size(); ++i) {
      if (vm_.disks[i].boot_order && *vm_.disks[i].boot_order > 0) {
        boots.push_back({*vm_.disks[i].boot_order, i});
      }
    }
    std::sort(boots.begin(), boots.end());
    for (size_t r = 0; r < boots.size(); ++r) {
      places[boots[r].second].boot_order = static_cast<int>(r + 1);
    }
    disks_ = std::move(places);
    return OkStatus();
  }

  Status WriteOs(XmlWriter& w) {
    w.Open("os");
    if (vm_.firmware == Firmware::kEfi) w.Attr("firmware", "efi");
    w.Open("type").Attr("arch", "x86_64").Attr("machine", machine_);
    w.Text("hvm").Close();
    if (vm_.firmware == Firmware::kEfi) {
      // Without explicit features libvirt picks the OVMF build with
      // Microsoft's keys enrolled and secure boot on, which refuses an
      // unsigned loader; ask for what the source had.
      const char* on = vm_.secure_boot ? "yes" : "no";
      w.Open("firmware");
      w.Open("feature").Attr("enabled", on).Attr("name", "enrolled-keys");
      w.Close();
      w.Open("feature").Attr("enabled", on).Attr("name", "secure-boot");
      w.Close();
      w.Close();
    }
    w.Close();
    if (!vm_.nvram_href.empty()) {
      Warn("domain.nvram-not-carried", vm_.nvram_href,
           "the source's uefi variables are not carried over; the firmware "
           "starts with fresh ones");
    }
    return OkStatus();
  }

  void WriteCpu(XmlWriter& w) {
    w.Open("cpu");
    // kvm: the host's cpu, as virt-install does; tcg: everything qemu can
    // emulate (x86-64-v2 guests such as rhel 9 refuse the qemu64 default).
    w.Attr("mode", virt_type_ == "kvm" ? "host-passthrough" : "maximum");
    w.Attr("check", "none");
    if (vm_.cores_per_socket && *vm_.cores_per_socket > 0) {
      uint64_t cores = *vm_.cores_per_socket;
      uint64_t threads = vm_.threads_per_core.value_or(1);
      uint64_t sockets = vm_.Sockets();
      auto total = CheckedMul<uint64_t>(sockets, cores);
      if (total) total = CheckedMul<uint64_t>(*total, threads);
      if (threads > 0 && total && *total == *vm_.vcpus) {
        w.Open("topology")
            .Attr("sockets", Num(sockets))
            .Attr("dies", "1")
            .Attr("cores", Num(cores))
            .Attr("threads", Num(threads))
            .Close();
      } else {
        Warn("domain.topology-dropped", "",
             std::to_string(*vm_.vcpus) + " vcpus do not divide into " +
                 std::to_string(cores) + " cores per socket; topology left " +
                 "to libvirt");
      }
    }
    w.Close();
  }

  void WriteControllers(XmlWriter& w) {
    std::set<std::pair<std::string, int>> written;
    for (const Controller& c : vm_.controllers) {
      const ControllerPlace& p = controllers_.at(c.id);
      if (p.type.empty() || !written.insert({p.type, p.index}).second) continue;
      w.Open("controller").Attr("type", p.type).Attr("index", Num(p.index));
      if (!p.model.empty()) w.Attr("model", p.model);
      w.Close();
    }
    if (vm_.usb_controllers.empty()) {
      // Say so, or libvirt adds one the source did not have.
      w.Open("controller").Attr("type", "usb").Attr("index", "0");
      w.Attr("model", "none").Close();
    }
    WriteUsbControllers(w, vm_, diags_);
  }

  const DiskBinding* FindDiskBinding(const std::string& id) const {
    for (const DiskBinding& b : o_.disks) {
      if (b.disk_id == id) return &b;
    }
    return nullptr;
  }

  Status WriteDisks(XmlWriter& w) {
    for (const DiskPlace& p : disks_) {
      const Disk& d = *p.disk;
      std::string where = "disk " + Quote(d.id);
      const DiskBinding* b = FindDiskBinding(d.id);
      if (!b && d.device == DiskDevice::kDisk) {
        return UsageError(where + " has no storage bound to it");
      }
      if (!b && !d.source.href.empty()) {
        Warn("domain.media-unbound", d.id,
             "image " + Quote(d.source.href) + " is not attached: the " +
                 std::string(ToString(d.device)) + " drive is left empty");
      }
      bool volume = b && !b->pool.empty() && !b->volume.empty();
      if (b && !volume && (b->path.empty() || b->path[0] != '/')) {
        return UsageError(where + ": image path " + Quote(b->path) +
                          " is not absolute");
      }
      if (b && b->format != "qcow2" && b->format != "raw") {
        return UsageError(where + ": image format " + Quote(b->format) +
                          " is not qcow2 or raw");
      }
      w.Open("disk").Attr("type", volume ? "volume" : "file");
      w.Attr("device", ToString(d.device));
      w.Open("driver").Attr("name", "qemu");
      w.Attr("type", b ? b->format : "raw").Close();
      if (volume) {
        w.Open("source").Attr("pool", b->pool).Attr("volume", b->volume);
        w.Close();
      } else if (b) {
        w.Open("source").Attr("file", b->path).Close();
      }
      w.Open("target").Attr("dev", p.dev).Attr("bus", p.bus).Close();
      if (d.read_only || d.device == DiskDevice::kCdrom) {
        w.Open("readonly").Close();
      }
      if (p.boot_order > 0) {
        w.Open("boot").Attr("order", Num(p.boot_order)).Close();
      }
      if (p.has_address) {
        w.Open("address").Attr("type", "drive");
        w.Attr("controller", Num(p.controller)).Attr("bus", Num(p.drive_bus));
        w.Attr("target", Num(p.target)).Attr("unit", Num(p.unit)).Close();
      }
      w.Close();
    }
    return OkStatus();
  }

  Status WriteNics(XmlWriter& w) {
    std::set<std::string> macs;
    for (size_t i = 0; i < vm_.nics.size(); ++i) {
      const Nic& n = vm_.nics[i];
      std::string where = "nic " + Quote(n.id);
      const NicBinding* b = nullptr;
      for (const NicBinding& x : o_.nics) {
        if (x.nic_id == n.id) b = &x;
      }
      if (!b) return UsageError(where + " is bound to no network");
      if (b->kind == NicBinding::kNone) continue;
      std::string model;
      if (n.model == NicModel::kOther) {
        if (!names::IsPlainToken(n.raw_model)) {
          return UnsupportedError(where + ": nic model " + Quote(n.raw_model) +
                                  " is not supported");
        }
        model = n.raw_model;
      } else {
        auto m = names::NicModelName(n.model);
        if (!m) {
          return UnsupportedError(where + ": qemu has no " +
                                  std::string(ToString(n.model)) + " nic");
        }
        model = std::string(*m);
      }
      const char* type = b->kind == NicBinding::kNetwork  ? "network"
                         : b->kind == NicBinding::kBridge ? "bridge"
                                                          : "user";
      if (b->kind != NicBinding::kUser && b->source.empty()) {
        return UsageError(where + ": no " + type + " name given");
      }
      w.Open("interface").Attr("type", type);
      if (!n.mac.empty()) {
        if (!IsUnicastMac(n.mac) || !macs.insert(n.mac).second) {
          Warn("domain.mac-replaced", n.id,
               "mac " + Quote(n.mac) +
                   " is not a unique unicast address; libvirt makes one");
        } else {
          w.Open("mac").Attr("address", n.mac).Close();
        }
      }
      if (b->kind == NicBinding::kNetwork) {
        w.Open("source").Attr("network", b->source).Close();
      } else if (b->kind == NicBinding::kBridge) {
        w.Open("source").Attr("bridge", b->source).Close();
      }
      if (!model.empty()) w.Open("model").Attr("type", model).Close();
      if (!n.connected) w.Open("link").Attr("state", "down").Close();
      w.Close();
    }
    return OkStatus();
  }

  const VmSpec& vm_;
  const DomainOptions& o_;
  Diagnostics* diags_;
  std::string name_, virt_type_, machine_;
  bool q35_ = true;
  uint64_t memory_kib_ = 0;
  std::map<std::string, ControllerPlace> controllers_;
  std::vector<DiskPlace> disks_;
};

}  // namespace

std::string DiskTargetName(std::string_view prefix, int index) {
  // libvirt's scheme: a..z, then aa..zz, aaa...
  std::string letters;
  for (int i = index; i >= 0; i = i / 26 - 1) {
    letters.insert(letters.begin(), static_cast<char>('a' + i % 26));
  }
  return std::string(prefix) + letters;
}

Result<std::string> FormatDomainXml(const VmSpec& vm,
                                    const DomainOptions& options,
                                    Diagnostics* diags) {
  return Formatter(vm, options, diags).Run();
}

}  // namespace ova2virt
