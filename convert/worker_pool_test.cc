// The pool behind parallel inflate and deflate: every job runs exactly
// once, and Wait() runs a job no worker has started on the waiting thread
// (the conversion thread must not sit idle while its next batch waits for
// a worker to wake).
#include "convert/worker_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

class CountingJob : public WorkerPool::Job {
 public:
  void Run() override {
    runs.fetch_add(1);
    thread = std::this_thread::get_id();
  }
  std::atomic<int> runs{0};
  std::thread::id thread;
};

// Holds its worker until Release().
class GateJob : public WorkerPool::Job {
 public:
  void Run() override {
    std::unique_lock<std::mutex> lock(mu_);
    started_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }
  void WaitStarted() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return started_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false, released_ = false;
};

TEST_CASE("worker pool: a job no worker has started runs on the waiter") {
  WorkerPool pool(1);
  GateJob busy;
  pool.Submit(&busy);
  busy.WaitStarted();  // the only worker is taken
  CountingJob next;
  // The owner submits and waits on a thread of its own, so that a Wait()
  // that waits for the busy worker fails this test instead of hanging it.
  std::thread::id owner;
  std::promise<void> waited;
  std::future<void> returned = waited.get_future();
  std::thread waiter([&] {
    owner = std::this_thread::get_id();
    pool.Submit(&next);
    pool.Wait(&next);
    waited.set_value();
  });
  const bool in_time =
      returned.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  busy.Release();  // lets a wrong Wait() finish too
  waiter.join();
  pool.Wait(&busy);
  CHECK(in_time);
  CHECK(next.runs.load() == 1);
  CHECK(next.thread == owner);
}

TEST_CASE("worker pool: every job runs once, whoever runs it") {
  WorkerPool pool(2);
  std::vector<std::unique_ptr<CountingJob>> jobs;
  for (int round = 0; round < 200; ++round) {
    // A window of jobs in flight, waited for in order, as a reader does.
    for (int i = 0; i < 4; ++i) {
      jobs.push_back(std::make_unique<CountingJob>());
      pool.Submit(jobs.back().get());
    }
    for (size_t i = jobs.size() - 4; i < jobs.size(); ++i) {
      pool.Wait(jobs[i].get());
    }
  }
  int on_waiter = 0;
  for (const auto& job : jobs) {
    CHECK(job->runs.load() == 1);
    if (job->thread == std::this_thread::get_id()) ++on_waiter;
  }
  MESSAGE("jobs run by the waiting thread: " << on_waiter << " of "
                                             << jobs.size());
}

}  // namespace
}  // namespace ova2virt
