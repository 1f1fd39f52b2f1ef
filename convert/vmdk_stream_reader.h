// Reads a streamOptimized VMDK front to back, with no seeking: from a pipe,
// or from a tar member as it flows past.
//
// Both layouts are read the same way, by walking the markers after the
// header area: VMware's (grains, a grain table after each stretch, the grain
// directory, a footer and an end-of-stream marker at the end; gdOffset "at
// end" in the header) and qemu-img's (directory and tables at the front,
// inside the header area). The tables are never needed: every grain carries
// its own sector number, so grains may come in any order, and all-zero
// grains are simply absent. The footer is never needed before the data.
#ifndef OVA2VIRT_CONVERT_VMDK_STREAM_READER_H_
#define OVA2VIRT_CONVERT_VMDK_STREAM_READER_H_

#include <deque>
#include <memory>
#include <vector>

#include "convert/disk_reader.h"
#include "convert/grain_set.h"
#include "convert/stream_cursor.h"
#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_format.h"
#include "convert/worker_pool.h"
#include "core/byte_stream.h"

namespace ova2virt {

class VmdkStreamReader : public DiskReader {
 public:
  // Reads the header and the embedded descriptor of the stream in `source`
  // (positioned at the extent's byte 0). `keep` is an optional wrapper the
  // reader owns for as long as it lives. `input_size` (0 if unknown) is for
  // progress. kCorrupt/kUnsupported naming the field and its byte offset.
  static Result<std::unique_ptr<VmdkStreamReader>> Open(
      ByteSource& source, std::unique_ptr<ByteSource> keep,
      uint64_t input_size);
  ~VmdkStreamReader() override;

  uint64_t capacity() const override { return capacity_; }
  Result<bool> Next(DataRun* run) override;
  std::string_view format_name() const override {
    return "vmdk-streamOptimized";
  }
  void SetThreads(int threads) override;
  ReadProgress progress() const override {
    return {cursor_.position(), input_size_};
  }
  uint64_t bytes_read() const override { return cursor_.bytes_read(); }

  const vmdk::SparseHeader& header() const { return header_; }
  // The embedded descriptor, when the stream has one.
  const VmdkDescriptor* descriptor() const {
    return has_descriptor_ ? &descriptor_ : nullptr;
  }

  class Batch;

 private:
  VmdkStreamReader(ByteSource& source, std::unique_ptr<ByteSource> keep,
                   uint64_t input_size, size_t cursor_capacity);
  Status ReadHeaderArea();
  // Parses markers into `batch` until it is full or the stream ended.
  Status FillBatch(Batch& batch);
  Status AddGrain(Batch& batch, std::span<const uint8_t> marker,
                  uint64_t marker_pos);
  std::unique_ptr<Batch> TakeFreeBatch();

  std::unique_ptr<ByteSource> keep_;
  StreamCursor cursor_;
  uint64_t input_size_;
  vmdk::SparseHeader header_;
  VmdkDescriptor descriptor_;
  bool has_descriptor_ = false;
  uint64_t capacity_ = 0;
  uint64_t grain_bytes_ = 0;
  size_t max_grains_per_batch_ = 1;
  size_t window_ = 1;
  GrainSet seen_;
  bool end_of_stream_ = false;
  Status failed_;

  std::vector<std::unique_ptr<Batch>> free_;
  std::deque<std::unique_ptr<Batch>> in_flight_;
  std::unique_ptr<Batch> current_;
  size_t run_index_ = 0;
  // Declared last: destroyed (joined) before the batches it works on.
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_VMDK_STREAM_READER_H_
