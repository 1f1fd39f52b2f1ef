// What the OVF reader and writer share: namespace URIs, CIM resource type
// numbers, disk format URIs, and small helpers that find OVF elements and
// attributes however a producer spelled their namespaces. The one place
// these constants live (like LevelDB's log_format.h).
#ifndef OVA2VIRT_OVF_OVF_FORMAT_H_
#define OVA2VIRT_OVF_OVF_FORMAT_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/vmspec.h"
#include "core/xml.h"

namespace ova2virt::ovf {

// Envelope namespaces (DSP8023): 0.9 was VMware's; 1.x and 2.x are DMTF's.
inline constexpr std::string_view kOvf09Ns =
    "http://www.vmware.com/schema/ovf/1/envelope";
inline constexpr std::string_view kOvf1Ns =
    "http://schemas.dmtf.org/ovf/envelope/1";
inline constexpr std::string_view kOvf2Ns =
    "http://schemas.dmtf.org/ovf/envelope/2";
// The `ovf:version` the writer states for a major version: the DSP0243
// release whose schema (DSP8023 1.1.1, 2.0.1) its descriptors validate
// against. `export --help`, `inspect` and the man page name versions so.
constexpr std::string_view WrittenOvfVersion(int major) {
  return major == 2 ? "2.0" : "1.1";
}
inline constexpr std::string_view kOvfEnvelopePrefix =
    "http://schemas.dmtf.org/ovf/envelope/";
inline constexpr std::string_view kRasdNs =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
    "CIM_ResourceAllocationSettingData";
inline constexpr std::string_view kVssdNs =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
    "CIM_VirtualSystemSettingData";
inline constexpr std::string_view kCimNs =
    "http://schemas.dmtf.org/wbem/wscim/1/common";
inline constexpr std::string_view kVmwNs = "http://www.vmware.com/schema/ovf";
inline constexpr std::string_view kVboxNs =
    "http://www.virtualbox.org/ovf/machine";
inline constexpr std::string_view kXsiNs =
    "http://www.w3.org/2001/XMLSchema-instance";

// Disk format URIs (ovf:format).
inline constexpr std::string_view kVmdkStreamOptimizedUri =
    "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";
inline constexpr std::string_view kVmdkSparseUri =
    "http://www.vmware.com/specifications/vmdk.html#sparse";
inline constexpr std::string_view kVmdkUri =
    "http://www.vmware.com/interfaces/specifications/vmdk.html";
inline constexpr std::string_view kVhdxUri =
    "http://www.microsoft.com/en-us/download/details.aspx?id=34750#vhdx";
inline constexpr std::string_view kVdiUri = "http://www.virtualbox.org/vdi";
inline constexpr std::string_view kQcow2Uri =
    "http://www.gnome.org/~markmc/qcow-image-format.html";
inline constexpr std::string_view kRawUri = "http://en.wikipedia.org/wiki/Byte";
inline constexpr std::string_view kIsoUri =
    "http://www.ecma-international.org/publications/standards/Ecma-119.htm";
inline constexpr std::string_view kVhdUri =
    "http://technet.microsoft.com/en-us/library/bb676673.aspx";

// CIM_ResourceAllocationSettingData.ResourceType values used by producers.
enum ResourceType : int {
  kRtOther = 1,
  kRtProcessor = 3,
  kRtMemory = 4,
  kRtIdeController = 5,
  kRtScsiController = 6,
  kRtEthernet = 10,
  kRtFloppy = 14,
  kRtCdrom = 15,
  kRtDvd = 16,
  kRtDisk = 17,
  kRtStorageExtent = 19,  // XenServer's disks
  kRtOtherStorage = 20,   // SATA/AHCI and NVMe controllers (VMware, VirtualBox)
  kRtSerial = 21,
  kRtParallel = 22,
  kRtUsb = 23,
  kRtGraphics = 24,
  kRtLogicalDisk = 31,
  kRtTpm = 34,    // VMware writes its vTPM with this number
  kRtSound = 35,  // VirtualBox and VMware sound cards
};

// A namespace URI with the variations producers introduce removed:
// surrounding white space, trailing '/' or '.', and a ".xsd" suffix
// (VirtualBox's OVF 2.0 sasd/epasd URIs).
std::string NormalizeNs(std::string_view uri);

// The OVF major version of an envelope namespace: 0 for the 0.9 one, 1, 2,
// or N for ".../envelope/N"; nullopt for any other namespace.
std::optional<int> EnvelopeMajor(std::string_view ns);
bool IsOvfNs(std::string_view ns);
bool IsVmwareNs(std::string_view ns);

// The element's OVF name: its local name, except that OVF 0.9's
// <Section xsi:type="ovf:DiskSection_Type"> and <Content
// xsi:type="ovf:VirtualSystem_Type"> are named by their type
// ("DiskSection", "VirtualSystem"). Empty for elements in a namespace that
// is not OVF's (unqualified elements count as OVF: 0.9 producers write
// them).
std::string OvfName(const XmlElement& e);

// An OVF attribute (ovf:NAME, in any OVF namespace), falling back to an
// unprefixed NAME; nullopt if absent.
std::optional<std::string> OvfAttr(const XmlElement& e, std::string_view name);
// A VMware extension attribute (vmw:NAME).
std::optional<std::string> VmwAttr(const XmlElement& e, std::string_view name);

// "xsi:type"-aware search for the first child with an OVF name.
const XmlElement* OvfChild(const XmlElement& parent, std::string_view name);

// ImageFormat for an ovf:format URI (or a bare name such as "vhd").
ImageFormat FormatFromUri(std::string_view uri);
// The URI the writer uses for a format; empty for kUnknown/kOther.
std::string_view UriForFormat(ImageFormat format);

// The model named by the first token of a ResourceSubType that names one
// ("virtio lsilogic" -> virtio-scsi, "vmware.sata.ahci" -> ahci); nullopt if
// no token does.
std::optional<ControllerModel> ControllerModelFromSubtype(
    std::string_view subtype);
std::optional<NicModel> NicModelFromSubtype(std::string_view subtype);

// Lower-case colon-separated MAC ("00:50:56:aa:bb:cc") from the forms
// producers write ("00-16-8B-DB-00-5E", "080027FDEC62"); nullopt if `text`
// is not a 48-bit MAC address.
std::optional<std::string> NormalizeMac(std::string_view text);

}  // namespace ova2virt::ovf

#endif  // OVA2VIRT_OVF_OVF_FORMAT_H_
