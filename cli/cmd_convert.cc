// ova2virt convert IN OUT [-O qcow2|raw|vmdk] [-o subformat=streamOptimized]
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "pipeline/convert_disk.h"

namespace ova2virt::cli {
namespace {

int RunConvert(Context& context, const ConvertRequest& request) {
  if (context.common.json && request.output == "-") {
    return context.Fail(
        UsageError("--json cannot share stdout with the image (OUT is -)"));
  }
  std::unique_ptr<Progress> progress = context.MakeProgress();
  auto report = ConvertDiskImage(request, *progress);
  if (!report.ok()) return context.Fail(report.status());
  const ConvertStats& s = report->stats;
  if (context.common.json) {
    context.PrintJson({
        {"input", request.input},
        {"output", request.output},
        {"input_format", report->input_format},
        {"output_format", report->output_format},
        {"capacity_bytes", s.capacity},
        {"bytes_read", s.bytes_read},
        {"data_bytes", s.data_bytes},
        {"bytes_written", s.bytes_written},
        {"allocated_clusters", s.allocated_clusters},
        {"cluster_size", s.cluster_size},
        {"threads", s.threads},
        {"seconds", s.seconds},
    });
  } else if (request.output != "-") {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", s.seconds);
    context.Info("converted " + request.input + " (" + report->input_format +
                 ", " + HumanBytes(s.capacity) + ") to " + request.output +
                 " (" + report->output_format + "): read " +
                 HumanBytes(s.bytes_read) + ", wrote " +
                 HumanBytes(s.bytes_written) + " in " + seconds + " s");
  }
  return 0;
}

}  // namespace

void AddConvertCommand(CLI::App& app, Context& context) {
  auto request = std::make_shared<ConvertRequest>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "convert a disk image: any VMDK kind, qcow2 or raw to qcow2, raw or "
      "streamOptimized VMDK");
  cmd->add_option("IN", request->input,
                  "input image: vmdk (any kind), qcow2, or raw with -f raw; "
                  "- reads stdin")
      ->required();
  cmd->add_option("OUT", request->output,
                  "output image; - writes a vmdk stream to stdout")
      ->required();
  cmd->add_option("-O,--output-format", request->output_format,
                  "qcow2, raw or vmdk (default: from OUT's extension)");
  cmd->add_option("-f,--format", request->input_format,
                  "input format: vmdk, qcow2 or raw (default: probed; raw only "
                  "when asked, or for a .raw/.img file no format claims)");
  cmd->add_option("-o,--options", request->output_options,
                  "output options, key=value[,...]: subformat=streamOptimized, "
                  "adapter_type=ide|lsilogic|..., hwversion=N, "
                  "compression_level=1-12 (vmdk)")
      ->expected(1)
      ->take_all();
  cmd->add_option("-j,--threads", request->threads,
                  "worker threads for (de)compression (default: one per core)")
      ->check(CLI::Range(0, 64));
  cmd->add_flag("--force", request->replace, "replace OUT if it exists");
  AddCommonOptions(*cmd, context.common, /*with_connect=*/false);
  cmd->callback([&context, request] {
    context.exit_code = RunConvert(context, *request);
  });
}

}  // namespace ova2virt::cli
