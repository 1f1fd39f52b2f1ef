// ova2virt cleanup [-c URI] [--dry-run] [--json]: removes what killed
// imports left behind, from their journals (pipeline/cleanup.h,
// docs/crash-safety.md). Exit 0 when nothing is left to remove, 1 when
// something could not be removed.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "pipeline/cleanup.h"

namespace ova2virt::cli {
namespace {

struct CleanupArgs {
  bool dry_run = false;
};

nlohmann::json ReportJson(const CleanupReport& r, bool dry_run) {
  nlohmann::json doc;
  doc["dry_run"] = dry_run;
  doc["removed"] = r.removed;
  doc["failed"] = r.failed;
  doc["journals"] = nlohmann::json::array();
  for (const CleanupJournal& j : r.journals) {
    nlohmann::json items = nlohmann::json::array();
    for (const CleanupItem& i : j.items) {
      items.push_back({{"kind", i.kind},
                       {"name", i.name},
                       {"action", i.action},
                       {"detail", i.detail}});
    }
    doc["journals"].push_back({{"id", j.id},
                               {"path", j.path},
                               {"uri", j.uri},
                               {"pid", j.pid},
                               {"started", j.started},
                               {"state", j.state},
                               {"items", items}});
  }
  return doc;
}

void PrintReport(const CleanupReport& r, bool dry_run) {
  for (const CleanupJournal& j : r.journals) {
    std::string who = j.id.empty() ? j.path : "import " + j.id;
    if (j.pid) who += " (pid " + std::to_string(j.pid) + ")";
    if (!j.uri.empty()) who += " on " + j.uri;
    std::printf("%s: %s\n", who.c_str(), j.state.c_str());
    for (const CleanupItem& i : j.items) {
      std::printf("  %-12s %s %s%s%s\n", i.action.c_str(), i.kind.c_str(),
                  Quote(i.name).c_str(), i.detail.empty() ? "" : ": ",
                  i.detail.c_str());
    }
  }
  if (r.journals.empty()) {
    std::printf("no leftovers of interrupted imports\n");
  } else {
    std::printf("%zu item(s) %s, %zu could not be removed\n", r.removed,
                dry_run ? "would be removed" : "removed", r.failed);
  }
}

int RunCleanup(Context& context, const CleanupArgs& args) {
  CleanupRequest request;
  request.uri = context.ConnectUri();
  request.dry_run = args.dry_run;
  if (!context.common.connect.empty() || !request.uri.empty()) {
    // Name the connection as libvirt does, as the journals record it.
    auto conn = Connection::Open(request.uri);
    if (!conn.ok()) return context.Fail(conn.status());
    request.uri = (*conn)->Uri();
  }
  auto report = CleanupLeftovers(request);
  if (!report.ok()) return context.Fail(report.status());
  if (context.common.json) {
    context.PrintJson(ReportJson(*report, args.dry_run));
  } else if (!context.common.quiet || report->failed > 0) {
    PrintReport(*report, args.dry_run);
  }
  return report->failed > 0 ? 1 : 0;
}

}  // namespace

void AddCleanupCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "cleanup",
      "remove what interrupted imports left behind (domains, volumes, "
      "files), from their journals");
  auto args = std::make_shared<CleanupArgs>();
  cmd->add_flag("--dry-run", args->dry_run,
                "list what would be removed; remove nothing");
  AddCommonOptions(*cmd, context.common, /*with_connect=*/true);
  cmd->callback(
      [&context, args] { context.exit_code = RunCleanup(context, *args); });
}

}  // namespace ova2virt::cli
