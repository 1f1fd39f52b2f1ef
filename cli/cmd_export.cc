// ova2virt export DOMAIN [-o OUT.ova | --ovf-dir DIR] [options]: a libvirt
// domain to an OVA that VMware and VirtualBox import (CLI.md). The work is
// pipeline/export.h; this file turns argv into an ExportRequest and the
// report into text or JSON.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/progress_bar.h"
#include "pipeline/export.h"

namespace ova2virt::cli {
namespace {

struct ExportArgs {
  ExportRequest request;
  std::string digest = "sha256";
  bool no_media = false;
};

nlohmann::json ReportJson(const ExportReport& r) {
  nlohmann::json doc;
  doc["domain"] = r.domain;
  doc["output"] = r.output;
  doc["layout"] = r.directory ? "ovf-dir" : "ova";
  doc["ovf_version"] = r.ovf_version;
  doc["digest_algorithm"] = r.digest_algorithm;
  doc["signed"] = r.is_signed;
  doc["live"] = r.live;
  doc["bytes"] = r.bytes;
  doc["files"] = nlohmann::json::array();
  for (const ExportedFile& f : r.files) {
    doc["files"].push_back(
        {{"name", f.name},
         {"role", f.role},
         {"offset", f.offset},
         {"size", f.size},
         {"digest", f.digest.empty() ? nlohmann::json(nullptr)
                                     : nlohmann::json(f.digest)}});
  }
  doc["disks"] = nlohmann::json::array();
  for (const ExportedDisk& d : r.disks) {
    nlohmann::json j = {
        {"target", d.target},           {"device", d.device},
        {"source", d.source},           {"read", d.read},
        {"format", d.format},           {"file", d.file},
        {"capacity_bytes", d.capacity}, {"populated_bytes", d.populated},
        {"size_bytes", d.size},         {"digest", d.digest}};
    if (d.stats.bytes_read > 0) {
      j["bytes_read"] = d.stats.bytes_read;
      j["seconds"] = d.stats.seconds;
    }
    doc["disks"].push_back(std::move(j));
  }
  nlohmann::json seconds = nlohmann::json::object();
  for (const auto& [phase, s] : r.phases.phases()) seconds[phase] = s;
  seconds["total"] = r.phases.Total();
  doc["seconds"] = seconds;
  doc["warnings"] = DiagnosticsJson(r.warnings);
  return doc;
}

void PrintReport(const ExportReport& r) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", r.phases.Total());
  std::printf("exported domain %s to %s (OVF %s, %s manifest%s): %s in %s s\n",
              r.domain.c_str(), r.output.c_str(),
              std::string(OvfVersionName(r.ovf_version)).c_str(),
              r.digest_algorithm.c_str(), r.is_signed ? ", signed" : "",
              HumanBytes(r.bytes).c_str(), seconds);
  for (const ExportedDisk& d : r.disks) {
    std::printf("  %-6s %s: %s (%s, %s) -> %s: %s virtual, %s\n",
                d.device.c_str(), d.target.c_str(), d.source.c_str(),
                d.format.c_str(), d.read.c_str(), d.file.c_str(),
                HumanBytes(d.capacity).c_str(), HumanBytes(d.size).c_str());
  }
}

int RunExport(Context& context, ExportArgs& args) {
  ExportRequest request = args.request;
  std::string digest = args.digest;
  std::transform(digest.begin(), digest.end(), digest.begin(), ::toupper);
  auto algorithm = ParseDigestName(digest);
  if (!algorithm) {
    return context.Fail(UsageError("--digest " + Quote(args.digest) +
                                   ": choose sha1, sha256 or sha512"));
  }
  request.digest = *algorithm;
  request.policy.include_media = !args.no_media;
  std::unique_ptr<Progress> progress = context.MakeProgress();
  request.progress = progress.get();
  Result<ExportReport> report = ExportDomain(context.ConnectUri(), request);
  if (!report.ok()) return context.Fail(report.status());
  if (context.common.json) {
    context.PrintJson(ReportJson(*report));
  } else {
    context.Warn(report->warnings);
    PrintReport(*report);
  }
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App& app, Context& context) {
  auto args = std::make_shared<ExportArgs>();
  ExportRequest& r = args->request;
  CLI::App* cmd = app.add_subcommand(
      "export",
      "export a libvirt domain as an OVA (or OVF directory) that VMware and "
      "VirtualBox import");
  cmd->add_option("DOMAIN", r.domain, "the domain to export")->required();
  cmd->add_option("-o,--output", r.output,
                  "the OVA to write (default: DOMAIN.ova here); it must not "
                  "exist");
  cmd->add_option("--ovf-dir", r.ovf_dir,
                  "write the descriptor, manifest and disks into this new "
                  "directory instead of an OVA");
  cmd->add_option("--ovf-version", r.ovf_version,
                  "1 (OVF " + std::string(OvfVersionName(1)) +
                      ", what VMware and VirtualBox read; default) or 2 (OVF " +
                      std::string(OvfVersionName(2)) + ")")
      ->check(CLI::IsMember({1, 2}));
  cmd->add_option("--digest", args->digest,
                  "manifest digest: sha256 (default), sha1 (vSphere before "
                  "6.5), sha512");
  cmd->add_option("--sign", r.sign_key,
                  "sign the manifest with this PEM private key (needs --cert)");
  cmd->add_option("--cert", r.sign_cert,
                  "the PEM certificate (chain) of the signing key");
  cmd->add_flag("--live", r.live,
                "export a running domain anyway: its disks may be "
                "inconsistent");
  cmd->add_flag("--download", r.download,
                "read disks through libvirt's storage API even on a local "
                "connection (as a remote one always does)");
  cmd->add_flag("--no-media", args->no_media,
                "leave CD-ROM and floppy drives empty instead of packing "
                "their images");
  cmd->add_option("-j,--threads", r.threads,
                  "compression threads (default: one per core)")
      ->check(CLI::Range(0, 64));
  AddCommonOptions(*cmd, context.common, /*with_connect=*/true);
  cmd->callback(
      [&context, args] { context.exit_code = RunExport(context, *args); });
}

}  // namespace ova2virt::cli
