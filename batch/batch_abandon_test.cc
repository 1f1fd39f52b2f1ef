// The batch runner giving up on items blocked in libvirt (issue 15): a
// host whose connection was lost fails its items in flight after a grace
// period and its queued ones at once; an interruption ends the run after
// its grace period whatever the items do. Fakes stand for libvirt's calls
// that never return while a host is frozen.
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "batch/batch.h"
#include "batch/batch_test_fakes.h"
#include "core/cancel.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using batch_testing::FakeExecutor;
using batch_testing::Item;
using batch_testing::RecordingObserver;

const std::string kFrozen = "qemu+tcp://frozen/system";
const std::string kFine = "qemu+tcp://fine/system";

// Items of kFrozen block until released, except "f0", which fails as
// libvirt's keepalive makes the one call it wakes fail; Lost() is then
// true for kFrozen. Items of kFine run as FakeExecutor's do.
class FrozenHost : public FakeExecutor {
 public:
  ItemWork Execute(const BatchItem& item, const SourceIdentity& source,
                   const ExecuteOptions& options) override {
    if (item.connect != kFrozen) {
      return FakeExecutor::Execute(item, source, options);
    }
    std::unique_lock<std::mutex> lock(gate_mu);
    ++blocked;
    gate.notify_all();
    if (item.key == "f0" && fail_first) {
      // Fails once the others are in flight too.
      gate.wait_for(lock, std::chrono::seconds(5),
                    [&] { return blocked >= in_flight; });
      lost = true;
      --blocked;
      ++returned;
      ItemWork work;
      work.status = FailedError(
          "libvirt: internal error: connection closed due to keepalive "
          "timeout");
      return work;
    }
    gate.wait(lock, [&] { return released; });
    ++returned;
    gate.notify_all();
    ItemWork work;
    work.status = FailedError("libvirt: late");
    return work;
  }
  bool Lost(const std::string& connect) override {
    std::lock_guard<std::mutex> lock(gate_mu);
    return connect == kFrozen && lost;
  }
  // Lets the blocked calls return, and waits until they have.
  void Thaw(int calls) {
    std::unique_lock<std::mutex> lock(gate_mu);
    released = true;
    gate.notify_all();
    gate.wait(lock, [&] { return returned >= calls; });
  }

  std::mutex gate_mu;
  std::condition_variable gate;
  bool released = false, lost = false, fail_first = true;
  int blocked = 0, returned = 0, in_flight = 3;
};

BatchPlan FrozenPlan() {
  BatchPlan plan;
  plan.path = "plan.json";
  for (const char* key : {"f0", "f1", "f2", "f3", "f4"}) {
    BatchItem item = Item(key);
    item.connect = kFrozen;
    plan.items.push_back(std::move(item));
  }
  for (const char* key : {"ok0", "ok1"}) {
    BatchItem item = Item(key);
    item.connect = kFine;
    plan.items.push_back(std::move(item));
  }
  return plan;
}

// The threads of this process (/proc/self/task).
size_t ThreadCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// Waits (10 s at most) until the abandoned workers, released by Thaw, have
// exited: one still exiting when the test process ends would show as a leak
// of OpenSSL's per-thread state under LeakSanitizer. The CLI never waits:
// it ends with _Exit when workers were abandoned (cli/cmd_batch.cc).
bool AbandonedWorkersGone(size_t threads_before) {
  for (int i = 0; i < 1000; ++i) {
    if (ThreadCount() <= threads_before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TEST_CASE("batch abandon: a lost host fails its items in flight and queued") {
  BatchPlan plan = FrozenPlan();
  // The executor outlives the run and is never destroyed: abandoned
  // threads return into it, possibly while the test process exits.
  static FrozenHost& exec = *new FrozenHost;
  BatchState state;
  RecordingObserver observer;
  BatchOptions options;
  options.jobs = 4;
  options.jobs_per_host = 3;
  options.lost_host_grace = 0.3;
  const size_t threads_before = ThreadCount();
  const double start = Now();
  BatchReport r = RunBatch(plan, state, exec, options, &observer);
  const double took = Now() - start;
  CHECK(took < 3);
  CHECK(r.summary.abandoned == 2);
  CHECK(r.summary.failed == 5);
  CHECK(r.summary.done == 2);
  CHECK_FALSE(r.summary.interrupted);
  CHECK(r.items[0].error.message().find("keepalive") != std::string::npos);
  for (size_t i : {1, 2}) {
    CHECK(r.items[i].status == ItemStatus::kFailed);
    CHECK(r.items[i].error.message() ==
          "libvirt: connection to '" + kFrozen +
              "' lost; given up after waiting 0 s more for the host to "
              "answer");
    // Recorded as failed: the next run retries them.
    REQUIRE(state.items.count(plan.items[i].key) == 1);
    CHECK(state.items[plan.items[i].key].status == StateRecord::kFailed);
  }
  for (size_t i : {3, 4}) {
    CHECK(r.items[i].status == ItemStatus::kFailed);
    CHECK(r.items[i].reason == "target unreachable");
    CHECK(r.items[i].error.message().find("lost") != std::string::npos);
    CHECK(state.items.count(plan.items[i].key) == 0);
  }
  CHECK(observer.saved.items.size() == 5);  // f0, f1, f2, ok0, ok1
  REQUIRE(r.hosts.size() == 2);
  CHECK_FALSE(r.hosts[0].unreachable.empty());
  CHECK(r.hosts[1].done == 2);
  exec.Thaw(3);
  CHECK(AbandonedWorkersGone(threads_before));
}

TEST_CASE("batch abandon: an interruption ends the run after its grace") {
  BatchPlan plan = FrozenPlan();
  static FrozenHost& exec = *new FrozenHost;  // as above
  exec.fail_first = false;  // nothing wakes them: only the grace ends it
  BatchState state;
  BatchOptions options;
  options.jobs = 3;
  options.jobs_per_host = 3;
  options.cancel_grace = 0.2;
  const size_t threads_before = ThreadCount();
  std::thread interrupt([&] {
    std::unique_lock<std::mutex> lock(exec.gate_mu);
    exec.gate.wait(lock, [&] { return exec.blocked >= 3; });
    RequestCancel();
  });
  const double start = Now();
  BatchReport r = RunBatch(plan, state, exec, options, nullptr);
  const double took = Now() - start;
  interrupt.join();
  ResetCancel();
  CHECK(took < 3);
  CHECK(r.summary.interrupted);
  CHECK(r.summary.abandoned == 3);
  CHECK(r.summary.failed == 3);
  CHECK(r.summary.not_started == 2);  // f3, f4
  CHECK(r.summary.done == 2);         // ok0, ok1
  CHECK_FALSE(r.summary.ok);
  for (size_t i : {0, 1, 2}) {
    CHECK(r.items[i].error.code() == ErrorCode::kCancelled);
    CHECK(state.items[plan.items[i].key].status == StateRecord::kFailed);
  }
  exec.Thaw(3);
  CHECK(AbandonedWorkersGone(threads_before));
}

}  // namespace
}  // namespace ova2virt
