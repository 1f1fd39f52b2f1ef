// ova2virt verify INPUT [--ca FILE] [--json]: every manifest digest, the
// signature and, with --ca, the signer's chain. Exit 0 only when all hold.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/render_verification.h"
#include "core/crypto.h"
#include "pipeline/verify.h"

namespace ova2virt::cli {
namespace {

struct VerifyArgs {
  std::string input;
  std::string ca;
};

nlohmann::json VerifyJson(const VerifyResult& r, const Status& verdict) {
  nlohmann::json doc;
  doc["input"] = r.input;
  doc["kind"] = std::string(InputKindName(r.kind));
  doc["streamed"] = r.streamed;
  doc.update(VerificationJson(r.report));
  doc["ok"] = verdict.ok();
  if (!verdict.ok()) {
    doc["error"] = {{"code", std::string(ErrorCodeName(verdict.code()))},
                    {"message", verdict.message()},
                    {"exit_code", ExitCodeFor(verdict.code())}};
  }
  doc["warnings"] = DiagnosticsJson(r.report.warnings);
  return doc;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c == '-') c = ' ';
  }
  return out;
}

void PrintVerify(FILE* out, const VerifyResult& r, const Status& verdict) {
  const VerificationReport& rep = r.report;
  std::fprintf(out, "%s: %s\n", InputDisplayName(r.input).c_str(),
               std::string(InputKindName(r.kind)).c_str());
  if (rep.has_manifest) {
    std::string algos;
    for (DigestAlgorithm a : rep.manifest_algorithms) {
      algos += (algos.empty() ? "" : "+") + std::string(DigestName(a));
    }
    std::fprintf(out, "manifest: %s (%s)\n", rep.manifest_name.c_str(),
                 algos.empty() ? "empty" : algos.c_str());
  } else {
    std::fprintf(out, "manifest: none (nothing to check digests against)\n");
  }
  for (const FileCheck& f : rep.files) {
    std::string algo = f.algorithm ? std::string(DigestName(*f.algorithm)) : "";
    std::string note;
    if (f.status == FileStatus::kMismatch) {
      note = " (expected " + f.expected + ", got " +
             (f.actual.empty() ? std::string("nothing") : f.actual) + ")";
    } else if (f.status == FileStatus::kMissing) {
      note = f.listed ? " (listed in the manifest)"
                      : " (referenced by the descriptor)";
    }
    std::fprintf(out, "  %-11s %-7s %s%s\n",
                 Upper(FileStatusName(f.status)).c_str(), algo.c_str(),
                 f.name.c_str(), note.c_str());
  }
  const SignatureCheck& s = rep.signature;
  if (!s.present) {
    std::fprintf(out, "signature: none\n");
  } else {
    std::string algo =
        s.algorithm ? std::string(DigestName(*s.algorithm)) : "?";
    std::fprintf(out, "signature: %s, %s, %s\n",
                 s.valid ? "valid" : ("INVALID: " + s.error).c_str(),
                 algo.c_str(), s.member.c_str());
    if (s.signer) {
      std::fprintf(out, "  signer:  %s\n", s.signer->subject.c_str());
      std::fprintf(
          out, "  issuer:  %s\n",
          s.signer->self_signed ? "(self-signed)" : s.signer->issuer.c_str());
      std::fprintf(out, "  valid:   %s to %s%s\n",
                   FormatUtcTime(s.signer->not_before).c_str(),
                   FormatUtcTime(s.signer->not_after).c_str(),
                   s.expired         ? " (EXPIRED)"
                   : s.not_yet_valid ? " (NOT YET VALID)"
                                     : "");
      std::string trust =
          s.trust == TrustStatus::kVerified ? "chain verified (--ca)"
          : s.trust == TrustStatus::kFailed ? "FAILED: " + s.trust_error
                                            : "not checked (no --ca)";
      std::fprintf(out, "  trust:   %s\n", trust.c_str());
    }
  }
  size_t matched = 0;
  for (const FileCheck& f : rep.files) matched += f.status == FileStatus::kOk;
  if (verdict.ok()) {
    std::fprintf(out,
                 "result: ok, %zu of %zu files checked against the "
                 "manifest\n",
                 matched, rep.files.size());
  } else {
    std::fprintf(out, "result: FAILED\n");
  }
}

int RunVerify(Context& context, const VerifyArgs& args) {
  std::unique_ptr<Progress> progress = context.MakeProgress();
  VerifyRequest request;
  request.input = args.input;
  request.ca_file = args.ca;
  request.progress = progress.get();
  Result<VerifyResult> result = VerifyPackage(request);
  if (!result.ok()) return context.Fail(result.status());
  Status verdict = result->Verdict();
  if (context.common.json) {
    context.PrintJson(VerifyJson(*result, verdict));
    context.exit_code = ExitCodeFor(verdict.code());
    return context.exit_code;
  }
  PrintVerify(stdout, *result, verdict);
  std::fflush(stdout);
  // A failure is one line on stderr; the warnings then wait for -v (and
  // are always in --json).
  if (verdict.ok() || context.common.verbose > 0) {
    context.Warn(result->report.warnings);
  }
  if (!verdict.ok()) return context.Fail(verdict);
  return 0;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, Context& context) {
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "check every manifest digest, the signature and (with --ca) the "
      "signer");
  auto args = std::make_shared<VerifyArgs>();
  cmd->add_option("INPUT", args->input,
                  "an .ova, an .ovf or a directory holding one, a .vmx, or "
                  "- for stdin")
      ->required();
  cmd->add_option("--ca", args->ca,
                  "PEM file of trusted certificates: require a signature "
                  "chaining to one of them, covering every member");
  AddCommonOptions(*cmd, context.common, /*with_connect=*/false);
  cmd->callback(
      [&context, args] { context.exit_code = RunVerify(context, *args); });
}

}  // namespace ova2virt::cli
