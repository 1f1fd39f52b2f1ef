#!/usr/bin/env python3
"""Checks the sample appliances with outside referees.

  check_artifacts.py vmdk OUTDIR        the samples' VMDKs
  check_artifacts.py vmdk-writer TMPDIR tests/tools/vmdk_stream.py on edge
                                        cases (odd capacities, empty disks,
                                        shuffled grains, IDE geometry)
  check_artifacts.py ova OUTDIR         the samples' OVAs
  check_artifacts.py reproducible OUTDIR SCRATCH
                                        a second build is byte-identical

Referees: qemu-img compare and check, vmdkinfo (libvmdk), Python's tarfile,
sha256sum, xmllint with the DMTF DSP8023 1.1.1 schema. Exits 0 when every
check passed, 1 otherwise, printing one line per failure.
"""

import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Import the tools without leaving bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import vmdk_stream  # noqa: E402

SAMPLES = ("bios", "uefi")
MIB = 1 << 20
# What each sample must say about itself (see SAMPLE_SPECS in build-samples).
EXPECTED = {
    "bios": {"adapter": "lsilogic", "controller": "lsilogic",
             "firmware": "bios", "nic": "E1000"},
    "uefi": {"adapter": "ide", "controller": "vmware.sata.ahci",
             "firmware": "efi", "nic": "VmxNet3"},
}
OVF_NS = {"ovf": "http://schemas.dmtf.org/ovf/envelope/1",
          "rasd": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                  "CIM_ResourceAllocationSettingData",
          "vmw": "http://www.vmware.com/schema/ovf"}


def corpus_dir():
    for candidate in (os.environ.get("OVA2VIRT_CORPUS_DIR"),
                      ROOT.parent / "shared" / "corpus",
                      "/work/shared/corpus"):
        if candidate and (Path(candidate) / "SOURCES.tsv").exists():
            return Path(candidate)
    return None


class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def check(self, ok, message):
        self.checks += 1
        if not ok:
            self.failures += 1
            print(f"FAIL: {message}")
        return ok

    def run(self, cmd, message, expect_rc=0):
        """Runs cmd; checks its exit status; returns its stdout."""
        r = subprocess.run([str(c) for c in cmd], capture_output=True,
                           text=True)
        self.check(r.returncode == expect_rc,
                   f"{message}: exit {r.returncode}, expected {expect_rc}: "
                   f"{r.stdout.strip()} {r.stderr.strip()}")
        return r.stdout

    def done(self):
        print(f"{self.checks} checks, {self.failures} failures")
        return 0 if self.failures == 0 else 1


def check_vmdk_referees(c, raw, vmdk, capacity):
    """qemu-img compare/check and vmdkinfo on one VMDK."""
    out = c.run(["qemu-img", "compare", "-f", "raw", "-F", "vmdk", raw, vmdk],
                f"{vmdk.name}: qemu-img compare with {raw.name}")
    c.check("Images are identical" in out,
            f"{vmdk.name}: qemu-img compare says {out.strip()!r}")
    c.run(["qemu-img", "check", "-f", "vmdk", vmdk],
          f"{vmdk.name}: qemu-img check")
    info = c.run(["vmdkinfo", vmdk], f"{vmdk.name}: vmdkinfo")
    c.check("Stream optimized" in info,
            f"{vmdk.name}: vmdkinfo disk type: {info!r}")
    c.check(f"({capacity} bytes)" in info,
            f"{vmdk.name}: vmdkinfo media size is not {capacity}: {info!r}")


def check_vmware_layout(c, vmdk, adapter):
    """Asserts the layout VMware's exporters write (FORMAT-NOTES.md), which
    qemu-img's own streamOptimized output does not have."""
    try:
        layout = vmdk_stream.read_layout(vmdk)
    except ValueError as e:
        c.check(False, f"{vmdk.name}: not a well-formed stream: {e}")
        return
    h, f = layout.header, layout.footer
    c.check(h["version"] == 3 and h["flags"] == 0x30001,
            f"{vmdk.name}: header version/flags {h['version']}/"
            f"{h['flags']:#x}, want 3/0x30001")
    c.check(h["gd_offset"] == vmdk_stream.GD_AT_END,
            f"{vmdk.name}: header gdOffset {h['gd_offset']:#x}, want "
            "GD_AT_END")
    c.check(h["compress_algorithm"] == 1 and h["overhead"] == 128,
            f"{vmdk.name}: compression {h['compress_algorithm']}, overhead "
            f"{h['overhead']}")
    kinds = [r[0] for r in layout.records]
    c.check(kinds[-3:] == ["gd", "footer", "eos"],
            f"{vmdk.name}: stream does not end with GD, footer, EOS: "
            f"{kinds[-3:]}")
    gd = [r for r in layout.records if r[0] == "gd"]
    c.check(f is not None and gd and f["gd_offset"] == gd[0][1] + 1,
            f"{vmdk.name}: footer gdOffset does not point at the directory")
    # Every grain table follows the grains it lists.
    grains = {r[1]: r[2] for r in layout.records if r[0] == "grain"}
    position = {r[1]: i for i, r in enumerate(layout.records)}
    for index, table in layout.grain_tables.items():
        gt_sector = layout.grain_directory[index]
        for entry, sector in enumerate(table or []):
            if not sector:
                continue
            lba = (index * 512 + entry) * h["grain_size"]
            c.check(grains.get(sector) == lba,
                    f"{vmdk.name}: GT {index} entry {entry} points at "
                    f"sector {sector}, not a grain marker for LBA {lba}")
            c.check(position.get(sector, 1 << 30) <
                    position.get(gt_sector - 1, -1),
                    f"{vmdk.name}: grain at {sector} comes after its table")
    keys = dict(re.findall(r'^(ddb\.\w+(?:\.\w+)?) = "([^"]*)"',
                           layout.descriptor, re.M))
    c.check('createType="streamOptimized"' in layout.descriptor,
            f"{vmdk.name}: createType is not streamOptimized")
    c.check(keys.get("ddb.adapterType") == adapter,
            f"{vmdk.name}: ddb.adapterType {keys.get('ddb.adapterType')!r}")
    c.check(keys.get("ddb.virtualHWVersion") == "13",
            f"{vmdk.name}: ddb.virtualHWVersion "
            f"{keys.get('ddb.virtualHWVersion')!r}")
    for k in ("cylinders", "heads", "sectors"):
        c.check(keys.get(f"ddb.geometry.{k}", "").isdigit(),
                f"{vmdk.name}: no ddb.geometry.{k}")


def case_vmdk(c, outdir):
    for name in SAMPLES:
        base = f"ova2virt-sample-{name}"
        raw = outdir / f"{base}.raw"
        vmdk = outdir / base / f"{base}-disk1.vmdk"
        check_vmdk_referees(c, raw, vmdk, raw.stat().st_size)
        check_vmware_layout(c, vmdk, EXPECTED[name]["adapter"])
        # The disk holds real data, not a nearly empty image.
        stats = vmdk_stream.read_layout(vmdk)
        n = sum(1 for r in stats.records if r[0] == "grain")
        c.check(n >= 50 and len(stats.grain_tables) >= 2,
                f"{vmdk.name}: only {n} grains in "
                f"{len(stats.grain_tables)} tables")


def case_vmdk_writer(c, tmp):
    """The writer on edge cases, each read back by the referees."""
    rng = random.Random(7)
    cases = {
        # capacity not a whole number of grains; data in the last sector
        "odd-capacity": (3 * MIB + 7 * 512, [(0, 4096), (3 * MIB, 7 * 512)]),
        "empty": (2 * MIB, []),
        # more than one grain table, data in the second only
        "second-table": (40 * MIB, [(33 * MIB + 100, 70000)]),
        "shuffled": (36 * MIB, [(i * 300007, 5000) for i in range(120)]),
        "ide-geometry": (5 * MIB, [(MIB, MIB)]),
    }
    for label, (capacity, spans) in cases.items():
        raw = tmp / f"{label}.raw"
        with open(raw, "wb") as f:
            f.truncate(capacity)
            for offset, length in spans:
                f.seek(offset)
                f.write(rng.randbytes(length))
        vmdk = tmp / f"{label}.vmdk"
        adapter = "ide" if label == "ide-geometry" else "lsilogic"
        vmdk_stream.write_stream_optimized(
            raw, vmdk, adapter_type=adapter,
            shuffle_seed=3 if label == "shuffled" else None)
        check_vmdk_referees(c, raw, vmdk, capacity)
        check_vmware_layout(c, vmdk, adapter)
        if label == "shuffled":
            lbas = [r[2] for r in vmdk_stream.read_layout(vmdk).records
                    if r[0] == "grain"]
            c.check(lbas != sorted(lbas), "shuffled: grains are in order")
    geometry = vmdk_stream.chs_geometry(5 * MIB // 512, "ide")
    c.check(geometry == (10, 16, 63), f"ide geometry {geometry}")
    geometry = vmdk_stream.chs_geometry(64 * MIB // 512, "lsilogic")
    c.check(geometry == (64, 64, 32), f"lsilogic geometry {geometry}")
    # Negative control: the referee does notice a difference.
    raw = tmp / "second-table.raw"
    with open(raw, "r+b") as f:
        f.seek(33 * MIB + 200)
        byte = f.read(1)
        f.seek(33 * MIB + 200)
        f.write(bytes([byte[0] ^ 0xFF]))
    c.run(["qemu-img", "compare", "-f", "raw", "-F", "vmdk", raw,
           tmp / "second-table.vmdk"],
          "qemu-img compare notices a changed byte", expect_rc=1)


def case_ova(c, outdir):
    corpus = corpus_dir()
    if not c.check(corpus is not None, "corpus (DMTF schemas) not found; "
                   "set OVA2VIRT_CORPUS_DIR"):
        return
    xsd = corpus / "xsd" / "dsp8023_1.1.1_xo" / "dsp8023_1.1.1.xsd"
    for name in SAMPLES:
        base = f"ova2virt-sample-{name}"
        ova = outdir / f"{base}.ova"
        with tarfile.open(ova) as tar, \
                tempfile.TemporaryDirectory() as tmp:
            members = tar.getmembers()
            names = [m.name for m in members]
            c.check(names == [f"{base}.ovf", f"{base}.mf",
                              f"{base}-disk1.vmdk"],
                    f"{ova.name}: members {names}")
            c.check(all(m.isreg() and m.mode == 0o644 for m in members),
                    f"{ova.name}: members are not plain 0644 files")
            with open(ova, "rb") as f:
                f.seek(257)
                c.check(f.read(8) == b"ustar\x0000",
                        f"{ova.name}: first header is not POSIX ustar")
            for m in members:
                same = (outdir / base / m.name).read_bytes() == \
                    tar.extractfile(m).read()
                c.check(same, f"{ova.name}: {m.name} differs from the OVF "
                              "directory's copy")
            tar.extractall(tmp)
            mf = (Path(tmp) / f"{base}.mf").read_text()
            lines = mf.splitlines()
            c.check(len(lines) == 2 and all(
                re.fullmatch(r"SHA256\([^)]+\)= [0-9a-f]{64}", ln)
                for ln in lines), f"{ova.name}: manifest lines {lines}")
            sums = "".join(re.sub(r"^SHA256\((.*)\)= (\w+)$", r"\2  \1", ln)
                           + "\n" for ln in lines)
            r = subprocess.run(["sha256sum", "--check", "--strict"],
                               cwd=tmp, input=sums, capture_output=True,
                               text=True)
            c.check(r.returncode == 0 and r.stdout.count(": OK") == 2,
                    f"{ova.name}: sha256sum: {r.stdout} {r.stderr}")
            ovf = Path(tmp) / f"{base}.ovf"
            out = subprocess.run(["xmllint", "--nonet", "--noout", "--schema",
                                  xsd, ovf], capture_output=True, text=True)
            c.check(out.returncode == 0 and "validates" in out.stderr,
                    f"{ova.name}: xmllint: {out.stderr[-500:]}")
            check_descriptor(c, ovf, name, members[2].size,
                             (outdir / f"{base}.raw").stat().st_size)


def check_descriptor(c, ovf, name, vmdk_size, capacity):
    """The descriptor says what VMware would about this machine."""
    want = EXPECTED[name]
    root = ET.parse(ovf).getroot()
    file_el = root.find("ovf:References/ovf:File", OVF_NS)
    c.check(file_el.get(f"{{{OVF_NS['ovf']}}}size") == str(vmdk_size),
            f"{ovf.name}: File ovf:size is not the VMDK's size")
    disk = root.find("ovf:DiskSection/ovf:Disk", OVF_NS)
    units = disk.get(f"{{{OVF_NS['ovf']}}}capacityAllocationUnits")
    cap = int(disk.get(f"{{{OVF_NS['ovf']}}}capacity"))
    c.check(units == "byte * 2^20" and cap * MIB == capacity,
            f"{ovf.name}: capacity {cap} {units}")
    subtypes = [e.text for e in root.iter(f"{{{OVF_NS['rasd']}}}"
                                          "ResourceSubType")]
    c.check(want["controller"] in subtypes and want["nic"] in subtypes,
            f"{ovf.name}: subtypes {subtypes}")
    configs = {e.get(f"{{{OVF_NS['vmw']}}}key"):
               e.get(f"{{{OVF_NS['vmw']}}}value")
               for e in root.iter(f"{{{OVF_NS['vmw']}}}Config")}
    c.check(configs.get("firmware") == want["firmware"],
            f"{ovf.name}: firmware {configs.get('firmware')!r}")
    system_type = root.find(".//{http://schemas.dmtf.org/wbem/wscim/1/"
                            "cim-schema/2/CIM_VirtualSystemSettingData}"
                            "VirtualSystemType")
    c.check(system_type is not None and system_type.text == "vmx-13",
            f"{ovf.name}: VirtualSystemType")


def case_reproducible(c, outdir, scratch):
    """A second build gives the same bytes as the first."""
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        c.run([sys.executable, ROOT / "samples" / "build-samples", tmp],
              "build-samples")
        for name in SAMPLES:
            for suffix in (".ova", ".raw"):
                f = f"ova2virt-sample-{name}{suffix}"
                again = Path(tmp) / f
                c.check(again.exists() and again.read_bytes() ==
                        (outdir / f).read_bytes(),
                        f"{f}: a second build gives other bytes")


def main(argv):
    cases = {"vmdk": 2, "vmdk-writer": 2, "ova": 2, "reproducible": 3}
    if not argv or cases.get(argv[0]) != len(argv):
        print(__doc__, file=sys.stderr)
        return 2
    case, where = argv[0], Path(argv[1])
    c = Checker()
    if case == "vmdk":
        case_vmdk(c, where)
    elif case == "ova":
        case_ova(c, where)
    elif case == "reproducible":
        scratch = Path(argv[2])
        scratch.mkdir(parents=True, exist_ok=True)
        case_reproducible(c, where, scratch)
    else:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=where) as tmp:
            case_vmdk_writer(c, Path(tmp))
    return c.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
