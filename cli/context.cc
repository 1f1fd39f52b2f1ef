#include "cli/context.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/progress_bar.h"

namespace ova2virt::cli {

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 0;
    case ErrorCode::kUsage:
      return 2;
    case ErrorCode::kCorrupt:
      return 3;
    case ErrorCode::kUnsupported:
      return 4;
    default:
      return 1;
  }
}

std::string Context::ConnectUri() const {
  if (!common.connect.empty()) return common.connect;
  if (const char* env = std::getenv("LIBVIRT_DEFAULT_URI"); env && *env) {
    return env;
  }
  return {};
}

int Context::Fail(const Status& status) {
  exit_code = ExitCodeFor(status.code());
  if (common.json) {
    nlohmann::json doc;
    doc["error"] = {{"code", std::string(ErrorCodeName(status.code()))},
                    {"message", status.message()},
                    {"exit_code", exit_code}};
    PrintJson(doc);
  } else {
    // One line, whatever the message holds.
    std::string line = status.message();
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    std::fprintf(stderr, "ova2virt: %s\n", line.c_str());
  }
  return exit_code;
}

void Context::Warn(const Diagnostics& diagnostics) const {
  if (common.quiet || common.json) return;
  for (const Diagnostic& d : diagnostics.items()) {
    std::string line = "ova2virt: warning: " + d.id + ": ";
    if (!d.where.empty()) line += d.where + ": ";
    line += d.message;
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Context::Info(std::string_view line) const {
  if (common.quiet || common.json) return;
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

void Context::PrintJson(const nlohmann::json& doc) const {
  // Invalid UTF-8 from a hostile file must not abort the report.
  std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << std::endl;
}

std::unique_ptr<Progress> Context::MakeProgress() const {
  if (common.json || common.quiet || !isatty(STDERR_FILENO)) {
    return std::make_unique<NoProgress>();
  }
  return std::make_unique<TerminalProgressBar>(stderr);
}

nlohmann::json DiagnosticsJson(const Diagnostics& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic& d : diagnostics.items()) {
    out.push_back({{"id", d.id}, {"where", d.where}, {"message", d.message}});
  }
  return out;
}

void AddCommonOptions(CLI::App& command, CommonOptions& options,
                      bool with_connect) {
  if (with_connect) {
    command.add_option(
        "-c,--connect", options.connect,
        "libvirt connection URI (default: $LIBVIRT_DEFAULT_URI)");
  }
  command.add_flag("--json", options.json,
                   "print one JSON document on stdout, nothing else there");
  command.add_flag("-q,--quiet", options.quiet, "no progress, no warnings");
  command.add_flag("-v,--verbose", options.verbose, "more detail");
}

}  // namespace ova2virt::cli
