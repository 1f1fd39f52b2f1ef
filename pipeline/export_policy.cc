#include "pipeline/export_policy.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "core/checked_math.h"
#include "ovf/os_table.h"

namespace ova2virt {
namespace {

// VMware's limits (vSphere configuration maximums): four controllers of
// each kind; 30 SATA ports; SCSI IDs 0-15 (LSI) or 0-63 (PVSCSI), ID 7
// being the adapter itself; two IDE channels of two drives.
constexpr int kMaxControllers = 4;
constexpr int kSataPorts = 30;
constexpr int kScsiReservedId = 7;
constexpr uint64_t kMemoryGranule = 4u << 20;  // VMware: a multiple of 4 MiB

int UnitsOf(const Controller& c) {
  switch (c.kind) {
    case ControllerKind::kIde:
      return 2;
    case ControllerKind::kSata:
      return kSataPorts;
    case ControllerKind::kScsi:
      return c.model == ControllerModel::kPvscsi ? 64 : 16;
    default:
      return 0;
  }
}

bool UnitUsable(const Controller& c, int unit) {
  if (unit < 0 || unit >= UnitsOf(c)) return false;
  return c.kind != ControllerKind::kScsi || unit != kScsiReservedId;
}

std::string DeviceNoun(DiskDevice d) {
  switch (d) {
    case DiskDevice::kCdrom:
      return "cd-rom";
    case DiskDevice::kFloppy:
      return "floppy";
    case DiskDevice::kDisk:
      break;
  }
  return "disk";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// --- operating system ---------------------------------------------------

// Families whose releases the OS table does not list one by one: the
// closest VMware guest id. VMware asks for nothing more than a family to
// pick defaults (and its tools), so an approximation is fine, but said.
struct FamilyGuess {
  std::string_view prefix;  // libosinfo short-id prefix
  std::string_view vmware;
};
constexpr std::array<FamilyGuess, 18> kFamilies = {{
    {"ubuntu", "ubuntu64Guest"},
    {"debian", "debian12_64Guest"},
    {"centos-stream", "centos8_64Guest"},
    {"centos", "centos64Guest"},
    {"rhel", "rhel9_64Guest"},
    {"rocky", "rhel9_64Guest"},
    {"almalinux", "rhel9_64Guest"},
    {"ol", "oracleLinux64Guest"},
    {"fedora", "other5xLinux64Guest"},
    {"sles", "sles15_64Guest"},
    {"opensuse", "suse64Guest"},
    {"archlinux", "other5xLinux64Guest"},
    {"alpinelinux", "other5xLinux64Guest"},
    {"photon", "vmwarePhoton64Guest"},
    {"freebsd", "freebsd64Guest"},
    {"solaris", "solaris11_64Guest"},
    {"win2k", "windows2019srvNext_64Guest"},
    {"win", "windows9_64Guest"},
}};

// The RHEL-like families name their VMware id by major version.
std::string RhelLikeGuess(std::string_view id) {
  for (std::string_view family : {"rhel", "rocky", "almalinux", "centos"}) {
    if (!StartsWith(id, family)) continue;
    std::string_view version = id.substr(family.size());
    size_t dot = version.find('.');
    std::string major(version.substr(0, dot));
    if (major.empty() || !std::all_of(major.begin(), major.end(), ::isdigit)) {
      return "";
    }
    std::string prefix = family == "centos" ? "centos" : "rhel";
    std::string guess = prefix + major + "_64Guest";
    if (FindOsByVmware(guess)) return guess;
  }
  return "";
}

// Fills `os` from what the domain says: our metadata (an imported
// appliance's own names), else libvirt's libosinfo URI.
void DecideOs(const ParsedDomain& d, VmSpec* vm, Diagnostics* diags) {
  OsInfo& os = vm->os;
  if (os.libosinfo_id.empty() && !d.options.libosinfo_id.empty()) {
    os.libosinfo_id = LibosinfoShortId(d.options.libosinfo_id);
  }
  bool named =
      os.cim_id || !os.vmware_os_type.empty() || !os.virtualbox_os_type.empty();
  if (named) {
    CompleteOsInfo(&os);
    return;
  }
  if (os.libosinfo_id.empty()) {
    diags->Warn("export.os-unknown", vm->name,
                "the domain does not say its guest operating system; the "
                "ovf says 'other', and VMware and VirtualBox will ask");
    return;
  }
  if (FindOsByLibosinfo(os.libosinfo_id)) {
    CompleteOsInfo(&os);
    return;
  }
  std::string guess = RhelLikeGuess(os.libosinfo_id);
  if (guess.empty()) {
    for (const FamilyGuess& f : kFamilies) {
      if (StartsWith(os.libosinfo_id, f.prefix)) {
        guess = std::string(f.vmware);
        break;
      }
    }
  }
  if (guess.empty()) {
    diags->Warn("export.os-unknown", vm->name,
                "os " + Quote(os.libosinfo_id) +
                    " has no VMware or CIM name; the ovf says 'other'");
    return;
  }
  os.vmware_os_type = guess;
  CompleteOsInfo(&os);
  diags->Warn("export.os-approximated", vm->name,
              "os " + Quote(os.libosinfo_id) + " is written as VMware's " +
                  Quote(guess) + ", the closest guest type it has");
}

bool IsWindows(const OsInfo& os) {
  return StartsWith(os.libosinfo_id, "win") ||
         StartsWith(Lower(os.vmware_os_type), "win") ||
         StartsWith(Lower(os.virtualbox_os_type), "windows") ||
         Lower(os.cim_description).find("windows") != std::string::npos;
}

// An OS whose kernel ships a vmxnet3 driver (Linux since 2.6.32, FreeBSD
// since 10, Solaris 11), as opposed to Windows (a driver only with VMware
// Tools) and the unknown.
bool HasVmxnet3Driver(const OsInfo& os) {
  if (IsWindows(os)) return false;
  const OsEntry* e = FindOs(os);
  if (e == nullptr) return false;
  std::string vmw = Lower(e->vmware);
  for (std::string_view family :
       {"ubuntu", "debian", "rhel", "centos", "oraclelinux", "sles", "suse",
        "other3xlinux", "other4xlinux", "other5xlinux", "otherlinux64",
        "other26xlinux64", "vmwarephoton", "freebsd", "solaris11"}) {
    if (StartsWith(vmw, family)) return true;
  }
  return false;
}

// --- storage ------------------------------------------------------------

class StoragePlanner {
 public:
  StoragePlanner(const VmSpec& source, Diagnostics* diags)
      : source_(source), diags_(diags) {}

  // Places every drive; `out` receives controllers and disks with ids
  // still the libvirt ones (renumbered later).
  Status Run(VmSpec* out) {
    std::vector<size_t> homeless;
    for (size_t i = 0; i < source_.disks.size(); ++i) {
      const Disk& d = source_.disks[i];
      if (d.device == DiskDevice::kFloppy) {
        placed_.push_back(d);  // floppies hang off no controller
        continue;
      }
      const Controller* c = source_.FindController(d.controller_id);
      std::string why;
      std::optional<std::string> target = c ? Keep(*c, d, &why) : std::nullopt;
      if (!target) {
        homeless.push_back(i);
        homeless_why_.push_back(c ? why : "it names no controller");
        continue;
      }
      Disk placed = d;
      placed.controller_id = *target;
      const Controller& tc = *Find(*target);
      int unit = d.unit.value_or(-1);
      if (tc.kind == ControllerKind::kIde) unit = unit % 2;
      if (!UnitUsable(tc, unit) || Taken(*target, unit)) {
        auto free = FreeUnit(tc);
        if (!free) {
          homeless.push_back(i);
          homeless_why_.push_back("its controller is full");
          continue;
        }
        diags_->Warn("export.disk-moved", d.id,
                     DeviceNoun(d.device) + " " + Quote(d.id) + " at unit " +
                         std::to_string(d.unit.value_or(-1)) +
                         " moves to unit " + std::to_string(*free) + " of " +
                         Describe(tc) + ": VMware has no such unit there");
        unit = *free;
      }
      used_[*target].insert(unit);
      placed.unit = unit;
      placed_.push_back(std::move(placed));
    }
    for (size_t k = 0; k < homeless.size(); ++k) {
      RETURN_IF_ERROR(ToSata(source_.disks[homeless[k]], homeless_why_[k]));
    }
    // Drives in the order the domain lists them, as libvirt names them.
    std::map<std::string, size_t> order;
    for (size_t i = 0; i < source_.disks.size(); ++i) {
      order[source_.disks[i].id] = i;
    }
    std::stable_sort(placed_.begin(), placed_.end(),
                     [&](const Disk& a, const Disk& b) {
                       return order[a.id] < order[b.id];
                     });
    out->controllers = controllers_;
    out->disks = placed_;
    return OkStatus();
  }

 private:
  Controller* Find(const std::string& id) {
    for (Controller& c : controllers_) {
      if (c.id == id) return &c;
    }
    return nullptr;
  }

  std::string Describe(const Controller& c) const {
    switch (c.kind) {
      case ControllerKind::kIde:
        return "ide channel " + std::to_string(c.bus);
      case ControllerKind::kSata:
        return "sata controller " + std::to_string(c.bus);
      case ControllerKind::kScsi:
        return std::string(ToString(c.model)) + " scsi controller " +
               std::to_string(c.bus);
      default:
        return "controller " + Quote(c.id);
    }
  }

  // The controller (made on first use) that keeps `d` where the domain
  // has it; nullopt when VMware has no such controller, with the reason.
  std::optional<std::string> Keep(const Controller& c, const Disk& d,
                                  std::string* why) {
    switch (c.kind) {
      case ControllerKind::kIde: {
        // libvirt's one IDE controller has two channels of two drives
        // (unit = channel * 2 + drive); VMware calls each channel an IDE
        // controller, as VirtualBox reads it too.
        if (c.bus != 0) {
          *why = "VMware has one ide controller";
          return std::nullopt;
        }
        int channel = d.unit.value_or(0) / 2;
        if (channel > 1) {
          *why = "ide has two channels";
          return std::nullopt;
        }
        return Ensure("ide" + std::to_string(channel), ControllerKind::kIde,
                      ControllerModel::kPiix4, channel, "");
      }
      case ControllerKind::kSata:
        if (c.bus >= kMaxControllers) {
          *why = "VMware has four sata controllers";
          return std::nullopt;
        }
        return Ensure("sata" + std::to_string(c.bus), ControllerKind::kSata,
                      ControllerModel::kAhci, c.bus, "");
      case ControllerKind::kScsi: {
        if (c.bus >= kMaxControllers) {
          *why = "VMware has four scsi controllers";
          return std::nullopt;
        }
        ControllerModel model = ScsiModel(c);
        return Ensure("scsi" + std::to_string(c.bus), ControllerKind::kScsi,
                      model, c.bus, "");
      }
      case ControllerKind::kVirtio:
        *why = "VMware and VirtualBox have no virtio-blk";
        return std::nullopt;
      default:
        *why = "VMware has no " + Quote(c.raw_model) + " bus";
        return std::nullopt;
    }
  }

  // libvirt's SCSI model -> the VMware adapter; a substitute is warned
  // about once per controller.
  ControllerModel ScsiModel(const Controller& c) {
    ControllerModel m = c.model;
    std::string why;
    switch (c.model) {
      case ControllerModel::kLsiLogic:
      case ControllerModel::kLsiLogicSas:
      case ControllerModel::kPvscsi:
        return m;
      case ControllerModel::kVirtioScsi:
        // Paravirtual for paravirtual: a guest on virtio-scsi is a modern
        // one, and Linux has carried vmw_pvscsi since 2.6.33.
        m = ControllerModel::kPvscsi;
        why =
            "VMware and VirtualBox have no virtio-scsi; VMware's paravirtual "
            "scsi (pvscsi) is the closest, and the guest needs its driver "
            "(vmw_pvscsi on Linux, VMware Tools on Windows)";
        break;
      default:
        if (Lower(c.raw_model) == "megasas" ||
            Lower(c.raw_model) == "lsisas1078") {
          m = ControllerModel::kLsiLogicSas;
          why = "VMware has no MegaRAID; LSI Logic SAS is the closest";
        } else {
          m = ControllerModel::kLsiLogic;
          why = c.raw_model.empty()
                    ? "no model given; LSI Logic, VMware's default"
                    : "VMware has no such adapter; LSI Logic, its default";
        }
        break;
    }
    if (warned_.insert(c.id).second) {
      diags_->Warn("export.controller-substituted", c.id,
                   "scsi controller " + std::to_string(c.bus) + " (" +
                       (c.raw_model.empty() ? std::string("no model")
                                            : Quote(c.raw_model)) +
                       ") becomes " + std::string(ToString(m)) + ": " + why);
    }
    return m;
  }

  std::string Ensure(const std::string& id, ControllerKind kind,
                     ControllerModel model, int bus, const std::string& raw) {
    if (Find(id) == nullptr) {
      Controller c;
      c.id = id;
      c.kind = kind;
      c.model = model;
      c.bus = bus;
      c.raw_model = raw;
      controllers_.push_back(c);
    }
    return id;
  }

  bool Taken(const std::string& controller, int unit) {
    return used_[controller].count(unit) != 0;
  }

  std::optional<int> FreeUnit(const Controller& c) {
    for (int u = 0; u < UnitsOf(c); ++u) {
      if (UnitUsable(c, u) && !Taken(c.id, u)) return u;
    }
    return std::nullopt;
  }

  // A drive VMware cannot keep where it is goes to SATA: AHCI is the one
  // controller every guest that ran on virtio (or anything newer than
  // IDE) has a driver for -- Linux's ahci, Windows' storahci since Vista --
  // and that BIOS, VMware's EFI, OVMF and VirtualBox all boot from.
  Status ToSata(const Disk& d, const std::string& why) {
    for (int bus = 0; bus < kMaxControllers; ++bus) {
      std::string id = "sata" + std::to_string(bus);
      Controller* c = Find(id);
      if (c == nullptr) {
        Ensure(id, ControllerKind::kSata, ControllerModel::kAhci, bus, "");
        c = Find(id);
      }
      auto unit = FreeUnit(*c);
      if (!unit) continue;
      used_[id].insert(*unit);
      Disk placed = d;
      placed.controller_id = id;
      placed.unit = *unit;
      placed_.push_back(std::move(placed));
      diags_->Warn("export.disk-bus-changed", d.id,
                   DeviceNoun(d.device) + " " + Quote(d.id) +
                       " goes to sata controller " + std::to_string(bus) +
                       " port " + std::to_string(*unit) + " (" + why +
                       "); the guest needs an ahci driver");
      return OkStatus();
    }
    return UnsupportedError(DeviceNoun(d.device) + " " + Quote(d.id) +
                            ": no room on VMware's controllers (at most " +
                            std::to_string(kMaxControllers) +
                            " sata controllers of " +
                            std::to_string(kSataPorts) + " ports)");
  }

  const VmSpec& source_;
  Diagnostics* diags_;
  std::vector<Controller> controllers_;
  std::vector<Disk> placed_;
  std::vector<std::string> homeless_why_;
  std::map<std::string, std::set<int>> used_;
  std::set<std::string> warned_;
};

// --- the other devices --------------------------------------------------

NicModel ChooseNicModel(const Nic& n, const OsInfo& os, Diagnostics* diags) {
  NicModel to = n.model;
  std::string why;
  switch (n.model) {
    case NicModel::kE1000:
    case NicModel::kE1000e:
    case NicModel::kVmxnet3:
    case NicModel::kPcnet:
      return n.model;
    case NicModel::kVirtio:
      if (IsWindows(os)) {
        to = NicModel::kE1000e;
        why =
            "Windows has an e1000e driver of its own (since 8 and 2012); "
            "vmxnet3 would need VMware Tools";
      } else if (HasVmxnet3Driver(os)) {
        to = NicModel::kVmxnet3;
        why =
            "VMware's paravirtual nic, whose driver this guest's kernel "
            "carries";
      } else {
        to = NicModel::kE1000;
        why =
            "the guest is not known to carry a vmxnet3 driver; every "
            "system has one for the e1000";
      }
      break;
    default:
      to = NicModel::kE1000;
      why =
          "VMware has no such nic; the e1000 is the one every system has a "
          "driver for";
      break;
  }
  diags->Warn(
      "export.nic-model-changed", n.id,
      "nic " + Quote(n.mac.empty() ? n.id : n.mac) + " (" +
          (n.raw_model.empty() ? std::string("no model") : Quote(n.raw_model)) +
          ") becomes " + std::string(ToString(to)) + ": " + why);
  return to;
}

std::string UsbFor(const std::string& libvirt_model, Diagnostics* diags) {
  std::string m = Lower(libvirt_model);
  if (m.find("xhci") != std::string::npos) return "xhci";
  if (m.find("ehci") != std::string::npos) return "ehci";
  if (m.find("uhci") != std::string::npos) return "uhci";
  diags->Warn("export.usb-substituted", libvirt_model,
              "usb controller " + Quote(libvirt_model) +
                  " becomes VMware's ehci (usb 2)");
  return "ehci";
}

std::optional<std::string> SoundFor(const std::string& libvirt_model,
                                    Diagnostics* diags) {
  std::string m = Lower(libvirt_model);
  if (m == "ich6" || m == "ich7" || m == "ich9" || m == "hda") return "hda";
  if (m == "es1370") {
    diags->Warn("export.sound-substituted", libvirt_model,
                "sound card 'es1370' becomes VMware's ensoniq1371, its "
                "successor");
    return "ensoniq1371";
  }
  if (m == "sb16") return "sb16";
  diags->Warn(
      "export.sound-substituted", libvirt_model,
      "sound card " + Quote(libvirt_model) + " becomes VMware's hd audio");
  return "hda";
}

void RenumberItems(VmSpec* vm) {
  // Items the writer numbers itself (cpu, memory) take 1 and 2; then
  // controllers, drives and nics in that order.
  int next = 3;
  std::map<std::string, std::string> controller_ids;
  for (Controller& c : vm->controllers) {
    controller_ids[c.id] = std::to_string(next++);
    c.id = controller_ids[c.id];
  }
  for (Disk& d : vm->disks) {
    d.id = std::to_string(next++);
    if (!d.controller_id.empty())
      d.controller_id = controller_ids[d.controller_id];
  }
  for (Nic& n : vm->nics) n.id = std::to_string(next++);
}

}  // namespace

std::string LibosinfoShortId(std::string_view uri) {
  // http://HOST/FAMILY/VERSION -> FAMILY VERSION, checked by mapping back.
  size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view path = uri.substr(scheme + 3);
  size_t last = path.rfind('/');
  if (last == std::string_view::npos || last == 0) return "";
  size_t before = path.rfind('/', last - 1);
  if (before == std::string_view::npos) return "";
  std::string id = std::string(path.substr(before + 1, last - before - 1)) +
                   std::string(path.substr(last + 1));
  return LibosinfoUri(id) == uri ? id : "";
}

Result<ExportMachine> ApplyExportPolicy(const ParsedDomain& domain,
                                        const ExportPolicy& policy,
                                        Diagnostics* diags) {
  const VmSpec& src = domain.spec;
  ExportMachine out;
  VmSpec& vm = out.spec;
  vm.id = vm.name = domain.options.name;
  vm.description = src.description;
  vm.vcpus = src.vcpus;
  vm.cores_per_socket = src.cores_per_socket;
  if (src.threads_per_core && *src.threads_per_core > 1) {
    // VMware has sockets and cores only: threads become cores, so the
    // socket count stays what the guest saw.
    auto cores = CheckedMul<uint32_t>(src.cores_per_socket.value_or(1),
                                      *src.threads_per_core);
    if (!cores) return CorruptError("cpu topology overflows");
    vm.cores_per_socket = *cores;
    diags->Warn("export.threads-as-cores", vm.name,
                std::to_string(*src.threads_per_core) +
                    " threads per core are written as " +
                    std::to_string(*cores) +
                    " cores per socket (VMware has no threads)");
  }
  if (src.memory_bytes) {
    auto rounded = CheckedMul<uint64_t>(
        DivRoundUp(*src.memory_bytes, kMemoryGranule), kMemoryGranule);
    if (!rounded) return CorruptError("memory size overflows");
    vm.memory_bytes = *rounded;
    if (*rounded != *src.memory_bytes) {
      diags->Warn("export.memory-rounded", vm.name,
                  "memory of " + std::to_string(*src.memory_bytes) +
                      " bytes rounds up to " + std::to_string(*rounded) +
                      " (VMware wants a multiple of 4 MiB)");
    }
  }
  vm.firmware =
      src.firmware == Firmware::kEfi ? Firmware::kEfi : Firmware::kBios;
  vm.secure_boot = src.secure_boot && vm.firmware == Firmware::kEfi;
  if (vm.firmware == Firmware::kEfi) {
    diags->Warn("export.nvram-not-exported", vm.name,
                "the uefi variables (boot entries) are not exported; the "
                "firmware boots the disk's default loader "
                "(\\EFI\\BOOT\\BOOTX64.EFI) or asks");
  }
  vm.os = src.os;
  vm.products = src.products;
  DecideOs(domain, &vm, diags);

  // Drives: placement first, then what each reads.
  RETURN_IF_ERROR(StoragePlanner(src, diags).Run(&vm));
  std::map<std::string, const DiskBinding*> bindings;
  for (const DiskBinding& b : domain.options.disks) bindings[b.disk_id] = &b;
  int counts[3] = {0, 0, 0};
  for (Disk& d : vm.disks) {
    const std::string target = d.id;
    d.label = (d.device == DiskDevice::kDisk    ? "Hard disk "
               : d.device == DiskDevice::kCdrom ? "CD/DVD drive "
                                                : "Floppy drive ") +
              std::to_string(++counts[static_cast<int>(d.device)]);
    if (d.read_only) {
      diags->Warn("export.readonly-dropped", target,
                  "disk " + Quote(target) +
                      " is read-only here; OVF cannot say so, and it is "
                      "exported writable");
      d.read_only = false;
    }
    d.boot_order.reset();
    auto b = bindings.find(target);
    ExportSource s;
    s.target = target;
    s.device = d.device;
    if (b != bindings.end()) {
      s.path = b->second->path;
      s.pool = b->second->pool;
      s.volume = b->second->volume;
      s.format = b->second->format;
    }
    d.source = ImageSource();
    bool has_image = !s.path.empty() || !s.volume.empty();
    if (d.device == DiskDevice::kDisk) {
      if (!has_image) {
        return UnsupportedError("disk " + Quote(target) +
                                " has no source ova2virt can read (a "
                                "network disk?)");
      }
      if (s.format.empty()) s.format = "raw";  // libvirt's reading too
      if (s.format != "qcow2" && s.format != "raw" && s.format != "vmdk") {
        return UnsupportedError("disk " + Quote(target) + ": format " +
                                Quote(s.format) +
                                " cannot be exported (qcow2, raw or vmdk)");
      }
    } else {
      if (!has_image) continue;  // an empty drive stays empty
      if (!policy.include_media) {
        diags->Warn("export.media-dropped", target,
                    DeviceNoun(d.device) + " " + Quote(target) +
                        " is exported empty (--no-media)");
        continue;
      }
      if (!s.format.empty() && s.format != "raw") {
        return UnsupportedError(DeviceNoun(d.device) + " " + Quote(target) +
                                ": a " + Quote(s.format) +
                                " image cannot be exported (raw only)");
      }
      s.format = "raw";
    }
    out.sources.push_back(std::move(s));
    out.sources.back().disk_id = target;  // renumbered below
  }

  // NICs.
  std::set<std::string> networks;
  int nic_count = 0;
  for (const Nic& n : src.nics) {
    Nic nic = n;
    nic.model = ChooseNicModel(n, vm.os, diags);
    nic.raw_model.clear();
    nic.label = "Network adapter " + std::to_string(++nic_count);
    if (nic.network.empty()) nic.network = "VM Network";
    networks.insert(nic.network);
    vm.nics.push_back(std::move(nic));
  }
  for (const std::string& n : networks) {
    out.networks.push_back({n, "The " + n + " network"});
  }

  // Serial ports keep their number; their host side is this host's.
  for (const SerialPort& p : src.serial_ports) {
    if (!p.type.empty() && p.type != "pty") {
      diags->Warn("export.serial-host-dropped",
                  "serial port " + std::to_string(p.index),
                  "its host side (" + p.type +
                      (p.target.empty() ? "" : " " + Quote(p.target)) +
                      ") is this host's and is not exported");
    }
    vm.serial_ports.push_back({p.index, "", ""});
  }
  for (const UsbController& u : src.usb_controllers) {
    vm.usb_controllers.push_back({UsbFor(u.model, diags)});
  }
  for (const SoundCard& s : src.sound_cards) {
    if (auto m = SoundFor(s.model, diags)) vm.sound_cards.push_back({*m});
  }
  if (src.video) {
    // VMware has one display adapter (its SVGA), and VirtualBox its own;
    // ovftool writes the item without a subtype.
    Video v = *src.video;
    std::string m = Lower(v.model);
    if (!m.empty() && m != "vga" && m != "vmvga" && m != "cirrus" &&
        m != "bochs") {
      diags->Warn("export.video-generic", v.model,
                  "video " + Quote(v.model) +
                      " becomes the hypervisor's own display adapter");
    }
    v.model.clear();
    vm.video = v;
  }
  if (src.tpm) {
    vm.tpm = Tpm{"2.0"};
    diags->Warn("export.tpm-state-not-exported", vm.name,
                "the virtual tpm is exported empty: its keys (BitLocker, "
                "measured boot) stay here");
  }
  // Hardware version 10 (ESXi 5.5, Workstation 10) is the first with
  // SATA, and has vmxnet3, pvscsi, e1000e and EFI: the oldest that holds
  // every device this policy writes. Secure boot and vTPM need 14.
  vm.system_type = vm.secure_boot || vm.tpm ? "vmx-14" : "vmx-10";

  std::map<std::string, std::string> old_ids;
  std::vector<std::string> targets;
  for (const Disk& d : vm.disks) targets.push_back(d.id);
  RenumberItems(&vm);
  for (size_t i = 0; i < vm.disks.size(); ++i)
    old_ids[targets[i]] = vm.disks[i].id;
  for (ExportSource& s : out.sources) s.disk_id = old_ids[s.target];
  return out;
}

}  // namespace ova2virt
