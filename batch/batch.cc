#include "batch/batch.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "core/cancel.h"
#include "core/digest.h"

namespace ova2virt {
namespace {

// Length-prefixed fields: no value can make two settings read alike.
void Field(std::string& out, std::string_view name, std::string_view value) {
  out += std::string(name) + " " + std::to_string(value.size()) + ":" +
         std::string(value) + "\n";
}

std::string_view NicKindName(NicBinding::Kind k) {
  switch (k) {
    case NicBinding::kNetwork:
      return "network";
    case NicBinding::kBridge:
      return "bridge";
    case NicBinding::kUser:
      return "user";
    case NicBinding::kNone:
      return "none";
  }
  return "?";
}

void ImportSettings(std::string& out, const ImportRequest& r) {
  Field(out, "name", r.name);
  Field(out, "pool", r.storage_dir.empty() ? r.pool : "");
  Field(out, "storage_dir", r.storage_dir);
  Field(out, "format", ToString(r.format));
  Field(out, "disk_bus", ToString(r.policy.disk_bus));
  Field(out, "nic_model", ToString(r.policy.nic_model));
  Field(out, "virt_type",
        r.policy.virt_type ? ToString(*r.policy.virt_type) : "");
  Field(out, "default_network", r.policy.default_network);
  std::vector<std::string> networks;
  for (const NetworkMapping& m : r.policy.networks) {
    std::string line;
    Field(line, "source", m.source);
    Field(line, "kind", NicKindName(m.kind));
    Field(line, "target", m.target);
    networks.push_back(std::move(line));
  }
  std::sort(networks.begin(), networks.end());
  for (const std::string& n : networks) Field(out, "network", n);
  Field(out, "vsys", r.vsys);
  Field(out, "deployment", r.deployment);
  std::vector<std::pair<std::string, std::string>> props = r.properties;
  std::sort(props.begin(), props.end());
  for (const auto& [k, v] : props) {
    Field(out, "prop", k);
    Field(out, "value", v);
  }
  Field(out, "verify", r.verify ? "yes" : "no");
}

// What the package holds and how it is laid out. Not the output's path
// (StillThere looks there), not live, download or threads: they change
// how the disks are read, not the bytes written. Which key signs is the
// certificate's business, and the certificate is part of the source's
// identity (batch_export.h).
void ExportSettings(std::string& out, const ExportRequest& r) {
  Field(out, "domain", r.domain);
  Field(out, "layout", r.ovf_dir.empty() ? "ova" : "ovf-dir");
  Field(out, "ovf_version", std::to_string(r.ovf_version));
  Field(out, "digest", DigestName(r.digest));
  Field(out, "signed", r.sign_cert.empty() ? "no" : "yes");
  Field(out, "media", r.policy.include_media ? "yes" : "no");
}

class SystemClockImpl : public Clock {
 public:
  double Seconds() override {
    return std::chrono::duration<double>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t UnixTime() override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

double SteadySeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One run of the plan: the shared state of the workers.
//
// Workers are threads that share the Runner. Run() waits until they are
// done or until it gives up on the items still in flight (Abandon); it then
// joins every worker but the abandoned ones, which it detaches. That is a
// libvirt client limitation: when keepalive closes a connection that several
// threads are calling on, libvirt 9.0 wakes only one of the waiting calls; the
// others stay blocked until the host answers again (a libvirtd frozen by
// SIGSTOP: one item fails after ~20 s, the others wait for as long as the host
// is frozen). Nothing in the client can wake them, so the batch stops waiting
// instead: the item is failed, its thread left behind (it touches only the
// Runner and the executor from then on), and the caller ends the process
// without joining it. The others are joined, so that no thread is still exiting
// (OpenSSL's per-thread state being freed) when the process ends. An abandoned
// import's journal stays on disk and the next contact with the host cleans it
// up, as after a crash.
class Runner : public std::enable_shared_from_this<Runner> {
 public:
  Runner(const BatchPlan& plan, BatchState& state, BatchExecutor& executor,
         const BatchOptions& options, BatchObserver* observer)
      : plan_(plan),
        state_(state),
        executor_(executor),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : SystemClock()),
        observer_(observer != nullptr ? *observer : no_observer_) {
    report_.items.resize(plan.items.size());
    running_.resize(plan.items.size());
    abandoned_.resize(plan.items.size());
  }

  BatchReport Run() {
    const double start = clock_.Seconds();
    const int jobs = std::max(options_.jobs, 1);
    for (size_t i = 0; i < plan_.items.size(); ++i) {
      const std::string& connect = plan_.items[i].connect;
      auto [it, added] = host_of_.emplace(connect, hosts_.size());
      if (added) {
        Host h;
        h.connect = connect;
        auto limit = plan_.max_jobs.find(connect);
        h.limit = limit != plan_.max_jobs.end() ? limit->second
                  : options_.jobs_per_host > 0  ? options_.jobs_per_host
                                                : jobs;
        h.limit = std::clamp(h.limit, 1, jobs);
        hosts_.push_back(std::move(h));
      }
      hosts_[it->second].queue.push_back(i);
    }
    queued_ = plan_.items.size();
    std::unique_lock<std::mutex> lock(mu_);
    const size_t workers = std::min<size_t>(jobs, plan_.items.size());
    for (size_t i = 0; i < workers; ++i) Spawn();
    WaitForWorkers(lock);
    // Workers not abandoned have returned or are about to (nothing is
    // left for them to take).
    std::vector<std::thread> threads = std::move(threads_);
    std::vector<bool> abandoned_workers = worker_abandoned_;
    lock.unlock();
    for (size_t w = 0; w < threads.size(); ++w) {
      if (abandoned_workers[w]) {
        threads[w].detach();
      } else {
        threads[w].join();
      }
    }
    lock.lock();
    Summarize(clock_.Seconds() - start);
    return std::move(report_);
  }

 private:
  // A connection's share of the plan.
  struct Host {
    std::string connect;
    std::deque<size_t> queue;  // its items not taken yet, in plan order
    int limit = 1;             // items at once
    int running = 0;
    size_t peak = 0;
    bool connecting = false;  // an item is in Connect(): the others wait
    Status down;              // not ok: the host did not answer
    double lost_since = -1;   // SteadySeconds() its connection was lost
    double first_start = -1, last_end = 0;
  };

  // An item being worked on, for Abandon.
  struct Running {
    size_t worker = 0;  // threads_ index
    double start = 0;   // clock_
    std::string reason;
    std::optional<SourceIdentity> source;  // set once it is executing
    std::string settings;
  };

  // A worker more (called with mu_ held).
  void Spawn() {
    ++live_;
    const size_t w = threads_.size();
    worker_abandoned_.push_back(false);
    threads_.emplace_back([self = shared_from_this(), w] { self->Work(w); });
  }

  // Waits until every worker is done, giving up on items still in flight
  // `cancel_grace` seconds after an interruption, or `lost_host_grace`
  // seconds after their host's connection was lost (see the class
  // comment). Abandoned workers are replaced while items are queued.
  void WaitForWorkers(std::unique_lock<std::mutex>& lock) {
    double cancel_seen = -1;
    while (live_ > 0) {
      const double now = SteadySeconds();
      if (CancelRequested()) {
        if (cancel_seen < 0) cancel_seen = now;
        if (now - cancel_seen >= options_.cancel_grace) {
          for (size_t i = 0; i < running_.size(); ++i) {
            if (!running_[i]) continue;
            Abandon(i, CancelledError("interrupted: still waiting on " +
                                      HostName(plan_.items[i].connect) + " " +
                                      std::to_string(static_cast<int>(
                                          options_.cancel_grace)) +
                                      " s after the interruption; given up"));
          }
          return;
        }
      }
      for (size_t i = 0; i < running_.size(); ++i) {
        Host& host = HostOf(i);
        if (!running_[i] || host.lost_since < 0 ||
            now - host.lost_since < options_.lost_host_grace) {
          continue;
        }
        Abandon(i,
                FailedError(
                    "libvirt: connection to " + HostName(host.connect) +
                    " lost; given up after waiting " +
                    std::to_string(static_cast<int>(options_.lost_host_grace)) +
                    " s more for the host to answer"));
        if (queued_ > 0 && !stop_ && !CancelRequested()) Spawn();
      }
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  static std::string HostName(const std::string& connect) {
    return connect.empty() ? "the default host" : "'" + connect + "'";
  }

  // Fails item `i`, whose worker is blocked, without waiting for it: its
  // state record says it failed when it had started executing (a re-run
  // retries it), and is left as it was before that.
  void Abandon(size_t i, Status why) {
    Running& run = *running_[i];
    Host& host = HostOf(i);
    --host.running;
    --live_;
    host.last_end = clock_.Seconds();
    ItemResult r;
    r.status = ItemStatus::kFailed;
    r.reason = run.reason;
    r.seconds = clock_.Seconds() - run.start;
    r.error = std::move(why);
    if (run.source && !options_.dry_run) {
      const BatchItem& item = plan_.items[i];
      StateRecord rec;
      rec.kind = item.kind;
      rec.input = item.kind == BatchItemKind::kExport
                      ? item.export_request.domain
                      : item.import.input;
      rec.connect = item.connect;
      rec.source = *run.source;
      rec.settings = run.settings;
      rec.finished = clock_.UnixTime();
      rec.seconds = r.seconds;
      rec.error = r.error.message();
      state_.items[item.key] = std::move(rec);
      Status saved = observer_.SaveState(state_);
      if (!saved.ok() && report_.state_error.ok()) {
        report_.state_error = saved;
        stop_ = true;
      }
    }
    worker_abandoned_[run.worker] = true;
    running_[i].reset();
    abandoned_[i] = true;
    ++abandoned_count_;
    report_.items[i] = std::move(r);
    observer_.ItemFinished(i, plan_.items[i], report_.items[i]);
    cv_.notify_all();
  }

  // The next item to take (and its host), waiting while every host with
  // items left is at its limit; nullopt when nothing is left or the run
  // stops. Items of an unreachable host come first: they fail at once.
  // Otherwise the host with the fewest items running, ties to the one
  // whose next item comes first in the plan.
  std::optional<size_t> Take(std::unique_lock<std::mutex>& lock) {
    for (;;) {
      if (queued_ == 0 || stop_ || CancelRequested()) return std::nullopt;
      Host* best = nullptr;
      for (Host& h : hosts_) {
        if (h.queue.empty()) continue;
        if (!h.down.ok()) {
          best = &h;
          break;
        }
        if (h.connecting || h.running >= h.limit) continue;
        if (best == nullptr || h.running < best->running ||
            (h.running == best->running &&
             h.queue.front() < best->queue.front())) {
          best = &h;
        }
      }
      if (best != nullptr) {
        size_t i = best->queue.front();
        best->queue.pop_front();
        --queued_;
        return i;
      }
      // Woken when an item ends; the timeout notices an interruption.
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  Host& HostOf(size_t i) { return hosts_[host_of_.at(plan_.items[i].connect)]; }

  // An item of a host that does not answer: failed, one line, its state
  // record untouched.
  void Unreachable(size_t i, const Status& why) {
    ItemResult r;
    r.status = ItemStatus::kFailed;
    r.reason = "target unreachable";
    r.error = why;
    Finished(i, std::move(r), std::nullopt);
  }

  // Where every item's outcome is recorded (under mu_): a failure names
  // its host, whatever call failed (a host that dies mid-upload says only
  // "cannot write data: Broken pipe"); its state record, if it ran, is
  // saved; the observer is told.
  void Finished(size_t i, ItemResult result,
                std::optional<StateRecord> record) {
    const BatchItem& item = plan_.items[i];
    if (result.status == ItemStatus::kFailed && !result.error.ok() &&
        !item.connect.empty() &&
        result.error.message().find(item.connect) == std::string::npos) {
      result.error = result.error.WithContext(item.connect);
      if (record) record->error = result.error.message();
    }
    if (record) {
      state_.items[item.key] = std::move(*record);
      Status saved = observer_.SaveState(state_);
      if (!saved.ok() && report_.state_error.ok()) {
        report_.state_error = saved;
        stop_ = true;
      }
    }
    report_.items[i] = std::move(result);
    observer_.ItemFinished(i, item, report_.items[i]);
  }

  // Takes items until none is left, the user interrupts, or the state
  // cannot be saved; or until its item is abandoned.
  void Work(size_t worker) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      std::optional<size_t> taken = Take(lock);
      if (!taken) {
        --live_;
        cv_.notify_all();
        return;
      }
      const size_t i = *taken;
      Host& host = HostOf(i);
      if (!host.down.ok()) {
        Unreachable(i, host.down);
        continue;
      }
      ++host.running;
      running_[i] = Running{worker, clock_.Seconds(), "", std::nullopt, ""};
      host.connecting = true;
      lock.unlock();
      Status reached = executor_.Connect(host.connect);
      lock.lock();
      host.connecting = false;
      if (abandoned_[i]) return;
      if (!reached.ok()) {
        host.down = reached;
        running_[i].reset();
        --host.running;
        Unreachable(i, reached);
        cv_.notify_all();
        continue;
      }
      host.peak = std::max<size_t>(host.peak, host.running);
      if (host.first_start < 0) host.first_start = clock_.Seconds();
      observer_.ItemStarted(i, plan_.items[i]);
      running_[i]->start = clock_.Seconds();
      cv_.notify_all();                 // the host's other items may go now
      BatchItem item = plan_.items[i];  // copied while it cannot be abandoned
      lock.unlock();
      std::optional<StateRecord> record;
      ItemResult result = RunItem(i, std::move(item), &record);
      lock.lock();
      if (abandoned_[i]) return;  // failed already; see the class comment
      if (result.status == ItemStatus::kFailed && host.down.ok()) {
        // A lost connection (keepalive gave up on a frozen host, or the
        // host went away): its other items in flight are given up after
        // a grace period, its queued ones fail at once.
        lock.unlock();
        const bool lost = executor_.Lost(host.connect);
        lock.lock();
        if (abandoned_[i]) return;
        if (lost && host.down.ok()) {
          host.down =
              FailedError("libvirt: connection to " + HostName(host.connect) +
                          " lost: " + result.error.message());
          host.lost_since = SteadySeconds();
        }
      }
      running_[i].reset();
      --host.running;
      host.last_end = clock_.Seconds();
      Finished(i, std::move(result), std::move(record));
      cv_.notify_all();
    }
  }

  // Item `i`'s state record, read under the lock that Abandon takes: the
  // caller's BatchState is not touched once `i` is abandoned (RunBatch may
  // have returned); `*abandoned` says so.
  std::optional<StateRecord> RecordOf(size_t i, const std::string& key,
                                      bool* abandoned) {
    std::lock_guard<std::mutex> lock(mu_);
    *abandoned = abandoned_[i];
    if (*abandoned) return std::nullopt;
    auto it = state_.items.find(key);
    if (it == state_.items.end()) return std::nullopt;
    return it->second;
  }

  // Decides and, unless the item is done, runs it. `record` receives the
  // item's new state record when it really ran. `item` is a copy: an
  // abandoned worker may outlive the plan. After each call that may block,
  // it touches only what the Runner owns (options_ is a copy; the clock is
  // SystemClock, never destroyed, or the caller's), or checks under mu_.
  ItemResult RunItem(size_t i, const BatchItem item,
                     std::optional<StateRecord>* out) {
    ItemResult r;
    const double start = clock_.Seconds();
    auto finish = [&](ItemStatus status) {
      r.status = status;
      r.seconds = clock_.Seconds() - start;
      return std::move(r);
    };
    Result<SourceIdentity> source = executor_.Identify(item);
    if (!source.ok()) {
      r.error = source.status();
      r.reason = "source unreadable";
      return finish(ItemStatus::kFailed);
    }
    const std::string settings = SettingsFingerprint(item);
    bool abandoned = false;
    std::optional<StateRecord> previous = RecordOf(i, item.key, &abandoned);
    if (abandoned) return finish(ItemStatus::kFailed);  // Work drops it
    std::optional<std::string> why =
        ReasonToRun(previous ? &*previous : nullptr, *source, settings);
    if (!why) {
      Result<bool> there = executor_.StillThere(item, *previous);
      if (!there.ok()) {
        r.error = there.status();
        r.reason = "target unreachable";
        return finish(ItemStatus::kFailed);
      }
      if (*there) {
        r.reason = "done before";
        r.domains = previous->domains;
        return finish(options_.dry_run ? ItemStatus::kWouldSkip
                                       : ItemStatus::kSkipped);
      }
      why = "target changed";
    }
    r.reason = *why;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (CancelRequested()) return finish(ItemStatus::kNotStarted);
      if (running_[i]) {
        running_[i]->reason = r.reason;
        running_[i]->source = *source;
        running_[i]->settings = settings;
      }
    }
    ExecuteOptions exec;
    exec.dry_run = options_.dry_run;
    exec.jobs = std::max(options_.jobs, 1);
    ItemWork work = executor_.Execute(item, *source, exec);
    r.domains = work.domains;
    r.warnings = std::move(work.warnings);
    r.plan_text = std::move(work.plan_text);
    r.bytes = work.bytes;
    r.error = work.status;
    ItemResult done = finish(!work.status.ok()  ? ItemStatus::kFailed
                             : options_.dry_run ? ItemStatus::kWouldRun
                                                : ItemStatus::kDone);
    if (!options_.dry_run) {
      StateRecord rec;
      rec.status = work.status.ok() ? StateRecord::kDone : StateRecord::kFailed;
      rec.kind = item.kind;
      rec.input = item.kind == BatchItemKind::kExport
                      ? item.export_request.domain
                      : item.import.input;
      rec.connect = item.connect;
      rec.source = *source;
      rec.settings = settings;
      rec.domains = std::move(work.domains);
      rec.volumes = std::move(work.volumes);
      if (work.status.ok()) rec.output = std::move(work.output);
      rec.finished = clock_.UnixTime();
      rec.seconds = done.seconds;
      rec.error = work.status.ok() ? "" : work.status.message();
      *out = std::move(rec);
    }
    return done;
  }

  void Summarize(double seconds) {
    BatchSummary& s = report_.summary;
    s.total = report_.items.size();
    for (const ItemResult& r : report_.items) {
      switch (r.status) {
        case ItemStatus::kDone:
          ++s.done;
          break;
        case ItemStatus::kSkipped:
          ++s.skipped;
          break;
        case ItemStatus::kFailed:
          ++s.failed;
          break;
        case ItemStatus::kNotStarted:
          ++s.not_started;
          break;
        case ItemStatus::kWouldRun:
          ++s.would_run;
          break;
        case ItemStatus::kWouldSkip:
          ++s.would_skip;
          break;
      }
    }
    s.seconds = seconds;
    s.interrupted = CancelRequested();
    s.abandoned = abandoned_count_;
    for (const Host& h : hosts_) {
      HostSummary hs;
      hs.connect = h.connect;
      hs.peak = h.peak;
      hs.seconds = h.first_start < 0 ? 0 : h.last_end - h.first_start;
      if (!h.down.ok()) hs.unreachable = h.down.message();
      report_.hosts.push_back(std::move(hs));
    }
    for (size_t i = 0; i < report_.items.size(); ++i) {
      const ItemResult& r = report_.items[i];
      HostSummary& hs = report_.hosts[host_of_.at(plan_.items[i].connect)];
      ++hs.items;
      hs.bytes += r.bytes;
      switch (r.status) {
        case ItemStatus::kDone:
        case ItemStatus::kWouldRun:
          ++hs.done;
          break;
        case ItemStatus::kSkipped:
        case ItemStatus::kWouldSkip:
          ++hs.skipped;
          break;
        case ItemStatus::kFailed:
          ++hs.failed;
          break;
        case ItemStatus::kNotStarted:
          ++hs.not_started;
          break;
      }
    }
    for (HostSummary& hs : report_.hosts) {
      if (hs.seconds > 0) hs.throughput = hs.bytes / hs.seconds;
    }
    s.ok = s.failed == 0 && s.not_started == 0 && report_.state_error.ok();
  }

  const BatchPlan& plan_;
  BatchState& state_;
  BatchExecutor& executor_;
  // A copy: abandoned workers outlive the caller's.
  const BatchOptions options_;
  Clock& clock_;
  BatchObserver no_observer_;
  BatchObserver& observer_;
  std::mutex mu_;  // guards everything below, state_ and observer calls
  std::condition_variable cv_;  // an item ended, or a host answered
  std::vector<Host> hosts_;
  std::map<std::string, size_t> host_of_;  // connect -> hosts_ index
  size_t queued_ = 0;                      // items not taken yet
  bool stop_ = false;
  size_t live_ = 0;                     // workers running and not abandoned
  std::vector<std::thread> threads_;    // every worker, by index
  std::vector<bool> worker_abandoned_;  // by threads_ index
  std::vector<std::optional<Running>> running_;  // by item index
  std::vector<bool> abandoned_;                  // by item index
  size_t abandoned_count_ = 0;
  BatchReport report_;
};

}  // namespace

std::string_view BatchItemKindName(BatchItemKind kind) {
  switch (kind) {
    case BatchItemKind::kImport:
      return "import";
    case BatchItemKind::kExport:
      return "export";
  }
  return "?";
}

std::string_view ItemStatusName(ItemStatus s) {
  switch (s) {
    case ItemStatus::kDone:
      return "done";
    case ItemStatus::kSkipped:
      return "skipped";
    case ItemStatus::kFailed:
      return "failed";
    case ItemStatus::kNotStarted:
      return "not-started";
    case ItemStatus::kWouldRun:
      return "would-run";
    case ItemStatus::kWouldSkip:
      return "would-skip";
  }
  return "?";
}

const std::string& ExportOutputPath(const ExportRequest& request) {
  return request.output.empty() ? request.ovf_dir : request.output;
}

Clock& SystemClock() {
  // Never destroyed: an abandoned worker (Runner) may still read the clock
  // while the process exits and destroys its statics.
  static SystemClockImpl* const clock = new SystemClockImpl;
  return *clock;
}

std::string SettingsFingerprint(const BatchItem& item) {
  std::string text = "ova2virt batch settings 1\n";
  Field(text, "kind", BatchItemKindName(item.kind));
  Field(text, "connect", item.connect);
  switch (item.kind) {
    case BatchItemKind::kImport:
      ImportSettings(text, item.import);
      break;
    case BatchItemKind::kExport:
      ExportSettings(text, item.export_request);
      break;
  }
  return DigestHex(DigestAlgorithm::kSha256, AsBytes(text));
}

std::optional<std::string> ReasonToRun(const StateRecord* record,
                                       const SourceIdentity& source,
                                       const std::string& settings) {
  if (record == nullptr) return "new";
  if (record->status != StateRecord::kDone) return "failed before";
  if (record->source.digest != source.digest) return "source changed";
  if (record->settings != settings) return "settings changed";
  return std::nullopt;
}

BatchReport RunBatch(const BatchPlan& plan, BatchState& state,
                     BatchExecutor& executor, const BatchOptions& options,
                     BatchObserver* observer) {
  return std::make_shared<Runner>(plan, state, executor, options, observer)
      ->Run();
}

}  // namespace ova2virt
