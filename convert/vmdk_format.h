// The VMDK hosted sparse extent format, shared by the readers and the
// stream writer (VMware "Virtual Disk Format 5.0", sections "Hosted Sparse
// Extent Header" and "Stream-Optimized Compressed Sparse Extents").
//
// Every number is little-endian. Offsets and sizes are in 512-byte sectors.
// The caps below are ours: a header that exceeds them is refused before it
// can size an allocation, a loop or a seek (docs/disk-formats.md says why
// each value was chosen).
#ifndef OVA2VIRT_CONVERT_VMDK_FORMAT_H_
#define OVA2VIRT_CONVERT_VMDK_FORMAT_H_

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace ova2virt::vmdk {

inline constexpr uint64_t kSectorSize = 512;
inline constexpr uint32_t kSparseMagic = 0x564d444b;  // "KDMV" on disk
inline constexpr uint32_t kCowdMagic = 0x44574f43;    // "COWD": vmfsSparse
inline constexpr uint64_t kGdAtEnd = ~uint64_t{0};    // real value in footer

// Header flags.
inline constexpr uint32_t kFlagValidNewline = 1u << 0;
inline constexpr uint32_t kFlagRedundantGd = 1u << 1;
inline constexpr uint32_t kFlagZeroedGte = 1u << 2;
inline constexpr uint32_t kFlagCompressed = 1u << 16;
inline constexpr uint32_t kFlagMarkers = 1u << 17;
// Flags in the incompatible half (bits 16 and up) that we understand.
inline constexpr uint32_t kKnownIncompatibleFlags =
    kFlagCompressed | kFlagMarkers;

inline constexpr uint16_t kCompressionNone = 0;
inline constexpr uint16_t kCompressionDeflate = 1;

// Metadata marker types (a marker whose size field is 0).
inline constexpr uint32_t kMarkerEndOfStream = 0;
inline constexpr uint32_t kMarkerGrainTable = 1;
inline constexpr uint32_t kMarkerGrainDirectory = 2;
inline constexpr uint32_t kMarkerFooter = 3;
// Undocumented; vSphere/ovftool write it with val 0 (seen in ovftool 4.0
// outputs in the corpus). Skipped.
inline constexpr uint32_t kMarkerUnspecified = 4;

// A grain marker: lba (8), compressed size (4), then the zlib data.
inline constexpr size_t kGrainMarkerSize = 12;
// A grain table entry of 1 means "zeroed grain" when kFlagZeroedGte is set.
inline constexpr uint32_t kZeroedGte = 1;

// Caps.
inline constexpr uint64_t kMaxCapacityBytes = uint64_t{64} << 40;  // 64 TiB
inline constexpr uint64_t kMaxGrainSectors = 4096;                 // 2 MiB
inline constexpr uint32_t kMaxGtesPerGt = 4096;
inline constexpr uint64_t kMaxDescriptorBytes = 1 << 20;
inline constexpr size_t kMaxExtents = 1024;

// The 512-byte hosted sparse extent header (also the footer's payload).
struct SparseHeader {
  uint32_t magic = kSparseMagic;
  uint32_t version = 1;
  uint32_t flags = 0;
  uint64_t capacity = 0;  // sectors
  uint64_t grain_size = 0;
  uint64_t descriptor_offset = 0;
  uint64_t descriptor_size = 0;
  uint32_t num_gtes_per_gt = 512;
  uint64_t rgd_offset = 0;
  uint64_t gd_offset = 0;
  uint64_t overhead = 0;
  uint8_t unclean_shutdown = 0;
  uint8_t single_end_line_char = '\n';
  uint8_t non_end_line_char = ' ';
  uint8_t double_end_line_char1 = '\r';
  uint8_t double_end_line_char2 = '\n';
  uint16_t compress_algorithm = kCompressionNone;

  uint64_t grain_bytes() const { return grain_size * kSectorSize; }
  uint64_t capacity_bytes() const { return capacity * kSectorSize; }
};

// Decodes a header from its 512 bytes (no validation).
SparseHeader ParseSparseHeader(std::span<const uint8_t, 512> sector);
// Encodes a header into 512 bytes (the padding is zeroed).
void FormatSparseHeader(const SparseHeader& header,
                        std::span<uint8_t, 512> sector);

// Checks what every reader relies on: magic, version 1-3, flags we know,
// newline detection characters intact, compression algorithm, grain size a
// power of two up to kMaxGrainSectors, capacity up to kMaxCapacityBytes,
// grain table size, and (for a random-access file of `file_size` bytes, 0
// when unknown) that the descriptor lies inside the file. kCorrupt or
// kUnsupported with a message that names the field.
Status ValidateSparseHeader(const SparseHeader& header, uint64_t file_size);

// Grains and grain tables a header describes (never more than the caps
// allow once ValidateSparseHeader passed).
uint64_t GrainCount(const SparseHeader& header);
uint64_t GrainTableCount(const SparseHeader& header);

// The largest compressed grain we accept: zlib's worst case for
// incompressible data is a little over the input size.
inline uint64_t MaxCompressedGrain(uint64_t grain_bytes) {
  return grain_bytes + grain_bytes / 8 + 4096;
}

}  // namespace ova2virt::vmdk

#endif  // OVA2VIRT_CONVERT_VMDK_FORMAT_H_
