// ova2virt complete WHAT [ARG]: what the bash completion script asks for
// (completion/ova2virt.bash). Hidden from --help. The subcommands and their
// options come from the command table itself, so completion never drifts
// from the real options; libvirt names come from the host.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "pipeline/host_names.h"

namespace ova2virt::cli {
namespace {

struct CompleteArgs {
  std::string what;  // commands | options | domains | pools | networks
  std::string arg;   // the subcommand, for options
};

int RunComplete(Context& context, CLI::App& root, const CompleteArgs& args) {
  if (args.what == "commands") {
    for (const CLI::App* sub : root.get_subcommands({})) {
      if (!sub->get_group().empty())
        std::printf("%s\n", sub->get_name().c_str());
    }
    return 0;
  }
  if (args.what == "options") {
    const CLI::App* sub = nullptr;
    for (const CLI::App* s : root.get_subcommands({})) {
      if (s->get_name() == args.arg) sub = s;
    }
    if (sub == nullptr) {
      return context.Fail(UsageError("no subcommand " + Quote(args.arg)));
    }
    for (const CLI::Option* o : sub->get_options()) {
      for (const std::string& l : o->get_lnames())
        std::printf("--%s\n", l.c_str());
      for (const std::string& s : o->get_snames())
        std::printf("-%s\n", s.c_str());
    }
    return 0;
  }
  // Completion must never print errors into the user's command line.
  auto names = ListHostNames(context.ConnectUri(), args.what);
  if (!names.ok()) return ExitCodeFor(names.status().code());
  for (const std::string& n : *names) std::printf("%s\n", n.c_str());
  return 0;
}

}  // namespace

void AddCompleteCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand("complete", "for shell completion");
  cmd->group("");  // hidden
  auto args = std::make_shared<CompleteArgs>();
  cmd->add_option("WHAT", args->what,
                  "commands, options, domains, pools or networks")
      ->required();
  cmd->add_option("ARG", args->arg, "the subcommand, for options");
  cmd->add_option("-c,--connect", context.common.connect, "libvirt URI");
  CLI::App* root = &app;
  cmd->callback([&context, root, args] {
    context.exit_code = RunComplete(context, *root, *args);
  });
}

}  // namespace ova2virt::cli
