// ova2virt run INPUT [--timeout S] [--keep DIR]: boot an appliance for a
// look, with no host set up (CLI.md): the embedded QEMU driver, user-mode
// networking, the serial console on stdout, everything removed afterwards.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/import_options.h"
#include "cli/terminal.h"
#include "core/file.h"
#include "pipeline/run.h"

namespace ova2virt::cli {
namespace {

struct RunArgs {
  ImportArgs import;
  int timeout = 0;
  std::string keep;
  bool console = false;
};

// The console as it arrives, unbuffered, so a person watching sees it live.
class StdoutSink : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    File out = File::Borrow(STDOUT_FILENO, "stdout");
    return out.WriteAll(data);
  }
};

// With --json the console goes into the report instead (capped).
class CappedSink : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    size_t room = kCap - std::min(kCap, text.size());
    text.append(reinterpret_cast<const char*>(data.data()),
                std::min(room, data.size()));
    return OkStatus();
  }
  static constexpr size_t kCap = 1 << 20;
  std::string text;
};

int RunRun(Context& context, const RunArgs& args) {
  auto import = args.import.ToRequest();
  if (!import.ok()) return context.Fail(import.status());
  std::unique_ptr<Progress> progress = context.MakeProgress();
  RunRequest request;
  request.import = std::move(import).value();
  request.import.progress = progress.get();
  request.keep_dir = args.keep;
  request.timeout = std::chrono::seconds(args.timeout);
  StdoutSink stdout_sink;
  CappedSink captured;
  request.console =
      context.common.json ? static_cast<ByteSink*>(&captured) : &stdout_sink;
  std::unique_ptr<RawTerminal> terminal;
  if (args.console) {
    if (context.common.json) {
      return context.Fail(UsageError("--console and --json do not mix"));
    }
    context.Info("ova2virt: console attached; Ctrl-] stops the guest");
    terminal = std::make_unique<RawTerminal>();
    request.interactive = true;
    request.read_input = [t = terminal.get()] { return t->ReadTyped(); };
  }
  // Warnings as they arise, before the console starts (or with the error):
  // a guest that never boots is often explained by one of them.
  if (!context.common.json) {
    request.on_warnings = [&context](const Diagnostics& warnings) {
      context.Warn(warnings);
    };
  }
  Result<RunReport> report = RunAppliance(request);
  terminal.reset();  // the terminal back to normal before any message
  if (!report.ok()) return context.Fail(report.status());
  if (context.common.json) {
    nlohmann::json doc;
    doc["input"] = report->import.input;
    doc["domains"] = nlohmann::json::array();
    for (const ImportedDomain& d : report->import.domains) {
      doc["domains"].push_back(d.name);
    }
    doc["powered_off"] = true;
    doc["seconds"] = report->seconds;
    // Boot figures per guest, from its start: the first byte on its serial
    // console, and its power-off.
    doc["guests"] = nlohmann::json::array();
    auto seconds = [](const std::optional<double>& s) {
      return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
    };
    for (const GuestTimes& g : report->guests) {
      doc["guests"].push_back(
          {{"name", g.name},
           {"seconds_to_first_console_byte", seconds(g.first_console_byte)},
           {"seconds_to_power_off", seconds(g.powered_off)}});
    }
    doc["console"] = captured.text;
    doc["kept"] = args.keep.empty() ? nlohmann::json(nullptr)
                                    : nlohmann::json(report->root);
    doc["warnings"] = DiagnosticsJson(report->import.warnings);
    context.PrintJson(doc);
    return 0;
  }
  char line[128];
  std::snprintf(line, sizeof line,
                "ova2virt: the guest powered off after %.1f s",
                report->seconds);
  context.Info(line);
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "run",
      "boot an appliance for a look: embedded QEMU driver, no daemon, serial "
      "console on stdout, nothing left afterwards");
  auto args = std::make_shared<RunArgs>();
  AddImportOptions(*cmd, args->import, /*for_run=*/true);
  cmd->add_option("--timeout", args->timeout,
                  "stop the guest after S seconds (default: wait)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--console", args->console,
                "attach the first guest's serial console both ways (type "
                "into it; Ctrl-] stops the guest)");
  cmd->add_option("--keep", args->keep,
                  "use DIR for the driver, images and console logs, and keep "
                  "it");
  AddCommonOptions(*cmd, context.common, /*with_connect=*/false);
  cmd->callback(
      [&context, args] { context.exit_code = RunRun(context, *args); });
}

}  // namespace ova2virt::cli
