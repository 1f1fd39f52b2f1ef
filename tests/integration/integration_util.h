// Shared by the integration tests: the environment run_integration.sh
// sets up, unique names, and small machines to boot.
#ifndef OVA2VIRT_TESTS_INTEGRATION_INTEGRATION_UTIL_H_
#define OVA2VIRT_TESTS_INTEGRATION_INTEGRATION_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/vmspec.h"
#include "tests/support/test_util.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt::testing {

// $OVA2VIRT_TEST_DIR: a scratch directory QEMU (libvirt-qemu) can reach.
inline std::string ScratchDir() {
  const char* d = getenv("OVA2VIRT_TEST_DIR");
  REQUIRE_MESSAGE(d != nullptr,
                  "run through tests/integration/run_integration.sh");
  return d;
}

// A name no other test run on this host uses (libvirt names cgroups and
// QEMU processes after domains).
inline std::string UniqueName(const std::string& what) {
  return "ova2virt-it-" + std::to_string(getpid()) + "-" + what;
}

// A machine with no disks: it sits in its firmware, which is all a
// define/start/destroy test needs.
inline VmSpec DisklessMachine(const std::string& name) {
  VmSpec vm;
  vm.name = name;
  vm.vcpus = 1;
  vm.memory_bytes = 128ull << 20;
  vm.firmware = Firmware::kBios;
  return vm;
}

// TCG (the /dev/kvm here cannot run OVMF), no display, serial to a file.
inline DomainOptions TestOptions(const std::string& serial_log) {
  DomainOptions o;
  o.virt_type = "qemu";
  o.machine = "q35";
  o.headless = true;
  o.serial_log_path = serial_log;
  return o;
}

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_TESTS_INTEGRATION_INTEGRATION_UTIL_H_
