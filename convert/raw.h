// Raw disk images: the bytes of the disk, nothing else.
#ifndef OVA2VIRT_CONVERT_RAW_H_
#define OVA2VIRT_CONVERT_RAW_H_

#include <memory>
#include <string>
#include <vector>

#include "convert/disk_reader.h"
#include "convert/disk_writer.h"
#include "core/byte_stream.h"

namespace ova2virt {

// Reads a raw image (or a flat VMDK extent) front to back in large runs.
class RawReader : public DiskReader {
 public:
  // Reads `file` in place; its size is the capacity. `keep` optionally owns
  // `file`.
  RawReader(RandomAccessSource& file, std::unique_ptr<RandomAccessSource> keep,
            std::string format_name = "raw");
  // Reads exactly `size` bytes of a stream; a shorter stream is kCorrupt.
  RawReader(ByteSource& stream, uint64_t size,
            std::unique_ptr<ByteSource> keep);

  uint64_t capacity() const override { return capacity_; }
  Result<bool> Next(DataRun* run) override;
  std::string_view format_name() const override { return format_name_; }
  ReadProgress progress() const override { return {pos_, capacity_}; }
  uint64_t bytes_read() const override { return pos_; }

 private:
  std::unique_ptr<RandomAccessSource> keep_file_;
  std::unique_ptr<ByteSource> keep_stream_;
  RandomAccessSource* file_ = nullptr;
  ByteSource* stream_ = nullptr;
  std::string format_name_;
  uint64_t capacity_ = 0;
  uint64_t pos_ = 0;
  std::vector<uint8_t> buffer_;
};

// Writes a raw image over a BlockSink: zero blocks are skipped, so a file
// sink ends up sparse (holes read as zeros), and Finish() sets the size.
// Runs may come in any order. The sink must read as zeros where nothing was
// written (a new file, a new volume).
class RawWriter : public DiskWriter {
 public:
  RawWriter(BlockSink& sink, uint64_t capacity);

  Status WriteRun(uint64_t offset, std::span<const uint8_t> data) override;
  // Passes the run's lease on with its stretches.
  Status WriteDataRun(const DataRun& run) override;
  Result<WriteStats> Finish() override;
  std::string_view format_name() const override { return "raw"; }

  // Zero detection granularity: the file system's block size.
  static constexpr size_t kBlockSize = 4096;

 private:
  BlockSink& sink_;
  uint64_t capacity_;
  uint64_t bytes_written_ = 0;
  uint64_t blocks_written_ = 0;
  // The lease of the run being written (DataRun::lease; empty for bytes
  // that are not leased, which sinks then copy if they keep them).
  BufferLease lease_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_RAW_H_
