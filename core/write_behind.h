// A BlockSink that writes on a thread of its own, behind its caller.
//
// Why: the conversion loop reads, parses and hands grains to the inflating
// workers on one thread, and used to write there too. While that thread
// waited for the device (a direct write, typically 0.3-3 ms), nothing fed
// the workers, and once the batches in flight were inflated both cores sat
// idle: on a CPU-bound import the wait cost ~15 % of the wall time. Here a
// write is queued and the writer thread hands the queue to the inner sink
// in order, so the inner sink sees exactly the writes it would have seen,
// from one thread at a time. A leased write (WriteLeased(): a run straight
// from a reader's LeasedBuffers) is queued as it is, holding its lease;
// other writes are copied into buffers of this sink, aligned for direct I/O
// (copying the data instead of leasing it cost as much CPU as the overlap
// saved).
//
// Memory is bounded: a write waits while more than `budget` bytes are
// queued. Copy buffers are kept and reused.
//
// Errors: the first failed write is returned by a later call (WriteAt(),
// Flush(), SetSize() or Close()), and nothing more is written after it; as
// with GatheringBlockSink, Flush() or Close() before trusting the output.
#ifndef OVA2VIRT_CORE_WRITE_BEHIND_H_
#define OVA2VIRT_CORE_WRITE_BEHIND_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/byte_stream.h"

namespace ova2virt {

class WriteBehindSink : public BlockSink {
 public:
  explicit WriteBehindSink(BlockSink& inner, size_t budget = 8 << 20);
  // Drops what is still queued (an output being abandoned), joins the
  // thread. Call Flush() or Close() first to keep it.
  ~WriteBehindSink() override;
  WriteBehindSink(const WriteBehindSink&) = delete;
  WriteBehindSink& operator=(const WriteBehindSink&) = delete;

  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override;
  Status WriteLeased(uint64_t offset, std::span<const uint8_t> data,
                     const BufferLease& lease) override;
  // Waits for the queue, then sets the inner sink's size.
  Status SetSize(uint64_t size) override;
  // Waits for the queue, then closes the inner sink.
  Status Close() override;
  // Waits until everything queued is written; the first error, if any.
  Status Flush();

 private:
  struct Pending {
    uint64_t offset = 0;
    std::span<const uint8_t> data;  // in `buffer` or held by `lease`
    AlignedBuffer buffer;
    BufferLease lease;
  };
  // Waits for room for `bytes`; the first error instead, if there was one.
  Status WaitForRoom(std::unique_lock<std::mutex>& lock, size_t bytes);
  void Queue(std::unique_lock<std::mutex>& lock, Pending p);
  void Loop();
  // A buffer of at least `size` bytes, from the spare ones if one fits.
  AlignedBuffer TakeBuffer(size_t size);

  BlockSink& inner_;
  const size_t budget_;
  std::mutex mu_;
  std::condition_variable queued_, done_;
  std::deque<Pending> queue_;
  std::vector<AlignedBuffer> spare_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;  // the thread holds an item outside the queue
  bool stop_ = false;
  Status error_;        // the first failed write's
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_WRITE_BEHIND_H_
