// libFuzzer entry point: manifest and certificate-file parsing, and
// member-name and href validation, on arbitrary bytes. Build with
// -DOVA2VIRT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/utf8.h"
#include "ova/certificate_file.h"
#include "ova/manifest.h"
#include "ova/member_name.h"
#include "ova/references.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto manifest = ova2virt::ParseManifest(text);
  if (manifest.ok()) {
    for (const auto& e : manifest->entries) {
      // Every name a manifest yields is a safe member name.
      if (!ova2virt::ValidateMemberName(e.name).ok()) __builtin_trap();
      // ... and UTF-8.
      if (!ova2virt::CheckUtf8(e.name).ok()) __builtin_trap();
    }
  }
  (void)ova2virt::ParseCertificateFile(text);
  (void)ova2virt::ValidateMemberName(text);
  auto href = ova2virt::ValidateHref(text);
  if (href.ok() && !ova2virt::ValidateMemberName(*href).ok()) __builtin_trap();
  (void)ova2virt::ReadFileReferences(text);
  return 0;
}
