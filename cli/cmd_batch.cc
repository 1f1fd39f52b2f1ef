// ova2virt batch PLAN [--jobs N] [--state FILE] [--dry-run] [--json] [-c URI]:
// many imports and exports from a plan file (CLI.md, docs/batch.md). The plan
// and state files are cli/batch_plan.h and cli/batch_state.h; the scheduling
// and skip/retry rules are batch/batch.h; the work is
// batch/batch_libvirt.h. This file prints: a line per item start and finish
// on stderr, then a table (or one JSON document) on stdout.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "batch/batch.h"
#include "batch/batch_libvirt.h"
#include "cli/batch_plan.h"
#include "cli/batch_state.h"
#include "cli/commands.h"
#include "cli/context.h"

namespace ova2virt::cli {
namespace {

constexpr int kMaxJobs = 64;

struct BatchArgs {
  std::string plan;
  std::string state;
  int jobs = 1;
  int jobs_per_host = 0;
  double connect_timeout = 20;
  bool dry_run = false;
};

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// What an item made, for its lines and the table: an export's output, an
// import's domains.
std::string Made(const BatchItem& item, const ItemResult& r) {
  if (item.kind == BatchItemKind::kExport) {
    return ExportOutputPath(item.export_request);
  }
  return Join(r.domains);
}

// What an item reads and where it writes, for its start line.
std::string Task(const BatchItem& item) {
  std::string task = item.kind == BatchItemKind::kExport
                         ? "export " + item.export_request.domain + " to " +
                               ExportOutputPath(item.export_request)
                         : "import " + item.import.input;
  return task + (item.connect.empty() ? "" : " over " + item.connect);
}

// The item lines on stderr (unless -q), and each item's warnings (unless
// -q or --json, whose report holds them).
class LinePrinter : public BatchObserver {
 public:
  LinePrinter(const Context& context, const BatchPlan& plan)
      : context_(context), total_(plan.items.size()) {}

  void ItemStarted(size_t index, const BatchItem& item) override {
    if (context_.common.quiet) return;
    Line(index, item, "started (" + Task(item) + ")");
  }

  void ItemFinished(size_t index, const BatchItem& item,
                    const ItemResult& r) override {
    if (context_.common.quiet) return;
    std::string what = std::string(ItemStatusName(r.status));
    switch (r.status) {
      case ItemStatus::kDone:
      case ItemStatus::kWouldRun:
        what += " (" + r.reason + ") in " + Seconds(r.seconds);
        if (!Made(item, r).empty()) what += ": " + Made(item, r);
        if (!r.warnings.empty()) {
          what += ", " + std::to_string(r.warnings.size()) + " warning" +
                  (r.warnings.size() == 1 ? "" : "s");
        }
        break;
      case ItemStatus::kSkipped:
      case ItemStatus::kWouldSkip:
        what += " (" + r.reason + ")";
        if (!Made(item, r).empty()) what += ": " + Made(item, r);
        break;
      case ItemStatus::kFailed:
        what += " in " + Seconds(r.seconds) + ": " + OneLine(r.error.message());
        break;
      case ItemStatus::kNotStarted:
        break;
    }
    Line(index, item, what);
    Diagnostics tagged;
    for (const Diagnostic& d : r.warnings.items()) {
      tagged.Warn(d.id, item.key + (d.where.empty() ? "" : ": " + d.where),
                  d.message);
    }
    context_.Warn(tagged);
    if (!r.plan_text.empty() && context_.common.verbose > 0 &&
        !context_.common.json) {
      std::fputs(r.plan_text.c_str(), stderr);
    }
  }

 private:
  void Line(size_t index, const BatchItem& item, const std::string& text) {
    std::fprintf(stderr, "[%zu/%zu] %s: %s\n", index + 1, total_,
                 Quote(item.key).c_str(), text.c_str());
  }
  const Context& context_;
  size_t total_;
};

// Saves the state after every item that ran, and prints the item lines.
class Observer : public LinePrinter {
 public:
  Observer(const Context& context, const BatchPlan& plan, std::string path)
      : LinePrinter(context, plan), path_(std::move(path)) {}
  Status SaveState(const BatchState& state) override {
    return SaveBatchState(path_, state);
  }

 private:
  std::string path_;
};

nlohmann::json ErrorJson(const Status& s) {
  if (s.ok()) return nullptr;
  return {{"code", std::string(ErrorCodeName(s.code()))},
          {"message", s.message()},
          {"exit_code", ExitCodeFor(s.code())}};
}

nlohmann::json ReportJson(const BatchPlan& plan, const BatchReport& report,
                          const std::string& state_path,
                          const BatchArgs& args) {
  nlohmann::json doc;
  doc["plan"] = plan.path;
  doc["state_file"] = state_path;
  doc["dry_run"] = args.dry_run;
  doc["jobs"] = args.jobs;
  doc["jobs_per_host"] = args.jobs_per_host == 0
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(args.jobs_per_host);
  doc["items"] = nlohmann::json::array();
  for (size_t i = 0; i < plan.items.size(); ++i) {
    const BatchItem& item = plan.items[i];
    const ItemResult& r = report.items[i];
    const bool exporting = item.kind == BatchItemKind::kExport;
    nlohmann::json j = {{"id", item.key},
                        {"kind", std::string(BatchItemKindName(item.kind))},
                        {"connect", item.connect},
                        {"status", std::string(ItemStatusName(r.status))},
                        {"reason", r.reason},
                        {"seconds", r.seconds},
                        {"domains", r.domains},
                        {"warnings_count", r.warnings.size()},
                        {"warnings", DiagnosticsJson(r.warnings)},
                        {"error", ErrorJson(r.error)}};
    // An import reads a package and names its domain (null: the
    // package's name); an export reads a domain and writes an output.
    const std::string& name =
        exporting ? item.export_request.domain : item.import.name;
    j["input"] =
        exporting ? nlohmann::json(nullptr) : nlohmann::json(item.import.input);
    j["name"] = name.empty() ? nlohmann::json(nullptr) : nlohmann::json(name);
    j["output"] = exporting
                      ? nlohmann::json(ExportOutputPath(item.export_request))
                      : nlohmann::json(nullptr);
    if (args.dry_run) j["plan"] = r.plan_text;
    doc["items"].push_back(std::move(j));
  }
  const BatchSummary& s = report.summary;
  doc["summary"] = {{"total", s.total},
                    {"done", s.done},
                    {"skipped", s.skipped},
                    {"failed", s.failed},
                    {"not_started", s.not_started},
                    {"would_run", s.would_run},
                    {"would_skip", s.would_skip},
                    {"seconds", s.seconds},
                    {"interrupted", s.interrupted},
                    {"abandoned", s.abandoned},
                    {"ok", s.ok}};
  doc["hosts"] = nlohmann::json::array();
  for (const HostSummary& h : report.hosts) {
    doc["hosts"].push_back(
        {{"connect", h.connect},
         {"items", h.items},
         {"done", h.done},
         {"skipped", h.skipped},
         {"failed", h.failed},
         {"not_started", h.not_started},
         {"peak_jobs", h.peak},
         {"seconds", h.seconds},
         {"bytes", h.bytes},
         {"bytes_per_second", h.throughput},
         {"unreachable", h.unreachable.empty()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(h.unreachable)}});
  }
  doc["state_error"] = ErrorJson(report.state_error);
  return doc;
}

// A key for the table: escaped as Quote() does, without the quotes.
std::string Shown(const std::string& key) {
  std::string q = Quote(key);
  return q.size() >= 2 ? q.substr(1, q.size() - 2) : q;
}

void PrintTable(const BatchPlan& plan, const BatchReport& report) {
  size_t width = 4;
  for (const BatchItem& item : plan.items) {
    width = std::max(width, Shown(item.key).size());
  }
  std::printf("%-*s  %-11s  %8s  %-8s  %s\n", static_cast<int>(width), "ITEM",
              "STATUS", "SECONDS", "WARNINGS", "DOMAINS / ERROR");
  for (size_t i = 0; i < plan.items.size(); ++i) {
    const ItemResult& r = report.items[i];
    std::string detail = r.status == ItemStatus::kFailed
                             ? OneLine(r.error.message())
                             : Made(plan.items[i], r);
    std::printf("%-*s  %-11s  %8.1f  %8zu  %s\n", static_cast<int>(width),
                Shown(plan.items[i].key).c_str(),
                std::string(ItemStatusName(r.status)).c_str(), r.seconds,
                r.warnings.size(), detail.c_str());
  }
  const BatchSummary& s = report.summary;
  std::string line = std::to_string(s.total) + " items: ";
  std::string parts;
  auto part = [&](size_t n, const char* what) {
    if (n == 0) return;
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  part(s.done, "done");
  part(s.skipped, "skipped");
  part(s.would_run, "would run");
  part(s.would_skip, "would skip");
  part(s.failed, "failed");
  part(s.not_started, "not started");
  std::printf("%s%s in %s%s\n", line.c_str(),
              parts.empty() ? "nothing to do" : parts.c_str(),
              Seconds(s.seconds).c_str(),
              s.interrupted ? " (interrupted)" : "");
  if (report.hosts.size() < 2 &&
      (report.hosts.empty() || report.hosts[0].unreachable.empty())) {
    return;
  }
  // Each host's share: items, outcome, and what it took in.
  size_t hw = 4;
  for (const HostSummary& h : report.hosts) {
    hw = std::max(hw, Shown(h.connect).size());
  }
  std::printf("%-*s  %5s  %4s  %7s  %6s  %4s  %8s  %8s\n", static_cast<int>(hw),
              "HOST", "ITEMS", "DONE", "SKIPPED", "FAILED", "PEAK", "SECONDS",
              "MB/S");
  for (const HostSummary& h : report.hosts) {
    std::printf("%-*s  %5zu  %4zu  %7zu  %6zu  %4zu  %8.1f  %8.1f%s\n",
                static_cast<int>(hw), Shown(h.connect).c_str(), h.items, h.done,
                h.skipped, h.failed, h.peak, h.seconds, h.throughput / 1e6,
                h.unreachable.empty() ? "" : "  (unreachable)");
  }
}

// Holds an exclusive lock on the plan file while a batch runs, so two runs
// of one plan cannot both import its items or write its state.
class PlanLock {
 public:
  static Result<PlanLock> Take(const std::string& plan) {
    int fd = ::open(plan.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(plan, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK) {
        return FailedError(plan +
                           ": another 'ova2virt batch' is running this plan");
      }
      return ErrnoError(plan, e);
    }
    return PlanLock(fd);
  }
  PlanLock(PlanLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~PlanLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit PlanLock(int fd) : fd_(fd) {}
  int fd_;
};

int RunBatchCommand(Context& context, const BatchArgs& args) {
  auto plan = LoadBatchPlan(args.plan, context.ConnectUri());
  if (!plan.ok()) return context.Fail(plan.status());
  std::string state_path =
      args.state.empty() ? DefaultStatePath(args.plan) : args.state;
  std::optional<PlanLock> lock;
  if (!args.dry_run) {
    auto taken = PlanLock::Take(args.plan);
    if (!taken.ok()) return context.Fail(taken.status());
    lock.emplace(std::move(taken).value());
  }
  auto state = LoadBatchState(state_path);
  if (!state.ok()) return context.Fail(state.status());
  if (!args.dry_run) {
    // Find out now, not after the first import, that the state cannot be
    // written: an import it does not record would be redone next time.
    Status writable = SaveBatchState(state_path, *state);
    if (!writable.ok()) return context.Fail(writable);
  }

  // Bars only when one item runs at a time: several at once would be noise.
  std::unique_ptr<Progress> progress;
  if (args.jobs == 1) progress = context.MakeProgress();
  LibvirtBatchExecutor executor(
      progress.get(), std::chrono::milliseconds(
                          static_cast<int64_t>(args.connect_timeout * 1000)));
  Observer observer(context, *plan, state_path);
  BatchOptions options;
  options.jobs = args.jobs;
  options.jobs_per_host = args.jobs_per_host;
  options.dry_run = args.dry_run;
  BatchReport report = RunBatch(*plan, *state, executor, options, &observer);

  if (context.common.json) {
    context.PrintJson(ReportJson(*plan, report, state_path, args));
  } else {
    PrintTable(*plan, report);
    if (!report.state_error.ok()) {
      std::fprintf(stderr, "ova2virt: %s\n",
                   OneLine(report.state_error.message()).c_str());
    }
  }
  // Out now: the report must reach its file even if the process is ended
  // before exit() flushes (a second signal, libvirt threads at exit).
  std::fflush(stdout);
  if (report.summary.abandoned > 0) {
    // Some items' threads are still blocked in libvirt calls that will not
    // return while their host is frozen (batch/batch.cc says why): end
    // the process without joining them or closing their connections (which
    // would block too). The state file is saved; their imports' journals
    // stay for the next run's cleanup, as after a crash.
    std::fflush(stderr);
    std::_Exit(1);
  }
  // 0 only when every item is done or skipped; the items' own codes are in
  // the report (docs/batch.md).
  return report.summary.ok ? 0 : 1;
}

}  // namespace

void AddBatchCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "batch",
      "run many imports and exports from a plan file; a re-run skips what is "
      "done and retries what failed");
  auto args = std::make_shared<BatchArgs>();
  cmd->add_option("PLAN", args->plan, "the plan file (JSON; see docs/batch.md)")
      ->required();
  cmd->add_option("-j,--jobs", args->jobs, "items to run at once")
      ->check(CLI::Range(1, kMaxJobs))
      ->capture_default_str();
  cmd->add_option("--jobs-per-host", args->jobs_per_host,
                  "items to run at once on one host (connection); a host's "
                  "max_jobs in the plan replaces it")
      ->check(CLI::Range(1, kMaxJobs));
  cmd->add_option("--connect-timeout", args->connect_timeout,
                  "seconds a host may take to answer before its items fail")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--state", args->state,
                  "the state file (default: beside the plan, NAME.state.json)");
  cmd->add_flag("--dry-run", args->dry_run,
                "decide and check every item, import and export nothing, "
                "write no state");
  AddCommonOptions(*cmd, context.common, /*with_connect=*/true);
  cmd->callback([&context, args] {
    context.exit_code = RunBatchCommand(context, *args);
  });
}

}  // namespace ova2virt::cli
