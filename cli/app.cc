#include "cli/app.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "cli/commands.h"
#include "core/cancel.h"
#include "core/io_faults.h"
#include "pipeline/fault_injection.h"

namespace ova2virt::cli {
namespace {

// The command table: one line per subcommand, in the order --help lists them.
// clang-format off
const CommandEntry kCommands[] = {
    {"inspect", AddInspectCommand},
    {"verify", AddVerifyCommand},
    {"convert", AddConvertCommand},
    {"import", AddImportCommand},
    {"run", AddRunCommand},
    {"export", AddExportCommand},
    {"batch", AddBatchCommand},
    {"cleanup", AddCleanupCommand},
    {"complete", AddCompleteCommand},
};
// clang-format on

void OnSignal(int sig) {
  // First signal: ask every loop to stop and roll back. Second: the user
  // insists; leave at once (temporary names make leftovers findable).
  static volatile sig_atomic_t seen = 0;
  if (seen) _exit(128 + sig);
  seen = 1;
  RequestCancel();
}

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  // A closed stdout becomes an EPIPE error, never a signal death.
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int Main(int argc, char** argv) {
  InstallSignalHandlers();
  Context context;
  // Fault injection for rollback tests: OVA2VIRT_FAULT=write:3:ENOSPC.
  if (const char* spec = std::getenv("OVA2VIRT_FAULT"); spec && *spec) {
    auto plan = ParseIoFaultSpec(spec);
    if (!plan.ok()) return context.Fail(plan.status());
    ArmIoFault(*plan);
  }
  // How many operations the run made, for tests that fail each in turn:
  // OVA2VIRT_FAULT=count OVA2VIRT_FAULT_COUNTS=FILE.
  struct CountsAtExit {
    ~CountsAtExit() {
      const char* path = std::getenv("OVA2VIRT_FAULT_COUNTS");
      if (path == nullptr || *path == '\0') return;
      if (FILE* f = std::fopen(path, "w")) {
        IoFaultCounts c = CurrentIoFaultCounts();
        std::fprintf(f, "read %llu\nwrite %llu\nsync %llu\nopen %llu\n",
                     static_cast<unsigned long long>(c.read),
                     static_cast<unsigned long long>(c.write),
                     static_cast<unsigned long long>(c.sync),
                     static_cast<unsigned long long>(c.open));
        std::fclose(f);
      }
    }
  } counts_at_exit;
  // ... and in libvirt calls: OVA2VIRT_LIBVIRT_FAULT=define, create:2:after.
  if (const char* spec = std::getenv("OVA2VIRT_LIBVIRT_FAULT"); spec && *spec) {
    Status armed = ArmLibvirtFaultSpec(spec);
    if (!armed.ok()) return context.Fail(armed);
  }

  CLI::App app{
      "ova2virt: move virtual appliances between OVA/OVF and libvirt/KVM",
      "ova2virt"};
  app.set_version_flag("--version", "ova2virt " OVA2VIRT_VERSION);
  app.require_subcommand(1);
  for (const CommandEntry& c : kCommands) {
    c.add(app, context);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ova2virt: %s (see --help)\n", e.what());
    return 2;
  }
  return context.exit_code;
}

}  // namespace ova2virt::cli
