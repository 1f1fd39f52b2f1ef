// The certificate member (`.cert`) of a signed package:
//
//   SHA256(appliance.mf)= 5be8...      (signature over the manifest's bytes)
//   -----BEGIN CERTIFICATE-----        (the signer)
//   ...
//   -----END CERTIFICATE-----
//   (optionally intermediate certificates, then padding)
//
// as written by ovftool and VirtualBox.
#ifndef OVA2VIRT_OVA_CERTIFICATE_FILE_H_
#define OVA2VIRT_OVA_CERTIFICATE_FILE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/digest.h"
#include "core/status.h"

namespace ova2virt {

struct CertificateFile {
  DigestAlgorithm algorithm = DigestAlgorithm::kSha256;
  std::string signed_name;  // the file the signature line names
  std::vector<uint8_t> signature;
  std::vector<Certificate> certificates;  // the signer first
};

// Parses a `.cert` text. kCorrupt for a missing or malformed signature line
// ("signature line: ..."), a signature that is not hexadecimal, or no (or a
// malformed) certificate, or text that is not UTF-8 ("line L, column C:
// invalid UTF-8: ..."); kUnsupported for a digest other than SHA1, SHA256
// and SHA512.
Result<CertificateFile> ParseCertificateFile(std::string_view text);

// The `.cert` text ovftool writes: the signature line, then the PEM text.
std::string FormatCertificateFile(DigestAlgorithm algorithm,
                                  std::string_view manifest_name,
                                  std::span<const uint8_t> signature,
                                  std::string_view certificate_pem);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_CERTIFICATE_FILE_H_
