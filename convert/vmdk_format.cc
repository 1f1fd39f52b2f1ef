#include "convert/vmdk_format.h"

#include <cstdio>
#include <cstring>

#include "core/checked_math.h"
#include "core/endian.h"

namespace ova2virt::vmdk {
namespace {

// Field offsets in the header (the structure is packed on disk).
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 4;
constexpr size_t kOffFlags = 8;
constexpr size_t kOffCapacity = 12;
constexpr size_t kOffGrainSize = 20;
constexpr size_t kOffDescriptorOffset = 28;
constexpr size_t kOffDescriptorSize = 36;
constexpr size_t kOffNumGtes = 44;
constexpr size_t kOffRgdOffset = 48;
constexpr size_t kOffGdOffset = 56;
constexpr size_t kOffOverhead = 64;
constexpr size_t kOffUnclean = 72;
constexpr size_t kOffNewlineChars = 73;
constexpr size_t kOffCompressAlgorithm = 77;

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

SparseHeader ParseSparseHeader(std::span<const uint8_t, 512> s) {
  SparseHeader h;
  const uint8_t* p = s.data();
  h.magic = LoadLe32(p + kOffMagic);
  h.version = LoadLe32(p + kOffVersion);
  h.flags = LoadLe32(p + kOffFlags);
  h.capacity = LoadLe64(p + kOffCapacity);
  h.grain_size = LoadLe64(p + kOffGrainSize);
  h.descriptor_offset = LoadLe64(p + kOffDescriptorOffset);
  h.descriptor_size = LoadLe64(p + kOffDescriptorSize);
  h.num_gtes_per_gt = LoadLe32(p + kOffNumGtes);
  h.rgd_offset = LoadLe64(p + kOffRgdOffset);
  h.gd_offset = LoadLe64(p + kOffGdOffset);
  h.overhead = LoadLe64(p + kOffOverhead);
  h.unclean_shutdown = p[kOffUnclean];
  h.single_end_line_char = p[kOffNewlineChars];
  h.non_end_line_char = p[kOffNewlineChars + 1];
  h.double_end_line_char1 = p[kOffNewlineChars + 2];
  h.double_end_line_char2 = p[kOffNewlineChars + 3];
  h.compress_algorithm = LoadLe16(p + kOffCompressAlgorithm);
  return h;
}

void FormatSparseHeader(const SparseHeader& h, std::span<uint8_t, 512> s) {
  uint8_t* p = s.data();
  std::memset(p, 0, s.size());
  StoreLe32(p + kOffMagic, h.magic);
  StoreLe32(p + kOffVersion, h.version);
  StoreLe32(p + kOffFlags, h.flags);
  StoreLe64(p + kOffCapacity, h.capacity);
  StoreLe64(p + kOffGrainSize, h.grain_size);
  StoreLe64(p + kOffDescriptorOffset, h.descriptor_offset);
  StoreLe64(p + kOffDescriptorSize, h.descriptor_size);
  StoreLe32(p + kOffNumGtes, h.num_gtes_per_gt);
  StoreLe64(p + kOffRgdOffset, h.rgd_offset);
  StoreLe64(p + kOffGdOffset, h.gd_offset);
  StoreLe64(p + kOffOverhead, h.overhead);
  p[kOffUnclean] = h.unclean_shutdown;
  p[kOffNewlineChars] = h.single_end_line_char;
  p[kOffNewlineChars + 1] = h.non_end_line_char;
  p[kOffNewlineChars + 2] = h.double_end_line_char1;
  p[kOffNewlineChars + 3] = h.double_end_line_char2;
  StoreLe16(p + kOffCompressAlgorithm, h.compress_algorithm);
}

Status ValidateSparseHeader(const SparseHeader& h, uint64_t file_size) {
  if (h.magic == kCowdMagic) {
    return UnsupportedError(
        "vmfsSparse (COWD) extents are not supported; convert the disk on "
        "the ESXi host first");
  }
  if (h.magic != kSparseMagic) {
    return CorruptError("header at byte 0: not a vmdk sparse extent");
  }
  if (h.version < 1 || h.version > 3) {
    return UnsupportedError("header at byte 4: vmdk sparse extent version " +
                            std::to_string(h.version) + " is not supported");
  }
  uint32_t unknown = h.flags & 0xffff0000u & ~kKnownIncompatibleFlags;
  if (unknown != 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", unknown);
    return UnsupportedError("header at byte 8: unknown vmdk flags 0x" +
                            std::string(hex));
  }
  if ((h.flags & kFlagValidNewline) &&
      (h.single_end_line_char != '\n' || h.non_end_line_char != ' ' ||
       h.double_end_line_char1 != '\r' || h.double_end_line_char2 != '\n')) {
    // The header carries these four bytes precisely to catch a file that
    // went through a text-mode transfer.
    return CorruptError(
        "header at byte 73: newline detection bytes were altered (the file "
        "was probably transferred in text mode)");
  }
  if (h.flags & kFlagCompressed) {
    if (h.compress_algorithm != kCompressionDeflate) {
      return UnsupportedError("header at byte 77: compression algorithm " +
                              std::to_string(h.compress_algorithm) +
                              " is not supported");
    }
  }
  if (h.flags & kFlagMarkers && !(h.flags & kFlagCompressed)) {
    return UnsupportedError(
        "header at byte 8: markers without compressed grains are not "
        "supported");
  }
  if (!IsPowerOfTwo(h.grain_size) || h.grain_size > kMaxGrainSectors) {
    return CorruptError("header at byte 20: grain size " +
                        std::to_string(h.grain_size) +
                        " sectors is not a power of two up to " +
                        std::to_string(kMaxGrainSectors));
  }
  auto cap_bytes = CheckedMul<uint64_t>(h.capacity, kSectorSize);
  if (!cap_bytes || *cap_bytes > kMaxCapacityBytes) {
    return UnsupportedError("header at byte 12: capacity of " +
                            std::to_string(h.capacity) +
                            " sectors exceeds the limit of 64 TiB");
  }
  if (h.num_gtes_per_gt == 0 || h.num_gtes_per_gt > kMaxGtesPerGt) {
    return CorruptError(
        "header at byte 44: " + std::to_string(h.num_gtes_per_gt) +
        " entries per grain table (allowed: 1 to " +
        std::to_string(kMaxGtesPerGt) + ")");
  }
  if (h.descriptor_size > kMaxDescriptorBytes / kSectorSize) {
    return CorruptError("header at byte 36: embedded descriptor of " +
                        std::to_string(h.descriptor_size) +
                        " sectors exceeds the limit of 1 MiB");
  }
  if (h.descriptor_size > 0) {
    if (h.descriptor_offset == 0) {
      return CorruptError("header at byte 28: descriptor at sector 0");
    }
    auto end = CheckedAdd<uint64_t>(h.descriptor_offset, h.descriptor_size);
    auto end_bytes = end ? CheckedMul<uint64_t>(*end, kSectorSize)
                         : std::optional<uint64_t>();
    if (!end_bytes || (file_size != 0 && *end_bytes > file_size)) {
      return CorruptError("header at byte 28: descriptor at sector " +
                          std::to_string(h.descriptor_offset) +
                          " lies beyond the end of the file");
    }
  }
  return OkStatus();
}

uint64_t GrainCount(const SparseHeader& h) {
  return DivRoundUp(h.capacity, h.grain_size);
}

uint64_t GrainTableCount(const SparseHeader& h) {
  return DivRoundUp(GrainCount(h), h.num_gtes_per_gt);
}

}  // namespace ova2virt::vmdk
