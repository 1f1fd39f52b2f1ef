#include "pipeline/policy.h"

#include <algorithm>
#include <map>
#include <set>

#include "pipeline/boot_policy.h"

namespace ova2virt {
namespace {

constexpr uint64_t kDefaultMemory = 1ull << 30;

// A controller of the target machine and the disks that go on it.
struct Group {
  std::string id;
  ControllerKind kind;
  ControllerModel model;
  std::string raw_model;
  int max_units;
  // (disk index, wanted unit or -1), in placement order.
  std::vector<std::pair<size_t, int>> disks;
};

int MaxUnits(ControllerKind kind, ControllerModel model) {
  switch (kind) {
    case ControllerKind::kIde:
      return 4;  // two channels, master and slave
    case ControllerKind::kSata:
      return 6;  // ich9-ahci ports
    case ControllerKind::kScsi:
      return model == ControllerModel::kLsiLogicSas  ? 8
             : model == ControllerModel::kPvscsi     ? 64
             : model == ControllerModel::kVirtioScsi ? 256
                                                     : 7;
    default:
      return 1 << 16;
  }
}

std::string Describe(const Controller& c) {
  std::string s(ToString(c.kind));
  if (c.model != ControllerModel::kUnspecified &&
      ToString(c.model) != ToString(c.kind)) {
    s += " (" + std::string(ToString(c.model)) + ")";
  } else if (!c.raw_model.empty()) {
    s += " (" + c.raw_model + ")";
  }
  return s;
}

class StoragePlanner {
 public:
  StoragePlanner(VmSpec& vm, const ImportPolicy& p, bool pc, Diagnostics* d)
      : vm_(vm), policy_(p), pc_(pc), diags_(d) {}

  Status Run() {
    RankIde();
    for (size_t i = 0; i < vm_.disks.size(); ++i) {
      const Disk& d = vm_.disks[i];
      if (d.device == DiskDevice::kFloppy) continue;
      const Controller* c = vm_.FindController(d.controller_id);
      Route(i, c);
    }
    return Place();
  }

 private:
  void Warn(std::string id, std::string where, std::string message) {
    if (diags_)
      diags_->Warn(std::move(id), std::move(where), std::move(message));
  }

  // IDE slots count channels across controllers, as the formatter does:
  // VMware's two IDE controllers are the two channels of one PIIX.
  void RankIde() {
    std::vector<std::pair<int, size_t>> ide;
    for (size_t i = 0; i < vm_.controllers.size(); ++i) {
      if (vm_.controllers[i].kind == ControllerKind::kIde) {
        ide.push_back({vm_.controllers[i].bus, i});
      }
    }
    std::sort(ide.begin(), ide.end());
    for (size_t r = 0; r < ide.size(); ++r) {
      ide_rank_[vm_.controllers[ide[r].second].id] = static_cast<int>(r);
    }
  }

  Group& GroupFor(const std::string& id, ControllerKind kind,
                  ControllerModel model, std::string raw = "") {
    for (Group& g : groups_) {
      if (g.id == id) return g;
    }
    groups_.push_back({id, kind, model, raw, MaxUnits(kind, model), {}});
    return groups_.back();
  }

  void WarnOnce(const std::string& key, std::string id, std::string where,
                std::string message) {
    if (warned_.insert(key).second) {
      Warn(std::move(id), std::move(where), std::move(message));
    }
  }

  // Decides which target controller disk `i` goes on, and which unit it
  // would like there.
  void Route(size_t i, const Controller* c) {
    const Disk& d = vm_.disks[i];
    bool hard = d.device == DiskDevice::kDisk;
    int unit = d.unit.value_or(-1);
    if (c && c->kind == ControllerKind::kIde && unit >= 0) {
      unit += 2 * ide_rank_[c->id];
    }
    DiskBusChoice bus = policy_.disk_bus;
    std::string where = "disk " + Quote(d.id);
    if (bus == DiskBusChoice::kVirtio && hard) {
      if (!c || c->kind != ControllerKind::kVirtio) {
        Warn("policy.disk-bus-changed", d.id,
             (c ? Describe(*c) : std::string("no controller")) +
                 " becomes virtio (--disk-bus virtio)");
      }
      GroupFor("#virtio", ControllerKind::kVirtio,
               ControllerModel::kUnspecified)
          .disks.push_back({i, -1});
      return;
    }
    if (bus == DiskBusChoice::kSata || bus == DiskBusChoice::kScsi) {
      bool sata = bus == DiskBusChoice::kSata;
      std::string name(ToString(bus));
      ControllerKind kind =
          sata ? ControllerKind::kSata : ControllerKind::kScsi;
      ControllerModel model =
          sata ? ControllerModel::kAhci : ControllerModel::kVirtioScsi;
      if (!c || c->kind != kind || c->model != model) {
        Warn("policy.disk-bus-changed", d.id,
             (c ? Describe(*c) : std::string("no controller")) + " becomes " +
                 (sata ? "sata" : "virtio-scsi") + " (--disk-bus " + name +
                 ")");
      }
      GroupFor("#" + name, kind, model).disks.push_back({i, -1});
      return;
    }
    // keep, auto (its boot disk already moved) and cd-roms under
    // --disk-bus virtio: the closest device.
    if (!c) {
      // No controller named: the machine's own default bus.
      if (pc_) {
        GroupFor("#ide", ControllerKind::kIde, ControllerModel::kPiix3)
            .disks.push_back({i, -1});
      } else {
        GroupFor("#sata", ControllerKind::kSata, ControllerModel::kAhci)
            .disks.push_back({i, -1});
      }
      return;
    }
    switch (c->kind) {
      case ControllerKind::kIde:
        if (pc_) {
          GroupFor("#ide", ControllerKind::kIde, c->model)
              .disks.push_back({i, unit});
        } else {
          WarnOnce("ide", "policy.ide-to-sata", "",
                   "ide disks go on a sata controller: the q35 machine has "
                   "no ide controller");
          GroupFor("#ide-sata", ControllerKind::kSata, ControllerModel::kAhci)
              .disks.push_back({i, unit});
        }
        return;
      case ControllerKind::kSata:
        GroupFor(c->id, ControllerKind::kSata, ControllerModel::kAhci)
            .disks.push_back({i, unit});
        return;
      case ControllerKind::kScsi: {
        ControllerModel m = c->model;
        if (m == ControllerModel::kBusLogic || m == ControllerModel::kOther ||
            m == ControllerModel::kUnspecified ||
            KindOfModel(m) != ControllerKind::kScsi) {
          WarnOnce("scsi:" + c->id, "policy.controller-substituted", c->id,
                   Describe(*c) +
                       " becomes an lsilogic scsi controller (qemu has no " +
                       "such device; lsilogic is what vmware guests carry " +
                       "drivers for)");
          m = ControllerModel::kLsiLogic;
        }
        GroupFor(c->id, ControllerKind::kScsi, m).disks.push_back({i, unit});
        return;
      }
      case ControllerKind::kVirtio:
        GroupFor(c->id, ControllerKind::kVirtio, ControllerModel::kUnspecified)
            .disks.push_back({i, unit});
        return;
      case ControllerKind::kNvme:
      case ControllerKind::kOther:
        WarnOnce("ctl:" + c->id, "policy.controller-substituted", c->id,
                 Describe(*c) + " becomes a sata controller" +
                     (c->kind == ControllerKind::kNvme
                          ? " (libvirt 9 has no emulated nvme controller)"
                          : ""));
        GroupFor(c->id, ControllerKind::kSata, ControllerModel::kAhci)
            .disks.push_back({i, unit});
        return;
    }
  }

  // Gives every disk a unit within its group's range, spilling into more
  // controllers of the same kind when a group is full.
  Status Place() {
    std::vector<Controller> out;
    std::map<ControllerKind, int> bus_of_kind;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      Group g = groups_[gi];
      // Wanted units first, in spec order; then the rest.
      std::stable_sort(g.disks.begin(), g.disks.end(),
                       [](const auto& a, const auto& b) {
                         return (a.second < 0) < (b.second < 0);
                       });
      int part = 0;
      std::set<int> used;
      std::string id = g.id;
      auto emit = [&] {
        Controller c;
        c.id = id;
        c.kind = g.kind;
        c.model = g.model;
        c.raw_model = std::string(ToString(g.model));
        c.bus = bus_of_kind[g.kind]++;
        out.push_back(c);
      };
      emit();
      for (auto [di, want] : g.disks) {
        Disk& d = vm_.disks[di];
        int unit = -1;
        if (want >= 0 && want < g.max_units && !used.count(want)) {
          unit = want;
        } else {
          for (int u = 0; u < g.max_units; ++u) {
            if (!used.count(u)) {
              unit = u;
              break;
            }
          }
        }
        if (unit < 0 && g.kind == ControllerKind::kIde) {
          // A PIIX has one IDE function: four drives, no second one.
          return UnsupportedError(
              "more than 4 ide drives; use --disk-bus sata or virtio");
        }
        if (unit < 0) {
          // Full: open another controller of this kind.
          if (++part > 16) {
            return UnsupportedError("too many disks for " +
                                    std::string(ToString(g.kind)) +
                                    " controllers");
          }
          id = g.id + "-" + std::to_string(part + 1);
          used.clear();
          emit();
          unit = 0;
        }
        used.insert(unit);
        if (want >= 0 && unit != want) {
          Warn("policy.disk-moved", d.id,
               "unit " + std::to_string(want) + " is taken or out of range; " +
                   "disk moved to " + std::string(ToString(g.kind)) +
                   " controller " + Quote(id) + " unit " +
                   std::to_string(unit));
        }
        d.controller_id = id;
        d.unit = unit;
      }
    }
    vm_.controllers = std::move(out);
    return OkStatus();
  }

  VmSpec& vm_;
  const ImportPolicy& policy_;
  bool pc_;
  Diagnostics* diags_;
  std::map<std::string, int> ide_rank_;
  std::vector<Group> groups_;
  std::set<std::string> warned_;
};

// True when every drive but floppies sits on an IDE controller.
bool IdeOnly(const VmSpec& vm) {
  bool any = false;
  for (const Disk& d : vm.disks) {
    if (d.device == DiskDevice::kFloppy) continue;
    const Controller* c = vm.FindController(d.controller_id);
    if (!c || c->kind != ControllerKind::kIde) return false;
    any = true;
  }
  return any;
}

// Floppies sit on the one floppy controller, units 0 and 1. VirtualBox
// writes two drives both at address 0; a third cannot be attached at all.
void PlaceFloppies(VmSpec& vm, Diagnostics* diags) {
  bool used[2] = {false, false};
  std::vector<Disk> kept;
  std::vector<Disk*> unplaced;
  for (Disk& d : vm.disks) {
    if (d.device != DiskDevice::kFloppy) continue;
    if (d.unit && *d.unit >= 0 && *d.unit < 2 && !used[*d.unit]) {
      used[*d.unit] = true;
    } else {
      unplaced.push_back(&d);
    }
  }
  std::set<std::string> dropped;
  for (Disk* d : unplaced) {
    int free = !used[0] ? 0 : !used[1] ? 1 : -1;
    if (free < 0) {
      diags->Warn("policy.floppy-dropped", d->id,
                  "a machine has room for two floppy drives; this one is "
                  "left out");
      dropped.insert(d->id);
      continue;
    }
    if (d->unit) {  // an unstated unit is simply assigned
      diags->Warn("policy.disk-moved", d->id,
                  "floppy drive moved to unit " + std::to_string(free) +
                      " (its unit was taken or out of range)");
    }
    d->unit = free;
    used[free] = true;
  }
  if (dropped.empty()) return;
  std::erase_if(vm.disks, [&](const Disk& d) {
    return d.device == DiskDevice::kFloppy && dropped.count(d.id) != 0;
  });
}

// Debian's OVMF (2022.11) has no driver for the LSI Logic, LSI SAS, MegaRAID
// or PVSCSI adapters QEMU emulates: measured, a UEFI guest on any of them
// drops to the UEFI shell, while AHCI, virtio and virtio-scsi boot. So under
// `keep`, a UEFI machine whose boot disk sits on such a SCSI controller gets
// that controller as AHCI, which every UEFI-era guest has a driver for.
void KeepUefiBootable(VmSpec& vm, Diagnostics* diags) {
  if (vm.firmware != Firmware::kEfi) return;
  const Disk* boot = BootDisk(vm);
  if (boot == nullptr) return;
  Controller* c = nullptr;
  for (Controller& x : vm.controllers) {
    if (x.id == boot->controller_id) c = &x;
  }
  if (c == nullptr || c->kind != ControllerKind::kScsi ||
      c->model == ControllerModel::kVirtioScsi) {
    return;
  }
  int sata_buses = 0;
  for (const Controller& x : vm.controllers) {
    if (x.kind == ControllerKind::kSata) ++sata_buses;
  }
  diags->Warn("policy.efi-boot-controller", c->id,
              "UEFI firmware (OVMF) cannot boot from a " + Describe(*c) +
                  " controller; its disks go on a SATA (AHCI) controller");
  c->kind = ControllerKind::kSata;
  c->model = ControllerModel::kAhci;
  c->bus = sata_buses;
}

void MapNics(TargetPlan& plan, const ImportPolicy& policy, Diagnostics* diags) {
  std::set<std::string> used_mappings;
  for (size_t i = 0; i < plan.spec.nics.size(); ++i) {
    Nic& n = plan.spec.nics[i];
    if (n.id.empty()) n.id = "nic" + std::to_string(i);
    NicModel before = n.model;
    std::string was = before == NicModel::kOther
                          ? n.raw_model
                          : std::string(ToString(before));
    if (policy.nic_model != NicModelChoice::kKeep) {
      n.model = policy.nic_model == NicModelChoice::kVirtio ? NicModel::kVirtio
                                                            : NicModel::kE1000;
      std::string name(ToString(policy.nic_model));
      if (before != n.model && diags) {
        diags->Warn("policy.nic-model-changed", n.id,
                    was + " becomes " + name + " (--nic-model " + name + ")");
      }
    } else {
      switch (before) {
        case NicModel::kE1000:
        case NicModel::kE1000e:
        case NicModel::kVmxnet3:
        case NicModel::kVirtio:
        case NicModel::kRtl8139:
          break;
        default:
          // QEMU has no vmxnet2 or vlance; its pcnet is unmaintained and
          // missing from many builds. e1000 has drivers in every guest.
          n.model = NicModel::kE1000;
          if (diags) {
            diags->Warn("policy.nic-substituted", n.id,
                        "nic model " + Quote(was) + " becomes e1000");
          }
      }
    }
    if (n.model != NicModel::kOther) n.raw_model.clear();
    const NetworkMapping* m = nullptr;
    for (const NetworkMapping& x : policy.networks) {
      if (x.source == n.network) m = &x;
    }
    if (!m) {
      for (const NetworkMapping& x : policy.networks) {
        if (x.source == "*") m = &x;
      }
    }
    NicBinding b{n.id, NicBinding::kNetwork, policy.default_network};
    if (m) {
      used_mappings.insert(m->source);
      b.kind = m->kind;
      b.source = m->target;
    }
    if (b.kind == NicBinding::kNone && diags) {
      diags->Warn("policy.nic-removed", n.id,
                  "nic on " + Quote(n.network) + " is left out (" +
                      Quote(n.network + "=none") + ")");
    }
    plan.nics.push_back(b);
  }
  for (const NetworkMapping& x : policy.networks) {
    if (x.source != "*" && !used_mappings.count(x.source) && diags) {
      diags->Warn("policy.network-mapping-unused", x.source,
                  "no nic is on source network " + Quote(x.source));
    }
  }
}

}  // namespace

Result<NetworkMapping> ParseNetworkMapping(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return UsageError("network mapping " + Quote(text) +
                      " is not SRC=NET, SRC=bridge:BR, SRC=user or SRC=none");
  }
  NetworkMapping m;
  m.source = std::string(text.substr(0, eq));
  std::string_view rhs = text.substr(eq + 1);
  if (rhs == "user") {
    m.kind = NicBinding::kUser;
  } else if (rhs == "none") {
    m.kind = NicBinding::kNone;
  } else if (rhs.substr(0, 7) == "bridge:") {
    m.kind = NicBinding::kBridge;
    m.target = std::string(rhs.substr(7));
    if (m.target.empty()) {
      return UsageError("network mapping " + Quote(text) + " names no bridge");
    }
  } else {
    m.kind = NicBinding::kNetwork;
    m.target = std::string(rhs);
  }
  return m;
}

Result<TargetPlan> ApplyImportPolicy(const VmSpec& source,
                                     const ImportPolicy& policy,
                                     Diagnostics* diags) {
  DiskBusChoice bus = policy.disk_bus;
  TargetPlan plan;
  plan.spec = source;
  VmSpec& vm = plan.spec;
  Diagnostics scratch;
  Diagnostics* d = diags ? diags : &scratch;
  if (!vm.vcpus || *vm.vcpus == 0) {
    vm.vcpus = 1;
    d->Warn("policy.default-vcpus", "", "no vcpu count given; using 1");
  }
  if (!vm.memory_bytes || *vm.memory_bytes == 0) {
    vm.memory_bytes = kDefaultMemory;
    d->Warn("policy.default-memory", "", "no memory size given; using 1 GiB");
  }
  if (vm.firmware == Firmware::kUnknown) vm.firmware = Firmware::kBios;
  for (size_t i = 0; i < vm.disks.size(); ++i) {
    if (vm.disks[i].id.empty()) vm.disks[i].id = "disk" + std::to_string(i);
  }
  // auto: the boot disk first goes where the guest's own drivers reach it
  // (pipeline/boot_policy.h); the other disks are placed as under keep.
  bool boot_on_ide = bus == DiskBusChoice::kAuto && PlaceBootDisk(vm, d);
  // i440fx only for an IDE-only BIOS machine kept as it is, or one whose
  // boot disk must stay on IDE: the guest may be old enough to have no AHCI
  // driver (Windows XP/7, old Linux installs with ata_piix only), and q35
  // has no IDE. Everything else gets q35 (PCIe, AHCI, secure boot with SMM).
  bool pc = (bus == DiskBusChoice::kKeep || bus == DiskBusChoice::kAuto) &&
            vm.firmware == Firmware::kBios && !vm.secure_boot &&
            (IdeOnly(vm) || boot_on_ide);
  plan.machine = pc ? "pc" : "q35";
  PlaceFloppies(vm, d);
  if (bus == DiskBusChoice::kKeep) KeepUefiBootable(vm, d);
  RETURN_IF_ERROR(StoragePlanner(vm, policy, pc, d).Run());
  MapNics(plan, policy, d);
  if (policy.virt_type) {
    plan.virt_type = *policy.virt_type;
  } else if (policy.kvm_available == false) {
    plan.virt_type = VirtType::kQemu;
    d->Warn("policy.no-kvm", "",
            "the host offers no kvm; the guest runs under tcg emulation "
            "(slow)");
  } else {
    plan.virt_type = VirtType::kKvm;
  }
  return plan;
}

}  // namespace ova2virt
