// Reads a streamOptimized VMDK front to back, with no seeking: from a pipe,
// or from a tar member as it flows past.
//
// Both layouts are read the same way, by walking the markers after the
// header area: VMware's (grains, a grain table after each stretch, the grain
// directory, a footer and an end-of-stream marker at the end; gdOffset "at
// end" in the header) and qemu-img's (directory and tables at the front,
// inside the header area, no footer and no end-of-stream marker: the file
// ends after the last grain). Every grain carries its own sector number, so
// grains may come in any order, and all-zero grains are simply absent. The
// footer is never needed before the data.
//
// How the end is known: VMware's layout ends with an end-of-stream marker,
// and a stream without one was cut short. qemu-img's has none, but its
// grain directory and tables pass by before the first grain: the reader
// reads them there, and the stream must deliver exactly the grains they
// list, at the offsets they give, before it ends (a running, keyed,
// order-free digest of (grain, sector) pairs on both sides: constant
// memory whatever the disk's size). Table entries that point into the
// header area (header, descriptor, directories, tables) are corrupt.
//
// Copies: the stream is read in chunks of about 1 MiB straight into the
// buffers the grains are inflated from (with ReadShared(), so a hashing tee
// underneath works on another core); only a grain cut by a chunk's end is
// moved, to the front of the next chunk. Grains are inflated into aligned
// buffers that the writer passes to the disk unchanged.
#ifndef OVA2VIRT_CONVERT_VMDK_STREAM_READER_H_
#define OVA2VIRT_CONVERT_VMDK_STREAM_READER_H_

#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "convert/disk_reader.h"
#include "convert/grain_set.h"
#include "convert/stream_cursor.h"
#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_format.h"
#include "convert/worker_pool.h"
#include "core/byte_stream.h"
#include "core/leased_buffers.h"

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
  ReadProgress progress() const override { return {Position(), input_size_}; }
  uint64_t bytes_read() const override { return bytes_read_; }

  const vmdk::SparseHeader& header() const { return header_; }
  // The embedded descriptor, when the stream has one.
  const VmdkDescriptor* descriptor() const {
    return has_descriptor_ ? &descriptor_ : nullptr;
  }

  struct Chunk;
  class Batch;

 private:
  VmdkStreamReader(ByteSource& source, std::unique_ptr<ByteSource> keep,
                   uint64_t input_size);
  Status ReadHeaderArea(StreamCursor& cursor);
  // qemu-img's layout: reads the grain directory at the header's gdOffset
  // and the tables it names as they pass by in the header area, and records
  // which grains must arrive. Does nothing if the header has no directory
  // there (VMware's layout). kCorrupt for entries that point into the
  // metadata, past the header area, or at overlapping tables.
  Status ReadDirectory(StreamCursor& cursor, uint64_t overhead_bytes);
  // At the stream's end (byte `end`): every grain the tables list arrived,
  // and nothing else. kCorrupt naming what is missing.
  Status CheckAllArrived(uint64_t end) const;
  // Fingerprints of (grain, sector) pairs: the sum over grains of
  // h(sector) * r^grain modulo 2^61-1, with h keyed and r drawn at random
  // per reader. Order-free, and a table's share can be summed before its
  // directory entry says which table it is (then scaled by r^first grain).
  struct TableSeen {
    uint64_t sector = 0;  // where the table's entries start
    uint64_t digest = 0;  // relative to the table's first grain
    uint64_t grains = 0;
    uint64_t last_entry = 0;
    uint64_t last_sector = 0;
    bool used = false;
  };
  void SeedDigest();
  uint64_t SectorHash(uint64_t sector) const;
  uint64_t PowR(uint64_t e) const;
  uint64_t GrainDigest(uint64_t grain, uint64_t sector) const;
  // Sums one grain table's entries into `out`; kCorrupt for an entry below
  // `first_grain_sector` (in the header area) or at/after `end_sector`.
  Status DigestTable(std::span<const uint8_t> table, const std::string& where,
                     uint64_t first_grain_sector, uint64_t end_sector,
                     TableSeen* out) const;
  // Counts table number `table` among the grains that must arrive.
  Status AddTable(uint64_t table, const TableSeen& seen,
                  const std::string& where);
  // VMware's layout: reads a grain table or directory marker's body at
  // `pos` (the chunk's current position). Sets *wait when `batch` must be
  // handed out before a new chunk can hold the body.
  Status ReadTableMarker(uint32_t type, uint64_t val, uint64_t pos,
                         Batch& batch, bool* wait);
  // The stream offset of the next byte to parse.
  uint64_t Position() const;
  // Bytes of the current chunk not parsed yet.
  size_t Available() const;
  // Starts a new chunk: moves the current one's unparsed tail to its front
  // and fills the rest from the stream (reading it in place: the grains are
  // inflated from where they landed). Skips `skip_` bytes first.
  Status Refill();
  // Parses markers into `batch` until it is full, the stream ended, or the
  // current chunk is used up (a batch's grains lie in one chunk).
  Status FillBatch(Batch& batch);
  // Done with `batch`: its chunk may be reused once no batch needs it.
  void Recycle(std::unique_ptr<Batch> batch);
  std::unique_ptr<Batch> TakeFreeBatch();

  ByteSource& source_;
  std::unique_ptr<ByteSource> keep_;
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

  // What the grain tables in the header area promise (qemu-img's layout),
  // and what arrived.
  bool tables_known_ = false;
  uint64_t gd_offset_bytes_ = 0;
  uint64_t expected_grains_ = 0;
  uint64_t expected_digest_ = 0;
  uint64_t last_expected_sector_ = 0;
  uint64_t arrived_grains_ = 0;
  uint64_t arrived_digest_ = 0;
  uint64_t digest_key_ = 0;
  uint64_t digest_r_ = 0;
  // VMware's layout: tables seen (in stream order), then the directory.
  std::vector<TableSeen> tables_seen_;
  bool directory_seen_ = false;
  bool tables_unchecked_ = false;
  uint64_t directory_sector_ = 0;

  // The compressed stream, in chunks read straight from the source.
  size_t chunk_capacity_ = 0;
  std::vector<std::unique_ptr<Chunk>> chunks_;  // all of them
  std::vector<Chunk*> free_chunks_;
  Chunk* chunk_ = nullptr;  // being parsed
  bool source_ended_ = false;
  uint64_t skip_ = 0;  // bytes of metadata still to skip in the stream
  uint64_t bytes_read_ = 0;
  uint64_t last_ticket_ = 0;  // of the source's ReadShared()

  std::unique_ptr<LeasedBuffers> outputs_;  // what batches inflate into
  std::vector<std::unique_ptr<Batch>> free_;
  std::deque<std::unique_ptr<Batch>> in_flight_;
  std::unique_ptr<Batch> current_;
  size_t run_index_ = 0;
  // Declared last: destroyed (joined) before the batches it works on.
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_VMDK_STREAM_READER_H_
