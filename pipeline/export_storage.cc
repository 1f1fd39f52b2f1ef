#include "pipeline/export_storage.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "core/strings.h"
#include "pipeline/export_os.h"

namespace ova2virt {
namespace {

// VMware's limits (vSphere configuration maximums): four controllers of
// each kind; 30 SATA ports; SCSI IDs 0-15 (LSI) or 0-63 (PVSCSI), ID 7
// being the adapter itself; two IDE channels of two drives.
constexpr int kMaxControllers = 4;
constexpr int kSataPorts = 30;
constexpr int kScsiReservedId = 7;

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

}  // namespace

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

Status PlaceExportDrives(const VmSpec& source, VmSpec* out,
                         Diagnostics* diags) {
  return StoragePlanner(source, diags).Run(out);
}

}  // namespace ova2virt
