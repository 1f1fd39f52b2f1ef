#!/usr/bin/env python3
"""Boots the sample appliances and watches their serial console.

  boot.py qemu MACHINE SAMPLE OUTDIR [--break-tail]
      the raw image under qemu-system-x86_64 -machine MACHINE (q35 or pc),
      TCG, -nographic, serial to a file, -no-reboot; BIOS samples on an LSI
      SCSI controller, UEFI samples on SATA with OVMF (secure boot off:
      OVMF_CODE_4M.fd and a copy of OVMF_VARS_4M.fd). With --break-tail, on a
      copy whose last data sector is wiped: the boot code must then report
      OVA2VIRT-BOOT-FAIL (the check that guards conversions can fail).
  boot.py libvirt SAMPLE OUTDIR
      the OVA's disk, converted to qcow2 by qemu-img, booted by libvirt's
      embedded QEMU driver (virsh -c 'qemu:///embed?root=DIR', no daemon)
      with a domain XML written for the test: the disk on the controller the
      VMware export names (LSI Logic SCSI or SATA).

Passes when the guest prints OVA2VIRT-BOOT-OK and powers itself off within
the bound. Prints the time from start to power-off. Exit 0 pass, 1 fail,
77 skipped (a tool or a driver this host lacks).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = "OVA2VIRT-BOOT-OK"
FAIL_MARKER = "OVA2VIRT-BOOT-FAIL"
SKIP = 77
# Seconds from start to power-off. Measured: well under 1 s (BIOS) and about
# 3 s (UEFI) on an idle machine; the bounds leave room for a loaded CI host.
BOUND = {"bios": 30, "uefi": 60}
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
MEMORY_MIB = {"bios": 64, "uefi": 256}
GPT_BACKUP_SECTORS = 33  # backup entries and header


def fail(message):
    print(f"FAIL: {message}")
    return 1


def skip(message):
    print(f"SKIP: {message}")
    return SKIP


def wipe_tail(image, sample):
    """Zeroes the sector holding the tail magic (the disk's last sector, or
    the last one before the backup GPT)."""
    size = image.stat().st_size
    sector = size // 512 - 1
    if sample == "uefi":
        sector -= GPT_BACKUP_SECTORS
    with open(image, "r+b") as f:
        f.seek(sector * 512)
        f.write(b"\0" * 512)


def boot_qemu(machine, sample, outdir, break_tail):
    if not shutil.which("qemu-system-x86_64"):
        return skip("qemu-system-x86_64 not installed")
    if sample == "uefi" and not (OVMF_CODE.exists() and OVMF_VARS.exists()):
        return skip("OVMF (package ovmf) not installed")
    raw = outdir / f"ova2virt-sample-{sample}.raw"
    with tempfile.TemporaryDirectory(prefix="ova2virt-boot-") as tmp:
        tmp = Path(tmp)
        serial = tmp / "serial.log"
        disk = raw
        if break_tail:
            disk = tmp / "broken.raw"
            shutil.copyfile(raw, disk)
            wipe_tail(disk, sample)
        cmd = ["qemu-system-x86_64", "-machine", f"{machine},accel=tcg",
               "-m", str(MEMORY_MIB[sample]), "-nographic", "-nodefaults",
               "-monitor", "none", "-serial", f"file:{serial}", "-no-reboot",
               # snapshot=on: the guest may write; the image stays as built.
               "-drive", f"file={disk},format=raw,if=none,id=disk0,"
                         "snapshot=on"]
        if sample == "bios":
            cmd += ["-device", "lsi53c895a,id=scsi0",
                    "-device", "scsi-hd,drive=disk0,bus=scsi0.0"]
        else:
            if machine != "q35":
                return fail("the UEFI sample is booted on q35 only")
            vars_copy = tmp / "OVMF_VARS.fd"
            shutil.copyfile(OVMF_VARS, vars_copy)
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,"
                              f"file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
                    "-device", "ide-hd,drive=disk0,bus=ide.0"]
        start = time.monotonic()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=BOUND[sample], stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            log = serial.read_text(errors="replace") if serial.exists() else ""
            return fail(f"no power-off within {BOUND[sample]} s; serial: "
                        f"{log[-300:]!r}")
        elapsed = time.monotonic() - start
        log = serial.read_text(errors="replace") if serial.exists() else ""
    want = FAIL_MARKER if break_tail else MARKER
    if r.returncode != 0:
        return fail(f"qemu exit {r.returncode}: {r.stderr.strip()}")
    if not re.search(rf"^{want}\r?$", log, re.M):
        return fail(f"no {want} line on the serial port: {log[-400:]!r}")
    if break_tail and MARKER in log:
        return fail("the boot check accepted a disk without its tail")
    print(f"{sample} on {machine}: {want} and power-off after "
          f"{elapsed:.2f} s")
    return 0


def extract_disk(ova, into):
    """Returns the VMDK member of ova, extracted into the folder into."""
    with tarfile.open(ova) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(".vmdk"))
        target = into / Path(member.name).name
        with tar.extractfile(member) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target


def qemu_pids_under(path):
    """PIDs of QEMU processes whose command line names path (the ones this
    test's embedded driver started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"qemu-system-x86_64") and \
                any(str(path).encode() in a for a in args):
            pids.append(int(entry.name))
    return pids


def boot_libvirt(sample, outdir):
    if not shutil.which("virsh"):
        return skip("virsh (package libvirt-clients) not installed")
    if os.geteuid() != 0:
        return skip("the embedded QEMU driver test runs as root")
    with tempfile.TemporaryDirectory(prefix="ova2virt-embed-") as tmp:
        tmp = Path(tmp)
        root = tmp / "root"
        (root / "etc").mkdir(parents=True)
        # stdio_handler: no virtlogd socket here. user/group root: /dev/kvm
        # is root-only on these hosts; run as libvirt-qemu, libvirt finds
        # KVM "no longer available", discards its cached capabilities and
        # probes again on every start (over a minute).
        (root / "etc" / "qemu.conf").write_text(
            'stdio_handler = "file"\nuser = "root"\ngroup = "root"\n')
        uri = f"qemu:///embed?root={root}"
        probe = subprocess.run(["virsh", "-c", uri, "uri"],
                               capture_output=True, text=True, timeout=300)
        if probe.returncode != 0:
            return skip(f"virsh cannot open {uri}: {probe.stderr.strip()}")

        vmdk = extract_disk(outdir / f"ova2virt-sample-{sample}.ova", tmp)
        disk = tmp / "disk.qcow2"
        subprocess.run(["qemu-img", "convert", "-f", "vmdk", "-O", "qcow2",
                        vmdk, disk], check=True)
        serial = tmp / "serial.log"
        name = f"ova2virt-sample-{sample}"
        xml = (HERE / f"domain-{sample}.xml").read_text()
        for key, value in (("NAME", name), ("DISK", disk),
                           ("SERIAL", serial),
                           ("MEMORY", MEMORY_MIB[sample])):
            xml = xml.replace(f"@{key}@", str(value))
        domain_xml = tmp / "domain.xml"
        domain_xml.write_text(xml)
        if shutil.which("virt-xml-validate"):
            v = subprocess.run(["virt-xml-validate", domain_xml, "domain"],
                               capture_output=True, text=True)
            if v.returncode != 0:
                return fail(f"domain XML does not validate: {v.stderr}")

        # One virsh process holds the embedded driver: the domain lives only
        # as long as it does. Start the domain, then wait for its lifecycle
        # events ("Shutdown Finished after guest request", "Stopped"); when
        # the guest is quicker than the event registration, the second wait
        # fails harmlessly and the QEMU log below still tells.
        bound = BOUND[sample]
        script = (f"create {domain_xml}; "
                  f"event --domain {name} --event lifecycle "
                  f"--timeout {bound}; "
                  f"event --domain {name} --event lifecycle --timeout 10; "
                  "list --all")
        start = time.monotonic()
        try:
            r = subprocess.run(["virsh", "-c", uri, script],
                               capture_output=True, text=True,
                               timeout=bound + 60, stdin=subprocess.DEVNULL)
            out, err = r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            out, err = str(e.stdout), str(e.stderr)
        elapsed = time.monotonic() - start
        for pid in qemu_pids_under(tmp):  # never leave a guest behind
            os.kill(pid, signal.SIGKILL)
        log = serial.read_text(errors="replace") if serial.exists() else ""
        qemu_log = root / "log" / "qemu" / f"{name}.log"
        reasons = re.findall(r"shutting down, reason=(\w+)",
                             qemu_log.read_text() if qemu_log.exists()
                             else "")
    if f"Domain '{name}' created" not in out:
        return fail(f"virsh create failed: {out.strip()} "
                    f"{err.strip()[-600:]}")
    if reasons != ["shutdown"]:
        return fail(f"the guest did not power off by itself (libvirt says "
                    f"{reasons}); events: {out.strip()}")
    if not re.search(rf"^{MARKER}\r?$", log, re.M):
        return fail(f"no {MARKER} line on the serial port: {log[-400:]!r}")
    print(f"{sample} via {uri.split('?')[0]}: {MARKER} and power-off; "
          f"{elapsed:.2f} s from virsh start to exit")
    print(out.strip())
    return 0


def main(argv):
    mode = argv[0] if argv else None
    if mode == "qemu" and len(argv) in (4, 5) and argv[2] in BOUND and \
            argv[4:] in ([], ["--break-tail"]):
        return boot_qemu(argv[1], argv[2], Path(argv[3]), len(argv) == 5)
    if mode == "libvirt" and len(argv) == 3 and argv[1] in BOUND:
        return boot_libvirt(argv[1], Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
