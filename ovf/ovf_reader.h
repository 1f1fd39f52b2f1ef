// Reads an OVF descriptor (0.9, 1.x, 2.x) into the neutral model.
#ifndef OVA2VIRT_OVF_OVF_READER_H_
#define OVA2VIRT_OVF_OVF_READER_H_

#include <string>
#include <string_view>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"

namespace ova2virt {

struct OvfReadOptions {
  // --deployment NAME: the DeploymentOptionSection option whose items and
  // property values apply; empty = the option marked ovf:default="true",
  // else the first.
  std::string deployment;
};

// Parses an OVF descriptor into the model. Everything the reader does not
// understand is kept in unknown_items / unknown_sections with a warning in
// `diagnostics` (which may be null). hrefs are recorded verbatim, not
// judged; no file is opened.
// Errors: kCorrupt (exit 3) for malformed XML ("line L, column C: ..."), a
// DOCTYPE, a root that is not an OVF Envelope, a VirtualSystem without
// ovf:id, or sizes that overflow or are absurd; kUnsupported (exit 4) for an
// OVF major version after 2; kUsage for an unknown options.deployment.
Result<ApplianceSpec> ParseOvfDescriptor(std::string_view xml,
                                         const OvfReadOptions& options,
                                         Diagnostics* diagnostics);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVF_OVF_READER_H_
