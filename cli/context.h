// What every subcommand shares: the common options (-c, -v, -q, --json) and
// how results, warnings and errors reach the user.
#ifndef OVA2VIRT_CLI_CONTEXT_H_
#define OVA2VIRT_CLI_CONTEXT_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/diagnostics.h"
#include "core/progress.h"
#include "core/status.h"

namespace CLI {
class App;
}

namespace ova2virt::cli {

struct CommonOptions {
  std::string connect;  // -c/--connect; empty: $LIBVIRT_DEFAULT_URI or default
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

class Context {
 public:
  CommonOptions common;
  int exit_code = 0;

  // The libvirt URI to use: -c, else $LIBVIRT_DEFAULT_URI, else empty
  // (libvirt's own default).
  std::string ConnectUri() const;

  // Reports a failure: with --json, {"error": {...}} on stdout; otherwise
  // "ova2virt: MESSAGE" on stderr. Returns the exit status for the code.
  int Fail(const Status& status);
  // Shows warnings on stderr ("ova2virt: warning: ID: WHERE: MESSAGE")
  // unless --quiet or --json (JSON reports carry them instead).
  void Warn(const Diagnostics& diagnostics) const;
  // Human text on stderr unless --quiet or --json.
  void Info(std::string_view line) const;
  // Prints a JSON document on stdout.
  void PrintJson(const nlohmann::json& doc) const;
  // A progress bar on a terminal; silent when stderr is not a TTY, or with
  // --json or --quiet.
  std::unique_ptr<Progress> MakeProgress() const;
};

// The exit status for a code (CLI.md): 0 ok, 2 usage, 3 corrupt or failed
// verification, 4 unsupported, 1 everything else.
int ExitCodeFor(ErrorCode code);

// Warnings as JSON: [{"id":..., "where":..., "message":...}].
nlohmann::json DiagnosticsJson(const Diagnostics& diagnostics);

// Adds -c/--connect, -v, -q and --json to a subcommand.
void AddCommonOptions(CLI::App& command, CommonOptions& options,
                      bool with_connect);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_CONTEXT_H_
