// Fuzzes the XML tree builder that every descriptor and domain XML goes
// through: no input may crash it, hang it or make it allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ova2virt::XmlLimits limits;
  limits.max_bytes = 1 << 20;
  auto r = ova2virt::ParseXml(
      std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (r.ok()) {
    // Walk what was built, as readers do.
    size_t n = 0;
    std::vector<const ova2virt::XmlElement*> stack = {&*r};
    while (!stack.empty()) {
      const ova2virt::XmlElement* e = stack.back();
      stack.pop_back();
      n += e->attributes.size() + e->text.size();
      for (const auto& c : e->children) stack.push_back(&c);
    }
    (void)n;
  }
  return 0;
}
