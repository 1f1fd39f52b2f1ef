#!/usr/bin/env python3
"""Writes OVF 1.0 descriptors in the shape VMware ovftool 4.x gives them.

An independent producer for tests (Python standard library only): the
envelope with ovftool's namespace prefixes (ovf, rasd, vssd, vmw, cim, xsi),
References / DiskSection / NetworkSection, one VirtualSystem whose hardware
section lists CPU, memory, the disk controller, the two IDE controllers,
video card, VMCI device, hard disks and NICs in ovftool's order, with the RASD
elements in schema (alphabetical) order, and vmw:Config entries such as
firmware="efi". The output validates against DSP8023 1.1.1.

As a module:
  vs = VirtualSystem(name="demo", disks=[Disk("demo-disk1.vmdk", ...)], ...)
  text = format_ovf(vs)
Command line (for a quick descriptor):
  ovf_write.py --name demo --disk demo-disk1.vmdk:FILE_SIZE:CAPACITY OUT.ovf
"""

import argparse
import dataclasses
import sys
from xml.sax.saxutils import escape, quoteattr

NS = {
    "xmlns": "http://schemas.dmtf.org/ovf/envelope/1",
    "xmlns:cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
    "xmlns:ovf": "http://schemas.dmtf.org/ovf/envelope/1",
    "xmlns:rasd": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                  "CIM_ResourceAllocationSettingData",
    "xmlns:vmw": "http://www.vmware.com/schema/ovf",
    "xmlns:vssd": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                  "CIM_VirtualSystemSettingData",
    "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
}

STREAM_OPTIMIZED = ("http://www.vmware.com/interfaces/specifications/"
                    "vmdk.html#streamOptimized")

# Disk controllers: rasd:ResourceSubType -> (rasd:ResourceType, description).
# SATA and NVMe share ResourceType 20 and differ by subtype only.
CONTROLLERS = {
    "lsilogic": (6, "SCSI Controller"),
    "lsilogicsas": (6, "SCSI Controller"),
    "buslogic": (6, "SCSI Controller"),
    "VirtualSCSI": (6, "SCSI Controller"),
    "vmware.sata.ahci": (20, "SATA Controller"),
    "vmware.nvme.controller": (20, "NVME Controller"),
}

NIC_MODELS = ("E1000", "E1000e", "VmxNet3", "PCNet32")

# CIM_ResourceAllocationSettingData elements in the schema's sequence order.
_RASD_ORDER = ("Address", "AddressOnParent", "AllocationUnits",
               "AutomaticAllocation", "Connection", "Description",
               "ElementName", "HostResource", "InstanceID", "Parent",
               "ResourceSubType", "ResourceType", "VirtualQuantity")


@dataclasses.dataclass
class Disk:
    """One disk: its file in the package and its virtual size."""
    href: str
    file_size: int  # bytes of the file as packaged
    capacity_bytes: int  # virtual size
    populated_size: int = None  # bytes of data; ovftool's ovf:populatedSize
    format: str = STREAM_OPTIMIZED  # ovf:format, the file's image format


@dataclasses.dataclass
class Nic:
    network: str = "VM Network"
    model: str = "E1000"  # rasd:ResourceSubType


@dataclasses.dataclass
class VirtualSystem:
    name: str
    disks: list
    nics: list = dataclasses.field(default_factory=lambda: [Nic()])
    cpus: int = 1
    memory_mib: int = 128
    firmware: str = "bios"  # "bios" or "efi"
    secure_boot: bool = False  # only meaningful with firmware "efi"
    controller: str = "lsilogic"  # a key of CONTROLLERS, or "ide"
    hardware_version: str = "vmx-13"
    os_id: int = 1  # CIM_OperatingSystem type: 1 Other, 102 Other 64-Bit
    os_type: str = "otherGuest"  # vmw:osType
    product: str = None  # ProductSection's Product; None: no section
    vendor: str = None
    version: str = None
    annotation: str = None


class _Writer:
    """Indented XML text, two spaces a level, as ovftool writes it."""

    def __init__(self):
        self.lines = []
        self.depth = 0

    def open(self, tag, attrs=()):
        self.lines.append("  " * self.depth + f"<{tag}{_attrs(attrs)}>")
        self.depth += 1

    def close(self, tag):
        self.depth -= 1
        self.lines.append("  " * self.depth + f"</{tag}>")

    def leaf(self, tag, text=None, attrs=()):
        pad = "  " * self.depth
        if text is None:
            self.lines.append(f"{pad}<{tag}{_attrs(attrs)}/>")
        else:
            self.lines.append(
                f"{pad}<{tag}{_attrs(attrs)}>{escape(str(text))}</{tag}>")


def _attrs(attrs):
    return "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs)


def _config(w, key, value):
    w.leaf("vmw:Config", attrs=(("ovf:required", "false"), ("vmw:key", key),
                                ("vmw:value", value)))


def _item(w, fields, required=True, configs=()):
    w.open("Item", () if required else (("ovf:required", "false"),))
    for name in _RASD_ORDER:
        if name in fields:
            w.leaf(f"rasd:{name}", fields[name])
    unknown = set(fields) - set(_RASD_ORDER)
    assert not unknown, unknown
    for key, value in configs:
        _config(w, key, value)
    w.close("Item")


def _capacity_attrs(capacity_bytes):
    """ovftool states a capacity in the largest binary unit that divides it
    (ovf:capacity="64" ovf:capacityAllocationUnits="byte * 2^20"), else in
    bytes with no unit attribute."""
    for shift in (30, 20):
        if capacity_bytes and capacity_bytes % (1 << shift) == 0:
            return [("ovf:capacity", capacity_bytes >> shift),
                    ("ovf:capacityAllocationUnits", f"byte * 2^{shift}")]
    return [("ovf:capacity", capacity_bytes)]


def format_ovf(vs):
    """Returns the descriptor for one VirtualSystem as text. Raises ValueError
    for a controller, NIC model or firmware it does not know."""
    if vs.controller != "ide" and vs.controller not in CONTROLLERS:
        raise ValueError(f"unknown controller {vs.controller!r}")
    if vs.firmware not in ("bios", "efi"):
        raise ValueError(f"unknown firmware {vs.firmware!r}")
    for nic in vs.nics:
        if nic.model not in NIC_MODELS:
            raise ValueError(f"unknown NIC model {nic.model!r}")
    w = _Writer()
    w.lines.append('<?xml version="1.0" encoding="UTF-8"?>')
    w.lines.append("<!--Generated by ova2virt tests/tools/ovf_write.py in the "
                   "shape of VMware ovftool 4.x-->")
    w.open("Envelope", NS.items())

    w.open("References")
    for i, disk in enumerate(vs.disks, 1):
        w.leaf("File", attrs=(("ovf:href", disk.href), ("ovf:id", f"file{i}"),
                              ("ovf:size", disk.file_size)))
    w.close("References")

    w.open("DiskSection")
    w.leaf("Info", "Virtual disk information")
    for i, disk in enumerate(vs.disks, 1):
        attrs = _capacity_attrs(disk.capacity_bytes) + [
            ("ovf:diskId", f"vmdisk{i}"), ("ovf:fileRef", f"file{i}"),
            ("ovf:format", disk.format)]
        if disk.populated_size is not None:
            attrs.append(("ovf:populatedSize", disk.populated_size))
        w.leaf("Disk", attrs=attrs)
    w.close("DiskSection")

    w.open("NetworkSection")
    w.leaf("Info", "The list of logical networks")
    for network in dict.fromkeys(nic.network for nic in vs.nics):
        w.open("Network", (("ovf:name", network),))
        w.leaf("Description", f"The {network} network")
        w.close("Network")
    w.close("NetworkSection")

    w.open("VirtualSystem", (("ovf:id", vs.name),))
    w.leaf("Info", "A virtual machine")
    w.leaf("Name", vs.name)
    w.open("OperatingSystemSection",
           (("ovf:id", vs.os_id), ("vmw:osType", vs.os_type)))
    w.leaf("Info", "The kind of installed guest operating system")
    w.close("OperatingSystemSection")

    w.open("VirtualHardwareSection")
    w.leaf("Info", "Virtual hardware requirements")
    w.open("System")
    w.leaf("vssd:ElementName", "Virtual Hardware Family")
    w.leaf("vssd:InstanceID", 0)
    w.leaf("vssd:VirtualSystemIdentifier", vs.name)
    w.leaf("vssd:VirtualSystemType", vs.hardware_version)
    w.close("System")

    ids = iter(range(1, 1000))
    _item(w, {"AllocationUnits": "hertz * 10^6",
              "Description": "Number of Virtual CPUs",
              "ElementName": f"{vs.cpus} virtual CPU(s)",
              "InstanceID": next(ids), "ResourceType": 3,
              "VirtualQuantity": vs.cpus})
    _item(w, {"AllocationUnits": "byte * 2^20",
              "Description": "Memory Size",
              "ElementName": f"{vs.memory_mib}MB of memory",
              "InstanceID": next(ids), "ResourceType": 4,
              "VirtualQuantity": vs.memory_mib})
    disk_parent = None
    if vs.controller != "ide":
        resource_type, description = CONTROLLERS[vs.controller]
        disk_parent = next(ids)
        kind = description.split()[0]
        _item(w, {"Address": 0, "Description": description,
                  "ElementName": f"{kind} controller 0",
                  "InstanceID": disk_parent,
                  "ResourceSubType": vs.controller,
                  "ResourceType": resource_type})
    ide = []
    for bus in (1, 0):
        ide.append(next(ids))
        _item(w, {"Address": bus, "Description": "IDE Controller",
                  "ElementName": f"IDE {bus}", "InstanceID": ide[-1],
                  "ResourceType": 5})
    if disk_parent is None:
        disk_parent = ide[1]  # IDE 0
    _item(w, {"AutomaticAllocation": "false", "ElementName": "Video card",
              "InstanceID": next(ids), "ResourceType": 24},
          required=False,
          configs=(("useAutoDetect", "false"),
                   ("videoRamSizeInKB", "4096"),
                   ("enable3DSupport", "false")))
    _item(w, {"AutomaticAllocation": "false", "ElementName": "VMCI device",
              "InstanceID": next(ids), "ResourceSubType": "vmware.vmci",
              "ResourceType": 1},
          required=False,
          configs=(("allowUnrestrictedCommunication", "false"),))
    for i, _ in enumerate(vs.disks):
        _item(w, {"AddressOnParent": i,
                  "ElementName": f"Hard disk {i + 1}",
                  "HostResource": f"ovf:/disk/vmdisk{i + 1}",
                  "InstanceID": next(ids), "Parent": disk_parent,
                  "ResourceType": 17},
              configs=(("backing.writeThrough", "false"),))
    for i, nic in enumerate(vs.nics):
        _item(w, {"AddressOnParent": 7 + i, "AutomaticAllocation": "true",
                  "Connection": nic.network,
                  "Description": f'{nic.model} ethernet adapter on '
                                 f'"{nic.network}"',
                  "ElementName": f"Network adapter {i + 1}",
                  "InstanceID": next(ids), "ResourceSubType": nic.model,
                  "ResourceType": 10},
              configs=(("wakeOnLanEnabled", "false"),
                       ("connectable.allowGuestControl", "true")))
    for key, value in (("cpuHotAddEnabled", "false"),
                       ("cpuHotRemoveEnabled", "false"),
                       ("firmware", vs.firmware),
                       ("virtualICH7MPresent", "false"),
                       ("virtualSMCPresent", "false"),
                       ("memoryHotAddEnabled", "false"),
                       ("nestedHVEnabled", "false"),
                       ("powerOpInfo.powerOffType", "soft"),
                       ("powerOpInfo.resetType", "soft"),
                       ("powerOpInfo.standbyAction", "checkpoint"),
                       ("powerOpInfo.suspendType", "hard"),
                       ("tools.afterPowerOn", "true"),
                       ("tools.afterResume", "true"),
                       ("tools.beforeGuestShutdown", "true"),
                       ("tools.beforeGuestStandby", "true"),
                       ("tools.syncTimeWithHost", "false"),
                       ("tools.toolsUpgradePolicy", "manual")):
        _config(w, key, value)
    if vs.firmware == "efi":
        _config(w, "bootOptions.efiSecureBootEnabled",
                "true" if vs.secure_boot else "false")
    w.close("VirtualHardwareSection")

    if vs.product:
        w.open("ProductSection")
        w.leaf("Info", "Information about the installed software")
        w.leaf("Product", vs.product)
        if vs.vendor:
            w.leaf("Vendor", vs.vendor)
        if vs.version:
            w.leaf("Version", vs.version)
            w.leaf("FullVersion", vs.version)
        w.close("ProductSection")
    if vs.annotation:
        w.open("AnnotationSection", (("ovf:required", "false"),))
        w.leaf("Info", "A human-readable annotation")
        w.leaf("Annotation", vs.annotation)
        w.close("AnnotationSection")
    w.close("VirtualSystem")
    w.close("Envelope")
    return "\n".join(w.lines) + "\n"


def _disk_arg(text):
    href, file_size, capacity = text.rsplit(":", 2)
    return Disk(href, int(file_size), int(capacity))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--name", required=True)
    parser.add_argument("--disk", type=_disk_arg, action="append",
                        required=True, help="HREF:FILE_SIZE:CAPACITY_BYTES")
    parser.add_argument("--controller", default="lsilogic")
    parser.add_argument("--firmware", default="bios")
    parser.add_argument("--nic-model", default="E1000")
    parser.add_argument("--network", default="VM Network")
    parser.add_argument("--memory-mib", type=int, default=128)
    parser.add_argument("--cpus", type=int, default=1)
    args = parser.parse_args(argv)
    vs = VirtualSystem(name=args.name, disks=args.disk,
                       nics=[Nic(args.network, args.nic_model)],
                       cpus=args.cpus, memory_mib=args.memory_mib,
                       firmware=args.firmware, controller=args.controller)
    try:
        text = format_ovf(vs)
    except ValueError as e:
        print(f"ovf_write: {e}", file=sys.stderr)
        return 2
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
