#include "pipeline/policy.h"

#include <set>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

VmSpec Machine(ControllerKind kind, ControllerModel model,
               Firmware fw = Firmware::kBios) {
  VmSpec vm;
  vm.name = "m";
  vm.vcpus = 2;
  vm.memory_bytes = 1ull << 30;
  vm.firmware = fw;
  Controller c;
  c.id = "c0";
  c.kind = kind;
  c.model = model;
  vm.controllers = {c};
  Disk d;
  d.id = "d0";
  d.controller_id = "c0";
  d.unit = 0;
  vm.disks = {d};
  Nic n;
  n.id = "n0";
  n.network = "VM Network";
  n.model = NicModel::kE1000;
  vm.nics = {n};
  return vm;
}

const Controller& ControllerOf(const TargetPlan& p, size_t disk) {
  const Controller* c = p.spec.FindController(p.spec.disks[disk].controller_id);
  REQUIRE(c != nullptr);
  return *c;
}

TEST_CASE("policy: network mappings parse, and bad ones name the value") {
  auto a = ParseNetworkMapping("VM Network=default");
  REQUIRE_OK(a);
  CHECK(a->source == "VM Network");
  CHECK(a->kind == NicBinding::kNetwork);
  CHECK(a->target == "default");
  auto b = ParseNetworkMapping("lan=bridge:br0");
  REQUIRE_OK(b);
  CHECK(b->kind == NicBinding::kBridge);
  CHECK(b->target == "br0");
  CHECK(ParseNetworkMapping("x=user")->kind == NicBinding::kUser);
  CHECK(ParseNetworkMapping("x=none")->kind == NicBinding::kNone);
  for (const char* bad : {"novalue", "=net", "src=", "src=bridge:"}) {
    auto r = ParseNetworkMapping(bad);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == ErrorCode::kUsage);
    CHECK(r.status().message().find(Quote(bad)) != std::string::npos);
  }
}

TEST_CASE("policy: keep maps every controller to its closest qemu device") {
  struct Case {
    ControllerKind kind;
    ControllerModel model;
    ControllerKind want_kind;
    ControllerModel want_model;
    const char* warning;  // "" = none
  };
  const Case cases[] = {
      {ControllerKind::kSata, ControllerModel::kAhci, ControllerKind::kSata,
       ControllerModel::kAhci, ""},
      {ControllerKind::kScsi, ControllerModel::kLsiLogic, ControllerKind::kScsi,
       ControllerModel::kLsiLogic, ""},
      {ControllerKind::kScsi, ControllerModel::kLsiLogicSas,
       ControllerKind::kScsi, ControllerModel::kLsiLogicSas, ""},
      {ControllerKind::kScsi, ControllerModel::kPvscsi, ControllerKind::kScsi,
       ControllerModel::kPvscsi, ""},
      {ControllerKind::kScsi, ControllerModel::kVirtioScsi,
       ControllerKind::kScsi, ControllerModel::kVirtioScsi, ""},
      {ControllerKind::kScsi, ControllerModel::kBusLogic, ControllerKind::kScsi,
       ControllerModel::kLsiLogic, "policy.controller-substituted"},
      {ControllerKind::kScsi, ControllerModel::kUnspecified,
       ControllerKind::kScsi, ControllerModel::kLsiLogic,
       "policy.controller-substituted"},
      {ControllerKind::kNvme, ControllerModel::kNvme, ControllerKind::kSata,
       ControllerModel::kAhci, "policy.controller-substituted"},
      {ControllerKind::kOther, ControllerModel::kOther, ControllerKind::kSata,
       ControllerModel::kAhci, "policy.controller-substituted"},
      {ControllerKind::kVirtio, ControllerModel::kUnspecified,
       ControllerKind::kVirtio, ControllerModel::kUnspecified, ""},
  };
  for (const Case& c : cases) {
    INFO(ToString(c.kind) << " " << ToString(c.model));
    Diagnostics d;
    ImportPolicy keep;
    keep.disk_bus = DiskBusChoice::kKeep;
    auto plan = ApplyImportPolicy(Machine(c.kind, c.model), keep, &d);
    REQUIRE_OK(plan);
    CHECK(plan->machine == "q35");
    CHECK(ControllerOf(*plan, 0).kind == c.want_kind);
    CHECK(ControllerOf(*plan, 0).model == c.want_model);
    CHECK(plan->spec.disks[0].unit == 0);
    if (*c.warning) {
      CHECK(d.Has(c.warning));
    } else {
      CHECK(d.empty());
    }
  }
}

TEST_CASE("policy: ide-only bios machines get i440fx; anything else q35") {
  Diagnostics d;
  auto ide = ApplyImportPolicy(
      Machine(ControllerKind::kIde, ControllerModel::kPiix4), {}, &d);
  REQUIRE_OK(ide);
  CHECK(ide->machine == "pc");
  CHECK(ControllerOf(*ide, 0).kind == ControllerKind::kIde);
  CHECK(d.empty());

  // The same disks under UEFI: q35, and IDE becomes SATA, with a warning.
  Diagnostics d2;
  auto efi = ApplyImportPolicy(
      Machine(ControllerKind::kIde, ControllerModel::kPiix4, Firmware::kEfi),
      {}, &d2);
  REQUIRE_OK(efi);
  CHECK(efi->machine == "q35");
  CHECK(ControllerOf(*efi, 0).kind == ControllerKind::kSata);
  CHECK(d2.Has("policy.ide-to-sata"));

  // IDE CD-ROM next to a SCSI disk: q35, the CD-ROM on SATA.
  VmSpec mixed = Machine(ControllerKind::kScsi, ControllerModel::kLsiLogic);
  Controller ide_c;
  ide_c.id = "ide1";
  ide_c.kind = ControllerKind::kIde;
  ide_c.bus = 1;
  mixed.controllers.push_back(ide_c);
  Disk cd;
  cd.id = "cd";
  cd.device = DiskDevice::kCdrom;
  cd.controller_id = "ide1";
  cd.unit = 0;
  mixed.disks.push_back(cd);
  ImportPolicy keep;
  keep.disk_bus = DiskBusChoice::kKeep;
  auto m = ApplyImportPolicy(mixed, keep, nullptr);
  REQUIRE_OK(m);
  CHECK(m->machine == "q35");
  CHECK(ControllerOf(*m, 1).kind == ControllerKind::kSata);
  // Secondary channel master (the one IDE controller ranked 0 here).
  CHECK(m->spec.disks[1].unit == 0);

  // With a chosen bus, the guest is known to have drivers: q35.
  ImportPolicy virtio;
  virtio.disk_bus = DiskBusChoice::kVirtio;
  auto v = ApplyImportPolicy(
      Machine(ControllerKind::kIde, ControllerModel::kPiix4), virtio, nullptr);
  REQUIRE_OK(v);
  CHECK(v->machine == "q35");
  CHECK(ControllerOf(*v, 0).kind == ControllerKind::kVirtio);
}

TEST_CASE("policy: vmware's two ide controllers are one piix's channels") {
  VmSpec vm = Machine(ControllerKind::kIde, ControllerModel::kUnspecified);
  Controller second;
  second.id = "c1";
  second.kind = ControllerKind::kIde;
  second.bus = 1;
  vm.controllers.push_back(second);
  Disk cd;
  cd.id = "cd";
  cd.device = DiskDevice::kCdrom;
  cd.controller_id = "c1";
  cd.unit = 1;
  vm.disks.push_back(cd);
  auto plan = ApplyImportPolicy(vm, {}, nullptr);
  REQUIRE_OK(plan);
  CHECK(plan->machine == "pc");
  CHECK(plan->spec.controllers.size() == 1);
  CHECK(plan->spec.disks[0].unit == 0);
  CHECK(plan->spec.disks[1].unit == 3);  // secondary slave
}

TEST_CASE("policy: --disk-bus moves hard disks, and says so per disk") {
  VmSpec vm = Machine(ControllerKind::kScsi, ControllerModel::kLsiLogic);
  Disk cd;
  cd.id = "cd";
  cd.device = DiskDevice::kCdrom;
  cd.controller_id = "c0";
  cd.unit = 1;
  vm.disks.push_back(cd);
  for (const char* bus : {"virtio", "sata", "scsi"}) {
    INFO(bus);
    ImportPolicy p;
    p.disk_bus = *ParseDiskBusChoice(bus);
    Diagnostics d;
    auto plan = ApplyImportPolicy(vm, p, &d);
    REQUIRE_OK(plan);
    const Controller& disk_c = ControllerOf(*plan, 0);
    const Controller& cd_c = ControllerOf(*plan, 1);
    if (std::string(bus) == "virtio") {
      CHECK(disk_c.kind == ControllerKind::kVirtio);
      // CD-ROMs keep their bus: firmware cannot boot virtio-blk CD-ROMs.
      CHECK(cd_c.model == ControllerModel::kLsiLogic);
    } else if (std::string(bus) == "sata") {
      CHECK(disk_c.kind == ControllerKind::kSata);
      CHECK(cd_c.kind == ControllerKind::kSata);
      CHECK(plan->spec.disks[0].unit != plan->spec.disks[1].unit);
    } else {
      CHECK(disk_c.model == ControllerModel::kVirtioScsi);
      CHECK(cd_c.model == ControllerModel::kVirtioScsi);
    }
    CHECK(d.Has("policy.disk-bus-changed"));
  }
}

TEST_CASE("policy: units beyond a controller spill onto another one") {
  VmSpec vm = Machine(ControllerKind::kSata, ControllerModel::kAhci);
  vm.disks.clear();
  for (int i = 0; i < 13; ++i) {
    Disk d;
    d.id = "d" + std::to_string(i);
    d.controller_id = "c0";
    d.unit = i;
    vm.disks.push_back(d);
  }
  Diagnostics diags;
  auto plan = ApplyImportPolicy(vm, {}, &diags);
  REQUIRE_OK(plan);
  CHECK(plan->spec.controllers.size() == 3);
  std::set<std::pair<std::string, int>> seen;
  for (const Disk& d : plan->spec.disks) {
    CHECK(*d.unit < 6);
    CHECK(seen.insert({d.controller_id, *d.unit}).second);
  }
  CHECK(diags.Has("policy.disk-moved"));
}

TEST_CASE("policy: a fifth ide drive on i440fx is refused, not misplaced") {
  VmSpec vm = Machine(ControllerKind::kIde, ControllerModel::kPiix4);
  for (int i = 1; i < 5; ++i) {
    Disk d = vm.disks[0];
    d.id = "d" + std::to_string(i);
    d.unit.reset();
    vm.disks.push_back(d);
  }
  auto plan = ApplyImportPolicy(vm, {}, nullptr);
  CHECK(plan.status().code() == ErrorCode::kUnsupported);
  ImportPolicy sata;
  sata.disk_bus = DiskBusChoice::kSata;
  CHECK_OK(ApplyImportPolicy(vm, sata, nullptr));
}

TEST_CASE("policy: nic models: keep, substitutions, and forced models") {
  struct Case {
    NicModel in;
    NicModel keep;
    bool warns;
  };
  const Case cases[] = {
      {NicModel::kE1000, NicModel::kE1000, false},
      {NicModel::kE1000e, NicModel::kE1000e, false},
      {NicModel::kVmxnet3, NicModel::kVmxnet3, false},
      {NicModel::kVirtio, NicModel::kVirtio, false},
      {NicModel::kPcnet, NicModel::kE1000, true},
      {NicModel::kVmxnet2, NicModel::kE1000, true},
      {NicModel::kVlance, NicModel::kE1000, true},
      {NicModel::kUnspecified, NicModel::kE1000, true},
  };
  for (const Case& c : cases) {
    INFO(ToString(c.in));
    VmSpec vm = Machine(ControllerKind::kSata, ControllerModel::kAhci);
    vm.nics[0].model = c.in;
    Diagnostics d;
    auto plan = ApplyImportPolicy(vm, {}, &d);
    REQUIRE_OK(plan);
    CHECK(plan->spec.nics[0].model == c.keep);
    CHECK(d.Has("policy.nic-substituted") == c.warns);
    ImportPolicy virtio;
    virtio.nic_model = NicModelChoice::kVirtio;
    Diagnostics d2;
    auto forced = ApplyImportPolicy(vm, virtio, &d2);
    REQUIRE_OK(forced);
    CHECK(forced->spec.nics[0].model == NicModel::kVirtio);
    CHECK(d2.Has("policy.nic-model-changed") == (c.in != NicModel::kVirtio));
  }
}

TEST_CASE("policy: networks: exact mapping, '*', default, none, unused") {
  VmSpec vm = Machine(ControllerKind::kSata, ControllerModel::kAhci);
  Nic second = vm.nics[0];
  second.id = "n1";
  second.network = "Backup";
  Nic third = vm.nics[0];
  third.id = "";
  third.network = "Other";
  vm.nics = {vm.nics[0], second, third};
  ImportPolicy p;
  p.networks = {*ParseNetworkMapping("VM Network=bridge:br0"),
                *ParseNetworkMapping("Backup=none"),
                *ParseNetworkMapping("Typo=isolated")};
  Diagnostics d;
  auto plan = ApplyImportPolicy(vm, p, &d);
  REQUIRE_OK(plan);
  REQUIRE(plan->nics.size() == 3);
  CHECK(plan->nics[0].kind == NicBinding::kBridge);
  CHECK(plan->nics[0].source == "br0");
  CHECK(plan->nics[1].kind == NicBinding::kNone);
  CHECK(plan->nics[2].kind == NicBinding::kNetwork);
  CHECK(plan->nics[2].source == "default");
  CHECK(plan->nics[2].nic_id == "nic2");  // ids are made where missing
  CHECK(d.Has("policy.nic-removed"));
  CHECK(d.Has("policy.network-mapping-unused"));

  p.networks.push_back(*ParseNetworkMapping("*=user"));
  auto star = ApplyImportPolicy(vm, p, nullptr);
  REQUIRE_OK(star);
  CHECK(star->nics[2].kind == NicBinding::kUser);
}

TEST_CASE("policy: virt type follows the choice, then the host") {
  VmSpec vm = Machine(ControllerKind::kSata, ControllerModel::kAhci);
  ImportPolicy p;
  CHECK(ApplyImportPolicy(vm, p, nullptr)->virt_type == VirtType::kKvm);
  p.kvm_available = false;
  Diagnostics d;
  CHECK(ApplyImportPolicy(vm, p, &d)->virt_type == VirtType::kQemu);
  CHECK(d.Has("policy.no-kvm"));
  p.virt_type = VirtType::kKvm;
  CHECK(ApplyImportPolicy(vm, p, nullptr)->virt_type == VirtType::kKvm);
}

TEST_CASE("policy: missing memory and vcpus get defaults, with warnings") {
  VmSpec vm = Machine(ControllerKind::kSata, ControllerModel::kAhci);
  vm.memory_bytes.reset();
  vm.vcpus = 0;
  vm.firmware = Firmware::kUnknown;
  Diagnostics d;
  auto plan = ApplyImportPolicy(vm, {}, &d);
  REQUIRE_OK(plan);
  CHECK(plan->spec.memory_bytes == (1ull << 30));
  CHECK(plan->spec.vcpus == 1u);
  CHECK(plan->spec.firmware == Firmware::kBios);
  CHECK(d.Has("policy.default-memory"));
  CHECK(d.Has("policy.default-vcpus"));
}

TEST_CASE("policy: secure boot is kept and forces q35") {
  VmSpec vm =
      Machine(ControllerKind::kIde, ControllerModel::kPiix4, Firmware::kEfi);
  vm.secure_boot = true;
  auto plan = ApplyImportPolicy(vm, {}, nullptr);
  REQUIRE_OK(plan);
  CHECK(plan->machine == "q35");
  CHECK(plan->spec.secure_boot);
}

}  // namespace
}  // namespace ova2virt
