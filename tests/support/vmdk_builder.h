// Builds VMDK files in code, from a disk's bytes and a few readable knobs,
// for tests of the readers. The layouts follow the producers:
//
//   kVmwareStream     ovftool/vSphere streamOptimized: header with gdOffset
//                     "at end", grains with markers, a grain table after each
//                     512-grain stretch, then directory, footer, end marker
//   kQemuStream       qemu-img streamOptimized: directory and tables inside
//                     the header area, grains with markers, no footer and
//                     no end marker
//   kMonolithicSparse hosted sparse extent: header, descriptor, redundant
//                     and primary directories and tables, raw grains
//
// Only non-zero grains are stored, as real producers do. Hostile knobs patch
// the header, inject raw grain markers, point table entries anywhere, drop
// the end marker or cut the file short. This code is deliberately separate
// from convert/: it is a second, independent reading of the format, and
// qemu-img checks it too (vmdk_interop_test.cc).
#ifndef OVA2VIRT_TESTS_SUPPORT_VMDK_BUILDER_H_
#define OVA2VIRT_TESTS_SUPPORT_VMDK_BUILDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ova2virt::testing {

// A disk image with a realistic mix: incompressible data, compressible text,
// long stretches of zeros, grains with only a few bytes set, and data in the
// very last bytes. `capacity` need not be a multiple of anything.
std::string RealisticDiskImage(uint64_t capacity, uint32_t seed);

class VmdkBuilder {
 public:
  enum class Layout { kVmwareStream, kQemuStream, kMonolithicSparse };

  // The header fields, as written at sector 0 (and in the footer).
  struct Header {
    uint32_t magic = 0x564d444b;
    uint32_t version = 3;
    uint32_t flags = 0x30001;
    uint64_t capacity = 0;  // sectors
    uint64_t grain_size = 128;
    uint64_t descriptor_offset = 1;
    uint64_t descriptor_size = 1;
    uint32_t num_gtes_per_gt = 512;
    uint64_t rgd_offset = 0;
    uint64_t gd_offset = 0;
    uint64_t overhead = 128;
    uint8_t unclean_shutdown = 0;
    char newline_chars[4] = {'\n', ' ', '\r', '\n'};
    uint16_t compress_algorithm = 1;
  };

  // `disk` holds the guest bytes; the capacity is its size rounded up to a
  // sector.
  VmdkBuilder(Layout layout, std::string disk);
  // A disk of `capacity` bytes, zeros until Write() puts data in it (for
  // disks too large to hold in memory).
  VmdkBuilder(Layout layout, uint64_t capacity);
  VmdkBuilder& Write(uint64_t offset, std::string bytes);

  VmdkBuilder& GrainSectors(uint64_t sectors);
  // Stream layouts: deliver the non-zero grains in this order (grain
  // indexes); monolithicSparse: store them in the file in this order.
  VmdkBuilder& Order(std::vector<uint64_t> grains);
  VmdkBuilder& Shuffle(uint32_t seed);
  VmdkBuilder& CreateType(std::string create_type);
  // Replaces the embedded descriptor text entirely.
  VmdkBuilder& DescriptorText(std::string text);
  // Changes header fields after the layout is computed (header and footer).
  VmdkBuilder& PatchHeader(std::function<void(Header&)> patch);
  // Streams: an extra grain marker after the regular grains, with this lba
  // and these bytes as its compressed payload.
  // The grain tables list it (when its lba is a grain inside the disk).
  VmdkBuilder& AddRawGrain(uint64_t lba, std::string payload);
  // Raw grains are left out of the grain tables.
  VmdkBuilder& RawGrainsNotInTables();
  // Streams: an extra metadata marker after the grains.
  VmdkBuilder& AddMarker(uint32_t type, uint64_t val);
  // monolithicSparse: overrides the table entry (a sector) of a grain.
  VmdkBuilder& PatchGrainTableEntry(uint64_t grain, uint32_t sector);
  // kVmwareStream: no end-of-stream marker (kQemuStream never has one).
  VmdkBuilder& OmitEndOfStream();
  // Cuts the finished file to this many bytes.
  VmdkBuilder& Truncate(uint64_t bytes);

  std::string Build() const;
  // The descriptor text Build() embeds.
  std::string Descriptor() const;
  // Grains that hold data (what Build() stores), in increasing order.
  std::vector<uint64_t> DataGrains() const;

 private:
  std::string BuildStream() const;
  std::string BuildSparse() const;
  std::string CompressGrain(uint64_t grain) const;
  std::string Grain(uint64_t grain) const;
  std::vector<uint64_t> GrainOrder() const;

  Layout layout_;
  std::map<uint64_t, std::string> pieces_;  // guest offset -> bytes
  uint64_t capacity_bytes_;
  uint64_t capacity_sectors_;
  uint64_t grain_sectors_ = 128;
  std::optional<std::vector<uint64_t>> order_;
  std::string create_type_;
  std::optional<std::string> descriptor_text_;
  std::function<void(Header&)> patch_;
  std::vector<std::pair<uint64_t, std::string>> raw_grains_;
  std::vector<std::pair<uint32_t, uint64_t>> markers_;
  std::map<uint64_t, uint32_t> gte_patches_;
  bool omit_eos_ = false;
  bool raw_in_tables_ = true;
  std::optional<uint64_t> truncate_;
};

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_TESTS_SUPPORT_VMDK_BUILDER_H_
