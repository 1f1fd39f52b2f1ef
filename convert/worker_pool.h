// A fixed set of worker threads for the parallel parts of a conversion:
// inflating grains ahead of the writer, deflating grains behind the reader.
// Jobs are submitted and waited for in order by one owner thread, which
// keeps every byte of output in order while the work runs in parallel.
#ifndef OVA2VIRT_CONVERT_WORKER_POOL_H_
#define OVA2VIRT_CONVERT_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace ova2virt {

class WorkerPool {
 public:
  // A unit of work. Run() executes on a worker thread (or on the owner's,
  // in Wait()); the job must stay alive until Wait() returned for it (or
  // the pool was destroyed).
  class Job {
   public:
    virtual ~Job() = default;
    virtual void Run() = 0;

   private:
    friend class WorkerPool;
    bool done_ = false;
  };

  explicit WorkerPool(int threads);
  // Drops jobs not yet started, waits for running ones, joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(Job* job);
  // Blocks until `job` has run; runs it on the calling thread if no worker
  // has started it.
  void Wait(Job* job);
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::deque<Job*> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_WORKER_POOL_H_
