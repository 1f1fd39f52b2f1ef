// Opening a disk image of any supported format: probe, then the reader.
#ifndef OVA2VIRT_CONVERT_DISK_OPEN_H_
#define OVA2VIRT_CONVERT_DISK_OPEN_H_

#include <memory>
#include <span>
#include <string>

#include "convert/disk_reader.h"
#include "convert/vmdk_extents_reader.h"
#include "core/byte_stream.h"

namespace ova2virt {

// Where a disk's bytes come from. The caller keeps `stream` and `random`
// alive for as long as the reader lives.
struct DiskSource {
  std::string name;                      // for messages ("disk1.vmdk", a path)
  ByteSource* stream = nullptr;          // sequential bytes (pipe, tar stream)
  RandomAccessSource* random = nullptr;  // in-place access when available
  // Opens another file a VMDK descriptor names (extents), relative to this
  // one. The reader checks names with CheckExtentName() before calling; the
  // callback's owner must check again where it joins them to a path: a
  // descriptor is never allowed to reach out.
  OpenExtentFn open_extent;
};

struct OpenOptions {
  // "" probes the format from the first bytes; "vmdk" or "qcow2" insist on
  // that format; "raw" reads the bytes as they are (raw is never probed: a
  // raw image may start with anything).
  std::string format;
  // The input's size when the caller knows it but `random` is absent (a tar
  // member's size): progress for streams, and the capacity of a raw stream.
  uint64_t input_size = 0;
  // With both `stream` and `random` given, read what can be read front to
  // back (streamOptimized VMDK, raw with input_size) from `stream`: the
  // import reads a package member through a hashing stream once, rather
  // than in place and then again for its digest.
  bool prefer_stream = false;
};

// What the first bytes of an image say it is.
enum class ProbedFormat { kUnknown, kVmdkSparse, kVmdkDescriptor, kQcow2 };

// Probes up to the first 512 bytes. Formats we recognise but do not read
// (VHD, VHDX, VDI, vmfsSparse/COWD, seSparse, gzip) are kUnsupported naming
// the format.
Result<ProbedFormat> ProbeDiskFormat(std::span<const uint8_t> head);

// Probes the format and returns a reader for it. Sequential-only sources
// work for streamOptimized VMDK, for monolithicSparse whose tables precede
// its grains, and for raw with options.input_size; qcow2 and descriptor
// files with extents need `random` (and `open_extent`). Errors name the
// source: "disk1.vmdk: grain marker at byte 1048576: ...".
Result<std::unique_ptr<DiskReader>> OpenDiskReader(const DiskSource& source,
                                                   const OpenOptions& options);

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_DISK_OPEN_H_
