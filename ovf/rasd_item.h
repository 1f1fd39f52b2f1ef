// Internal to the OVF reader: one RASD item (Item, StorageItem,
// EthernetPortItem) as written, the deployment-option filter over items,
// and host resource references.
#ifndef OVA2VIRT_OVF_RASD_ITEM_H_
#define OVA2VIRT_OVF_RASD_ITEM_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/vmspec.h"
#include "core/xml.h"
#include "ovf/ovf_read_context.h"

namespace ova2virt::ovf {

// One Item / StorageItem / EthernetPortItem as written.
struct RawItem {
  std::string element;
  KeyValues fields;  // RASD (or sasd/epasd/vendor) local name -> text
  KeyValues vmw;     // vmw:Config key -> value
  std::string cores_per_socket;
  std::string configuration;
  std::string id;  // InstanceID (deduplicated)
  std::optional<int> type;
  std::string where;

  // Case-insensitive: OVF 0.9 writes "InstanceId", 1.x "InstanceID".
  const std::string* Field(std::string_view name) const;
  std::string Get(std::string_view name) const;
  const std::string* Config(std::string_view key) const;
  // ElementName, else Caption (OVF 0.9).
  std::string Label() const;
  std::string Subtype() const { return Get("ResourceSubType"); }
};

RawItem ParseItem(const XmlElement& e, const ReadContext& ctx);

// A small non-negative integer (up to a million); nullopt otherwise.
std::optional<int> SmallInt(std::string_view text);

// Items that apply to the chosen deployment option, in document order: an
// item with ovf:configuration applies when the option is listed; one
// without applies unless an item with the same InstanceID is specific to
// the chosen option (OVF 1.1 section 9.8).
std::vector<RawItem> SelectItems(std::vector<RawItem> items,
                                 const ReadContext& ctx);

// `s` in lower case without `prefix` ("vmware.usb.ehci" -> "ehci").
std::string StripPrefix(std::string_view s, std::string_view prefix);

// "ovf:/disk/ID", "/disk/ID", "ovf:/file/ID", or something else.
struct HostRef {
  enum Kind { kNone, kDisk, kFile, kOther } kind = kNone;
  std::string id;
};
HostRef ParseHostResource(std::string_view text);

}  // namespace ova2virt::ovf

#endif  // OVA2VIRT_OVF_RASD_ITEM_H_
