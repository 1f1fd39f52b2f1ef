// Import policy: what a source machine becomes on a KVM host. Pure: no
// connection, no files. The mechanism (virtdriver/domain_xml.h) writes what
// the plan says; every choice made here that changes what the guest sees is
// a warning with a stable id (docs/mapping.md lists them), because the
// guest has drivers only for what it had.
#ifndef OVA2VIRT_PIPELINE_POLICY_H_
#define OVA2VIRT_PIPELINE_POLICY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"
#include "pipeline/import_choices.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {

// "SRC=NET", "SRC=bridge:BR", "SRC=user", "SRC=none"; SRC "*" matches every
// source network not mapped otherwise.
struct NetworkMapping {
  std::string source;
  NicBinding::Kind kind = NicBinding::kNetwork;
  std::string target;  // network or bridge name
};

// Parses one --network value; kUsage naming the value when malformed.
Result<NetworkMapping> ParseNetworkMapping(std::string_view text);

// The values come parsed (pipeline/import_choices.h): nothing here checks
// a spelling.
struct ImportPolicy {
  DiskBusChoice disk_bus = DiskBusChoice::kAuto;     // --disk-bus
  NicModelChoice nic_model = NicModelChoice::kKeep;  // --nic-model
  std::vector<NetworkMapping> networks;
  std::string default_network = "default";  // for unmapped source networks
  std::optional<VirtType> virt_type;  // nullopt: decide from kvm_available
  // From Connection::Capabilities(); nullopt when not known (kvm assumed).
  std::optional<bool> kvm_available;
};

// The target machine: the spec to format, and the host-side choices.
struct TargetPlan {
  VmSpec spec;
  std::string machine;  // "q35" | "pc"
  VirtType virt_type = VirtType::kKvm;
  std::vector<NicBinding> nics;
};

// Source VmSpec -> target plan. Substitutions are warnings:
// policy.boot-disk-bus, policy.controller-substituted, policy.ide-to-sata,
// policy.disk-bus-changed,
// policy.disk-moved, policy.nic-substituted, policy.nic-model-changed,
// policy.nic-removed, policy.network-mapping-unused, policy.default-memory,
// policy.default-vcpus, policy.no-kvm. kUnsupported when the disks cannot
// be placed at all.
Result<TargetPlan> ApplyImportPolicy(const VmSpec& source,
                                     const ImportPolicy& policy,
                                     Diagnostics* diags);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_POLICY_H_
