// Writes a qcow2 v3 image with 64 KiB clusters over a BlockSink.
//
// Write pattern: data clusters are appended in the order they arrive,
// starting at cluster 1; at Finish() the L2 tables, the L1 table, the
// refcount blocks and the refcount table follow them, and the header cluster
// is written last, at offset 0. So a sequential sink (a volume upload
// stream) sees one forward stream from cluster 1 and one restart for the
// header. All-zero clusters are never written; refcounts are exact (every
// cluster is used once), so `qemu-img check` finds nothing to repair.
//
// Memory: the guest-to-host map is kept as stretches of contiguous clusters
// (one per stretch of data when input arrives in order), plus at most
// kMaxPartialClusters clusters of unaligned input waiting to be completed.
#ifndef OVA2VIRT_CONVERT_QCOW2_WRITER_H_
#define OVA2VIRT_CONVERT_QCOW2_WRITER_H_

#include <cstdint>
#include <map>
#include <vector>

#include "convert/disk_writer.h"
#include "core/byte_stream.h"

namespace ova2virt {

class Qcow2Writer : public DiskWriter {
 public:
  static constexpr uint32_t kClusterBits = 16;
  static constexpr uint64_t kClusterSize = uint64_t{1} << kClusterBits;
  // Unaligned clusters buffered while their other parts are on the way.
  static constexpr size_t kMaxPartialClusters = 64;
  // Separate stretches of allocated clusters (24 bytes each).
  static constexpr size_t kMaxExtents = 1 << 20;

  // `capacity` is rounded up to a whole sector, as qemu does.
  Qcow2Writer(BlockSink& sink, uint64_t capacity);

  // Runs may come in any order and need not be aligned.
  Status WriteRun(uint64_t offset, std::span<const uint8_t> data) override;
  // Skips the zero check of clusters made of whole non-zero pieces.
  Status WriteDataRun(const DataRun& run) override;
  Result<WriteStats> Finish() override;
  std::string_view format_name() const override { return "qcow2"; }

 private:
  struct Extent {
    uint64_t guest;  // first guest cluster
    uint64_t host;   // first host cluster
    uint64_t count;
  };
  struct Partial {
    std::vector<uint8_t> data;
    uint64_t filled = 0;
    uint64_t sequence = 0;
  };

  // Guest bytes that cluster `c` holds (the last one may be short).
  uint64_t ClusterLength(uint64_t c) const;
  Status WriteWholeClusters(uint64_t first, std::span<const uint8_t> data);
  Status WritePartial(uint64_t cluster, uint64_t in_cluster,
                      std::span<const uint8_t> data);
  Status FlushPartial(std::map<uint64_t, Partial>::iterator it, bool complete);
  // Writes `count` new clusters from `data` (padding the disk's last
  // cluster) and records them.
  Status AppendClusters(uint64_t guest, std::span<const uint8_t> data,
                        uint64_t count);
  Status Record(uint64_t guest, uint64_t host, uint64_t count);
  Status WriteMetadata();

  BlockSink& sink_;
  uint64_t virtual_size_;
  uint64_t next_host_ = 1;  // cluster 0 is the header
  uint64_t data_clusters_ = 0;
  uint64_t bytes_written_ = 0;
  uint64_t sequence_ = 0;
  bool finished_ = false;
  // While writing a run whose whole clusters are known to hold data.
  bool clusters_checked_ = false;
  // The lease of the run being written (DataRun::lease; empty for bytes
  // that are not leased, which sinks then copy if they keep them).
  BufferLease lease_;
  std::vector<Extent> extents_;
  std::map<uint64_t, Partial> partials_;
  // Clusters flushed before they were complete, and where they went: later
  // parts are written into them in place.
  std::map<uint64_t, uint64_t> early_flushed_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_QCOW2_WRITER_H_
