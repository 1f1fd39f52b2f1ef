// Reads a hosted sparse VMDK extent without markers (monolithicSparse, and
// each file of twoGbMaxExtentSparse): a grain directory pointing at grain
// tables pointing at grains.
#ifndef OVA2VIRT_CONVERT_VMDK_SPARSE_READER_H_
#define OVA2VIRT_CONVERT_VMDK_SPARSE_READER_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convert/disk_reader.h"
#include "convert/grain_set.h"
#include "convert/stream_cursor.h"
#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_format.h"
#include "core/byte_stream.h"
#include "core/compress.h"

namespace ova2virt {

class VmdkSparseReader : public DiskReader {
 public:
  // Most allocated grains a sequential read remembers (16 bytes each): the
  // whole map must be known before the first grain goes by.
  static constexpr size_t kMaxSequentialGrains = 1 << 20;

  // Reads `file` in place: one grain table at a time, grains in disk order.
  // `keep` is an optional owner of `file`.
  static Result<std::unique_ptr<VmdkSparseReader>> OpenRandom(
      RandomAccessSource& file, std::unique_ptr<RandomAccessSource> keep);
  // Reads a forward-only stream: the directory and tables must come before
  // the grains (as qemu-img and VMware lay out monolithicSparse); they are
  // read first, then the grains in file order. kUnsupported if the layout
  // needs seeking back or maps more than kMaxSequentialGrains grains.
  static Result<std::unique_ptr<VmdkSparseReader>> OpenSequential(
      ByteSource& source, std::unique_ptr<ByteSource> keep,
      uint64_t input_size);
  ~VmdkSparseReader() override;

  uint64_t capacity() const override { return capacity_; }
  Result<bool> Next(DataRun* run) override;
  std::string_view format_name() const override { return format_name_; }
  ReadProgress progress() const override;
  uint64_t bytes_read() const override;

  const vmdk::SparseHeader& header() const { return header_; }
  const VmdkDescriptor* descriptor() const {
    return has_descriptor_ ? &descriptor_ : nullptr;
  }

 private:
  VmdkSparseReader() = default;
  Status Init(const vmdk::SparseHeader& header, uint64_t file_size);
  Status SetDescriptor(std::string_view text, uint64_t at);
  // Checks a grain table entry's target: after the header area, inside the
  // file. `len` is the bytes to be read there.
  Status CheckGrainTarget(uint64_t grain, uint64_t sector, uint64_t len) const;
  // Claims [at, at + len) of the file for `what` (a grain, a grain
  // table): kCorrupt if an earlier grain or table claimed any of it.
  Status Claim(uint64_t at, uint64_t len, const std::string& what);
  // Random access: claims the redundant directory and its tables, so that
  // a grain placed on them is refused as overlapping metadata.
  Status ClaimRedundantTables();
  Result<uint32_t> GdEntry(uint64_t index);
  Result<bool> NextRandom(DataRun* run);
  Result<bool> NextSequential(DataRun* run);
  Result<bool> ReadCompressedGrain(uint64_t grain, uint64_t sector,
                                   DataRun* run);
  Status PlanSequential();

  vmdk::SparseHeader header_;
  VmdkDescriptor descriptor_;
  bool has_descriptor_ = false;
  std::string format_name_ = "vmdk-sparse";
  uint64_t capacity_ = 0;
  uint64_t grain_bytes_ = 0;
  uint64_t grains_ = 0;
  uint64_t tables_ = 0;
  uint64_t data_start_ = 0;  // bytes: nothing before this may be a grain
  uint64_t file_size_ = 0;   // 0 if unknown (a stream)
  std::vector<uint8_t> buffer_;
  Inflater inflater_;

  // Random access.
  std::unique_ptr<RandomAccessSource> keep_file_;
  RandomAccessSource* file_ = nullptr;
  uint64_t bytes_read_ = 0;
  uint64_t gd_chunk_start_ = ~uint64_t{0};
  std::vector<uint32_t> gd_chunk_;
  uint64_t table_ = 0;  // the grain table being walked
  std::vector<uint32_t> gt_;
  bool gt_loaded_ = false;
  uint64_t entry_ = 0;
  // What the header, descriptor, directory, tables and grains occupy
  // (random access; the sequential plan checks its own order). Checking
  // stops, and the read goes on, past kMaxClaimedRanges separate ranges
  // (a disk of millions of grains written in random order): the output
  // is bounded by the capacity either way.
  static constexpr size_t kMaxClaimedRanges = 1 << 18;
  ByteRangeSet claimed_{kMaxClaimedRanges};
  bool claims_full_ = false;

  // Sequential.
  std::unique_ptr<ByteSource> keep_stream_;
  std::optional<StreamCursor> cursor_;
  uint64_t input_size_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> plan_;  // (sector, grain)
  size_t plan_index_ = 0;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_VMDK_SPARSE_READER_H_
