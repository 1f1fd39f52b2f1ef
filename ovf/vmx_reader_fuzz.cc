// libFuzzer entry point for the VMX reader: any bytes must give a model or
// an error, never a crash or a hang; a model's strings are UTF-8, whatever
// the file's `.encoding` (and its |XX escapes) said.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/utf8.h"
#include "ovf/vmx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ova2virt::Diagnostics diag;
  auto appliance = ova2virt::ParseVmx(text, &diag);
  if (appliance.ok()) {
    for (const auto& vm : appliance->systems) {
      if (!ova2virt::CheckUtf8(vm.name).ok()) __builtin_trap();
      for (const auto& [key, value] : vm.extra_config) {
        if (!ova2virt::CheckUtf8(key).ok()) __builtin_trap();
        if (!ova2virt::CheckUtf8(value).ok()) __builtin_trap();
      }
    }
  }
  return 0;
}
