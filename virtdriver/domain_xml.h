// VmSpec <-> libvirt domain XML, with no connection: pure converters.
//
// FormatDomainXml writes what a (policy-applied) VmSpec describes,
// mechanically: which bus or model to use is policy's business
// (pipeline/policy.h), and what libvirt or QEMU cannot express is a warning
// or an error here, never silently dropped. ParseDomainXml reads a domain
// back (for export), and ParseDomain also returns the bindings, so that
// Format(Parse(x)) is stable. docs/mapping.md is the table behind both.
#ifndef OVA2VIRT_VIRTDRIVER_DOMAIN_XML_H_
#define OVA2VIRT_VIRTDRIVER_DOMAIN_XML_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"

namespace ova2virt {

// Our namespace for <metadata>, and libosinfo's.
inline constexpr std::string_view kOva2virtXmlns =
    "https://ova2virt.example/xmlns/1.0";
inline constexpr std::string_view kLibosinfoXmlns =
    "http://libosinfo.org/xmlns/libvirt/domain/1.0";

// Where a VmSpec disk's converted image lives: a pool volume (pool and
// volume set) or a host path.
struct DiskBinding {
  std::string disk_id;  // Disk::id
  std::string path;     // host path (type='file'); also set for volumes
  std::string pool, volume;
  std::string format;  // "qcow2" | "raw"
};

// What a VmSpec NIC is plugged into on the host.
struct NicBinding {
  std::string nic_id;  // Nic::id
  enum Kind { kNetwork, kBridge, kUser, kNone } kind = kNetwork;
  std::string source;  // network or bridge name
};

struct DomainOptions {
  std::string name, uuid;  // uuid optional: libvirt makes one
  std::string virt_type;   // "kvm" | "qemu" (empty: kvm)
  std::string machine;     // "q35" | "pc" (empty: q35)
  std::vector<DiskBinding> disks;
  std::vector<NicBinding> nics;
  std::string serial_log_path;  // first serial port to this file, else pty
  // With serial_log_path: keep the first port a pty (a console can attach
  // and type into it) and log its output to the file.
  bool serial_pty_with_log = false;
  bool headless = false;     // no VNC display (tests, `run`)
  KeyValues metadata;        // ova2virt:meta entries ("source", "imported"...)
  std::string libosinfo_id;  // short id or URI; empty: VmSpec's os
  // The OVF environment CD the import made (DSP0243 "iso" transport). To
  // FormatDomainXml: that CD's Disk::id; its image (from `disks`) is
  // recorded in the metadata with VmSpec::environment_transport. From
  // ParseDomain: the drive (target) that still holds that image, else
  // empty (the image was swapped or removed).
  std::string environment_disk_id;
};

// Writes the domain XML for `vm`. Errors: kUsage when the options are
// incomplete (no name, no memory, a hard disk without a binding, a NIC
// without one); kUnsupported when the spec asks for what this libvirt or
// QEMU cannot do (a bus or model policy should have replaced, a port beyond
// a controller's range, two devices on one address). Lossy choices (a
// serial port's host side, an unknown OS id) are warnings in `diags`.
Result<std::string> FormatDomainXml(const VmSpec& vm,
                                    const DomainOptions& options,
                                    Diagnostics* diags);

// A domain read back: the machine and how it is bound to the host.
struct ParsedDomain {
  VmSpec spec;
  DomainOptions options;
};

// Reads domain XML (untrusted: through ParseXml's caps). Devices become
// VmSpec controllers/disks/NICs with libvirt's names mapped back to our
// enums; disk sources go to Disk::source (href = path, pool/volume, format)
// and to options.disks. kCorrupt for malformed XML or values; what has no
// VmSpec equivalent is a warning.
Result<ParsedDomain> ParseDomain(std::string_view xml, Diagnostics* diags);
Result<VmSpec> ParseDomainXml(std::string_view xml, Diagnostics* diags);

// The <uuid> of a domain's XML (libvirt's, read back after define); empty
// when the text is not XML or names no uuid.
std::string DomainUuid(std::string_view xml);

// "sda", "hdc", "vdaa"...: libvirt's disk naming for index `index` (0 = a).
std::string DiskTargetName(std::string_view prefix, int index);

// The libosinfo URI for a short id ("ubuntu22.04" ->
// "http://ubuntu.com/ubuntu/22.04"); a URI is returned as is; empty when
// the family is not one we know.
std::string LibosinfoUri(std::string_view id);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_DOMAIN_XML_H_
