// ova2virt inspect INPUT [--json]: what a package holds. For now the package
// part (members, descriptor, manifest, certificate); the descriptor's
// virtual systems are added by their own rendering functions.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "pipeline/list_package.h"
#include "pipeline/verify.h"

namespace ova2virt::cli {
namespace {

struct InspectArgs {
  std::string input;
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
  Result<PackageListing> listing = ListPackage(args.input);
  if (!listing.ok()) return context.Fail(listing.status());
  if (context.common.json) {
    nlohmann::json doc = PackageJson(*listing);
    doc["warnings"] = DiagnosticsJson(listing->warnings);
    context.PrintJson(doc);
    return 0;
  }
  PrintPackage(stdout, *listing);
  std::fflush(stdout);
  context.Warn(listing->warnings);
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "inspect", "show what a package holds: members, descriptor, manifest");
  auto args = std::make_shared<InspectArgs>();
  cmd->add_option("INPUT", args->input,
                  "an .ova, an .ovf or a directory holding one, a .vmx, or "
                  "- for stdin")
      ->required();
  AddCommonOptions(*cmd, context.common, /*with_connect=*/false);
  cmd->callback(
      [&context, args] { context.exit_code = RunInspect(context, *args); });
}

}  // namespace ova2virt::cli
