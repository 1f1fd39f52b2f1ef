// Internal to the OVF reader: what its parts share while reading one
// descriptor (files, disks, localized strings, the chosen deployment
// option), and the section readers ovf_reader.cc calls.
#ifndef OVA2VIRT_OVF_OVF_READ_CONTEXT_H_
#define OVA2VIRT_OVF_OVF_READ_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"
#include "core/xml.h"

namespace ova2virt::ovf {

// Caps on values that size nothing but would make no sense as a machine;
// beyond them a descriptor is treated as corrupt rather than believed.
inline constexpr uint64_t kMaxVcpus = 4096;
inline constexpr uint64_t kMaxMemoryBytes = 1ull << 46;    // 64 TiB
inline constexpr uint64_t kMaxCapacityBytes = 1ull << 56;  // 64 PiB
// Caps on counts: real machines have tens of devices, appliances a few
// systems; beyond these a descriptor is treated as hostile, which also
// bounds every per-device search to a small square.
inline constexpr size_t kMaxItems = 4096;    // per VirtualHardwareSection
inline constexpr size_t kMaxDisks = 4096;    // DiskSection disks
inline constexpr size_t kMaxFiles = 4096;    // References files
inline constexpr size_t kMaxSystems = 1024;  // VirtualSystems in all
// Caps on what a descriptor may make us keep.
inline constexpr size_t kMaxUnknownFields = 64;
inline constexpr size_t kMaxUnknownValueBytes = 1024;

// A DiskSection/Disk as written; capacity is resolved per VirtualSystem
// because it may name a property ("${disk_size}").
struct DiskDef {
  std::string id;
  std::string file_id;
  std::string capacity;
  std::string capacity_units;
  std::string format;
  std::optional<uint64_t> populated_size;
  std::string parent_ref;
  std::string where;
};

struct ReadContext {
  Diagnostics* diag = nullptr;
  std::string deployment;  // the applied option; empty when there are none
  bool has_deployment_options = false;
  std::map<std::string, FileRef, std::less<>> files;
  std::map<std::string, DiskDef, std::less<>> disks;
  std::set<std::string, std::less<>> used_disks;
  std::map<std::string, std::string, std::less<>> messages;  // msgid -> text
  // Properties of enclosing collections, innermost last, for ${name}.
  std::vector<const std::vector<ProductInfo>*> outer_products;

  void Warn(std::string id, std::string where, std::string message) const {
    if (diag != nullptr) {
      diag->Warn(std::move(id), std::move(where), std::move(message));
    }
  }
  // The element's trimmed text; an empty element with ovf:msgid takes the
  // message from the descriptor's own Strings sections.
  std::string Text(const XmlElement& e) const;
  // The localized text of the first OVF child named `name`; empty if none.
  std::string ChildText(const XmlElement& parent, std::string_view name) const;
  // Whether an element carrying ovf:configuration="a b" applies to the
  // chosen deployment option.
  bool ConfigurationMatches(std::string_view configuration) const;
};

// A decimal number from the descriptor. Absent or a non-number (templates
// leave "${SIZE}" or "+SIZE+" placeholders): nullopt with the warning
// ovf.bad-number. All digits but too large for 64 bits: kCorrupt.
Result<std::optional<uint64_t>> ReadNumber(const ReadContext& ctx,
                                           std::string_view text,
                                           std::string_view what,
                                           std::string_view where);

// An element kept verbatim as "path = value" pairs (attributes and the text
// of descendants), capped in count and size.
UnknownItem RawElement(const XmlElement& e, std::string where,
                       std::string kind);

// The VirtualHardwareSection: CPU, memory, controllers, disks, NICs and the
// rest, after applying the deployment option. kCorrupt for absurd or
// overflowing sizes.
Status ReadVirtualHardware(const XmlElement& section, ReadContext& ctx,
                           VmSpec* vm);

// ProductSection (with properties, categories and per-option values).
ProductInfo ReadProductSection(const XmlElement& section,
                               const ReadContext& ctx);
// StartupSection items.
Result<std::vector<StartupEntry>> ReadStartupSection(const XmlElement& section,
                                                     const ReadContext& ctx);
// OperatingSystemSection.
void ReadOperatingSystemSection(const XmlElement& section,
                                const ReadContext& ctx, OsInfo* os);
// vbox:Machine: the VirtualBox OS type and firmware, and the MAC addresses
// of its enabled network adapters in slot order (VirtualBox's items carry
// none) for the caller to give the NICs once they are read.
void ReadVirtualBoxMachine(const XmlElement& machine, VmSpec* vm,
                           std::vector<std::string>* adapter_macs);
// vmw:BootOrderSection: boot order by item InstanceID.
void ReadBootOrderSection(const XmlElement& section, const ReadContext& ctx,
                          VmSpec* vm);

}  // namespace ova2virt::ovf

#endif  // OVA2VIRT_OVF_OVF_READ_CONTEXT_H_
