// Pure readers of the host-side XML libvirt hands out: storage pool and
// volume descriptions, host and domain capabilities (what guests the host
// offers, the emulator's DAC identity), and where virt-install would put
// the default pool for a connection URI. No libvirt
// here: each function takes text and returns values, so captured XML tests
// them.
#ifndef OVA2VIRT_VIRTDRIVER_HOST_XML_H_
#define OVA2VIRT_VIRTDRIVER_HOST_XML_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ova2virt {

// What a <pool> description says about where its volumes live.
struct PoolXml {
  std::string type;         // "dir", "fs", "logical", "netfs", ...
  std::string target_path;  // <target><path>, empty if none
};
// Errors: kCorrupt for text that is not XML or not a <pool>.
Result<PoolXml> ParsePoolXml(std::string_view xml);

// What a <volume> description says beyond libvirt's volume info.
struct VolumeXml {
  std::string format;  // <target><format type=...>, empty if none
  // <target><timestamps><mtime>, "SECONDS[.NANOSECONDS]", in nanoseconds;
  // nullopt when absent or not of that form.
  std::optional<int64_t> mtime_ns;
};
// Errors: kCorrupt for text that is not XML.
Result<VolumeXml> ParseVolumeXml(std::string_view xml);

// What the host capabilities (virConnectGetCapabilities) offer x86_64 hvm
// guests: the machine types (each alias followed by the machine it stands
// for: "q35", "pc-q35-7.2") and the domain types.
struct HostGuestCaps {
  bool kvm = false;                   // a "kvm" domain type
  bool qemu = false;                  // a "qemu" (TCG) domain type
  std::vector<std::string> machines;  // in the order listed
};
// Errors: kCorrupt for text that is not XML.
Result<HostGuestCaps> ParseHostGuestCaps(std::string_view caps_xml);

// What domain capabilities (virConnectGetDomainCapabilities) say of
// firmware and disks.
struct DomainCapsXml {
  bool efi = false;          // <os><enum name='firmware'> offers "efi"
  bool secure_boot = false;  // <os><loader><enum name='secure'> has "yes"
  std::vector<std::string> disk_buses;  // <devices><disk><enum name='bus'>
};
// Errors: kCorrupt for text that is not XML.
Result<DomainCapsXml> ParseDomainCapsXml(std::string_view domcaps_xml);

// The user and group QEMU runs as, from the capabilities' DAC security
// model (<secmodel><model>dac</model><baselabel type='kvm'>+64055:+64055
// </baselabel>). `virt_type` ("kvm", "qemu") picks the baselabel; without
// one of that type, the first. nullopt when the host reports no DAC model
// (test:///, or a driver without one) or its label is not "+UID:+GID".
struct EmulatorIdentity {
  uint32_t uid = 0, gid = 0;
};
std::optional<EmulatorIdentity> ParseDacBaseLabel(std::string_view caps_xml,
                                                  std::string_view virt_type);

// The directory virt-install gives the `default` pool on the connection
// `uri`: /var/lib/libvirt/images for a qemu driver's system instance (any
// transport and host: "qemu:///system", "qemu+ssh://h/system?..."), and
// $XDG_DATA_HOME/libvirt/images (else $HOME/.local/share/libvirt/images)
// for a local qemu:///session. nullopt for other drivers, for a remote
// session (its home is not ours to know) and for a session without HOME.
std::optional<std::string> DefaultPoolPath(std::string_view uri,
                                           std::string_view xdg_data_home,
                                           std::string_view home);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_HOST_XML_H_
