// Names the host's libvirt knows, for shell completion: domains, pools and
// networks.
#ifndef OVA2VIRT_PIPELINE_HOST_NAMES_H_
#define OVA2VIRT_PIPELINE_HOST_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ova2virt {

// `kind` is "domains", "pools" or "networks"; kUsage otherwise. Sorted.
Result<std::vector<std::string>> ListHostNames(const std::string& uri,
                                               std::string_view kind);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_HOST_NAMES_H_
