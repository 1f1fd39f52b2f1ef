// The output side of a conversion: a disk image format over a sink.
#ifndef OVA2VIRT_CONVERT_DISK_WRITER_H_
#define OVA2VIRT_CONVERT_DISK_WRITER_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "convert/disk_reader.h"
#include "core/status.h"

namespace ova2virt {

struct WriteStats {
  uint64_t bytes_written = 0;  // bytes handed to the sink, metadata included
  uint64_t data_clusters = 0;  // allocated data clusters / grains / blocks
  uint64_t cluster_size = 0;   // their size in bytes
  uint64_t virtual_size = 0;   // the image's virtual size in bytes
};

// Writes a disk image from data runs. Writers never write all-zero data:
// what is not written reads as zeros.
class DiskWriter {
 public:
  virtual ~DiskWriter() = default;
  // Writes guest bytes at `offset`. Whether runs may come in any order is
  // up to the writer (qcow2 and raw: any order; VMDK stream: increasing).
  // `data` need only stay valid during the call.
  virtual Status WriteRun(uint64_t offset, std::span<const uint8_t> data) = 0;
  // WriteRun() for a run straight from a reader, which may say it has been
  // checked for zeros already (DataRun::nonzero_granule).
  virtual Status WriteDataRun(const DataRun& run) {
    return WriteRun(run.offset, run.data);
  }
  // Writes the metadata; the image is complete when this returns ok. The
  // sink is not closed: its owner commits it.
  virtual Result<WriteStats> Finish() = 0;
  // Lets the writer encode (deflate) on up to `threads` worker threads.
  // Call before the first WriteRun(); 0 or 1 encodes on the caller's thread.
  virtual void SetThreads(int threads) { (void)threads; }
  virtual std::string_view format_name() const = 0;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_DISK_WRITER_H_
