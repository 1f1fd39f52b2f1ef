#!/usr/bin/env python3
"""Packs one appliance disk as VMware and VirtualBox would export it.

  make-descriptors.py --name NAME --raw DISK.raw --vmdk DISK.vmdk --out DIR \
      --pack .../tests/tools/ova_pack.py

writes in DIR:
  NAME.ova           VMware ovftool 4.x style: OVF 1.0, vmx-13, LSI Logic
                     SCSI, E1000 on "VM Network", a CD-ROM on IDE for the
                     ISO transport, ProductSection properties `hostname` and
                     `user-data` (ovf:transport="iso"), vmw:osType
                     debian12_64Guest, SHA256 manifest.
  NAME-vbox/         VirtualBox 7 "OVF 2.0" style directory (NAME-vbox.ovf,
                     .mf, NAME-vbox-disk001.vmdk): the OVF 2 namespaces,
                     StorageItem / EthernetPortItem, PIIX4 IDE and an LSI
                     Logic controller, OS id 96 (Debian_64), the same
                     properties. VirtualBox itself writes no ProductSection
                     properties; they are added so the guest can be told to
                     power off.
Python standard library only.
"""

import argparse
import importlib.util
import os
import shutil
from xml.sax.saxutils import escape, quoteattr

MEMORY_MIB = 1024
CPUS = 1
STREAM = ("http://www.vmware.com/interfaces/specifications/"
          "vmdk.html#streamOptimized")
PROPERTIES = (
    ("hostname", "Host name", "The guest's host name (cloud-init's OVF "
     "datasource).", "debian12-appliance"),
    ("user-data", "User data", "A base64 cloud-config run at first boot.",
     ""),
)
RASD = ("Address", "AddressOnParent", "AllocationUnits", "AutomaticAllocation",
        "Caption", "Connection", "Description", "ElementName", "HostResource",
        "InstanceID", "Parent", "ResourceSubType", "ResourceType",
        "VirtualQuantity")


def item(tag, prefix, fields, indent="      "):
    lines = [f"{indent}<{tag}>"]
    for name in RASD:
        if name in fields:
            lines.append(f"{indent}  <{prefix}:{name}>"
                         f"{escape(str(fields[name]))}</{prefix}:{name}>")
    lines.append(f"{indent}</{tag}>")
    return "\n".join(lines)


def product_section(indent="    "):
    out = [f"{indent}<ProductSection>",
           f"{indent}  <Info>Information about the installed software</Info>",
           f"{indent}  <Product>Debian GNU/Linux 12 appliance</Product>",
           f"{indent}  <Vendor>ova2virt samples</Vendor>",
           f"{indent}  <Version>12</Version>"]
    for key, label, desc, value in PROPERTIES:
        out += [f"{indent}  <Property ovf:key={quoteattr(key)} "
                f"ovf:type=\"string\" ovf:userConfigurable=\"true\" "
                f"ovf:value={quoteattr(value)}>",
                f"{indent}    <Label>{escape(label)}</Label>",
                f"{indent}    <Description>{escape(desc)}</Description>",
                f"{indent}  </Property>"]
    out.append(f"{indent}</ProductSection>")
    return "\n".join(out)


def vmware_ovf(name, vmdk_name, vmdk_size, capacity):
    shift = 30 if capacity % (1 << 30) == 0 else 20
    hw = [
        item("Item", "rasd", {
            "AllocationUnits": "hertz * 10^6", "Description":
            "Number of Virtual CPUs", "ElementName":
            f"{CPUS} virtual CPU(s)", "InstanceID": 1, "ResourceType": 3,
            "VirtualQuantity": CPUS}),
        item("Item", "rasd", {
            "AllocationUnits": "byte * 2^20", "Description": "Memory Size",
            "ElementName": f"{MEMORY_MIB}MB of memory", "InstanceID": 2,
            "ResourceType": 4, "VirtualQuantity": MEMORY_MIB}),
        item("Item", "rasd", {
            "Address": 0, "Description": "SCSI Controller", "ElementName":
            "SCSI Controller 0", "InstanceID": 3, "ResourceSubType":
            "lsilogic", "ResourceType": 6}),
        item("Item", "rasd", {
            "Address": 1, "Description": "IDE Controller", "ElementName":
            "VirtualIDEController 1", "InstanceID": 4, "ResourceType": 5}),
        item("Item", "rasd", {
            "Address": 0, "Description": "IDE Controller", "ElementName":
            "VirtualIDEController 0", "InstanceID": 5, "ResourceType": 5}),
        item("Item", "rasd", {
            "AddressOnParent": 0, "AutomaticAllocation": "false",
            "ElementName": "CD-ROM 1", "InstanceID": 6, "Parent": 4,
            "ResourceSubType": "vmware.cdrom.remotepassthrough",
            "ResourceType": 15}),
        item("Item", "rasd", {
            "AddressOnParent": 0, "ElementName": "Hard Disk 1",
            "HostResource": "ovf:/disk/vmdisk1", "InstanceID": 7, "Parent": 3,
            "ResourceType": 17}),
        item("Item", "rasd", {
            "AddressOnParent": 7, "AutomaticAllocation": "true",
            "Connection": "VM Network", "Description":
            "E1000 ethernet adapter on \"VM Network\"", "ElementName":
            "Network adapter 1", "InstanceID": 8, "ResourceSubType": "E1000",
            "ResourceType": 10}),
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!--Generated by VMware ovftool 4.4.3 (build-18663434), UTC time: 2026-01-01T00:00:00.000000Z-->
<Envelope vmw:buildId="build-18663434" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="{vmdk_name}" ovf:id="file1" ovf:size="{vmdk_size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="{capacity >> shift}" ovf:capacityAllocationUnits="byte * 2^{shift}" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="{STREAM}"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>A virtual machine</Info>
    <Name>{name}</Name>
    <OperatingSystemSection ovf:id="96" ovf:version="12" vmw:osType="debian12_64Guest">
      <Info>The kind of installed guest operating system</Info>
      <Description>Debian GNU/Linux 12 (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection ovf:transport="iso">
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
{chr(10).join(hw)}
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>
      <vmw:Config ovf:required="false" vmw:key="tools.syncTimeWithHost" vmw:value="false"/>
    </VirtualHardwareSection>
{product_section()}
  </VirtualSystem>
</Envelope>
"""


def vbox_ovf(name, vmdk_name, capacity):
    hw = [
        item("Item", "rasd", {
            "Caption": f"{CPUS} virtual CPU", "Description":
            "Number of virtual CPUs", "InstanceID": 1, "ResourceType": 3,
            "VirtualQuantity": CPUS}),
        item("Item", "rasd", {
            "AllocationUnits": "MegaBytes", "Caption":
            f"{MEMORY_MIB} MB of memory", "Description": "Memory Size",
            "InstanceID": 2, "ResourceType": 4, "VirtualQuantity":
            MEMORY_MIB}),
        item("Item", "rasd", {
            "Address": 0, "Caption": "ideController0", "Description":
            "IDE Controller", "InstanceID": 3, "ResourceSubType": "PIIX4",
            "ResourceType": 5}),
        item("Item", "rasd", {
            "Address": 1, "Caption": "ideController1", "Description":
            "IDE Controller", "InstanceID": 4, "ResourceSubType": "PIIX4",
            "ResourceType": 5}),
        item("Item", "rasd", {
            "Address": 0, "Caption": "scsiController0", "Description":
            "SCSI Controller", "InstanceID": 5, "ResourceSubType":
            "lsilogic", "ResourceType": 6}),
        item("StorageItem", "sasd", {
            "AddressOnParent": 0, "Caption": "disk1", "Description":
            "Disk Image", "HostResource": "/disk/vmdisk1", "InstanceID": 6,
            "Parent": 5, "ResourceType": 17}),
        item("Item", "rasd", {
            "AddressOnParent": 0, "AutomaticAllocation": "true", "Caption":
            "cdrom1", "Description": "CD-ROM Drive", "InstanceID": 7,
            "Parent": 3, "ResourceType": 15}),
        item("EthernetPortItem", "epasd", {
            "AutomaticAllocation": "true", "Caption":
            "Ethernet adapter on 'NAT'", "Connection": "NAT",
            "InstanceID": 8, "ResourceSubType": "E1000",
            "ResourceType": 10}),
    ]
    return f"""<?xml version="1.0"?>
<Envelope ovf:version="2.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/2" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vbox="http://www.virtualbox.org/ovf/machine" xmlns:epasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPortAllocationSettingData.xsd" xmlns:sasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_StorageAllocationSettingData.xsd">
  <References>
    <File ovf:id="file1" ovf:href="{vmdk_name}"/>
  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
    <Disk ovf:capacity="{capacity}" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="{STREAM}"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks used in the package</Info>
    <Network ovf:name="NAT">
      <Description>Logical network used by this appliance.</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>A virtual machine</Info>
{product_section()}
    <OperatingSystemSection ovf:id="96">
      <Info>The kind of installed guest operating system</Info>
      <Description>Debian_64</Description>
      <vbox:OSType ovf:required="false">Debian_64</vbox:OSType>
    </OperatingSystemSection>
    <VirtualHardwareSection ovf:transport="iso">
      <Info>Virtual hardware requirements for a virtual machine</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>
      </System>
{chr(10).join(hw)}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--name", "--raw", "--vmdk", "--out", "--pack"):
        p.add_argument(flag, required=True)
    a = p.parse_args()
    spec = importlib.util.spec_from_file_location("ova_pack", a.pack)
    pack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pack)
    capacity = os.path.getsize(a.raw)
    fixed_mtime = 1767225600  # 2026-01-01: the same package on every build

    # VMware: NAME.ovf, NAME.mf, NAME-disk1.vmdk in an OVA.
    vm_dir = os.path.join(a.out, a.name)
    shutil.rmtree(vm_dir, ignore_errors=True)
    os.makedirs(vm_dir)
    vmdk = f"{a.name}-disk1.vmdk"
    os.link(a.vmdk, os.path.join(vm_dir, vmdk))
    ovf = os.path.join(vm_dir, f"{a.name}.ovf")
    with open(ovf, "w", encoding="utf-8", newline="\n") as f:
        f.write(vmware_ovf(a.name, vmdk, os.path.getsize(a.vmdk), capacity))
    files = [(f"{a.name}.ovf", ovf), (vmdk, os.path.join(vm_dir, vmdk))]
    mf = os.path.join(vm_dir, f"{a.name}.mf")
    with open(mf, "w", encoding="ascii", newline="\n") as f:
        f.write(pack.format_manifest(files, "sha256"))
    pack.pack_ova(os.path.join(a.out, f"{a.name}.ova"),
                  [files[0], (f"{a.name}.mf", mf), files[1]], fixed_mtime)

    # VirtualBox: an OVF directory, manifest "SHA256 (name) = hex" as
    # VirtualBox's RTManifest writes it.
    vb = f"{a.name}-vbox"
    vb_dir = os.path.join(a.out, vb)
    shutil.rmtree(vb_dir, ignore_errors=True)
    os.makedirs(vb_dir)
    vb_vmdk = f"{vb}-disk001.vmdk"
    os.link(a.vmdk, os.path.join(vb_dir, vb_vmdk))
    vb_ovf = os.path.join(vb_dir, f"{vb}.ovf")
    with open(vb_ovf, "w", encoding="utf-8", newline="\n") as f:
        f.write(vbox_ovf(vb, vb_vmdk, capacity))
    with open(os.path.join(vb_dir, f"{vb}.mf"), "w", encoding="ascii",
              newline="\n") as f:
        for member, path in ((f"{vb}.ovf", vb_ovf),
                             (vb_vmdk, os.path.join(vb_dir, vb_vmdk))):
            f.write(f"SHA256 ({member}) = "
                    f"{pack.file_digest(path, 'sha256')}\n")


if __name__ == "__main__":
    main()
