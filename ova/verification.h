// The result of verifying a package: every file against the manifest, the
// manifest against the signature, the signer against the trust anchors.
//
// Building the report is pure (BuildVerificationReport): the PackageReader
// gathers the digests while streaming and hands them over at the end.
#ifndef OVA2VIRT_OVA_VERIFICATION_H_
#define OVA2VIRT_OVA_VERIFICATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/crypto.h"
#include "core/diagnostics.h"
#include "core/digest.h"
#include "core/status.h"
#include "ova/manifest.h"
#include "ova/member.h"

namespace ova2virt {

struct VerifyOptions {
  // Trust anchors (PEM) for the signer's chain (`--ca FILE`), and the name
  // to quote in messages. With anchors, the package must be signed and every
  // member covered by the signed manifest.
  std::optional<std::string> ca_pem;
  std::string ca_name;
  // "Now" for expiry, in seconds since the epoch; unset: the clock.
  std::optional<int64_t> now;
};

enum class FileStatus {
  kOk,         // listed, and every listed digest matches
  kMismatch,   // listed, and a digest differs
  kNotListed,  // present, but the manifest does not list it (or no manifest)
  kMissing,    // listed in the manifest or referenced, but not in the package
  kUnchecked,  // listed, but read without computing digests (a dry run)
};

// "ok", "mismatch", "not-listed", "missing", "unchecked".
std::string_view FileStatusName(FileStatus status);

struct FileCheck {
  std::string name;
  FileStatus status = FileStatus::kNotListed;
  std::optional<MemberRole> role;            // unset when missing
  std::optional<DigestAlgorithm> algorithm;  // the manifest's, when listed
  std::string expected;                      // hex, from the manifest
  std::string actual;                        // hex, computed
  bool listed = false;
  bool referenced = false;  // by the descriptor's References
};

enum class TrustStatus {
  kNotChecked,  // no trust anchors were given
  kVerified,    // the chain reaches a given anchor
  kFailed,      // it does not
};

// "not-checked", "verified", "failed".
std::string_view TrustStatusName(TrustStatus status);

struct SignatureCheck {
  bool present = false;  // the package has a certificate member
  std::string member;    // its name
  std::optional<DigestAlgorithm> algorithm;
  std::string signed_name;  // the file its signature line names
  bool valid = false;       // the signature verifies over the manifest
  std::string error;        // why the certificate member fails, if it does
  std::optional<CertificateInfo> signer;
  std::vector<CertificateInfo> intermediates;
  bool expired = false;
  bool not_yet_valid = false;
  TrustStatus trust = TrustStatus::kNotChecked;
  std::string trust_error;
};

struct VerificationReport {
  bool has_manifest = false;
  std::string manifest_name;
  std::vector<DigestAlgorithm> manifest_algorithms;
  std::vector<FileCheck> files;  // package order, then what is missing
  SignatureCheck signature;
  Diagnostics warnings;
  // What members are called in messages: "member" in a tar, "file" on disk.
  std::string noun = "member";
  bool ca_given = false;
  std::string ca_name;

  // Ok, or kCorrupt naming the first failure: a digest mismatch ("member
  // 'disk1.vmdk': SHA256 digest mismatch"), a listed or referenced file that
  // is missing, a bad signature or certificate, a chain that does not
  // verify; and with trust anchors, an unsigned package or a member the
  // signed manifest does not cover.
  Status ToStatus() const;
  bool ok() const { return ToStatus().ok(); }
};

// What the reader gathered while streaming.
struct VerificationInput {
  struct Member {
    std::string name;
    MemberRole role = MemberRole::kFile;
    // The digests computed, by algorithm (at least those the manifest uses
    // for this member).
    std::vector<std::pair<DigestAlgorithm, std::string>> digests;
  };
  std::vector<Member> members;  // in package order
  const Manifest* manifest = nullptr;
  std::string manifest_name;
  std::string_view manifest_bytes;  // exactly as stored: what is signed
  const std::string* certificate_text = nullptr;
  std::string certificate_name;
  std::vector<std::string> referenced;  // member names, in order
  std::string noun = "member";
  // False when members were skipped rather than hashed: a listed member
  // with no digests is then kUnchecked, not a mismatch.
  bool digests_computed = true;
};

// Compares, verifies, and explains. Never fails: every problem lands in the
// report (see ToStatus) or its warnings.
VerificationReport BuildVerificationReport(const VerificationInput& input,
                                           const VerifyOptions& options);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_VERIFICATION_H_
