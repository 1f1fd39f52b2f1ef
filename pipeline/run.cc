#include "pipeline/run.h"

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "core/cancel.h"
#include "core/file.h"
#include "virtdriver/connection.h"
#include "virtdriver/console.h"

namespace ova2virt {
namespace {

namespace fs = std::filesystem;

// A directory for the run, removed on destruction unless kept.
class RunRoot {
 public:
  static Result<RunRoot> Make(const std::string& keep_dir,
                              const char* base = nullptr) {
    RunRoot r;
    std::error_code ec;
    if (!keep_dir.empty()) {
      fs::create_directories(keep_dir, ec);
      if (ec) return FailedError(keep_dir + ": " + ec.message());
      r.path_ = fs::absolute(keep_dir, ec).string();
      r.keep_ = true;
      return r;
    }
    const char* tmp = base ? base : getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/var/tmp") +
                       (base ? "/o2v-XXXXXX" : "/ova2virt-run-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) return ErrnoError(tmpl, errno);
    r.path_ = tmpl;
    return r;
  }
  RunRoot() = default;
  RunRoot(RunRoot&& o) noexcept : path_(std::move(o.path_)), keep_(o.keep_) {
    o.path_.clear();
  }
  ~RunRoot() {
    if (!keep_ && !path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Follows a growing file (a serial log), passing new bytes on.
class LogFollower {
 public:
  explicit LogFollower(std::string path) : path_(std::move(path)) {}
  Status Pump(ByteSink* out) {
    if (out == nullptr) return OkStatus();
    if (!file_.valid()) {
      auto f = File::OpenRead(path_);
      if (!f.ok()) return OkStatus();  // QEMU has not created it yet
      file_ = std::move(f).value();
    }
    uint8_t buf[16384];
    for (;;) {
      ASSIGN_OR_RETURN(size_t n, file_.ReadAt(offset_, buf));
      if (n == 0) return OkStatus();
      RETURN_IF_ERROR(out->Write({buf, n}));
      offset_ += n;
    }
  }

 private:
  std::string path_;
  File file_;
  uint64_t offset_ = 0;
};

// Moves the user's keystrokes to the console. What the guest prints is read
// from the log file (LogFollower); the stream's copy is dropped.
Status PumpConsole(Console& console, const RunRequest& request) {
  uint8_t buf[16384];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, console.ReadAvailable(buf));
    if (n == 0) break;
  }
  if (request.read_input) {
    ASSIGN_OR_RETURN(std::string typed, request.read_input());
    if (!typed.empty() && !console.closed()) {
      RETURN_IF_ERROR(console.Write(AsBytes(typed)));
    }
  }
  return OkStatus();
}

Status WaitForGuests(Connection& conn, const ImportReport& report,
                     const RunRequest& request, std::vector<LogFollower>& logs,
                     Console* console) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    bool all_off = true;
    for (const ImportedDomain& d : report.domains) {
      ASSIGN_OR_RETURN(DomainState state, conn.GetDomainState(d.name));
      if (state != DomainState::kShutoff) all_off = false;
    }
    for (LogFollower& log : logs) RETURN_IF_ERROR(log.Pump(request.console));
    if (console != nullptr) RETURN_IF_ERROR(PumpConsole(*console, request));
    if (all_off) return OkStatus();
    RETURN_IF_ERROR(CheckCancelled());
    if (request.timeout.count() > 0 &&
        std::chrono::steady_clock::now() - start > request.timeout) {
      return FailedError("the guest did not power off within " +
                         std::to_string(request.timeout.count()) +
                         " seconds; it was stopped");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Starts every guest paused, attaches to the first one's console, then lets
// them run: the console sees the very first byte.
Status AttachAndStart(Connection& conn, ImportReport& report,
                      std::unique_ptr<Console>* console) {
  for (ImportedDomain& d : report.domains) {
    RETURN_IF_ERROR(conn.StartDomain(d.name, /*paused=*/true));
    d.started = true;
  }
  if (!report.domains.empty()) {
    ASSIGN_OR_RETURN(*console, conn.OpenConsole(report.domains.front().name));
  }
  for (const ImportedDomain& d : report.domains) {
    RETURN_IF_ERROR(conn.ResumeDomain(d.name));
  }
  return OkStatus();
}

}  // namespace

Result<RunReport> RunAppliance(const RunRequest& request) {
  ASSIGN_OR_RETURN(RunRoot root, RunRoot::Make(request.keep_dir));
  std::string images = root.path() + "/images";
  std::string consoles = root.path() + "/console";
  std::error_code ec;
  fs::create_directories(images, ec);
  fs::create_directories(consoles, ec);
  if (ec) return FailedError(root.path() + ": " + ec.message());

  // QEMU's monitor socket lives under the driver's root, and a UNIX socket
  // path has 108 bytes: "<root>/lib/qemu/domain-N-<20 chars>/monitor.sock".
  // Under a long TMPDIR or --keep path the driver gets a short directory of
  // its own.
  std::string driver_root = root.path() + "/libvirt";
  std::optional<RunRoot> short_root;
  if (driver_root.size() > 48) {
    ASSIGN_OR_RETURN(RunRoot r, RunRoot::Make("", "/tmp"));
    short_root.emplace(std::move(r));
    driver_root = short_root->path();
  }

  RunReport report;
  report.root = root.path();
  Status outcome;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                     Connection::OpenEmbedded(driver_root));
    ImportRequest import = request.import;
    import.storage_dir = images;
    // The console's output always comes from a file QEMU writes (nothing is
    // lost, even from a guest that prints and powers off at once); for
    // --console the port stays a pty too, for the keystrokes.
    import.serial_log_dir = consoles;
    import.serial_interactive = request.interactive;
    import.headless = true;
    import.start = !request.interactive;
    import.force = true;  // a fresh root: nothing to protect
    import.policy.networks.insert(import.policy.networks.begin(),
                                  {"*", NicBinding::kUser, ""});
    ASSIGN_OR_RETURN(report.import, ImportAppliance(*conn, import));
    auto started = std::chrono::steady_clock::now();
    std::vector<LogFollower> logs;
    std::unique_ptr<Console> console;
    for (const ImportedDomain& d : report.import.domains) {
      logs.emplace_back(d.serial_log);
    }
    if (request.interactive) {
      outcome = AttachAndStart(*conn, report.import, &console);
    }
    if (outcome.ok()) {
      outcome =
          WaitForGuests(*conn, report.import, request, logs, console.get());
    }
    console.reset();
    report.seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    // Whatever happened, nothing keeps running: the embedded driver's
    // guests would die with this process anyway, but not tidily.
    for (const ImportedDomain& d : report.import.domains) {
      conn->DestroyDomain(d.name).IgnoreError();
      if (request.keep_dir.empty()) conn->UndefineDomain(d.name).IgnoreError();
    }
  }
  RETURN_IF_ERROR(outcome);
  return report;
}

}  // namespace ova2virt
