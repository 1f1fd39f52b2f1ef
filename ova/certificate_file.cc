#include "ova/certificate_file.h"

#include "core/utf8.h"
#include "ova/manifest.h"

namespace ova2virt {
namespace {

// An 8192-bit RSA signature is 1024 bytes; nothing real is longer.
constexpr size_t kMaxSignatureHex = 4096;

}  // namespace

Result<CertificateFile> ParseCertificateFile(std::string_view text) {
  // A text file: the signature line names the manifest (UTF-8), the PEM
  // blocks are ASCII. Checked with any byte order mark (columns count from
  // the file's first byte), which then goes.
  RETURN_IF_ERROR(CheckUtf8(text));
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  // The signature line is the first line that is not blank.
  std::string_view line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r\f\v") != std::string_view::npos) break;
    line = {};
  }
  if (line.empty()) return CorruptError("no signature line");
  if (line.find("-----BEGIN") != std::string_view::npos) {
    return CorruptError("no signature line before the certificate");
  }
  std::string_view algo_name, name, hex;
  if (!SplitDigestLine(line, &algo_name, &name, &hex)) {
    return CorruptError("signature line is not 'ALGO(manifest)= signature'");
  }
  CertificateFile out;
  auto algorithm = ParseDigestName(algo_name);
  if (!algorithm) {
    return UnsupportedError("signature digest " + Quote(algo_name) +
                            " is not supported (SHA1, SHA256, SHA512 are)");
  }
  out.algorithm = *algorithm;
  out.signed_name = std::string(name);
  if (hex.empty() || hex.size() > kMaxSignatureHex) {
    return CorruptError("signature of " + std::to_string(hex.size()) +
                        " hex digits");
  }
  auto signature = FromHex(hex);
  if (!signature) return CorruptError("signature is not hexadecimal");
  out.signature = std::move(*signature);
  auto certs = Certificate::ParseAllPem(
      text.substr(pos < text.size() ? pos : text.size()));
  if (!certs.ok()) {
    if (certs.status().message() == "no certificate found") {
      return CorruptError("no certificate after the signature line");
    }
    return certs.status();
  }
  out.certificates = std::move(*certs);
  return out;
}

std::string FormatCertificateFile(DigestAlgorithm algorithm,
                                  std::string_view manifest_name,
                                  std::span<const uint8_t> signature,
                                  std::string_view certificate_pem) {
  std::string out =
      FormatManifestLine(algorithm, manifest_name, ToHex(signature));
  out += certificate_pem;
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

}  // namespace ova2virt
