// libFuzzer entry point for the OVF reader: any bytes must give a model or
// an error, never a crash, a hang or unbounded memory. A model that parses
// is also written back, which must succeed or refuse cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ovf/ovf_reader.h"
#include "ovf/ovf_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ova2virt::Diagnostics diag;
  auto appliance = ova2virt::ParseOvfDescriptor(text, {}, &diag);
  if (appliance.ok()) {
    for (int major : {1, 2}) {
      auto xml = ova2virt::FormatOvfDescriptor(*appliance, {major}, nullptr);
      if (xml.ok()) {
        // What the writer wrote, the reader reads.
        auto back = ova2virt::ParseOvfDescriptor(*xml, {}, nullptr);
        if (!back.ok()) __builtin_trap();
      }
    }
  }
  return 0;
}
