#include "core/crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <time.h>

#include <ctime>
#include <memory>

#include "core/digest_internal.h"

namespace ova2virt {
namespace {

// A package carries one signer and perhaps a few intermediates; more than
// this is not a certificate file but an attack on our memory.
constexpr size_t kMaxCertificates = 32;
constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kEnd = "-----END CERTIFICATE-----";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The reason OpenSSL left in its error queue, which is then emptied so that
// a later, unrelated call does not report it.
std::string TakeOpenSslError() {
  unsigned long e = ERR_get_error();
  std::string out;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    // "error:0480006C:PEM routines::no start line" -> the last part.
    std::string_view s(buf);
    size_t colon = s.rfind(':');
    out =
        std::string(colon == std::string_view::npos ? s : s.substr(colon + 1));
  }
  ERR_clear_error();
  return out.empty() ? "unknown openssl error" : out;
}

std::string NameString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  // RFC 2253, but keep UTF-8 as UTF-8 instead of \XX escapes.
  X509_NAME_print_ex(bio.get(), name, 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  std::string out;
  for (long i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    // A hostile subject must not forge lines in our output.
    if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int64_t AsnTimeToEpoch(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string KeyDescription(EVP_PKEY* key) {
  if (key == nullptr) return "unknown";
  std::string type;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      type = "RSA";
      break;
    case EVP_PKEY_EC:
      type = "EC";
      break;
    case EVP_PKEY_ED25519:
      type = "ED25519";
      break;
    case EVP_PKEY_DSA:
      type = "DSA";
      break;
    default:
      type = "key type " + std::to_string(EVP_PKEY_get_base_id(key));
  }
  return type + " " + std::to_string(EVP_PKEY_get_bits(key));
}

PkeyPtr ReadPrivateKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  // A passphrase callback that supplies none: encrypted keys fail cleanly
  // instead of prompting on the terminal.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  return PkeyPtr(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
}

}  // namespace

struct Certificate::Impl {
  X509Ptr x509;
  CertificateInfo info;
};

Result<std::vector<Certificate>> Certificate::ParseAllPem(
    std::string_view pem) {
  if (pem.size() > (uint64_t{1} << 31)) {
    return CorruptError("certificate text too large");
  }
  std::vector<Certificate> out;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = pem.find(kEnd, pos);
    if (end == std::string_view::npos) {
      return CorruptError("certificate " + std::to_string(out.size() + 1) +
                          ": no end line");
    }
    if (out.size() == kMaxCertificates) {
      return CorruptError("more than " + std::to_string(kMaxCertificates) +
                          " certificates");
    }
    std::string_view block = pem.substr(pos, end + kEnd.size() - pos);
    BioPtr bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    X509Ptr x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                  : nullptr);
    if (!x) {
      return CorruptError("certificate " + std::to_string(out.size() + 1) +
                          " does not parse: " + TakeOpenSslError());
    }
    auto impl = std::make_shared<Impl>();
    CertificateInfo& info = impl->info;
    info.subject = NameString(X509_get_subject_name(x.get()));
    info.issuer = NameString(X509_get_issuer_name(x.get()));
    info.not_before = AsnTimeToEpoch(X509_get0_notBefore(x.get()));
    info.not_after = AsnTimeToEpoch(X509_get0_notAfter(x.get()));
    if (BIGNUM* bn =
            ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr)) {
      if (char* hex = BN_bn2hex(bn)) {
        for (char* p = hex; *p; ++p) {
          info.serial +=
              static_cast<char>(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        }
        OPENSSL_free(hex);
      }
      BN_free(bn);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (X509_digest(x.get(), EVP_sha256(), md, &md_len) == 1) {
      info.sha256_fingerprint = ToHex({md, md_len});
    }
    info.key = KeyDescription(X509_get0_pubkey(x.get()));
    // Checks both the names and the signature with the certificate's own key.
    info.self_signed = X509_self_signed(x.get(), 1) == 1;
    ERR_clear_error();
    impl->x509 = std::move(x);
    out.push_back(Certificate(std::move(impl)));
    pos = end + kEnd.size();
  }
  if (out.empty()) return CorruptError("no certificate found");
  return out;
}

Result<Certificate> Certificate::ParsePem(std::string_view pem) {
  ASSIGN_OR_RETURN(std::vector<Certificate> all, ParseAllPem(pem));
  return all.front();
}

const CertificateInfo& Certificate::info() const { return impl_->info; }

bool Certificate::ValidAt(int64_t when) const {
  return when >= impl_->info.not_before && when <= impl_->info.not_after;
}

Status VerifySignature(const Certificate& signer, DigestAlgorithm algorithm,
                       std::span<const uint8_t> data,
                       std::span<const uint8_t> signature) {
  EVP_PKEY* key = X509_get0_pubkey(signer.impl().x509.get());
  if (key == nullptr) {
    return UnsupportedError(
        "certificate has a public key openssl cannot use: " +
        TakeOpenSslError());
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EvpMdFor(algorithm),
                                   nullptr, key) != 1) {
    return UnsupportedError("cannot verify with a " + signer.info().key +
                            " key: " + TakeOpenSslError());
  }
  int r = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                           data.data(), data.size());
  ERR_clear_error();
  if (r != 1) return CorruptError("signature does not match");
  return OkStatus();
}

Status VerifyCertificateChain(const Certificate& leaf,
                              std::span<const Certificate> intermediates,
                              std::string_view trusted_pem) {
  ASSIGN_OR_RETURN(std::vector<Certificate> anchors,
                   Certificate::ParseAllPem(trusted_pem));
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return FailedError("out of memory");
  for (const Certificate& c : anchors) {
    // Adding the same certificate twice is harmless; other failures are not.
    if (X509_STORE_add_cert(store.get(), c.impl().x509.get()) != 1) {
      ERR_clear_error();
    }
  }
  for (const Certificate& c : intermediates) {
    sk_X509_push(untrusted.get(), c.impl().x509.get());  // borrowed
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.impl().x509.get(),
                          untrusted.get()) != 1) {
    return FailedError("certificate store: " + TakeOpenSslError());
  }
  // Expiry is reported by the caller; an anchor the user gave may be an
  // intermediate (PARTIAL_CHAIN).
  X509_STORE_CTX_set_flags(
      ctx.get(), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
  int r = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (r != 1) {
    return CorruptError(std::string("certificate chain does not verify: ") +
                        X509_verify_cert_error_string(err));
  }
  return OkStatus();
}

Result<std::vector<uint8_t>> SignData(std::string_view private_key_pem,
                                      DigestAlgorithm algorithm,
                                      std::span<const uint8_t> data) {
  PkeyPtr key = ReadPrivateKey(private_key_pem);
  if (!key) {
    return UsageError("private key does not parse (or needs a passphrase): " +
                      TakeOpenSslError());
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EvpMdFor(algorithm), nullptr,
                         key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
    return FailedError("cannot sign: " + TakeOpenSslError());
  }
  std::vector<uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) !=
      1) {
    return FailedError("cannot sign: " + TakeOpenSslError());
  }
  sig.resize(len);
  return sig;
}

Result<bool> KeyMatchesCertificate(std::string_view private_key_pem,
                                   const Certificate& certificate) {
  PkeyPtr key = ReadPrivateKey(private_key_pem);
  if (!key) {
    return UsageError("private key does not parse (or needs a passphrase): " +
                      TakeOpenSslError());
  }
  bool match =
      X509_check_private_key(certificate.impl().x509.get(), key.get()) == 1;
  ERR_clear_error();
  return match;
}

std::string FormatUtcTime(int64_t seconds_since_epoch) {
  time_t t = static_cast<time_t>(seconds_since_epoch);
  struct tm tm = {};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace ova2virt
