// ova2virt import INPUT [options]: one pass from a package to defined
// libvirt domains (CLI.md). The work is pipeline/import.h; this file turns
// argv into an ImportRequest and the report into text or JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/import_options.h"
#include "cli/progress_bar.h"
#include "cli/render_verification.h"
#include "pipeline/import.h"

namespace ova2virt::cli {
namespace {

nlohmann::json VolumeJson(const ImportedVolume& v) {
  nlohmann::json j = {{"disk_id", v.disk_id},
                      {"device", ToString(v.device)},
                      {"name", v.name},
                      {"path", v.path},
                      {"format", ToString(v.format)},
                      {"capacity_bytes", v.capacity},
                      {"allocation_bytes", v.allocation}};
  j["pool"] = v.pool.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.pool);
  j["source"] =
      v.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.source);
  if (v.stats.bytes_read > 0) {
    j["bytes_read"] = v.stats.bytes_read;
    j["seconds"] = v.stats.seconds;
  }
  return j;
}

nlohmann::json ReportJson(const ImportReport& r) {
  nlohmann::json doc;
  doc["input"] = r.input;
  doc["dry_run"] = r.dry_run;
  doc["domains"] = nlohmann::json::array();
  for (const ImportedDomain& d : r.domains) {
    nlohmann::json j = {{"name", d.name},
                        {"machine", d.machine},
                        {"virt_type", d.virt_type},
                        {"started", d.started}};
    j["uuid"] =
        d.uuid.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.uuid);
    j["volumes"] = nlohmann::json::array();
    for (const ImportedVolume& v : d.volumes)
      j["volumes"].push_back(VolumeJson(v));
    j["domain_xml"] = d.xml;
    doc["domains"].push_back(std::move(j));
  }
  if (r.verification) {
    doc["verification"] = VerificationJson(*r.verification);
    doc["verification"]["ok"] = r.verified;
  } else {
    doc["verification"] = nullptr;
  }
  if (r.dry_run) doc["plan"] = r.plan_text;
  nlohmann::json seconds = nlohmann::json::object();
  for (const auto& [phase, s] : r.phases.phases()) seconds[phase] = s;
  doc["seconds"] = seconds;
  doc["warnings"] = DiagnosticsJson(r.warnings);
  doc["guest_conversions"] = nlohmann::json::array();
  for (const GuestConversion& g : r.guest_conversions) {
    doc["guest_conversions"].push_back(
        {{"tool", g.tool}, {"seconds", g.seconds}, {"messages", g.messages}});
  }
  return doc;
}

void PrintReport(const ImportReport& r) {
  for (const ImportedDomain& d : r.domains) {
    std::printf("domain %s%s%s\n", d.name.c_str(),
                d.uuid.empty() ? "" : (" (" + d.uuid + ")").c_str(),
                d.started ? ", started" : ", defined");
    for (const ImportedVolume& v : d.volumes) {
      std::string where =
          v.pool.empty() ? v.path : "pool " + v.pool + " volume " + v.name;
      std::string device(ToString(v.device));
      std::printf("  %-6s %s: %s, %s virtual, %s written\n", device.c_str(),
                  v.disk_id.c_str(), where.c_str(),
                  HumanBytes(v.capacity).c_str(),
                  HumanBytes(v.allocation).c_str());
    }
  }
  for (const GuestConversion& g : r.guest_conversions) {
    std::printf("guest converted by %s in %.0f s\n", g.tool.c_str(), g.seconds);
  }
  if (r.verification) {
    std::printf("verification: %s\n", !r.verified ? "FAILED (--no-verify)"
                                      : r.verification->has_manifest
                                          ? "manifest ok"
                                          : "no manifest");
  }
}

int RunImport(Context& context, const ImportArgs& args) {
  auto request = args.ToRequest();
  if (!request.ok()) return context.Fail(request.status());
  std::unique_ptr<Progress> progress = context.MakeProgress();
  request->progress = progress.get();
  Result<ImportReport> report = ImportAppliance(context.ConnectUri(), *request);
  if (!report.ok()) return context.Fail(report.status());
  if (context.common.json) {
    context.PrintJson(ReportJson(*report));
  } else if (report->dry_run) {
    context.Warn(report->warnings);
    if (!context.common.quiet) std::fputs(report->plan_text.c_str(), stderr);
    for (const ImportedDomain& d : report->domains) {
      std::fputs(d.xml.c_str(), stdout);
    }
  } else {
    context.Warn(report->warnings);
    PrintReport(*report);
  }
  return 0;
}

}  // namespace

void AddImportCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "import",
      "import an appliance into libvirt: verify, convert, upload, define");
  auto args = std::make_shared<ImportArgs>();
  AddImportOptions(*cmd, *args, /*for_run=*/false);
  AddCommonOptions(*cmd, context.common, /*with_connect=*/true);
  cmd->callback(
      [&context, args] { context.exit_code = RunImport(context, *args); });
}

}  // namespace ova2virt::cli
