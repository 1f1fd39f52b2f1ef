// Internal to ova/: hashing a member's bytes on a thread of its own, behind
// the consumer. The consumer (a disk reader) reads a block, hands it to the
// queue and goes on decoding while the block is hashed; it reclaims the
// block (waits for its ticket) before overwriting it. So hashing and
// decoding run on different cores, and the hash still sees every byte
// once, in order.
#ifndef OVA2VIRT_OVA_HASH_QUEUE_H_
#define OVA2VIRT_OVA_HASH_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

#include "ova/parallel_hasher.h"

namespace ova2virt {

class HashQueue {
 public:
  HashQueue();
  // Hashes what is still queued (its owners have not reclaimed it, so it is
  // alive), then joins the thread.
  ~HashQueue();
  HashQueue(const HashQueue&) = delete;
  HashQueue& operator=(const HashQueue&) = delete;

  // Queues `data` to be hashed by `hasher` after everything queued before;
  // returns its ticket (1, 2, 3...). `data` and `hasher` must stay alive
  // and unchanged until WaitFor(ticket) returned.
  uint64_t Push(ParallelHasher& hasher, std::span<const uint8_t> data);
  // Blocks until everything up to `ticket` is hashed.
  void WaitFor(uint64_t ticket);
  // Blocks until everything queued is hashed.
  void WaitAll();

 private:
  struct Item {
    ParallelHasher* hasher;
    std::span<const uint8_t> data;
  };
  void Loop();

  std::mutex mu_;
  std::condition_variable work_, done_;
  std::deque<Item> queue_;
  uint64_t pushed_ = 0;
  uint64_t hashed_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_HASH_QUEUE_H_
