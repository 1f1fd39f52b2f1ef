#!/usr/bin/env python3
"""What an OVF descriptor promises, and whether a referee's view matches it.

  judge.py expect OVF                 the descriptor's machine, as JSON
  judge.py vcsim OVF DEVICES.json CPUS MEMORY_MIB
                                      govc device.info -json of the VM vcsim
                                      built, against the descriptor
  judge.py cot OVF COT-INFO.txt       `cot info` output against the descriptor

Reads the descriptor with ElementTree by local names (the namespaces are the
writer's business and xmllint's). Exit 0 when the referee's view matches,
1 with one line per difference otherwise.
"""
import collections
import json
import re
import sys
import xml.etree.ElementTree as ET

RT_IDE, RT_SCSI, RT_ETH, RT_FLOPPY, RT_CD, RT_CD2, RT_DISK, RT_OTHER = (
    "5", "6", "10", "14", "15", "16", "17", "20")

# ResourceSubType (lower case) -> the govmomi device type vcsim builds.
SCSI_TYPES = {
    "lsilogic": "VirtualLsiLogicController",
    "lsilogicsas": "VirtualLsiLogicSASController",
    "virtualscsi": "ParaVirtualSCSIController",
    "buslogic": "VirtualBusLogicController",
}
NIC_TYPES = {
    "e1000": "VirtualE1000",
    "e1000e": "VirtualE1000e",
    "vmxnet3": "VirtualVmxnet3",
    "vmxnet2": "VirtualVmxnet2",
    "pcnet32": "VirtualPCNet32",
}
UNITS = {"byte": 1, "byte * 2^10": 1 << 10, "byte * 2^20": 1 << 20,
         "byte * 2^30": 1 << 30, "byte * 2^40": 1 << 40}


def local(tag):
    return tag.rsplit("}", 1)[-1]


def attr(el, name):
    for k, v in el.attrib.items():
        if local(k) == name:
            return v
    return None


def expect(path):
    """The machine the descriptor describes (one virtual system)."""
    root = ET.parse(path).getroot()
    disks = {}
    for d in root.iter():
        if local(d.tag) == "Disk" and attr(d, "diskId"):
            units = attr(d, "capacityAllocationUnits") or "byte"
            disks[attr(d, "diskId")] = int(attr(d, "capacity")) * UNITS[units]
    items = []
    for el in root.iter():
        if local(el.tag) in ("Item", "StorageItem", "EthernetPortItem"):
            row = {local(c.tag): (c.text or "") for c in el}
            row["_element"] = local(el.tag)
            items.append(row)
    by_id = {i.get("InstanceID"): i for i in items}
    out = {"cpus": 0, "memory_mib": 0, "controllers": [], "disks": [],
           "cdroms": [], "floppies": 0, "nics": [], "elements": []}
    for i in items:
        rt = i.get("ResourceType")
        sub = i.get("ResourceSubType", "")
        out["elements"].append(i["_element"])
        if rt == "3":
            out["cpus"] = int(i["VirtualQuantity"])
        elif rt == "4":
            q = int(i["VirtualQuantity"]) * UNITS[i.get("AllocationUnits", "byte * 2^20")]
            out["memory_mib"] = q >> 20
        elif rt in (RT_IDE, RT_SCSI, RT_OTHER):
            out["controllers"].append([rt, sub])
        elif rt == RT_DISK:
            parent = by_id.get(i.get("Parent"), {})
            disk_id = i.get("HostResource", "").rsplit("/", 1)[-1]
            out["disks"].append([parent.get("ResourceType"),
                                 parent.get("ResourceSubType", ""),
                                 disks[disk_id]])
        elif rt in (RT_CD, RT_CD2):
            parent = by_id.get(i.get("Parent"), {})
            out["cdroms"].append([parent.get("ResourceType"),
                                  bool(i.get("HostResource"))])
        elif rt == RT_FLOPPY:
            out["floppies"] += 1
        elif rt == RT_ETH:
            out["nics"].append(sub)
    for k in ("controllers", "disks", "cdroms", "nics"):
        out[k].sort()
    return out


def judge_vcsim(ovf, devices_json, cpus, memory_mib):
    want = expect(ovf)
    devices = json.load(open(devices_json))["Devices"]
    by_key = {d["Key"]: d for d in devices}
    problems = []

    def same(what, got, expected):
        if got != expected:
            problems.append(f"{what}: vcsim has {got}, the descriptor says {expected}")

    same("CPUs", int(cpus), want["cpus"])
    same("memory MiB", int(memory_mib), want["memory_mib"])
    # vcsim gives every VM two IDE controllers of its own (IDE 0 and 1) and
    # adds one per IDE item.
    ide = [d for d in devices if d["Type"] == "VirtualIDEController"]
    same("IDE controllers (beyond vcsim's own two)", len(ide) - 2,
         sum(1 for c in want["controllers"] if c[0] == RT_IDE))
    scsi_types = sorted(d["Type"] for d in devices if d["Type"] in SCSI_TYPES.values())
    same("SCSI controllers", scsi_types,
         sorted(SCSI_TYPES.get(c[1].lower(), "?" + c[1])
                for c in want["controllers"] if c[0] == RT_SCSI))

    def controller_kind(dev):
        c = by_key.get(dev["ControllerKey"], {})
        return c.get("Type", "?")

    def want_kind(rt, sub):
        return "VirtualIDEController" if rt == RT_IDE else SCSI_TYPES.get(sub.lower(), "?" + sub)

    got_disks = sorted([controller_kind(d), d["CapacityInKB"] * 1024]
                       for d in devices if d["Type"] == "VirtualDisk")
    same("disks (controller, bytes)", got_disks,
         sorted([want_kind(rt, sub), size] for rt, sub, size in want["disks"]))
    got_cds = sorted([controller_kind(d), (d.get("Backing") or {}).get("FileName", "").endswith(".iso")]
                     for d in devices if d["Type"] == "VirtualCdrom")
    same("CD-ROMs (controller, has image)", got_cds,
         sorted(["VirtualIDEController" if rt == RT_IDE else "?" + str(rt), img]
                for rt, img in want["cdroms"]))
    got_nics = sorted(d["Type"] for d in devices if d["Type"] in NIC_TYPES.values())
    same("NICs", got_nics, sorted(NIC_TYPES.get(n.lower(), "?" + n) for n in want["nics"]))
    return problems


def judge_cot(ovf, info_txt):
    """`cot info` (not --brief): its Files and Disks table, its profile row
    (CPUs, memory, NICs, disks) and its NIC list."""
    want = expect(ovf)
    text = open(info_txt).read()
    problems = []
    if "Traceback" in text:
        problems.append("cot crashed: " + text.strip().splitlines()[-1])
        return problems
    devices = re.findall(r"^\s+\S.*?\s(harddisk|cdrom|floppy) @ (\S+) (\S+)$", text, re.M)
    got = collections.Counter((kind, bus) for kind, bus, _ in devices)
    bus = {RT_IDE: "IDE", RT_SCSI: "SCSI", RT_OTHER: "SATA"}
    exp = collections.Counter()
    for rt, _sub, _size in want["disks"]:
        exp[("harddisk", bus.get(rt, "?"))] += 1
    # Its table lists files: an empty drive is not in it (the rewrite keeps
    # it, which run_referees.sh checks through ova2virt inspect).
    for rt, img in want["cdroms"]:
        if img:
            exp[("cdrom", bus.get(rt, "?"))] += 1
    if got != exp:
        problems.append(f"cot's devices {dict(got)} != the descriptor's {dict(exp)}")
    m = re.search(r"^\s+None \(default\)\s+(\d+)\s+([\d.]+) (MiB|GiB)\s+(\d+)\s+(\d+)\s+(\d+) /", text, re.M)
    if not m:
        problems.append("cot info has no default profile row")
    else:
        cpus, mem, unit, nics, _serials, ndisks = m.groups()
        # COT shows at most 3 decimals ("1.004 GiB").
        mem_mib = float(mem) * (1024 if unit == "GiB" else 1)
        if abs(mem_mib - want["memory_mib"]) > 0.0005 * 1024:
            problems.append(f"cot memory: {mem} {unit}, the descriptor says {want['memory_mib']} MiB")
        for what, got_v, exp_v in (("CPUs", int(cpus), want["cpus"]),
                                   ("NICs", int(nics), len(want["nics"])),
                                   ("disks", int(ndisks), len(want["disks"]))):
            if got_v != exp_v:
                problems.append(f"cot {what}: {got_v}, the descriptor says {exp_v}")
    return problems


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "expect":
        print(json.dumps(expect(sys.argv[2]), indent=1))
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "vcsim":
        problems = judge_vcsim(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "cot":
        problems = judge_cot(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
