// Fakes for the batch runner's tests (batch_test.cc, batch_items_test.cc):
// items, a clock that moves only when told, an executor that records what
// it is asked and fails what it is told to, an observer that records.
// Test code only: no library file includes this.
#ifndef OVA2VIRT_PIPELINE_BATCH_TEST_FAKES_H_
#define OVA2VIRT_PIPELINE_BATCH_TEST_FAKES_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "batch/batch.h"
#include "tests/support/test_util.h"

namespace ova2virt::batch_testing {

// Named edits of an item, for the fingerprint tests.
using ItemEdits =
    std::vector<std::pair<const char*, std::function<void(BatchItem&)>>>;

// Checks that each edit of `base` changes its settings fingerprint (a done
// item would run again) or, with changes == false, leaves it alone.
inline void CheckFingerprintEdits(const BatchItem& base, const ItemEdits& edits,
                                  bool changes) {
  const std::string fp = SettingsFingerprint(base);
  for (const auto& [what, edit] : edits) {
    CAPTURE(what);
    BatchItem i = base;
    edit(i);
    CHECK((SettingsFingerprint(i) != fp) == changes);
  }
}

inline BatchItem Item(std::string key, std::string input = "") {
  BatchItem item;
  item.key = key;
  item.import.input = input.empty() ? "/srv/" + key + ".ova" : input;
  item.import.name = key;
  item.connect = "test:///default";
  return item;
}

// An export of domain `domain` to /exports/DOMAIN.ova.
inline BatchItem ExportItem(std::string domain) {
  BatchItem item;
  item.kind = BatchItemKind::kExport;
  item.key = domain + ".ova";
  item.export_request.domain = domain;
  item.export_request.output = "/exports/" + domain + ".ova";
  item.connect = "test:///default";
  return item;
}

inline BatchPlan Plan(size_t n) {
  BatchPlan plan;
  plan.path = "plan.json";
  for (size_t i = 0; i < n; ++i) {
    plan.items.push_back(Item("vm" + std::to_string(i)));
  }
  return plan;
}

inline SourceIdentity Source(std::string digest) {
  SourceIdentity s;
  s.digest = std::move(digest);
  return s;
}

// Time moves only when the test says so.
class FakeClock : public Clock {
 public:
  double Seconds() override {
    std::lock_guard<std::mutex> lock(mu);
    return now;
  }
  int64_t UnixTime() override { return 1700000000; }
  void Advance(double s) {
    std::lock_guard<std::mutex> lock(mu);
    now += s;
  }
  std::mutex mu;
  double now = 100;
};

// Records everything it is asked; fails what it is told to fail.
class FakeExecutor : public BatchExecutor {
 public:
  Result<SourceIdentity> Identify(const BatchItem& item) override {
    std::lock_guard<std::mutex> lock(mu);
    identified.push_back(item.key);
    if (unreadable.count(item.key)) {
      return NotFoundError(item.import.input + ": no such file");
    }
    auto it = digests.find(item.key);
    return Source(it != digests.end() ? it->second : "digest-" + item.key);
  }

  Result<bool> StillThere(const BatchItem& item,
                          const StateRecord& record) override {
    std::lock_guard<std::mutex> lock(mu);
    probed.push_back(item.key);
    if (unreachable.count(item.key)) {
      return FailedError("libvirt: cannot connect to " + Quote(item.connect));
    }
    if (item.kind == BatchItemKind::kExport) {
      return gone.count(item.key) == 0 && record.output.has_value();
    }
    return gone.count(item.key) == 0 && !record.domains.empty();
  }

  Status Connect(const std::string& connect) override {
    if (connect_delay.count() > 0) std::this_thread::sleep_for(connect_delay);
    std::lock_guard<std::mutex> lock(mu);
    ++connects[connect];
    if (down_hosts.count(connect)) {
      return FailedError("libvirt: cannot connect to " + Quote(connect) +
                         ": no answer within 1 s");
    }
    return OkStatus();
  }

  // How many hosts have an item running now.
  int HostsBusy() {
    return static_cast<int>(
        std::count_if(host_running.begin(), host_running.end(),
                      [](const auto& kv) { return kv.second > 0; }));
  }

  ItemWork Execute(const BatchItem& item, const SourceIdentity& source,
                   const ExecuteOptions& options) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      executed.push_back(item.key);
      last_options = options;
      ++running;
      ++started;
      peak = std::max(peak, running);
      int& on_host = host_running[item.connect];
      ++on_host;
      host_peak[item.connect] = std::max(host_peak[item.connect], on_host);
      hosts_peak = std::max(hosts_peak, HostsBusy());
    }
    if (during) during(item);
    if (wait_for_hosts > 0) {
      // Stay until that many hosts are busy at once (or no further item
      // can come): a scheduler that lets a host idle never gets there.
      std::unique_lock<std::mutex> lock(mu);
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(2), [&] {
        return HostsBusy() >= wait_for_hosts || started == total;
      });
    }
    bool left = false;  // counted out of running already
    if (wait_for_company) {
      // Stay until `jobs` items run at once (or no further item can come),
      // so the test proves the bound is reached and never exceeded. The
      // item that completes the group releases it and counts it out at
      // once, so that a released item slow to wake is not counted in the
      // next group.
      std::unique_lock<std::mutex> lock(mu);
      if (running >= options.jobs || started == total) {
        for (const std::string& c : group) {
          --running;
          --host_running[c];
        }
        group.clear();
        ++generation;
        cv.notify_all();
      } else {
        group.push_back(item.connect);
        const int g = generation;
        cv.wait_for(lock, std::chrono::seconds(5),
                    [&] { return generation != g || started == total; });
        if (generation == g) {
          group.erase(std::find(group.begin(), group.end(), item.connect));
        } else {
          left = true;
        }
      }
      if (!left) {
        --running;
        --host_running[item.connect];
        left = true;
      }
    }
    ItemWork work;
    if (item.kind == BatchItemKind::kExport) {
      // What RecordExportOutput makes of a package (given even on failure,
      // to show that only a success is recorded).
      RecordedOutput out;
      out.path = ExportOutputPath(item.export_request);
      out.size = 10240;
      out.manifest = item.export_request.domain + ".mf";
      out.manifest_sha256 = "manifest-of-" + source.digest;
      out.files = {{item.export_request.domain + ".ovf", 512, 2048},
                   {out.manifest, 3072, 200}};
      work.output = out;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!left) {
        --running;
        --host_running[item.connect];
      }
      cv.notify_all();
      auto fail = fail_with.find(item.key);
      if (fail != fail_with.end()) {
        work.status = fail->second;
        return work;
      }
      if (failing.count(item.key)) {
        work.status = CorruptError(item.import.input +
                                   ": member 'disk1.vmdk': digest mismatch");
        return work;
      }
    }
    if (item.kind == BatchItemKind::kImport) {
      work.domains = {item.import.name};
      work.volumes = {{"default", item.import.name + "-disk1.qcow2",
                       "/pool/" + item.import.name + "-disk1.qcow2"}};
    }
    work.warnings.Warn("policy.nic-substituted", "nic1",
                       "vmxnet3 became e1000 (" + source.digest + ")");
    if (options.dry_run) work.plan_text = "plan of " + item.key;
    return work;
  }

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::string> digests;
  std::set<std::string> unreadable, unreachable, gone, failing;
  std::map<std::string, Status> fail_with;  // Execute fails with this
  std::vector<std::string> identified, probed, executed;
  std::function<void(const BatchItem&)> during;
  ExecuteOptions last_options;
  bool wait_for_company = false;
  std::vector<std::string> group;  // wait_for_company: hosts of the waiters
  int generation = 0;              // groups released
  int running = 0, peak = 0, started = 0, total = 0;
  // Per host (item.connect): items running now, the most at once; the
  // most hosts busy at once; Connect() calls; hosts that do not answer.
  std::map<std::string, int> host_running, host_peak, connects;
  int hosts_peak = 0, wait_for_hosts = 0;
  std::set<std::string> down_hosts;
  std::chrono::milliseconds connect_delay{0};
};

class RecordingObserver : public BatchObserver {
 public:
  void ItemStarted(size_t index, const BatchItem& item) override {
    events.push_back("start " + std::to_string(index) + " " + item.key);
  }
  void ItemFinished(size_t index, const BatchItem& item,
                    const ItemResult& r) override {
    events.push_back("finish " + std::to_string(index) + " " + item.key + " " +
                     std::string(ItemStatusName(r.status)));
  }
  Status SaveState(const BatchState& state) override {
    ++saves;
    saved = state;
    if (fail_saves) return FailedError("plan.json.state: No space left");
    return OkStatus();
  }
  std::vector<std::string> events;
  int saves = 0;
  bool fail_saves = false;
  BatchState saved;
};

// A state in which `item` was done from `digest` with its current settings.
inline StateRecord DoneRecord(const BatchItem& item,
                              const std::string& digest) {
  StateRecord r;
  r.status = StateRecord::kDone;
  r.input = item.import.input;
  r.connect = item.connect;
  r.source = Source(digest);
  r.settings = SettingsFingerprint(item);
  r.domains = {item.import.name};
  r.volumes = {{"default", item.import.name + "-disk1.qcow2", ""}};
  r.finished = 1600000000;
  r.seconds = 42;
  return r;
}

}  // namespace ova2virt::batch_testing

#endif  // OVA2VIRT_PIPELINE_BATCH_TEST_FAKES_H_
