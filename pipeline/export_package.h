// Where an export's files go: an OVA (a deterministic tar in which the
// descriptor, manifest and certificate come first, reserved and filled in
// place at the end) or a new directory of the same files. Either way the
// output is built under a temporary name beside its final one and renamed
// only by Commit(); destroyed uncommitted, it removes what it wrote.
#ifndef OVA2VIRT_PIPELINE_EXPORT_PACKAGE_H_
#define OVA2VIRT_PIPELINE_EXPORT_PACKAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"
#include "core/digest.h"
#include "core/status.h"
#include "pipeline/export.h"

namespace ova2virt {

struct PackageLayout {
  std::string descriptor, manifest, certificate;  // certificate: "" unsigned
  // Upper bounds for an OVA's first members (a directory ignores them):
  // the descriptor and certificate are padded with white space to theirs;
  // the manifest must be exactly its size.
  uint64_t descriptor_size = 0, manifest_size = 0, certificate_size = 0;
  DigestAlgorithm digest = DigestAlgorithm::kSha256;
};

class ExportPackage {
 public:
  virtual ~ExportPackage() = default;

  // An OVA at `path` (kExists if it is there), its first members reserved.
  static Result<std::unique_ptr<ExportPackage>> CreateOva(
      const std::string& path, const PackageLayout& layout);
  // A new directory `path` (kExists if it is there).
  static Result<std::unique_ptr<ExportPackage>> CreateDirectory(
      const std::string& path, const PackageLayout& layout);

  // A file whose bytes follow through the returned sink, valid until
  // EndFile(). `size_limit`: the most it can grow to.
  virtual Result<ByteSink*> BeginFile(const std::string& name,
                                      uint64_t size_limit) = 0;
  virtual Result<ExportedFile> EndFile() = 0;

  // The descriptor (padded in an OVA), the manifest and the certificate.
  // kFailed when a text exceeds what was reserved for it (a bug).
  virtual Result<ExportedFile> PutDescriptor(std::string_view text) = 0;
  virtual Status PutManifest(std::string_view text) = 0;
  virtual Status PutCertificate(std::string_view text) = 0;

  // Makes the output durable and gives it its name.
  virtual Status Commit() = 0;

  // Every file in package order, and the bytes written.
  virtual std::vector<ExportedFile> Files() const = 0;
  virtual uint64_t Bytes() const = 0;
};

// `text` followed by spaces and a final newline up to `size` bytes.
// nullopt when it is longer.
std::optional<std::string> PadWithBlanks(std::string_view text, uint64_t size);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_EXPORT_PACKAGE_H_
