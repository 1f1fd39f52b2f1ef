// The options `import` and `run` share, and their translation into an
// ImportRequest: the choices (--format, --disk-bus, --nic-model,
// --virt-type) become enums here, once (pipeline/import_choices.h).
#ifndef OVA2VIRT_CLI_IMPORT_OPTIONS_H_
#define OVA2VIRT_CLI_IMPORT_OPTIONS_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/import.h"
#include "pipeline/import_choices.h"

namespace CLI {
class App;
}

namespace ova2virt::cli {

struct ImportArgs {
  std::string input;
  std::string name;
  std::string pool = "default";
  bool pool_named = false;  // --pool was given
  std::string storage_dir;
  std::string format{ToString(VolumeFormat::kQcow2)};
  std::vector<std::string> networks;  // --network SRC=NET|user|none
  std::vector<std::string> bridges;   // --bridge SRC=BRIDGE
  std::string disk_bus{ToString(DiskBusChoice::kAuto)};
  std::string nic_model{ToString(NicModelChoice::kKeep)};
  std::string virt_type;
  std::string vsys;
  std::string deployment;
  std::vector<std::string> properties;  // --prop KEY=VALUE
  std::string ca;
  int threads = 0;
  bool dry_run = false;
  bool start = false;
  bool force = false;
  bool no_verify = false;
  bool convert_guest = false;
  bool upload = false;

  // kUsage naming the option for a malformed value.
  Result<ImportRequest> ToRequest() const;
};

// Registers the options on `command`. `run` has no pool, storage, name,
// start or force options: it owns its throwaway host.
void AddImportOptions(CLI::App& command, ImportArgs& args, bool for_run);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_IMPORT_OPTIONS_H_
