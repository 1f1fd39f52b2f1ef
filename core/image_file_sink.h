// A disk image being written to a file, the way every converted disk is:
// small appends gathered into large writes (GatheringBlockSink), written on
// a thread of their own behind the conversion (WriteBehindSink), and large
// aligned runs sent past the page cache (FileBlockSink, kDirectWhenAligned).
//
// Why one class: the three are always stacked in this order, and the order
// matters (gathering must happen before the queue, so the writer thread
// sees few large writes; the flushes must go top-down). Import's files and
// in-place volumes and `ova2virt convert` build it the same way.
#ifndef OVA2VIRT_CORE_IMAGE_FILE_SINK_H_
#define OVA2VIRT_CORE_IMAGE_FILE_SINK_H_

#include "core/byte_stream.h"
#include "core/file.h"
#include "core/status.h"
#include "core/write_behind.h"

namespace ova2virt {

class ImageFileSink {
 public:
  // `file` must outlive this. kBuffered for files that are not disks to
  // bypass the cache for (stdout).
  explicit ImageFileSink(
      File& file,
      FileBlockSink::Mode mode = FileBlockSink::Mode::kDirectWhenAligned)
      : file_sink_(file, mode), behind_(file_sink_), gather_(behind_) {}

  // Where the disk writer writes.
  BlockSink& sink() { return gather_; }

  // Everything written so far has reached the file (its disk only after
  // File::Sync()); the first write error, if any.
  Status Flush() {
    RETURN_IF_ERROR(gather_.Flush());
    return behind_.Flush();
  }

 private:
  FileBlockSink file_sink_;
  WriteBehindSink behind_;  // joined before file_sink_ goes
  GatheringBlockSink gather_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_IMAGE_FILE_SINK_H_
