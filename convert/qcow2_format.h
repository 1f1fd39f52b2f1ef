// The qcow2 format, shared by the reader and the writer (QEMU's
// docs/interop/qcow2.txt). Every number is big-endian.
#ifndef OVA2VIRT_CONVERT_QCOW2_FORMAT_H_
#define OVA2VIRT_CONVERT_QCOW2_FORMAT_H_

#include <cstdint>

namespace ova2virt::qcow2 {

inline constexpr uint32_t kMagic = 0x514649fb;  // "QFI\xfb"

// Header field offsets.
inline constexpr size_t kOffMagic = 0;
inline constexpr size_t kOffVersion = 4;
inline constexpr size_t kOffBackingFileOffset = 8;
inline constexpr size_t kOffBackingFileSize = 16;
inline constexpr size_t kOffClusterBits = 20;
inline constexpr size_t kOffSize = 24;
inline constexpr size_t kOffCryptMethod = 32;
inline constexpr size_t kOffL1Size = 36;
inline constexpr size_t kOffL1TableOffset = 40;
inline constexpr size_t kOffRefcountTableOffset = 48;
inline constexpr size_t kOffRefcountTableClusters = 56;
inline constexpr size_t kOffNbSnapshots = 60;
inline constexpr size_t kOffSnapshotsOffset = 64;
// Version 3 and later.
inline constexpr size_t kOffIncompatibleFeatures = 72;
inline constexpr size_t kOffCompatibleFeatures = 80;
inline constexpr size_t kOffAutoclearFeatures = 88;
inline constexpr size_t kOffRefcountOrder = 96;
inline constexpr size_t kOffHeaderLength = 100;
inline constexpr size_t kOffCompressionType = 104;
inline constexpr uint32_t kV2HeaderLength = 72;
inline constexpr uint32_t kV3HeaderLength = 104;

// Incompatible feature bits.
inline constexpr uint64_t kIncompatDirty = 1u << 0;
inline constexpr uint64_t kIncompatCorrupt = 1u << 1;
inline constexpr uint64_t kIncompatExternalData = 1u << 2;
inline constexpr uint64_t kIncompatCompressionType = 1u << 3;
inline constexpr uint64_t kIncompatExtendedL2 = 1u << 4;

// L1 and L2 entries.
inline constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;  // bits 9-55
inline constexpr uint64_t kFlagCopied = 1ull << 63;
inline constexpr uint64_t kFlagCompressed = 1ull << 62;
inline constexpr uint64_t kFlagZero = 1ull << 0;  // v3 standard clusters

// Extended L2: 32 subclusters per cluster.
inline constexpr int kSubclusters = 32;

// Caps (qemu's own limits): cluster sizes 512 bytes to 2 MiB, an L1 table
// of at most 32 MiB, backing file names of at most 1023 bytes.
inline constexpr uint32_t kMinClusterBits = 9;
inline constexpr uint32_t kMaxClusterBits = 21;
inline constexpr uint64_t kMaxL1Bytes = 32 << 20;
// qemu's QCOW_MAX_REFTABLE_SIZE: the refcount table of any image qemu opens.
inline constexpr uint64_t kMaxRefcountTableBytes = 8 << 20;
inline constexpr uint32_t kMaxBackingFileName = 1023;

}  // namespace ova2virt::qcow2

#endif  // OVA2VIRT_CONVERT_QCOW2_FORMAT_H_
