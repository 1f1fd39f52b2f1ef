// The conversion loop: every run a reader yields goes to a writer, with
// progress, cancellation and the figures a report needs.
#ifndef OVA2VIRT_CONVERT_CONVERT_H_
#define OVA2VIRT_CONVERT_CONVERT_H_

#include <cstdint>
#include <string>

#include "convert/disk_reader.h"
#include "convert/disk_writer.h"
#include "core/progress.h"

namespace ova2virt {

struct ConvertOptions {
  // Worker threads for inflating and deflating; 0 picks the machine's core
  // count, 1 does everything on the calling thread.
  int threads = 0;
  Progress* progress = nullptr;  // nullptr: silent
  std::string label;             // the progress bar's label
  // Prepended to reader errors ("disk1.vmdk: grain marker at byte ...").
  std::string input_name;
};

struct ConvertStats {
  uint64_t capacity = 0;       // virtual size in bytes
  uint64_t bytes_read = 0;     // input bytes consumed
  uint64_t data_bytes = 0;     // guest bytes the reader delivered
  uint64_t bytes_written = 0;  // output bytes, metadata included
  uint64_t allocated_clusters = 0;
  uint64_t cluster_size = 0;
  double seconds = 0;
  int threads = 1;
};

// The worker count `threads` (0 = auto) resolves to.
int ResolveThreads(int threads);

// Copies every run from `reader` to `writer` and finishes the writer. The
// output is complete only when this returns ok; on failure (or kCancelled
// after RequestCancel()) the caller discards it.
Result<ConvertStats> ConvertDisk(DiskReader& reader, DiskWriter& writer,
                                 const ConvertOptions& options);

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_CONVERT_H_
