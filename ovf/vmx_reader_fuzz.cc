// libFuzzer entry point for the VMX reader: any bytes must give a model or
// an error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ovf/vmx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ova2virt::Diagnostics diag;
  auto appliance = ova2virt::ParseVmx(text, &diag);
  (void)appliance;
  return 0;
}
