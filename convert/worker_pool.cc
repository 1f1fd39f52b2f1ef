#include "convert/worker_pool.h"

namespace ova2virt {

WorkerPool::WorkerPool(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::Submit(Job* job) {
  {
    std::lock_guard lock(mu_);
    job->done_ = false;
    queue_.push_back(job);
  }
  work_.notify_one();
}

void WorkerPool::Wait(Job* job) {
  std::unique_lock lock(mu_);
  // Not started yet (its worker not woken, or descheduled by the other
  // stages' threads): run it here rather than wait for it to start.
  if (!job->done_ && !queue_.empty() && queue_.front() == job) {
    queue_.pop_front();
    lock.unlock();
    job->Run();
    lock.lock();
    job->done_ = true;
    return;
  }
  done_.wait(lock, [&] { return job->done_; });
}

void WorkerPool::Loop() {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = queue_.front();
      queue_.pop_front();
    }
    job->Run();
    {
      std::lock_guard lock(mu_);
      job->done_ = true;
    }
    done_.notify_all();
  }
}

}  // namespace ova2virt
