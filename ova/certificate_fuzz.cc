// libFuzzer entry point for the certificate member (`.cert`): the signature
// line, the PEM blocks and OpenSSL's X.509 decoder behind them, and what an
// import does with a parsed file (describe the signer, check the signature
// over a manifest, build the chain). Any bytes must give a result or an
// error, never a crash, a hang or unbounded memory.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/crypto.h"
#include "ova/certificate_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cert = ova2virt::ParseCertificateFile(text);
  if (!cert.ok()) return 0;
  // A file that parses names a manifest and holds at least one certificate.
  if (cert->certificates.empty() || cert->signature.empty()) __builtin_trap();
  for (const auto& c : cert->certificates) {
    const auto& info = c.info();
    (void)c.ValidAt(info.not_before);
    (void)ova2virt::FormatUtcTime(info.not_after);
  }
  // The signature over some "manifest" bytes (the input itself): it must
  // not verify by accident, but what matters here is that it returns.
  (void)ova2virt::VerifySignature(cert->certificates.front(), cert->algorithm,
                                  std::span<const uint8_t>(data, size),
                                  cert->signature);
  // The chain, with the file's own certificates as the anchors (what
  // `verify --ca` does when the user passes the package's own .cert).
  std::span<const ova2virt::Certificate> rest(cert->certificates);
  (void)ova2virt::VerifyCertificateChain(cert->certificates.front(),
                                         rest.subspan(1), text);
  return 0;
}
