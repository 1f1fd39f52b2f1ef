// ova2virt inspect INPUT [--json] [--deployment NAME]: what a package holds
// (members, descriptor, manifest, certificate) and the machines its
// descriptor describes.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/render_appliance.h"
#include "pipeline/inspect.h"
#include "pipeline/verify.h"

namespace ova2virt::cli {
namespace {

struct InspectArgs {
  std::string input;
  std::string deployment;
};

nlohmann::json NameOrNull(const std::string& name) {
  return name.empty() ? nlohmann::json(nullptr) : nlohmann::json(name);
}

// The package part of the JSON document.
nlohmann::json PackageJson(const PackageListing& l) {
  nlohmann::json doc;
  doc["input"] = l.input;
  doc["kind"] = std::string(InputKindName(l.kind));
  doc["streamed"] = l.streamed;
  doc["descriptor"] = NameOrNull(l.descriptor_name);
  doc["manifest"] = NameOrNull(l.manifest_name);
  doc["certificate"] = NameOrNull(l.certificate_name);
  doc["members"] = nlohmann::json::array();
  for (const MemberInfo& m : l.members) {
    doc["members"].push_back({{"name", m.name},
                              {"offset", m.offset},
                              {"size", m.size},
                              {"role", std::string(MemberRoleName(m.role))}});
  }
  doc["referenced"] = l.referenced;
  return doc;
}

// The package part of the human report.
void PrintPackage(FILE* out, const PackageListing& l) {
  auto or_none = [](const std::string& s) {
    return s.empty() ? std::string("none") : s;
  };
  std::fprintf(out, "input:       %s (%s)\n", InputDisplayName(l.input).c_str(),
               std::string(InputKindName(l.kind)).c_str());
  std::fprintf(out, "descriptor:  %s\n", or_none(l.descriptor_name).c_str());
  std::fprintf(out, "manifest:    %s\n", or_none(l.manifest_name).c_str());
  std::fprintf(out, "certificate: %s\n", or_none(l.certificate_name).c_str());
  std::fprintf(out, "members:\n  %12s %14s  %-11s %s\n", "OFFSET", "SIZE",
               "ROLE", "NAME");
  for (const MemberInfo& m : l.members) {
    std::fprintf(out, "  %12llu %14llu  %-11s %s\n",
                 static_cast<unsigned long long>(m.offset),
                 static_cast<unsigned long long>(m.size),
                 std::string(MemberRoleName(m.role)).c_str(), m.name.c_str());
  }
}

int RunInspect(Context& context, const InspectArgs& args) {
  OvfReadOptions options;
  options.deployment = args.deployment;
  Result<InspectReport> report = InspectInput(args.input, options);
  if (!report.ok()) return context.Fail(report.status());
  if (context.common.json) {
    nlohmann::json doc = PackageJson(report->package);
    doc.update(ApplianceJson(report->appliance));
    doc["warnings"] = DiagnosticsJson(report->warnings);
    context.PrintJson(doc);
    return 0;
  }
  PrintPackage(stdout, report->package);
  std::fputs("\n", stdout);
  std::fputs(ApplianceText(report->appliance).c_str(), stdout);
  std::fflush(stdout);
  context.Warn(report->warnings);
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "show what a package holds and the machines its descriptor describes");
  auto args = std::make_shared<InspectArgs>();
  cmd->add_option("INPUT", args->input,
                  "an .ova, an .ovf or a directory holding one, a .vmx, or "
                  "- for stdin")
      ->required();
  cmd->add_option("--deployment", args->deployment,
                  "the DeploymentOption whose hardware to show (default: "
                  "the descriptor's default)");
  AddCommonOptions(*cmd, context.common, /*with_connect=*/false);
  cmd->callback(
      [&context, args] { context.exit_code = RunInspect(context, *args); });
}

}  // namespace ova2virt::cli
