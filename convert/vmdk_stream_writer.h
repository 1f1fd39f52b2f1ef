// Writes a streamOptimized VMDK in the form VMware's own exporters write
// (ovftool, vSphere, open-vmdk's vmdk-convert), which ESXi accepts:
//
//   sector 0     header: version 3, flags 0x30001 (newline detection,
//                compressed grains, markers), grainSize 128, 512 grain
//                table entries, gdOffset = "at end", overHead 128
//   sector 1..   the descriptor (createType="streamOptimized")
//   sector 128.. grains: marker (lba, compressed size) + zlib data, padded
//                to a sector; after the grains of each 512-grain stretch, a
//                grain table marker and the table
//   at the end   grain directory marker + directory, footer marker + a copy
//                of the header holding the real gdOffset, end-of-stream
//                marker
//
// Everything is written front to back into a ByteSink (a tar member, a
// pipe). Grains are deflated on worker threads and written in order, so the
// output is the same bytes whatever the thread count.
#ifndef OVA2VIRT_CONVERT_VMDK_STREAM_WRITER_H_
#define OVA2VIRT_CONVERT_VMDK_STREAM_WRITER_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "convert/disk_writer.h"
#include "convert/vmdk_format.h"
#include "convert/worker_pool.h"
#include "core/byte_stream.h"

namespace ova2virt {

struct VmdkStreamWriterOptions {
  // The file name the descriptor's extent line gives (the member name).
  std::string extent_name = "disk.vmdk";
  // ddb keys.
  std::string adapter_type = "lsilogic";  // ide, buslogic, lsilogic, ...
  std::string virtual_hw_version = "4";   // obsolete; ESX 3.x reads it
  std::string tools_install_type = "4";
  std::string tools_version = "2147483647";
  // Deflate level for grains (libdeflate 1-12). 6 matches zlib's default
  // ratio at several times its speed.
  int compression_level = 6;
};

class VmdkStreamWriter : public DiskWriter {
 public:
  static constexpr uint64_t kGrainSectors = 128;  // 64 KiB grains
  static constexpr uint32_t kGtesPerGt = 512;

  // `capacity` is rounded up to whole sectors.
  VmdkStreamWriter(ByteSink& sink, uint64_t capacity,
                   VmdkStreamWriterOptions options = {});
  ~VmdkStreamWriter() override;

  // Runs must come in increasing offset order (a stream cannot go back);
  // an earlier offset is kFailed.
  Status WriteRun(uint64_t offset, std::span<const uint8_t> data) override;
  Result<WriteStats> Finish() override;
  void SetThreads(int threads) override;
  std::string_view format_name() const override {
    return "vmdk-streamOptimized";
  }

  // The descriptor text this writer embeds.
  std::string DescriptorText() const;

  class Batch;

 private:
  vmdk::SparseHeader Header(uint64_t gd_offset) const;
  Status WriteHead();
  Status StartGrain(uint64_t grain);
  void CloseGrain();
  Status SubmitBatch();
  Status WriteBatch(Batch& batch);
  Status WriteGrainTable();
  Status WriteMarker(uint64_t val, uint32_t type);
  Status Emit(std::span<const uint8_t> bytes);

  ByteSink& sink_;
  VmdkStreamWriterOptions options_;
  uint64_t capacity_sectors_;
  uint64_t grains_;
  uint64_t grain_bytes_;
  bool head_written_ = false;
  bool finished_ = false;
  uint64_t next_offset_ = 0;
  uint64_t sector_ = 0;  // output position in sectors
  uint64_t bytes_written_ = 0;
  uint64_t grains_written_ = 0;
  std::vector<uint32_t> gd_;
  std::vector<uint32_t> gt_;
  uint64_t gt_index_ = ~uint64_t{0};  // the table being filled
  bool gt_used_ = false;

  // The grain being filled: its slot in `batch_`, and how far it is filled.
  bool grain_open_ = false;
  uint64_t grain_ = 0;
  uint64_t filled_ = 0;
  size_t max_grains_per_batch_ = 16;
  size_t window_ = 1;
  std::unique_ptr<Batch> batch_;
  std::deque<std::unique_ptr<Batch>> in_flight_;
  std::vector<std::unique_ptr<Batch>> free_;
  std::unique_ptr<WorkerPool> pool_;  // last: joined before batches go
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_VMDK_STREAM_WRITER_H_
