// A bounded set of equal-sized aligned buffers handed out as leases: a
// buffer comes back to the set when the last holder of its lease lets go,
// whichever thread that is, even after the set's owner is gone.
//
// Why: a disk reader inflates grains into such buffers, and the runs it
// yields carry the lease, so a sink that writes behind its caller
// (WriteBehindSink) keeps the lease instead of copying the run. The bound is
// what keeps memory flat: Take() waits while `limit` buffers are out, until
// the writer has written one.
#ifndef OVA2VIRT_CORE_LEASED_BUFFERS_H_
#define OVA2VIRT_CORE_LEASED_BUFFERS_H_

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "core/aligned_buffer.h"

namespace ova2virt {

class LeasedBuffers {
 public:
  // Buffers of `size` bytes, at most `limit` out at once.
  LeasedBuffers(size_t size, size_t limit);

  // A buffer of size() bytes (contents undefined), returned to the set when
  // the last copy of the pointer is dropped. Waits while `limit` are out:
  // the caller must not itself hold all of them.
  std::shared_ptr<AlignedBuffer> Take();

  size_t size() const { return size_; }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable returned;
    std::vector<AlignedBuffer> free;
    size_t out = 0;
  };
  size_t size_;
  size_t limit_;
  std::shared_ptr<State> state_;  // shared with the leases' deleters
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_LEASED_BUFFERS_H_
