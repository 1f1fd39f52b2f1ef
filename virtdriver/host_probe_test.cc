#include "virtdriver/host_probe.h"

#include <filesystem>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("host probe: kvm_pvm is told by its module in sysfs") {
  testing::TempDir sys;
  std::filesystem::create_directories(sys.Join("module/kvm"));
  CHECK_FALSE(KvmIsPvm(sys.path()));
  std::filesystem::create_directories(sys.Join("module/kvm_pvm"));
  CHECK(KvmIsPvm(sys.path()));
  CHECK_FALSE(KvmIsPvm(sys.Join("missing")));
}

TEST_CASE("host probe: this host's answer agrees with its sysfs") {
  CHECK(KvmIsPvm() == std::filesystem::exists("/sys/module/kvm_pvm"));
}

}  // namespace
}  // namespace ova2virt
