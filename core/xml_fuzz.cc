// Fuzzes the XML tree builder that every descriptor and domain XML goes
// through: no input may crash it, hang it or make it allocate without bound,
// and every string in a tree it builds is valid UTF-8 (whatever encoding
// the input was in). The same bytes also go through CheckUtf8 and, as a
// referee, glibc's UTF-8 decoder (iconv to UTF-32): the two must agree.
#include <iconv.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/utf8.h"
#include "core/xml.h"

namespace {

void MustBeUtf8(std::string_view s) {
  if (!ova2virt::CheckUtf8(s).ok()) __builtin_trap();
}

// True when glibc's decoder takes `text` as UTF-8.
bool GlibcSaysUtf8(std::string_view text) {
  iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) __builtin_trap();
  std::vector<char> out(text.size() * 4 + 4);
  char* in = const_cast<char*>(text.data());
  size_t in_left = text.size();
  char* dst = out.data();
  size_t out_left = out.size();
  size_t r = iconv(cd, &in, &in_left, &dst, &out_left);
  iconv_close(cd);
  return r != static_cast<size_t>(-1) && in_left == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 4096 && ova2virt::CheckUtf8(text).ok() != GlibcSaysUtf8(text)) {
    __builtin_trap();
  }
  ova2virt::XmlLimits limits;
  limits.max_bytes = 1 << 20;
  auto r = ova2virt::ParseXml(text, limits);
  if (r.ok()) {
    // Walk what was built, as readers do; every string is UTF-8.
    std::vector<const ova2virt::XmlElement*> stack = {&*r};
    while (!stack.empty()) {
      const ova2virt::XmlElement* e = stack.back();
      stack.pop_back();
      MustBeUtf8(e->qname);
      MustBeUtf8(e->ns);
      MustBeUtf8(e->text);
      for (const auto& a : e->attributes) {
        MustBeUtf8(a.qname);
        MustBeUtf8(a.ns);
        MustBeUtf8(a.value);
      }
      for (const auto& c : e->children) stack.push_back(&c);
    }
  }
  return 0;
}
