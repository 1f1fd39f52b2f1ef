// The `inspect` use case: what a package holds (members, descriptor,
// manifest, certificate) and what its descriptor describes (the machines).
#ifndef OVA2VIRT_PIPELINE_INSPECT_H_
#define OVA2VIRT_PIPELINE_INSPECT_H_

#include <string>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"
#include "ovf/ovf_reader.h"
#include "pipeline/list_package.h"

namespace ova2virt {

struct InspectReport {
  PackageListing package;
  ApplianceSpec appliance;
  Diagnostics warnings;  // the package's and the descriptor's
};

// Inspects `input` ("-" for stdin). A lone .ovf or .vmx is inspected even
// when its files are not beside it, or when a reference leaves its folder
// (a warning each: inspect opens none of them, while verify and import
// refuse such a package). Errors name the input: a package that cannot be
// read, a descriptor that does not parse (kCorrupt with line:column,
// kUnsupported for an OVF version we do not read).
Result<InspectReport> InspectInput(const std::string& input,
                                   const OvfReadOptions& options);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_INSPECT_H_
