#include "core/digest.h"

#include <openssl/evp.h>

#include <cstring>

#include "core/digest_internal.h"

namespace ova2virt {

std::string_view DigestName(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha1:
      return "SHA1";
    case DigestAlgorithm::kSha256:
      return "SHA256";
    case DigestAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA256";
}

std::optional<DigestAlgorithm> ParseDigestName(std::string_view name) {
  std::string upper;
  for (char c : name) {
    if (c == '-') continue;  // "SHA-256" appears in some hand-made files
    upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  }
  for (DigestAlgorithm a : kAllDigests) {
    if (upper == DigestName(a)) return a;
  }
  return std::nullopt;
}

size_t DigestSize(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha1:
      return 20;
    case DigestAlgorithm::kSha256:
      return 32;
    case DigestAlgorithm::kSha512:
      return 64;
  }
  return 32;
}

const evp_md_st* EvpMdFor(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::kSha1:
      return EVP_sha1();
    case DigestAlgorithm::kSha256:
      return EVP_sha256();
    case DigestAlgorithm::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

struct Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(DigestAlgorithm algorithm)
    : algorithm_(algorithm), impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr ||
      EVP_DigestInit_ex(impl_->ctx, EvpMdFor(algorithm), nullptr) != 1) {
    std::abort();  // out of memory or a broken OpenSSL: nothing to recover
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::span<const uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::vector<uint8_t> Hasher::Finish() {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &n);
  out.resize(n);
  return out;
}

std::string Hasher::FinishHex() { return ToHex(Finish()); }

MultiHasher::MultiHasher(std::span<const DigestAlgorithm> algorithms) {
  for (DigestAlgorithm a : algorithms) hashers_.emplace_back(a);
}

void MultiHasher::Update(std::span<const uint8_t> data) {
  for (Hasher& h : hashers_) h.Update(data);
}

std::vector<std::pair<DigestAlgorithm, std::string>> MultiHasher::FinishHex() {
  std::vector<std::pair<DigestAlgorithm, std::string>> out;
  for (Hasher& h : hashers_) out.emplace_back(h.algorithm(), h.FinishHex());
  return out;
}

std::string DigestHex(DigestAlgorithm algorithm,
                      std::span<const uint8_t> data) {
  Hasher h(algorithm);
  h.Update(data);
  return h.FinishHex();
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

std::optional<std::vector<uint8_t>> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Result<size_t> HashingSource::Read(std::span<uint8_t> out) {
  ASSIGN_OR_RETURN(size_t n, inner_.Read(out));
  hasher_.Update(out.first(n));
  return n;
}

Status HashingSink::Write(std::span<const uint8_t> data) {
  hasher_.Update(data);
  return inner_.Write(data);
}

}  // namespace ova2virt
