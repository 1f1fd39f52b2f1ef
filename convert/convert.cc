#include "convert/convert.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/cancel.h"

namespace ova2virt {

int ResolveThreads(int threads) {
  if (threads > 0) return std::min(threads, 64);
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min(n, 64u));
}

Result<ConvertStats> ConvertDisk(DiskReader& reader, DiskWriter& writer,
                                 const ConvertOptions& options) {
  auto start = std::chrono::steady_clock::now();
  ConvertStats stats;
  stats.threads = ResolveThreads(options.threads);
  stats.capacity = reader.capacity();
  reader.SetThreads(stats.threads);
  writer.SetThreads(stats.threads);
  Progress& progress =
      options.progress != nullptr ? *options.progress : SilentProgress();
  progress.Begin(options.label, reader.progress().total);
  // End the bar on every way out.
  struct EndProgress {
    Progress& p;
    ~EndProgress() { p.End(); }
  } end_progress{progress};

  DataRun run;
  for (;;) {
    RETURN_IF_ERROR(CheckCancelled());
    auto more = reader.Next(&run);
    if (!more.ok()) return more.status().WithContext(options.input_name);
    if (!*more) break;
    RETURN_IF_ERROR(writer.WriteDataRun(run));
    stats.data_bytes += run.data.size();
    progress.Update(reader.progress().done);
  }
  ASSIGN_OR_RETURN(WriteStats w, writer.Finish());
  stats.bytes_read = reader.bytes_read();
  stats.bytes_written = w.bytes_written;
  stats.allocated_clusters = w.data_clusters;
  stats.cluster_size = w.cluster_size;
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return stats;
}

}  // namespace ova2virt
