#include "core/leased_buffers.h"

#include <algorithm>
#include <utility>

namespace ova2virt {

LeasedBuffers::LeasedBuffers(size_t size, size_t limit)
    : size_(size),
      limit_(std::max<size_t>(limit, 1)),
      state_(std::make_shared<State>()) {}

std::shared_ptr<AlignedBuffer> LeasedBuffers::Take() {
  AlignedBuffer buffer;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->returned.wait(lock, [&] { return state_->out < limit_; });
    ++state_->out;
    if (!state_->free.empty()) {
      buffer = std::move(state_->free.back());
      state_->free.pop_back();
    }
  }
  if (buffer.size() != size_) buffer.Resize(size_);
  // The deleter owns the buffer object and a share of the state: it puts
  // the memory back and wakes a waiting Take().
  std::shared_ptr<State> state = state_;
  return std::shared_ptr<AlignedBuffer>(
      new AlignedBuffer(std::move(buffer)), [state](AlignedBuffer* b) {
        {
          std::lock_guard<std::mutex> lock(state->mu);
          state->free.push_back(std::move(*b));
          --state->out;
        }
        delete b;
        state->returned.notify_one();
      });
}

}  // namespace ova2virt
