// Internal to ova/: where a PackageReader's members come from. A tar
// (seekable file or pipe) or files on disk beside a descriptor; the reader
// applies the same rules to both.
#ifndef OVA2VIRT_OVA_PACKAGE_SOURCE_H_
#define OVA2VIRT_OVA_PACKAGE_SOURCE_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_stream.h"
#include "core/diagnostics.h"
#include "core/file.h"
#include "core/status.h"
#include "ova/package_reader.h"
#include "ova/tar_stream.h"

namespace ova2virt {

// One entry as the source found it, before any judgement.
struct SourceEntry {
  std::string name;  // raw
  TarEntryType type = TarEntryType::kFile;
  std::string link_target;
  int64_t size = 0;
  uint64_t header_offset = 0;
  uint64_t data_offset = 0;
  bool sparse = false;
};

class PackageSource {
 public:
  virtual ~PackageSource() = default;
  virtual InputKind kind() const = 0;
  virtual bool streamed() const = 0;
  // "member" for a tar, "file" for files on disk: for messages.
  virtual std::string_view noun() const = 0;

  // The files (validated member names) the reader wants next; sources of
  // files on disk ask when they have yielded descriptor, manifest and
  // certificate.
  using WantedFiles = std::function<std::vector<std::string>()>;
  // The next entry; nullopt at the end.
  virtual Result<std::optional<SourceEntry>> Next(
      const WantedFiles& wanted) = 0;
  virtual Result<std::span<const uint8_t>> ReadBlock() = 0;
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
  virtual Status Skip() = 0;
  virtual RandomAccessSource* InPlace() = 0;
  // Bytes consumed so far of the (uncompressed) tar stream; 0 for files.
  virtual uint64_t position() const = 0;
  // The input's size when every entry must lie within it (a seekable,
  // uncompressed tar), for early bounds checks.
  virtual std::optional<uint64_t> bound() const = 0;
  // A seekable, uncompressed tar: the name and bytes of the first manifest
  // member, found by skipping from header to header.
  struct ManifestAhead {
    enum class Outcome {
      kFound,    // name and text hold the manifest
      kNone,     // the whole archive was scanned: there is no manifest
      kUnknown,  // the input cannot be scanned, or the scan failed
    };
    Outcome outcome = Outcome::kUnknown;
    std::string name;
    std::string text;
  };
  virtual ManifestAhead ReadManifestAhead(size_t cap) {
    (void)cap;
    return {};
  }
  // Called once after the last entry: how the input ended.
  virtual void CheckEnd(Diagnostics& warnings) { (void)warnings; }
  // Oddities met since the last call (libarchive's header warnings).
  virtual std::vector<std::string> TakeWarnings() { return {}; }
};

// A tar in a seekable file (gzip-compressed or not).
Result<std::unique_ptr<PackageSource>> OpenTarFile(
    std::unique_ptr<FileRandomAccess> file, bool gzip);
// A tar from a pipe; `stream` yields the whole input.
Result<std::unique_ptr<PackageSource>> OpenTarPipe(
    std::unique_ptr<ByteSource> stream, bool gzip);
// Files on disk: `descriptor` (a file name) in the directory `dir`.
Result<std::unique_ptr<PackageSource>> OpenFilesOnDisk(
    const std::string& dir, const std::string& descriptor, InputKind kind);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_PACKAGE_SOURCE_H_
