// X.509 certificates and signatures for signed packages (the `.cert` member
// of an OVA), over OpenSSL. Nothing outside core/crypto.cc sees OpenSSL.
//
// A package signature is a raw signature (RSA PKCS#1 v1.5, or ECDSA) over the
// manifest's bytes, made with the private key of the first certificate that
// follows it. These functions check the signature, describe the certificate,
// and, given trust anchors, verify its chain.
#ifndef OVA2VIRT_CORE_CRYPTO_H_
#define OVA2VIRT_CORE_CRYPTO_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace ova2virt {

// What a certificate says about itself. Names are RFC 2253 strings
// ("CN=beispiel.example.org,O=Beispiel GmbH,C=DE") with control characters
// escaped; times are seconds since the epoch (UTC).
struct CertificateInfo {
  std::string subject;
  std::string issuer;
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string serial;              // lower-case hex
  std::string sha256_fingerprint;  // lower-case hex of the DER encoding
  std::string key;                 // "RSA 2048", "EC 256", ...
  // Issuer equals subject and the certificate's signature verifies with its
  // own key.
  bool self_signed = false;
};

// One parsed X.509 certificate. Cheap to copy (shared, immutable).
class Certificate {
 public:
  // Parses every "-----BEGIN CERTIFICATE-----" block in `pem`, in order.
  // kCorrupt if a block does not parse or there is none.
  static Result<std::vector<Certificate>> ParseAllPem(std::string_view pem);
  // The first certificate in `pem`.
  static Result<Certificate> ParsePem(std::string_view pem);

  const CertificateInfo& info() const;
  // True when `when` (seconds since the epoch) lies in [not_before, not_after].
  bool ValidAt(int64_t when) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Certificate(std::shared_ptr<const Impl> impl)
      : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Checks `signature` over `data` with the certificate's public key, hashing
// with `algorithm` (RSA keys use PKCS#1 v1.5 padding). Returns kCorrupt
// "signature does not match" when it does not verify, kUnsupported for a key
// type OpenSSL cannot verify with.
Status VerifySignature(const Certificate& signer, DigestAlgorithm algorithm,
                       std::span<const uint8_t> data,
                       std::span<const uint8_t> signature);

// Verifies that `leaf` chains to one of the certificates in `trusted_pem`
// (the trust anchors; an intermediate given there is accepted as an anchor),
// using `intermediates` as untrusted helpers. Validity dates are not checked
// here (a package is usually imported long after it was signed; callers
// report expiry separately). kCorrupt with OpenSSL's reason when the chain
// does not verify; kCorrupt if `trusted_pem` holds no certificate.
Status VerifyCertificateChain(const Certificate& leaf,
                              std::span<const Certificate> intermediates,
                              std::string_view trusted_pem);

// Signs `data` with the PEM private key (RSA: PKCS#1 v1.5), hashing with
// `algorithm`. kUsage if the key does not parse (a key that needs a
// passphrase is refused).
Result<std::vector<uint8_t>> SignData(std::string_view private_key_pem,
                                      DigestAlgorithm algorithm,
                                      std::span<const uint8_t> data);

// True when the private key in `private_key_pem` belongs to `certificate`.
Result<bool> KeyMatchesCertificate(std::string_view private_key_pem,
                                   const Certificate& certificate);

// "2016-02-01T01:45:27Z".
std::string FormatUtcTime(int64_t seconds_since_epoch);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_CRYPTO_H_
