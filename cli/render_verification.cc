#include "cli/render_verification.h"

#include <string>

#include "core/crypto.h"

namespace ova2virt::cli {
namespace {

nlohmann::json CertificateJson(const CertificateInfo& c) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"not_before", FormatUtcTime(c.not_before)},
          {"not_after", FormatUtcTime(c.not_after)},
          {"self_signed", c.self_signed},
          {"serial", c.serial},
          {"sha256_fingerprint", c.sha256_fingerprint},
          {"key", c.key}};
}

nlohmann::json SignatureJson(const SignatureCheck& s) {
  if (!s.present) return {{"present", false}};
  nlohmann::json j = {{"present", true},
                      {"member", s.member},
                      {"valid", s.valid},
                      {"signed_file", s.signed_name},
                      {"expired", s.expired},
                      {"not_yet_valid", s.not_yet_valid},
                      {"trust", std::string(TrustStatusName(s.trust))}};
  j["algorithm"] = s.algorithm
                       ? nlohmann::json(std::string(DigestName(*s.algorithm)))
                       : nlohmann::json(nullptr);
  j["error"] =
      s.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.error);
  j["trust_error"] = s.trust_error.empty() ? nlohmann::json(nullptr)
                                           : nlohmann::json(s.trust_error);
  j["signer"] = s.signer ? CertificateJson(*s.signer) : nlohmann::json(nullptr);
  j["intermediates"] = nlohmann::json::array();
  for (const CertificateInfo& c : s.intermediates) {
    j["intermediates"].push_back(CertificateJson(c));
  }
  return j;
}

}  // namespace

nlohmann::json VerificationJson(const VerificationReport& rep) {
  nlohmann::json doc;
  if (rep.has_manifest) {
    nlohmann::json algorithms = nlohmann::json::array();
    for (DigestAlgorithm a : rep.manifest_algorithms) {
      algorithms.push_back(std::string(DigestName(a)));
    }
    doc["manifest"] = {
        {"name", rep.manifest_name},
        {"algorithm", algorithms.size() == 1 ? algorithms[0]
                      : algorithms.empty()   ? nlohmann::json(nullptr)
                                             : nlohmann::json("mixed")},
        {"algorithms", algorithms}};
  } else {
    doc["manifest"] = nullptr;
  }
  doc["files"] = nlohmann::json::array();
  for (const FileCheck& f : rep.files) {
    nlohmann::json file = {{"name", f.name},
                           {"status", std::string(FileStatusName(f.status))},
                           {"listed", f.listed},
                           {"referenced", f.referenced}};
    file["role"] = f.role ? nlohmann::json(std::string(MemberRoleName(*f.role)))
                          : nlohmann::json(nullptr);
    file["algorithm"] =
        f.algorithm ? nlohmann::json(std::string(DigestName(*f.algorithm)))
                    : nlohmann::json(nullptr);
    file["expected"] = f.expected.empty() ? nlohmann::json(nullptr)
                                          : nlohmann::json(f.expected);
    file["actual"] =
        f.actual.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.actual);
    doc["files"].push_back(std::move(file));
  }
  doc["signature"] = SignatureJson(rep.signature);
  return doc;
}

}  // namespace ova2virt::cli
