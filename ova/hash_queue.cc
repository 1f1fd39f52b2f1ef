#include "ova/hash_queue.h"

namespace ova2virt {

HashQueue::HashQueue() : thread_([this] { Loop(); }) {}

HashQueue::~HashQueue() {
  WaitAll();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

uint64_t HashQueue::Push(ParallelHasher& hasher,
                         std::span<const uint8_t> data) {
  uint64_t ticket;
  {
    std::lock_guard lock(mu_);
    queue_.push_back({&hasher, data});
    ticket = ++pushed_;
  }
  work_.notify_one();
  return ticket;
}

void HashQueue::WaitFor(uint64_t ticket) {
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return hashed_ >= ticket; });
}

void HashQueue::WaitAll() {
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return hashed_ >= pushed_; });
}

void HashQueue::Loop() {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      item = queue_.front();
    }
    item.hasher->Update(item.data);
    {
      std::lock_guard lock(mu_);
      queue_.pop_front();
      ++hashed_;
    }
    done_.notify_all();
  }
}

}  // namespace ova2virt
