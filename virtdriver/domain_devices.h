// Internal to virtdriver: writing the devices besides storage and network.
#ifndef OVA2VIRT_VIRTDRIVER_DOMAIN_DEVICES_H_
#define OVA2VIRT_VIRTDRIVER_DOMAIN_DEVICES_H_

#include "core/diagnostics.h"
#include "core/vmspec.h"
#include "core/xml.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {

// <controller type='usb'> per USB controller (libvirt model names; an
// unknown one becomes qemu-xhci with domain.usb-substituted).
void WriteUsbControllers(XmlWriter& w, const VmSpec& vm, Diagnostics* diags);

// At least one <serial>: the first to options.serial_log_path when set,
// the rest ptys; a source port wired to something on its old host is
// domain.serial-retargeted.
void WriteSerials(XmlWriter& w, const VmSpec& vm, const DomainOptions& options,
                  Diagnostics* diags);

// Display (VNC on 127.0.0.1 unless headless, a USB tablet with it), sound,
// video (one head except qxl/virtio, vram a power of two), TPM.
void WriteOtherDevices(XmlWriter& w, const VmSpec& vm,
                       const DomainOptions& options, bool q35,
                       Diagnostics* diags);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_DOMAIN_DEVICES_H_
