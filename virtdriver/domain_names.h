// Internal to virtdriver: the name tables shared by the domain XML writer
// and reader, one per device class, so both directions use the same words.
#ifndef OVA2VIRT_VIRTDRIVER_DOMAIN_NAMES_H_
#define OVA2VIRT_VIRTDRIVER_DOMAIN_NAMES_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/vmspec.h"

namespace ova2virt::domain_names {

// libvirt's <controller type='scsi' model=...> for a SCSI model; nullopt
// when QEMU has no such HBA (BusLogic, other). "" means libvirt's default.
std::optional<std::string_view> ScsiModelName(ControllerModel model);
// The reverse ("lsisas1068" -> kLsiLogicSas); kOther for unknown names.
ControllerModel ScsiModelFromName(std::string_view name);

// libvirt's <model type=...> for a NIC model; nullopt when QEMU has none
// (vmxnet2, vlance); "" for unspecified (libvirt picks).
std::optional<std::string_view> NicModelName(NicModel model);
NicModel NicModelFromName(std::string_view name);

// libvirt <driver type=...> <-> ImageFormat.
std::string_view DriverTypeName(ImageFormat format);
ImageFormat ImageFormatFromDriverType(std::string_view type);

// Normalizes a source's USB, sound or video name to libvirt's spelling.
// `exact` is false when the result is a substitute (the caller warns).
struct MappedName {
  std::string name;
  bool exact = true;
};
MappedName UsbModel(std::string_view source);
MappedName SoundModel(std::string_view source, bool q35);
MappedName VideoModel(std::string_view source);

// True for names libvirt would accept as an attribute value we pass
// through (lower-case letters, digits, '-', '_', '.'), 1..64 chars.
bool IsPlainToken(std::string_view s);

// `s` without the control characters XML 1.0 cannot carry (all below 0x20
// but tab, newline, carriage return), which the writer would drop: what
// the reader keeps is exactly what a later write preserves.
std::string WritableText(std::string_view s);

}  // namespace ova2virt::domain_names

#endif  // OVA2VIRT_VIRTDRIVER_DOMAIN_NAMES_H_
