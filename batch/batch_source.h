// The identity of a package, cheap enough to decide whether to skip a
// multi-GiB import without reading its disks.
//
// A verified manifest pins every file it lists, and the descriptor names
// every file that matters; so a package whose descriptor and manifest are
// unchanged, and whose manifest lists every file the descriptor references,
// is the same package -- wherever it was copied, whatever its mtime. Those
// two members are small and sit in the tar headers' reach: on a seekable tar
// the reader skips from header to header, reading no disk data.
//
// Without such a manifest (none, one that leaves a referenced file out, one
// that sits behind the disks of a compressed tar, or verification turned
// off) nothing pins the disks, so the identity also covers the size and
// modification time (in nanoseconds) of the package file -- or of every
// file, for an .ovf or .vmx with its files beside it.
#ifndef OVA2VIRT_PIPELINE_BATCH_SOURCE_H_
#define OVA2VIRT_PIPELINE_BATCH_SOURCE_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace ova2virt {

struct SourceIdentity {
  // Hex SHA-256 over what identifies the package (see above): two sources
  // are the same exactly when their digests are equal.
  std::string digest;
  std::string descriptor_sha256;
  std::string manifest_sha256;  // empty: no manifest, or one that pins less
  bool pinned_by_manifest = false;
  uint64_t size = 0;     // bytes of the package file (all files, unpacked)
  int64_t mtime_ns = 0;  // the newest modification time among them
};

// Identifies `input` (a path: an .ova, .ova.gz, .ovf, a directory holding
// one, or a .vmx). `trust_manifest` false (an import with verification
// off) leaves the manifest out, so size and mtime always count. Fails like
// the package reader for what cannot be read (kNotFound, kCorrupt...);
// kUsage for "-" (a batch cannot re-read stdin).
Result<SourceIdentity> IdentifySource(const std::string& input,
                                      bool trust_manifest);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_BATCH_SOURCE_H_
