// The verify use case: read a package once, check every digest against its
// manifest, the manifest against its signature, and the signer against the
// trust anchors the user gave.
#ifndef OVA2VIRT_PIPELINE_VERIFY_H_
#define OVA2VIRT_PIPELINE_VERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "ova/member.h"
#include "ova/package_reader.h"
#include "ova/verification.h"

namespace ova2virt {

struct VerifyRequest {
  std::string input;    // a path, or "-" for stdin
  std::string ca_file;  // PEM trust anchors (--ca); empty for none
  Progress* progress = nullptr;
  std::optional<int64_t> now;  // for expiry; unset: the clock
};

struct VerifyResult {
  std::string input;  // as given
  InputKind kind = InputKind::kOva;
  bool streamed = false;
  std::vector<MemberInfo> members;
  std::string descriptor_name;
  VerificationReport report;

  // The report's verdict with the input named: "x.ova: member
  // 'disk1.vmdk': SHA256 digest mismatch".
  Status Verdict() const;
};

// How an input is named in messages: the path, or "stdin" for "-".
std::string InputDisplayName(const std::string& input);

// Reads `request.input` once. Fails (with the input named) when the package
// cannot be read to the end: I/O errors, hostile members, no descriptor, a
// descriptor whose References cannot be read, an href leaving the package,
// an unreadable --ca file. A package read to the end yields a result even
// when its verdict is negative: see VerifyResult::Verdict().
Result<VerifyResult> VerifyPackage(const VerifyRequest& request);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_VERIFY_H_
