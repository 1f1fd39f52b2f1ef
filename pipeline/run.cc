#include "pipeline/run.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
    if (!file_.valid()) {
      auto f = File::OpenRead(path_);
      if (!f.ok()) return OkStatus();  // QEMU has not created it yet
      file_ = std::move(f).value();
    }
    uint8_t buf[16384];
    for (;;) {
      ASSIGN_OR_RETURN(size_t n, file_.ReadAt(offset_, buf));
      if (n == 0) return OkStatus();
      if (out != nullptr) RETURN_IF_ERROR(out->Write({buf, n}));
      offset_ += n;
    }
  }
  // True once the guest has written anything.
  bool any() const { return offset_ > 0; }

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

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Follows the consoles until every guest is off, noting when each printed
// its first byte and when it powered off (seconds from `start`).
Status WaitForGuests(Connection& conn, const ImportReport& report,
                     const RunRequest& request, std::vector<LogFollower>& logs,
                     Console* console, Clock::time_point start,
                     std::vector<GuestTimes>& times) {
  for (;;) {
    bool all_off = true;
    for (size_t i = 0; i < report.domains.size(); ++i) {
      ASSIGN_OR_RETURN(DomainState state,
                       conn.GetDomainState(report.domains[i].name));
      if (state != DomainState::kShutoff) {
        all_off = false;
      } else if (!times[i].powered_off) {
        times[i].powered_off = SecondsSince(start);
      }
    }
    for (size_t i = 0; i < logs.size(); ++i) {
      RETURN_IF_ERROR(logs[i].Pump(request.console));
      if (logs[i].any() && !times[i].first_console_byte) {
        // Seen now, written earlier: a guest that printed and powered off
        // since the last look had its power-off noted just above, yet it
        // printed first (CI once reported the byte 0.6 ms after the
        // power-off).
        double seen = SecondsSince(start);
        times[i].first_console_byte =
            times[i].powered_off ? std::min(seen, *times[i].powered_off) : seen;
      }
    }
    if (console != nullptr) RETURN_IF_ERROR(PumpConsole(*console, request));
    if (all_off) return OkStatus();
    RETURN_IF_ERROR(CheckCancelled());
    if (request.timeout.count() > 0 && Clock::now() - start > request.timeout) {
      return FailedError("the guest did not power off within " +
                         std::to_string(request.timeout.count()) +
                         " seconds; it was stopped");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Starts every guest (the clock starts here).
Status StartAll(Connection& conn, ImportReport& report) {
  for (ImportedDomain& d : report.domains) {
    RETURN_IF_ERROR(conn.StartDomain(d.name));
    d.started = true;
  }
  return OkStatus();
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

// As root, QEMU may run as another user: libvirt-qemu, when /dev/kvm is
// open to the kvm group (Debian's state once udev is installed), so the
// embedded driver's qemu.conf keeps libvirt's default user
// (virtdriver/connection.cc). libvirt's DAC driver then gives that user the
// image and log files themselves, but it must also pass through the
// directories holding them, which mkdtemp made 0700. 0711 lets any user
// through but lets no one list them, which is what libvirt does with
// /var/lib/libvirt/images; the files stay 0600.
// The directories above the run's (TMPDIR, --keep's parents) are the
// user's: they are checked, not changed, and one QEMU cannot pass is an
// error saying what to do.
Status LetQemuReach(const std::string& root, const std::string& images,
                    const std::string& consoles) {
  if (geteuid() != 0 || EmbeddedQemuRunsAsRoot()) return OkStatus();
  for (const std::string& dir : {root, images, consoles}) {
    if (chmod(dir.c_str(), 0711) != 0) return ErrnoError(dir, errno);
  }
  for (fs::path p = fs::path(root).parent_path(); !p.empty();
       p = p.parent_path()) {
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
      return FailedError(
          p.string() +
          ": QEMU runs as libvirt's qemu user here (/dev/kvm is open to its "
          "group) and cannot pass through this directory; set TMPDIR or "
          "--keep to a directory others may pass, such as /var/tmp");
    }
    if (p == p.root_path()) break;
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
  RETURN_IF_ERROR(LetQemuReach(root.path(), images, consoles));

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
    // run starts the guests itself, after the warnings are out and with
    // the clock running.
    import.start = false;
    import.force = true;  // a fresh root: nothing to protect
    import.policy.networks.insert(import.policy.networks.begin(),
                                  {"*", NicBinding::kUser, ""});
    Diagnostics failed_warnings;
    import.warnings_on_failure = &failed_warnings;
    Result<ImportReport> imported = ImportAppliance(*conn, import);
    if (!imported.ok()) {
      if (request.on_warnings) request.on_warnings(failed_warnings);
      return imported.status();
    }
    report.import = std::move(imported).value();
    if (request.on_warnings) request.on_warnings(report.import.warnings);
    std::vector<LogFollower> logs;
    std::unique_ptr<Console> console;
    for (const ImportedDomain& d : report.import.domains) {
      logs.emplace_back(d.serial_log);
      report.guests.push_back({d.name, std::nullopt, std::nullopt});
    }
    auto started = Clock::now();
    outcome = request.interactive
                  ? AttachAndStart(*conn, report.import, &console)
                  : StartAll(*conn, report.import);
    if (outcome.ok()) {
      outcome = WaitForGuests(*conn, report.import, request, logs,
                              console.get(), started, report.guests);
    }
    console.reset();
    report.seconds = SecondsSince(started);
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
