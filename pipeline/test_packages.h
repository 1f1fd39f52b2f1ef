// TestPackage: a small OVA built in code for the import tests through
// FakeConnection (import_test.cc, import_plan_test.cc). Header-only test
// support: no library code depends on it.
#ifndef OVA2VIRT_PIPELINE_TEST_PACKAGES_H_
#define OVA2VIRT_PIPELINE_TEST_PACKAGES_H_

#include <string>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "ova/manifest.h"
#include "ovf/ovf_writer.h"
#include "pipeline/test_machines.h"
#include "tests/support/tar_builder.h"
#include "tests/support/test_util.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt::testing {

// A small appliance: one system "fakevm", a SCSI controller, two 1 MiB
// streamOptimized disks (or `disk_count` of `disk_bytes`), a NIC on
// network "default".
struct TestPackage {
  enum class Order { kDescriptorFirst, kDescriptorLast };
  Order order = Order::kDescriptorFirst;
  bool wrong_digest2 = false;  // the manifest's digest of disk 2 is wrong
  int disk_count = 2;          // at most 15: one SCSI controller
  uint64_t disk_bytes = 1 << 20;

  // The descriptor, the manifest and the disks (member name, bytes).
  struct Parts {
    std::string ovf, mf;
    std::vector<std::pair<std::string, std::string>> disks;
  };
  Parts Build() const {
    using test_machines::Ctl;
    using test_machines::HardDisk;
    Parts parts;
    auto& disks = parts.disks;
    VmSpec vm;
    vm.id = vm.name = "fakevm";
    vm.vcpus = 1;
    vm.memory_bytes = 256ull << 20;
    vm.firmware = Firmware::kBios;
    vm.controllers = {Ctl("1", ControllerKind::kScsi,
                          ControllerModel::kLsiLogic, 0, "lsilogic")};
    for (int i = 1; i <= disk_count; ++i) {
      std::string bytes = VmdkBuilder(VmdkBuilder::Layout::kVmwareStream,
                                      RealisticDiskImage(disk_bytes, i))
                              .Build();
      Disk d = HardDisk("disk" + std::to_string(i), "1", i - 1, 0);
      d.capacity = disk_bytes;
      d.source.href = "fakevm-disk" + std::to_string(i) + ".vmdk";
      d.source.size = bytes.size();
      vm.disks.push_back(d);
      disks.emplace_back(d.source.href, std::move(bytes));
    }
    vm.nics = {test_machines::MakeNic("3", "default", NicModel::kE1000)};
    ApplianceSpec a;
    a.name = vm.name;
    a.networks = {{"default", "the network"}};
    a.systems = {vm};
    auto ovf = FormatOvfDescriptor(a, OvfWriteOptions{}, nullptr);
    REQUIRE_OK(ovf);
    std::string mf =
        FormatManifestLine(DigestAlgorithm::kSha256, "fakevm.ovf",
                           DigestHex(DigestAlgorithm::kSha256, AsBytes(*ovf)));
    for (const auto& [name, data] : disks) {
      std::string hashed = data;
      if (wrong_digest2 && &data == &disks[1].second) hashed += "x";
      mf += FormatManifestLine(
          DigestAlgorithm::kSha256, name,
          DigestHex(DigestAlgorithm::kSha256, AsBytes(hashed)));
    }
    parts.ovf = *ovf;
    parts.mf = mf;
    return parts;
  }

  // The package as `file` in `dir`; returns its path.
  std::string Write(const TempDir& dir, const std::string& file) const {
    Parts p = Build();
    TarBuilder tar;
    if (order == Order::kDescriptorFirst) {
      tar.File("fakevm.ovf", p.ovf).File("fakevm.mf", p.mf);
    }
    for (const auto& [name, data] : p.disks) tar.File(name, data);
    if (order == Order::kDescriptorLast) {
      tar.File("fakevm.ovf", p.ovf).File("fakevm.mf", p.mf);
    }
    std::string path = dir.Join(file);
    tar.WriteFile(path);
    return path;
  }
};

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_PIPELINE_TEST_PACKAGES_H_
