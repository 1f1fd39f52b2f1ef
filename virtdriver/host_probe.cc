#include "virtdriver/host_probe.h"

#include <filesystem>

namespace ova2virt {

bool KvmIsPvm(const std::string& sysfs) {
  std::error_code ec;
  return std::filesystem::exists(
      std::filesystem::path(sysfs) / "module" / "kvm_pvm", ec);
}

}  // namespace ova2virt
