// The subcommands. Each lives in its own cmd_*.cc file and registers itself
// on the application; app.cc holds the table that lists them.
#ifndef OVA2VIRT_CLI_COMMANDS_H_
#define OVA2VIRT_CLI_COMMANDS_H_

#include "cli/context.h"

namespace ova2virt::cli {

using AddCommandFn = void (*)(CLI::App& app, Context& context);

struct CommandEntry {
  const char* name;
  AddCommandFn add;
};

// One function per subcommand, defined in its cmd_*.cc file.
void AddInspectCommand(CLI::App& app, Context& context);   // cmd_inspect.cc
void AddVerifyCommand(CLI::App& app, Context& context);    // cmd_verify.cc
void AddConvertCommand(CLI::App& app, Context& context);   // cmd_convert.cc
void AddImportCommand(CLI::App& app, Context& context);    // cmd_import.cc
void AddRunCommand(CLI::App& app, Context& context);       // cmd_run.cc
void AddExportCommand(CLI::App& app, Context& context);    // cmd_export.cc
void AddCompleteCommand(CLI::App& app, Context& context);  // cmd_complete.cc
void AddBatchCommand(CLI::App& app, Context& context);     // cmd_batch.cc

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_COMMANDS_H_
