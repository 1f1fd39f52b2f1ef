// libFuzzer entry point: domain XML from anyone must parse to a VmSpec or
// fail with a Status; what parses and formats must reach a fixed point
// (formatting what we parsed from our own output gives the same XML).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "virtdriver/domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  ova2virt::Diagnostics diags;
  auto parsed = ova2virt::ParseDomain(xml, &diags);
  if (!parsed.ok()) return 0;
  auto once = ova2virt::FormatDomainXml(parsed->spec, parsed->options, &diags);
  if (!once.ok()) return 0;
  auto again = ova2virt::ParseDomain(*once, &diags);
  if (!again.ok()) __builtin_trap();
  auto twice = ova2virt::FormatDomainXml(again->spec, again->options, &diags);
  if (!twice.ok() || *twice != *once) __builtin_trap();
  return 0;
}
