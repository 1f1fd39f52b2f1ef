#include "pipeline/batch.h"

#include <algorithm>
#include <chrono>
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
  Field(out, "format", r.format);
  Field(out, "disk_bus", r.policy.disk_bus);
  Field(out, "nic_model", r.policy.nic_model);
  Field(out, "virt_type", r.policy.virt_type);
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

// One run of the plan: the shared state of the workers.
class Runner {
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
  }

  BatchReport Run() {
    const double start = clock_.Seconds();
    size_t workers =
        std::min<size_t>(std::max(options_.jobs, 1), plan_.items.size());
    if (workers <= 1) {
      Work();
    } else {
      std::vector<std::thread> threads;
      threads.reserve(workers);
      for (size_t i = 0; i < workers; ++i) {
        threads.emplace_back([this] { Work(); });
      }
      for (std::thread& t : threads) t.join();
    }
    Summarize(clock_.Seconds() - start);
    return std::move(report_);
  }

 private:
  // Takes items until none is left, the user interrupts, or the state
  // cannot be saved.
  void Work() {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (next_ >= plan_.items.size() || stop_ || CancelRequested()) return;
        i = next_++;
        observer_.ItemStarted(i, plan_.items[i]);
      }
      std::optional<StateRecord> record;
      ItemResult result = RunItem(plan_.items[i], &record);
      std::lock_guard<std::mutex> lock(mu_);
      if (record) {
        state_.items[plan_.items[i].key] = std::move(*record);
        Status saved = observer_.SaveState(state_);
        if (!saved.ok() && report_.state_error.ok()) {
          report_.state_error = saved;
          stop_ = true;
        }
      }
      report_.items[i] = std::move(result);
      observer_.ItemFinished(i, plan_.items[i], report_.items[i]);
    }
  }

  std::optional<StateRecord> RecordOf(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = state_.items.find(key);
    if (it == state_.items.end()) return std::nullopt;
    return it->second;
  }

  // Decides and, unless the item is done, runs it. `record` receives the
  // item's new state record when it really ran.
  ItemResult RunItem(const BatchItem& item, std::optional<StateRecord>* out) {
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
    std::optional<StateRecord> previous = RecordOf(item.key);
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
    if (CancelRequested()) return finish(ItemStatus::kNotStarted);
    ExecuteOptions exec;
    exec.dry_run = options_.dry_run;
    exec.jobs = std::max(options_.jobs, 1);
    ItemWork work = executor_.Execute(item, *source, exec);
    r.domains = work.domains;
    r.warnings = std::move(work.warnings);
    r.plan_text = std::move(work.plan_text);
    r.error = work.status;
    ItemResult done = finish(!work.status.ok()  ? ItemStatus::kFailed
                             : options_.dry_run ? ItemStatus::kWouldRun
                                                : ItemStatus::kDone);
    if (!options_.dry_run) {
      StateRecord rec;
      rec.status = work.status.ok() ? StateRecord::kDone : StateRecord::kFailed;
      rec.kind = item.kind;
      rec.input = item.import.input;
      rec.connect = item.connect;
      rec.source = *source;
      rec.settings = settings;
      rec.domains = std::move(work.domains);
      rec.volumes = std::move(work.volumes);
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
    s.ok = s.failed == 0 && s.not_started == 0 && report_.state_error.ok();
  }

  const BatchPlan& plan_;
  BatchState& state_;
  BatchExecutor& executor_;
  const BatchOptions& options_;
  Clock& clock_;
  BatchObserver no_observer_;
  BatchObserver& observer_;
  std::mutex mu_;  // guards everything below, state_ and observer calls
  size_t next_ = 0;
  bool stop_ = false;
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

Clock& SystemClock() {
  static SystemClockImpl clock;
  return clock;
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
      // EXPORT: the ExportRequest's fields, once pipeline/export.h lands.
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
  return Runner(plan, state, executor, options, observer).Run();
}

}  // namespace ova2virt
