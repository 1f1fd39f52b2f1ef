// Internal to ova/: what an input is, decided from its first bytes (and,
// for descriptors, its name), never from the name alone: a ".ova" may be a
// gzip-compressed tar, or a PNG.
#ifndef OVA2VIRT_OVA_INPUT_SNIFFER_H_
#define OVA2VIRT_OVA_INPUT_SNIFFER_H_

#include <memory>
#include <string>

#include "core/byte_stream.h"
#include "core/file.h"
#include "core/status.h"
#include "ova/package_reader.h"
#include "ova/package_source.h"

namespace ova2virt {

enum class InputFormat { kTar, kGzipTar, kOvf, kVmx };

// Classifies a seekable file. kCorrupt "empty file", "not a tar archive"
// (a .ova), "not an OVA, OVF or VMX file"; kUnsupported for xz, bzip2 and
// zstd compression and zip archives.
Result<InputFormat> SniffFile(RandomAccessSource& file,
                              const std::string& path);

// A pipe: reads its first block to classify it (only tars come through a
// pipe) and opens the tar source over the whole stream.
Result<std::unique_ptr<PackageSource>> OpenSniffedStream(File file);

struct DirectoryDescriptor {
  std::string name;  // file name within the directory
  InputKind kind;    // kOvfDirectory or kVmx
};

// The one .ovf in `dir` (else the one .vmx). kCorrupt when there is none,
// kUsage when there are several.
Result<DirectoryDescriptor> FindDescriptorInDirectory(const std::string& dir);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_INPUT_SNIFFER_H_
