#include "ova/verification.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "ova/certificate_file.h"

namespace ova2virt {

std::string_view MemberRoleName(MemberRole role) {
  switch (role) {
    case MemberRole::kDescriptor:
      return "descriptor";
    case MemberRole::kManifest:
      return "manifest";
    case MemberRole::kCertificate:
      return "certificate";
    case MemberRole::kFile:
      return "file";
  }
  return "file";
}

std::string_view FileStatusName(FileStatus status) {
  switch (status) {
    case FileStatus::kOk:
      return "ok";
    case FileStatus::kMismatch:
      return "mismatch";
    case FileStatus::kNotListed:
      return "not-listed";
    case FileStatus::kMissing:
      return "missing";
    case FileStatus::kUnchecked:
      return "unchecked";
  }
  return "missing";
}

std::string_view TrustStatusName(TrustStatus status) {
  switch (status) {
    case TrustStatus::kNotChecked:
      return "not-checked";
    case TrustStatus::kVerified:
      return "verified";
    case TrustStatus::kFailed:
      return "failed";
  }
  return "failed";
}

namespace {

const std::string* DigestFor(const VerificationInput::Member& m,
                             DigestAlgorithm a) {
  for (const auto& [algo, hex] : m.digests) {
    if (algo == a) return &hex;
  }
  return nullptr;
}

void CheckSignature(const VerificationInput& in, const VerifyOptions& options,
                    VerificationReport& report) {
  SignatureCheck& sig = report.signature;
  sig.present = true;
  sig.member = in.certificate_name;
  auto parsed = ParseCertificateFile(*in.certificate_text);
  if (!parsed.ok()) {
    sig.error = parsed.status().message();
    return;
  }
  sig.algorithm = parsed->algorithm;
  sig.signed_name = parsed->signed_name;
  const Certificate& signer = parsed->certificates.front();
  sig.signer = signer.info();
  for (size_t i = 1; i < parsed->certificates.size(); ++i) {
    sig.intermediates.push_back(parsed->certificates[i].info());
  }
  int64_t now = options.now.value_or(static_cast<int64_t>(std::time(nullptr)));
  sig.expired = now > sig.signer->not_after;
  sig.not_yet_valid = now < sig.signer->not_before;
  const std::string where = in.certificate_name;
  if (sig.expired) {
    report.warnings.Warn("signature.expired", where,
                         "the signer's certificate expired on " +
                             FormatUtcTime(sig.signer->not_after));
  }
  if (sig.not_yet_valid) {
    report.warnings.Warn("signature.not-yet-valid", where,
                         "the signer's certificate is valid only from " +
                             FormatUtcTime(sig.signer->not_before));
  }
  if (parsed->algorithm == DigestAlgorithm::kSha1) {
    report.warnings.Warn("signature.weak-digest", where,
                         "the signature uses SHA1, which is no longer "
                         "collision-resistant");
  }
  if (in.manifest == nullptr) {
    sig.error = "the package has no manifest for the signature to cover";
    return;
  }
  if (parsed->signed_name != in.manifest_name) {
    report.warnings.Warn("signature.other-file", where,
                         "the signature line names " +
                             Quote(parsed->signed_name) +
                             " but the manifest is " + Quote(in.manifest_name));
  }
  Status verified = VerifySignature(
      signer, parsed->algorithm, AsBytes(in.manifest_bytes), parsed->signature);
  if (!verified.ok()) {
    sig.error =
        verified.message() + " (manifest " + Quote(in.manifest_name) + ")";
    return;
  }
  sig.valid = true;
  if (options.ca_pem) {
    std::vector<Certificate> intermediates(parsed->certificates.begin() + 1,
                                           parsed->certificates.end());
    Status chain =
        VerifyCertificateChain(signer, intermediates, *options.ca_pem);
    sig.trust = chain.ok() ? TrustStatus::kVerified : TrustStatus::kFailed;
    sig.trust_error = chain.message();
  } else if (sig.signer->self_signed) {
    report.warnings.Warn("signature.self-signed", where,
                         "the signer's certificate is self-signed: anyone "
                         "can make one; give --ca to require a trusted "
                         "signer");
  } else {
    report.warnings.Warn("signature.not-verified", where,
                         "the signer's certificate chain was not checked; "
                         "give --ca FILE to check it");
  }
}

}  // namespace

VerificationReport BuildVerificationReport(const VerificationInput& in,
                                           const VerifyOptions& options) {
  VerificationReport report;
  report.noun = in.noun;
  report.ca_given = options.ca_pem.has_value();
  report.ca_name = options.ca_name;
  report.has_manifest = in.manifest != nullptr;
  report.manifest_name = in.manifest_name;
  const std::string& noun = in.noun;
  if (in.manifest) report.manifest_algorithms = in.manifest->Algorithms();
  std::set<std::string> referenced(in.referenced.begin(), in.referenced.end());
  std::set<std::string> present;
  const bool signed_package = in.certificate_text != nullptr;

  if (!in.manifest) {
    report.warnings.Warn("manifest.none", "",
                         "the package has no manifest: nothing could be "
                         "checked for integrity");
  } else {
    std::set<std::pair<std::string, DigestAlgorithm>> seen;
    for (const ManifestEntry& e : in.manifest->entries) {
      if (!seen.insert({e.name, e.algorithm}).second) {
        report.warnings.Warn("manifest.duplicate-entry", in.manifest_name,
                             "line " + std::to_string(e.line) + " lists " +
                                 Quote(e.name) + " again");
      }
    }
    if (in.manifest->entries.empty()) {
      report.warnings.Warn("manifest.empty", in.manifest_name,
                           "the manifest lists no files");
    }
  }

  for (const VerificationInput::Member& m : in.members) {
    present.insert(m.name);
    bool is_manifest = in.manifest && m.name == in.manifest_name;
    std::vector<const ManifestEntry*> entries;
    if (in.manifest) entries = in.manifest->Find(m.name);
    // The manifest and certificate are checked by the signature, not by
    // the manifest; they appear here only if the manifest lists them.
    if ((is_manifest || m.role == MemberRole::kCertificate ||
         m.role == MemberRole::kManifest) &&
        entries.empty()) {
      continue;
    }
    FileCheck check;
    check.name = m.name;
    check.role = m.role;
    check.referenced = referenced.count(m.name) > 0;
    check.listed = !entries.empty();
    if (entries.empty()) {
      check.status = FileStatus::kNotListed;
      if (in.manifest) {
        std::string what = m.role == MemberRole::kDescriptor
                               ? "the descriptor is not listed in the "
                                 "manifest: its integrity is not checked"
                               : noun + " " + Quote(m.name) +
                                     " is not listed in the manifest: its "
                                     "integrity is not checked";
        if (signed_package) what += ", and the signature does not cover it";
        report.warnings.Warn("manifest.not-listed", m.name, what);
      }
    } else if (m.digests.empty() && !in.digests_computed) {
      check.status = FileStatus::kUnchecked;
      check.algorithm = entries.front()->algorithm;
      check.expected = entries.front()->digest;
    } else {
      check.status = FileStatus::kOk;
      check.algorithm = entries.front()->algorithm;
      check.expected = entries.front()->digest;
      for (const ManifestEntry* e : entries) {
        const std::string* actual = DigestFor(m, e->algorithm);
        if (actual == nullptr || *actual != e->digest) {
          check.status = FileStatus::kMismatch;
          check.algorithm = e->algorithm;
          check.expected = e->digest;
          check.actual = actual ? *actual : "";
          break;
        }
        if (e == entries.front()) check.actual = *actual;
      }
    }
    report.files.push_back(std::move(check));
  }

  // Listed or referenced, but not in the package.
  auto add_missing = [&](const std::string& name, const ManifestEntry* entry) {
    for (const FileCheck& f : report.files) {
      if (f.name == name) return;
    }
    FileCheck check;
    check.name = name;
    check.status = FileStatus::kMissing;
    check.listed = entry != nullptr;
    check.referenced = referenced.count(name) > 0;
    if (entry) {
      check.algorithm = entry->algorithm;
      check.expected = entry->digest;
    }
    report.files.push_back(std::move(check));
  };
  if (in.manifest) {
    for (const ManifestEntry& e : in.manifest->entries) {
      if (!present.count(e.name)) add_missing(e.name, &e);
    }
  }
  for (const std::string& name : in.referenced) {
    if (!present.count(name)) add_missing(name, nullptr);
  }

  if (signed_package) {
    CheckSignature(in, options, report);
  }
  return report;
}

Status VerificationReport::ToStatus() const {
  for (const FileCheck& f : files) {
    const std::string who = noun + " " + Quote(f.name);
    if (f.status == FileStatus::kMismatch) {
      return CorruptError(who + ": " + std::string(DigestName(*f.algorithm)) +
                          " digest mismatch");
    }
    if (f.status == FileStatus::kMissing) {
      return CorruptError(who + " is " +
                          (f.listed ? "listed in the manifest"
                                    : "referenced by the descriptor") +
                          " but missing");
    }
  }
  if (signature.present) {
    const std::string who = noun + " " + Quote(signature.member);
    if (!signature.error.empty()) {
      return CorruptError(who + ": " + signature.error);
    }
    if (signature.trust == TrustStatus::kFailed) {
      return CorruptError(who + ": " + signature.trust_error + " (anchors " +
                          Quote(ca_name) + ")");
    }
  }
  if (ca_given) {
    if (!signature.present) {
      return CorruptError("the package is not signed (--ca was given)");
    }
    for (const FileCheck& f : files) {
      if (f.status == FileStatus::kNotListed) {
        return CorruptError(noun + " " + Quote(f.name) +
                            " is not covered by the signed manifest (--ca "
                            "was given)");
      }
    }
  }
  return OkStatus();
}

}  // namespace ova2virt
