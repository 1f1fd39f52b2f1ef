// Message digests (SHA-1, SHA-256, SHA-512) for manifests, and the tees that
// hash bytes while they flow past.
#ifndef OVA2VIRT_CORE_DIGEST_H_
#define OVA2VIRT_CORE_DIGEST_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"

namespace ova2virt {

enum class DigestAlgorithm { kSha1, kSha256, kSha512 };
inline constexpr std::array<DigestAlgorithm, 3> kAllDigests = {
    DigestAlgorithm::kSha1, DigestAlgorithm::kSha256, DigestAlgorithm::kSha512};

// "SHA1", "SHA256", "SHA512": the spelling manifests use.
std::string_view DigestName(DigestAlgorithm algorithm);
// Parses a manifest's algorithm name, case-insensitively ("SHA256", "sha1").
std::optional<DigestAlgorithm> ParseDigestName(std::string_view name);
// Digest length in bytes (20, 32, 64).
size_t DigestSize(DigestAlgorithm algorithm);

// Incremental hashing of one algorithm.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  DigestAlgorithm algorithm() const { return algorithm_; }
  void Update(std::span<const uint8_t> data);
  // Finishes and returns the digest as lower-case hex. Call once.
  std::string FinishHex();
  std::vector<uint8_t> Finish();

 private:
  DigestAlgorithm algorithm_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hashes with several algorithms at once (a manifest that arrives after the
// disks may use any of them).
class MultiHasher {
 public:
  explicit MultiHasher(std::span<const DigestAlgorithm> algorithms);
  void Update(std::span<const uint8_t> data);
  // Finishes every algorithm; results in the order given to the constructor.
  std::vector<std::pair<DigestAlgorithm, std::string>> FinishHex();

 private:
  std::vector<Hasher> hashers_;
};

// One-shot digest, lower-case hex.
std::string DigestHex(DigestAlgorithm algorithm, std::span<const uint8_t> data);

// Lower-case hex of bytes, and its inverse (nullopt on odd length or non-hex).
std::string ToHex(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> FromHex(std::string_view hex);

// A ByteSource tee: every byte read through it is hashed.
class HashingSource : public ByteSource {
 public:
  HashingSource(ByteSource& inner, MultiHasher& hasher)
      : inner_(inner), hasher_(hasher) {}
  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  ByteSource& inner_;
  MultiHasher& hasher_;
};

// A ByteSink tee: every byte written through it is hashed, then passed on.
class HashingSink : public ByteSink {
 public:
  HashingSink(ByteSink& inner, Hasher& hasher)
      : inner_(inner), hasher_(hasher) {}
  Status Write(std::span<const uint8_t> data) override;
  Status Close() override { return inner_.Close(); }

 private:
  ByteSink& inner_;
  Hasher& hasher_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_DIGEST_H_
