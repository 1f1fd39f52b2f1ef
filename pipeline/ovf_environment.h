// The OVF environment (DMTF DSP0243, "OVF Environment"): the property
// values a deployment hands to the guest. vSphere writes them into
// ovf-env.xml on a CD labelled "OVF ENV" when a VirtualSystem asks for the
// "iso" transport, and guests (cloud-init's OVF datasource, VMware's
// appliance agents) read them from there. ova2virt does the same.
#ifndef OVA2VIRT_PIPELINE_OVF_ENVIRONMENT_H_
#define OVA2VIRT_PIPELINE_OVF_ENVIRONMENT_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/vmspec.h"

namespace ova2virt {

struct PropertyValue {
  std::string key;  // the full key: "class.key.instance" (DSP0243 9.5)
  std::string value;
};

// True when the machine asks for its environment on a CD ("iso" among the
// ovf:transport values).
bool WantsIsoEnvironment(const VmSpec& vm);

// Splits "KEY=VALUE" (--prop). kUsage when there is no '='.
Result<std::pair<std::string, std::string>> ParsePropertyArgument(
    std::string_view text);

// Every property of `vm` with its value: the default, or the value given in
// `overrides` (by full key, or by plain key when that is unambiguous).
// Values are checked against the property's type and qualifiers (integer
// ranges, booleans, reals, MinLen/MaxLen, MinValue/MaxValue, ValueMap):
// kUsage naming the property and the rule it breaks. An override naming no
// property is kUsage too.
Result<std::vector<PropertyValue>> ResolveProperties(
    const VmSpec& vm,
    const std::vector<std::pair<std::string, std::string>>& overrides);

// The ovf-env.xml document for `vm` (oe:id = its OVF id), deterministic.
std::string FormatOvfEnvironment(const VmSpec& vm,
                                 const std::vector<PropertyValue>& values);

// Checks one value against a property's type and qualifiers; kUsage saying
// why not.
Status CheckPropertyValue(const Property& property, std::string_view value);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_OVF_ENVIRONMENT_H_
