// A virtual disk as a sequence of data runs: what every disk reader produces
// and every disk writer consumes.
#ifndef OVA2VIRT_CONVERT_DISK_READER_H_
#define OVA2VIRT_CONVERT_DISK_READER_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "core/byte_stream.h"
#include "core/status.h"

namespace ova2virt {

// Bytes of the virtual disk starting at guest byte `offset`.
struct DataRun {
  uint64_t offset = 0;
  std::span<const uint8_t> data;
  // When not 0, the reader checked the run for zeros already: `offset` is a
  // multiple of this many bytes, and each piece of the run that starts at a
  // multiple of it (the last may be shorter) holds a non-zero byte. A writer
  // then need not read the data again to find all-zero blocks made of whole
  // such pieces.
  uint32_t nonzero_granule = 0;
  // When set, `data` stays valid for as long as a copy of this is held, not
  // just until the next Next(): a writer may pass it to a sink that writes
  // later (BlockSink::WriteLeased()).
  BufferLease lease;
};

// How far a reader has come, in units of its own choosing (input bytes for a
// stream, guest bytes for a random-access format). `total` is 0 if unknown.
struct ReadProgress {
  uint64_t done = 0;
  uint64_t total = 0;
};

// A virtual disk read as runs of data. Runs never overlap and never extend
// beyond capacity(); gaps between them read as zeros. Their order is the
// order the source stores them in: a stream may deliver grains out of order.
// A run's span is valid until the next call to Next().
class DiskReader {
 public:
  virtual ~DiskReader() = default;

  // The virtual size in bytes.
  virtual uint64_t capacity() const = 0;
  // Fills `run` and returns true, or returns false at the end of the disk.
  // Corrupt input is kCorrupt naming the byte offset where it was found.
  virtual Result<bool> Next(DataRun* run) = 0;
  // "vmdk-streamOptimized", "vmdk-monolithicSparse", "qcow2", "raw"...
  virtual std::string_view format_name() const = 0;
  // Lets the reader decode (inflate) on up to `threads` worker threads while
  // the caller consumes runs. Call before the first Next(); 0 or 1 decodes
  // on the caller's thread. Readers with nothing to decode ignore it.
  virtual void SetThreads(int threads) { (void)threads; }
  virtual ReadProgress progress() const = 0;
  // Input bytes consumed so far (compressed bytes for a compressed stream).
  virtual uint64_t bytes_read() const = 0;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_DISK_READER_H_
