// The package part of `inspect`: what a package holds, where, and in what
// role -- read without computing digests (members nobody reads are skipped
// by seeking where the input allows).
#ifndef OVA2VIRT_PIPELINE_LIST_PACKAGE_H_
#define OVA2VIRT_PIPELINE_LIST_PACKAGE_H_

#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "ova/member.h"
#include "ova/package_reader.h"

namespace ova2virt {

struct PackageListing {
  std::string input;  // as given
  InputKind kind = InputKind::kOva;
  bool streamed = false;
  std::vector<MemberInfo> members;  // in package order
  std::string descriptor_name;
  std::string descriptor;     // its text, for the descriptor's own inspection
  std::string manifest_name;  // empty when there is none
  std::string certificate_name;         // empty when there is none
  std::vector<std::string> referenced;  // member names the descriptor names
  Diagnostics warnings;
};

// Lists `input` ("-" for stdin). Fails, with the input named, for what
// stops reading: I/O errors, hostile members or hrefs, a truncated archive,
// no descriptor, a descriptor whose References cannot be read. Referenced
// files that are missing are warnings here (verify fails on them).
Result<PackageListing> ListPackage(const std::string& input);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_LIST_PACKAGE_H_
