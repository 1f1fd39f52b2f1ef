#!/usr/bin/env python3
"""Generates the hostile-input suite: packages, descriptors, manifests and
disk images that try to escape, exhaust or confuse an importer.

Everything is built at test time from a small valid appliance (a raw disk,
a VMware-layout streamOptimized VMDK from tests/tools/vmdk_stream.py, an
ovftool-shaped OVF from tests/tools/ovf_write.py, a SHA256 manifest) by
changing one thing. Python standard library only, plus qemu-img for the
qcow2 images.

Each case names its input, the commands that must refuse it (exit 3 or 4,
one error line matching `expect`), and the commands that may accept it (a
part they do not read) but must still neither crash nor write anything.

    hostile_cases.py OUTDIR       writes the inputs and OUTDIR/cases.json
"""

import dataclasses
import gzip
import hashlib
import json
import os
import sys
import tarfile

from hostile_build import (SECTOR, Member, appliance_members,
                           descriptor, manifest, qcow2_image, raw_disk,
                           sparse_vmdk, stream_vmdk, tar_bytes)
from hostile_disks import DiskCases

# Where a traversal would land if a reader obeyed it. The runner checks
# that none of these exists afterwards.
VICTIM = "ova2virt-hostile-victim"

# Command kinds the runner knows (run_hostile.py).
PACKAGE_READERS = ["inspect", "verify", "verify-pipe", "dry-run", "import"]


@dataclasses.dataclass
class Case:
    name: str
    input: str  # relative to the output directory
    refuse: list  # commands that must exit 3 or 4
    expect: str  # regular expression the error line must match
    accept: list = dataclasses.field(default_factory=list)  # may exit 0
    succeed: list = dataclasses.field(default_factory=list)  # must exit 0
    codes: list = dataclasses.field(default_factory=lambda: [3, 4])
    victims: list = dataclasses.field(default_factory=list)


# --- the cases ---------------------------------------------------------


class Suite(DiskCases):

    def __init__(self, out):
        self.out = out
        self.cases = []
        self.tmp = os.path.join(out, ".work")
        os.makedirs(self.tmp, exist_ok=True)
        self.raw = raw_disk()
        self.vmdk = stream_vmdk(self.tmp, self.raw)
        self.capacity = len(self.raw)

    def write(self, rel, data):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return rel

    def add(self, name, rel, refuse, expect, **kw):
        self.cases.append(Case(name, rel, refuse, expect, **kw))

    def ova(self, name, members, refuse=PACKAGE_READERS, expect="",
            accept=(), fmt=tarfile.USTAR_FORMAT, raw_bytes=None, **kw):
        data = raw_bytes if raw_bytes is not None else tar_bytes(members, fmt)
        rel = self.write(f"{name}.ova", data)
        self.add(name, rel, list(refuse), expect, accept=list(accept), **kw)

    def ovf_dir(self, name, files, refuse, expect, accept=(), **kw):
        """A directory holding an .ovf and its files (name -> bytes; a
        value of ("symlink", target) makes a symbolic link)."""
        d = os.path.join(self.out, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in files.items():
            path = os.path.join(d, fname)
            if isinstance(data, tuple) and data[0] == "symlink":
                os.symlink(data[1], path)
            else:
                with open(path, "wb") as f:
                    f.write(data)
        self.add(name, name, list(refuse), expect, accept=list(accept), **kw)

    def disk_case(self, name, image, ext, expect, package=True,
                  convert=True, codes=(3, 4)):
        """A hostile disk image: converted on its own, and imported from an
        otherwise valid package (its manifest matches)."""
        rel = self.write(f"{name}.{ext}", image)
        refuse = ["convert"] if convert else []
        if package:
            members = appliance_members(f"disk1.{ext}", image,
                                        capacity=self.capacity)
            prel = self.write(f"{name}-pkg.ova", tar_bytes(members))
            self.add(f"{name}-in-ova", prel, ["import"], expect,
                     accept=["inspect", "verify", "dry-run"],
                     codes=list(codes))
        if convert:
            self.add(name, rel, refuse, expect, codes=list(codes))

    # -- tar members ----------------------------------------------------

    def tar_cases(self):
        """Hostile members, after the descriptor. `import --dry-run` walks
        every tar header as the import does (skipping the data), so it
        refuses them too, alike; the '-first' variants put the member
        before the descriptor, where every command meets it first."""
        good = appliance_members(disk=self.vmdk, capacity=self.capacity)
        after = dict(refuse=PACKAGE_READERS)
        self.ova("control-valid", good, refuse=[], expect="",
                 succeed=PACKAGE_READERS)
        deep = "../" * 12 + "tmp/" + VICTIM + "-traversal"
        self.ova("member-traversal", good + [Member(deep, b"pwned")],
                 **after, expect=r"'\.\.' component", victims=["/tmp/" + VICTIM +
                                                      "-traversal"])
        self.ova("member-traversal-inner",
                 good + [Member("a/b/../../../" + VICTIM, b"x")],
                 **after, expect=r"'\.\.' component")
        self.ova("member-absolute",
                 good + [Member("/tmp/" + VICTIM + "-abs", b"x")],
                 **after, expect="absolute path",
                 victims=["/tmp/" + VICTIM + "-abs"])
        self.ova("member-absolute-pax",
                 good + [Member("innocent", b"x",
                                pax={"path": "/tmp/" + VICTIM + "-pax"})],
                 **after, expect="absolute path",
                 victims=["/tmp/" + VICTIM + "-pax"])
        self.ova("member-traversal-gnu-longname",
                 good + [Member("x/" * 60 + "../" * 70 + VICTIM, b"x")],
                 fmt=tarfile.GNU_FORMAT, **after, expect=r"'\.\.' component")
        self.ova("member-control-chars", good + [Member("a\x1b[2Jb", b"x")],
                 **after, expect="control characters")
        self.ova("member-backslash",
                 good + [Member("..\\..\\" + VICTIM, b"x")],
                 **after, expect="(control characters|backslash)")
        self.ova("member-name-too-long",
                 good + [Member("n" * 3000, b"x", pax={"path": "n" * 3000})],
                 **after, expect="longer than")
        disk_symlink = [good[0], good[1],
                        Member("disk1.vmdk", type=tarfile.SYMTYPE,
                               linkname="/etc/shadow")]
        self.ova("member-symlink-disk", disk_symlink,
                 **after, expect="symbolic link")
        self.ova("member-symlink-extra",
                 good + [Member("evil", type=tarfile.SYMTYPE,
                                linkname="../../../../etc")],
                 **after, expect="symbolic link")
        self.ova("member-hardlink",
                 [good[0], good[1],
                  Member("disk1.vmdk", type=tarfile.LNKTYPE,
                         linkname="/etc/passwd")],
                 **after, expect="hard link")
        self.ova("member-char-device",
                 good + [Member("null", type=tarfile.CHRTYPE)],
                 **after, expect="character device")
        self.ova("member-block-device",
                 good + [Member("sda", type=tarfile.BLKTYPE)],
                 **after, expect="block device")
        self.ova("member-fifo", good + [Member("pipe", type=tarfile.FIFOTYPE)],
                 **after, expect="fifo")
        self.ova("member-duplicate",
                 good + [Member("disk1.vmdk", self.vmdk)],
                 **after, expect="duplicate name")
        self.ova("member-duplicate-normalized",
                 good + [Member(".//disk1.vmdk", b"other")],
                 **after, expect="duplicate name")
        self.ova("member-duplicate-descriptor-name",
                 good + [Member("./hostile.ovf", b"<x/>")],
                 **after, expect="duplicate name")
        sparse = Member("sparse-member", b"x", type=tarfile.GNUTYPE_SPARSE)
        self.ova("member-gnu-sparse", good + [sparse], **after,
                 expect="(sparse|damaged tar header)", fmt=tarfile.GNU_FORMAT)
        # Damaged headers and sizes.
        data = bytearray(tar_bytes(good))
        second = SECTOR + -(-len(good[0].data) // SECTOR) * SECTOR
        data[second + 148] ^= 0x11  # the manifest's header checksum
        self.ova("tar-bad-checksum", [], raw_bytes=bytes(data), **after,
                 expect="damaged tar header")
        huge = good[:2] + [Member("disk1.vmdk", self.vmdk, size=1 << 40)]
        self.ova("tar-size-past-end", huge, **after, expect="truncated")
        huge = good[:2] + [Member("disk1.vmdk", self.vmdk, size=(1 << 62))]
        self.ova("tar-size-2-62", huge, **after, expect="truncated")
        neg = bytearray(tar_bytes(good))
        neg[second + 124:second + 136] = b"\xff" * 12  # base-256, negative
        self.ova("tar-size-negative", [], raw_bytes=bytes(neg), **after,
                 expect="(damaged tar header|size|truncated)")
        self.ova("not-a-tar", [], raw_bytes=os.urandom(0) + b"\x89PNG" +
                 bytes(range(256)) * 8, expect="not a tar archive")
        xz = b"\xfd7zXZ\x00" + b"\0" * 1024
        self.ova("xz-compressed", [], raw_bytes=xz, expect="xz", codes=[4])
        zipped = b"PK\x03\x04" + b"\0" * 1024
        self.ova("zip-archive", [], raw_bytes=zipped, expect="zip",
                 codes=[4])
        # A gzip-compressed package whose gzip stream is damaged.
        gz = bytearray(gzip.compress(tar_bytes(good), mtime=0))
        gz[len(gz) // 2] ^= 0xff
        # (Through a pipe the descriptor comes out of the damaged stream
        # first, and its garbled text -- not UTF-8, or not XML -- is what
        # fails.)
        self.ova("gzip-damaged", [], raw_bytes=bytes(gz),
                 expect="(gzip|inflate|deflate|crc|damaged|corrupt|"
                 "malformed xml|invalid UTF-8)")
        # Hostile members before the descriptor: every command meets them.
        for label, member in (
                ("traversal", Member(deep, b"pwned")),
                ("absolute", Member("/tmp/" + VICTIM + "-abs", b"x")),
                ("symlink", Member("evil", type=tarfile.SYMTYPE,
                                   linkname="/etc/shadow")),
                ("device", Member("null", type=tarfile.CHRTYPE))):
            self.ova(f"member-{label}-first", [member] + good,
                     expect="(component|absolute path|symbolic link|"
                     "character device)",
                     victims=["/tmp/" + VICTIM + "-traversal",
                              "/tmp/" + VICTIM + "-abs"])

    # -- truncation at each structural boundary of a package -----------

    def truncation_cases(self):
        good = tar_bytes(appliance_members(disk=self.vmdk,
                                           capacity=self.capacity))
        ovf_len = len(appliance_members(disk=self.vmdk,
                                        capacity=self.capacity)[0].data)
        ovf_end = SECTOR + ovf_len
        cuts = {
            "in-first-header": 300,
            "in-descriptor": SECTOR + ovf_len // 2,
            "after-descriptor": SECTOR + -(-ovf_len // SECTOR) * SECTOR,
            "in-disk-header": None,  # filled below
            "in-disk-data": len(good) // 2,
            "before-end-blocks": len(good) - 2 * SECTOR - 1,
        }
        # The disk's header block: after descriptor and manifest.
        mf_len = len(appliance_members(disk=self.vmdk,
                                       capacity=self.capacity)[1].data)
        disk_header = (SECTOR + -(-ovf_len // SECTOR) * SECTOR + SECTOR +
                       -(-mf_len // SECTOR) * SECTOR)
        cuts["in-disk-header"] = disk_header + 100
        cuts["in-disk-vmdk-header"] = disk_header + SECTOR + 200
        assert ovf_end < len(good)
        for label, cut in cuts.items():
            accept = []
            if cut >= ovf_end and label == "after-descriptor":
                # The descriptor is whole and the archive ends cleanly
                # after it: inspect, reaching the end early, may only
                # warn about the missing files (a dry run, like the
                # import, refuses them).
                accept.append("inspect")
            self.ova(f"truncated-{label}", [], raw_bytes=good[:cut],
                     refuse=[c for c in PACKAGE_READERS if c not in accept],
                     accept=accept,
                     expect="(truncated|missing|end of|damaged|"
                     "unexpected end|short|not a tar)")

    # -- references ----------------------------------------------------

    def href_cases(self):
        vm = self.vmdk
        for label, href in (("traversal", "../../etc/passwd"),
                            ("absolute", "/etc/passwd"),
                            ("file-url", "file:///etc/passwd"),
                            ("http-url", "http://198.51.100.1/disk.vmdk"),
                            ("percent-encoded", "%2e%2e/%2e%2e/etc/passwd"),
                            ("backslash", "..\\..\\etc\\passwd")):
            ovf = descriptor([(href, len(vm), self.capacity)])
            self.ova(f"href-{label}",
                     appliance_members("disk1.vmdk", vm, ovf_text=ovf),
                     expect="(leaves the package|control characters|"
                     "backslash)")
            self.ovf_dir(f"ovfdir-href-{label}",
                         {"hostile.ovf": ovf.encode(), "disk1.vmdk": vm},
                         refuse=PACKAGE_READERS[:2] + ["dry-run", "import"],
                         expect="(leaves the package|control characters|"
                         "backslash)")
        # A directory package whose disk is a symbolic link out of it.
        ovf = descriptor([("disk1.vmdk", len(vm), self.capacity)])
        self.ovf_dir("ovfdir-symlink-out",
                     {"hostile.ovf": ovf.encode(),
                      "disk1.vmdk": ("symlink", "/etc/passwd")},
                     refuse=["verify", "dry-run", "import"],
                     accept=["inspect"],
                     expect="(outside|symbolic link|leaves)")
        # A chunked file that claims a million pieces.
        ovf = descriptor([("disk1.vmdk", 10**12, self.capacity)]).replace(
            'ovf:size="1000000000000"',
            'ovf:size="1000000000000" ovf:chunkSize="1"')
        self.ova("href-chunk-count-bomb",
                 appliance_members("disk1.vmdk", vm, ovf_text=ovf),
                 expect="(chunk|pieces)")
        # A reference list long enough to be quadratic somewhere, and
        # chunked references that together name ten million members.
        ovf = descriptor([("disk1.vmdk", len(vm), self.capacity)])
        ovf = ovf.replace("<References>", "<References>" + "".join(
            f'<File ovf:href="d{i}" ovf:id="f{i}"/>' for i in range(100000)))
        self.ova("href-many-references",
                 appliance_members("disk1.vmdk", vm, ovf_text=ovf),
                 expect="more than 4096 files")
        ovf = descriptor([("disk1.vmdk", len(vm), self.capacity)])
        ovf = ovf.replace("<References>", "<References>" + "".join(
            f'<File ovf:href="c{i}" ovf:id="c{i}" ovf:size="99999" '
            f'ovf:chunkSize="1"/>' for i in range(100)))
        self.ova("href-chunks-total",
                 appliance_members("disk1.vmdk", vm, ovf_text=ovf),
                 expect="more than 100000 files and chunks")
        # VMDK descriptors naming extents outside the package.
        for label, extent in (("absolute", "/etc/passwd"),
                              ("traversal", "../../etc/passwd")):
            text = (f'# Disk DescriptorFile\nversion=1\nCID=1\n'
                    f'parentCID=ffffffff\ncreateType="monolithicFlat"\n'
                    f'RW 2048 FLAT "{extent}" 0\n').encode()
            ovf = descriptor([("disk1.vmdk", len(text), 2048 * SECTOR)])
            self.ovf_dir(f"vmdk-extent-{label}",
                         {"hostile.ovf": ovf.encode(), "disk1.vmdk": text},
                         refuse=["import"],
                         accept=["inspect", "verify", "dry-run"],
                         expect="(absolute path|'\\.\\.' component|"
                         "leaves)")
            self.write(f"vmdk-extent-{label}.vmdk", text)
            self.add(f"vmdk-extent-{label}-convert",
                     f"vmdk-extent-{label}.vmdk", ["convert"],
                     "(absolute path|'\\.\\.' component|leaves)")
        delta = (b'# Disk DescriptorFile\nversion=1\nCID=2\n'
                 b'parentCID=12345678\ncreateType="monolithicSparse"\n'
                 b'parentFileNameHint="/var/lib/libvirt/images/base.vmdk"\n'
                 b'RW 2048 SPARSE "delta-s001.vmdk"\n')
        self.write("vmdk-parent-hint.vmdk", delta)
        self.add("vmdk-parent-hint", "vmdk-parent-hint.vmdk", ["convert"],
                 "(parent|delta|snapshot)", codes=[3, 4])

    # -- descriptor bombs ----------------------------------------------

    def descriptor_cases(self):
        vm = self.vmdk
        base = descriptor([("disk1.vmdk", len(vm), self.capacity)])

        def pkg(name, ovf, expect, **kw):
            self.ova(name, appliance_members("disk1.vmdk", vm, ovf_text=ovf),
                     expect=expect, **kw)

        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        body = base.split("\n", 1)[1]
        laughs = (head + '<!DOCTYPE Envelope [\n<!ENTITY a "lol">\n' + "".join(
            f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">\n'
            for i in range(9)) + "]>\n" + body.replace(
                "<Info>Virtual disk information</Info>", "<Info>&j;</Info>"))
        pkg("ovf-billion-laughs", laughs, "(dtd|doctype|entit)")
        xxe = (head + '<!DOCTYPE Envelope [<!ENTITY x SYSTEM '
               '"file:///etc/passwd">]>\n' + body.replace(
                   "<Info>Virtual disk information</Info>", "<Info>&x;</Info>"))
        pkg("ovf-external-entity", xxe, "(dtd|doctype|entit)")
        ext_dtd = (head + '<!DOCTYPE Envelope SYSTEM '
                   '"http://198.51.100.1/ovf.dtd">\n' + body)
        pkg("ovf-external-dtd", ext_dtd, "(dtd|doctype|entit)")
        param = (head + '<!DOCTYPE Envelope [<!ENTITY % p SYSTEM '
                 '"http://198.51.100.1/p.dtd"> %p;]>\n' + body)
        pkg("ovf-parameter-entity", param, "(dtd|doctype|entit)")
        nested = base.replace("<Info>Virtual disk information</Info>",
                              "<a>" * 200000 + "</a>" * 200000)
        pkg("ovf-deeply-nested", nested, "(deep|depth|nest)")
        many = base.replace("<Info>Virtual disk information</Info>",
                            "<i/>" * 3000000)
        pkg("ovf-many-elements", many, "(elements|exceeds|limit)")
        # Just under the 32 MiB descriptor limit, documents whose parsed
        # form would be many times their size.
        room = (32 << 20) - len(base) - 4096
        pkg("ovf-max-elements", base.replace(
            "<Info>Virtual disk information</Info>", "<i/>" * (room // 4)),
            "more than .* elements")
        wide = "<i " + " ".join(f'a{k}=""' for k in range(200)) + "/>"
        pkg("ovf-max-attributes", base.replace(
            "<Info>Virtual disk information</Info>",
            wide * (room // len(wide))), "more than .* attributes")
        pkg("ovf-newlines", base.replace(
            "<Info>Virtual disk information</Info>", "\n" * room + "<x>"),
            "(malformed|mismatch)")
        big = base.replace("<Info>Virtual disk information</Info>",
                           "<Info>" + "A" * (34 << 20) + "</Info>")
        pkg("ovf-huge", big, "(exceeds|limit|too large)")
        attrs = base.replace("<DiskSection>", "<DiskSection " + " ".join(
            f'a{i}="{i}"' for i in range(300000)) + ">")
        pkg("ovf-many-attributes", attrs, "(attributes|exceeds|limit)")
        pkg("ovf-malformed", base[:len(base) // 2], "(xml|malformed|parse)")
        pkg("ovf-not-xml", "\x00\x01\x02" * 1000,
            "(xml|malformed|parse|neither)")
        files = "".join(f'<File ovf:href="d{i}.vmdk" ovf:id="f{i}"/>'
                        for i in range(20000))
        disks = "".join(f'<Disk ovf:diskId="d{i}" ovf:fileRef="f{i}" '
                        f'ovf:capacity="1048576"/>' for i in range(20000))
        many_disks = base.replace("<References>", "<References>" + files)
        many_disks = many_disks.replace(
            "<Info>Virtual disk information</Info>",
            "<Info>Virtual disk information</Info>" + disks)
        # (verify checks references, not disks: it finds them missing.)
        pkg("ovf-too-many-disks", many_disks,
            "(more than|too many|exceeds|limit|missing)")
        collection = (head + '<Envelope xmlns="http://schemas.dmtf.org/ovf/'
                      'envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/'
                      'envelope/1"><References/>' +
                      '<VirtualSystemCollection ovf:id="c">' * 2000 +
                      '</VirtualSystemCollection>' * 2000 + '</Envelope>')
        pkg("ovf-nested-collections", collection,
            "(deep|depth|nest|no virtual system|more than)")
        cap = base.replace(f'ovf:capacity="{self.capacity}"',
                           'ovf:capacity="99999999999999999999999"')
        pkg("ovf-absurd-capacity", cap,
            "(capacity|too large|out of range|overflow)",
            refuse=["inspect", "dry-run", "import"],
            accept=["verify", "verify-pipe"])
        mem = base.replace("<rasd:VirtualQuantity>128</rasd:VirtualQuantity>",
                           "<rasd:VirtualQuantity>18446744073709551615"
                           "</rasd:VirtualQuantity>")
        pkg("ovf-absurd-memory", mem,
            "(memory|too large|out of range|overflow)",
            refuse=["inspect", "dry-run", "import"],
            accept=["verify", "verify-pipe"])
        cpus = base.replace(
            "<rasd:VirtualQuantity>1</rasd:VirtualQuantity>",
            "<rasd:VirtualQuantity>4000000000</rasd:VirtualQuantity>")
        pkg("ovf-absurd-cpus", cpus, "(cpu|too large|out of range|more than)",
            refuse=["inspect", "dry-run", "import"],
            accept=["verify", "verify-pipe"])

    # -- manifests and certificates ------------------------------------

    def manifest_cases(self):
        vm = self.vmdk
        ovf = descriptor([("disk1.vmdk", len(vm), self.capacity)]).encode()

        def pkg(name, mf, expect, cert=None, codes=(3, 4), dry=True):
            """dry: the dry run refuses too (it checks everything but the
            disks' digests)."""
            members = [Member("hostile.ovf", ovf), Member("hostile.mf", mf)]
            if cert is not None:
                members.append(Member("hostile.cert", cert))
            members.append(Member("disk1.vmdk", vm))
            refuse = ["verify", "verify-pipe", "import"]
            self.ova(name, members, expect=expect,
                     refuse=refuse + (["dry-run"] if dry else []),
                     accept=["inspect"] + ([] if dry else ["dry-run"]),
                     codes=list(codes))

        good = manifest([("hostile.ovf", ovf), ("disk1.vmdk", vm)])
        pkg("manifest-absurd-line", b"SHA256(disk1.vmdk)= " + b"a" * (3 << 20)
            + b"\n", "(digest|line|exceeds)")
        pkg("manifest-too-big", good + b"\n" * (5 << 20), "(exceeds|limit)")
        pkg("manifest-nul-bytes", good[:40] + b"\0garbage\0" + good[40:],
            "(not a manifest entry|line)")
        pkg("manifest-traversal-name",
            good + b"SHA256(../../etc/passwd)= " + b"0" * 64 + b"\n",
            r"'\.\.' component")
        pkg("manifest-absolute-name",
            good + b"SHA256(/etc/shadow)= " + b"0" * 64 + b"\n",
            "absolute path")
        pkg("manifest-bad-digest-length",
            b"SHA256(disk1.vmdk)= abcd\n", "(digest|length|hex)")
        pkg("manifest-md5", b"MD5(disk1.vmdk)= " + b"0" * 32 + b"\n", "MD5",
            codes=[4])
        pkg("manifest-wrong-digest", good.replace(
            hashlib.sha256(vm).hexdigest().encode(), b"0" * 64),
            "digest mismatch", codes=[3], dry=False)  # a disk's digest
        pkg("cert-garbage", good, "(certificate|signature)",
            cert=b"SHA256(hostile.mf)= 00ff\n-----BEGIN CERTIFICATE-----\n"
            b"bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        pkg("cert-huge-signature", good, "(signature|hex digits|exceeds)",
            cert=b"SHA256(hostile.mf)= " + b"ab" * (1 << 20) + b"\n")
        pkg("cert-no-end-line", good, "(certificate|end line)",
            cert=b"SHA256(hostile.mf)= 00ff\n-----BEGIN CERTIFICATE-----\n" +
            b"QUFB\n" * 100000)
        pkg("cert-too-big", good, "(exceeds|limit)",
            cert=b"SHA256(hostile.mf)= 00ff\n" + b" " * (5 << 20))

    # -- text encodings ------------------------------------------------

    def vmx_dir(self, name, vmx, refuse, expect, **kw):
        """A VMware directory: NAME/hostile.vmx and its sparse disk."""
        sp, _ = sparse_vmdk(self.raw)
        d = os.path.join(self.out, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in (("hostile.vmx", vmx), ("disk1.vmdk", sp)):
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
        self.add(name, f"{name}/hostile.vmx", list(refuse), expect, **kw)

    def encoding_cases(self):
        """Descriptors whose text is not UTF-8 (nor the encoding they
        declare): exit 3 at parse time, with line and column, before any
        disk is read; and their properly declared twins, which succeed."""
        vm = self.vmdk
        utf8 = r"line \d+, column \d+: invalid UTF-8"

        def ovf_named(raw_name, encoding=None):
            text = descriptor([("disk1.vmdk", len(vm), self.capacity)],
                              name="NAMEMARK").encode()
            if encoding:
                text = text.replace(b'encoding="UTF-8"',
                                    b'encoding="%s"' % encoding.encode())
            return text.replace(b"NAMEMARK", raw_name)

        for label, raw_name in (("overlong", b"vm\xc0\xaf"),
                                ("surrogate", b"vm\xed\xa0\x80"),
                                ("above-max", b"vm\xf4\x90\x80\x80"),
                                ("truncated", b"vm\xe2\x82"),
                                ("latin1-undeclared", b"caf\xe9")):
            self.ova(f"utf8-ovf-name-{label}",
                     appliance_members("disk1.vmdk", vm,
                                       ovf_text=ovf_named(raw_name)),
                     expect=utf8, codes=[3])
        self.ova("utf8-ovf-name-declared-cp1252",
                 appliance_members("disk1.vmdk", vm, ovf_text=ovf_named(
                     b"caf\xe9", "windows-1252")),
                 refuse=[], succeed=PACKAGE_READERS)
        # An OVF in UTF-16, as some Windows tools save XML.
        utf16 = ovf_named(b"caf\xc3\xa9").decode().replace(
            'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        self.ova("utf16-ovf-control",
                 appliance_members("disk1.vmdk", vm, ovf_text=utf16),
                 refuse=[], succeed=PACKAGE_READERS)
        # A manifest line with a name in invalid UTF-8.
        ovf = descriptor([("disk1.vmdk", len(vm), self.capacity)]).encode()
        mf = manifest([("hostile.ovf", ovf), ("disk1.vmdk", vm)])
        mf += b"SHA256(extra\xff.txt)= " + b"0" * 64 + b"\n"
        self.ova("utf8-manifest-line",
                 [Member("hostile.ovf", ovf), Member("hostile.mf", mf),
                  Member("disk1.vmdk", vm)], expect=utf8, codes=[3])
        # VMX displayName: UTF-8 by default, or the declared encoding.
        def vmx(encoding, display):
            return (b'.encoding = "%s"\nconfig.version = "8"\n'
                    b'virtualHW.version = "14"\ndisplayName = "%s"\n'
                    b'memsize = "256"\nnumvcpus = "1"\nguestOS = "other"\n'
                    b'scsi0.present = "TRUE"\n'
                    b'scsi0.virtualDev = "lsilogic"\n'
                    b'scsi0:0.present = "TRUE"\n'
                    b'scsi0:0.fileName = "disk1.vmdk"\n' % (
                        encoding.encode(), display))
        vmx_readers = ["inspect", "dry-run", "import"]
        self.vmx_dir("utf8-vmx-displayname", vmx("UTF-8", b"vm\xc0\xaf"),
                     vmx_readers, utf8, codes=[3],
                     accept=["verify"])
        self.vmx_dir("utf8-vmx-escaped", vmx("UTF-8", b"vm|C0|AF"),
                     vmx_readers, "invalid UTF-8", codes=[3],
                     accept=["verify"])
        self.vmx_dir("utf8-vmx-declared-cp1252",
                     vmx("windows-1252", b"caf\xe9"), [], "",
                     succeed=vmx_readers)

    # -- VMDK ----------------------------------------------------------
    def generate(self):
        self.tar_cases()
        self.truncation_cases()
        self.href_cases()
        self.descriptor_cases()
        self.manifest_cases()
        self.encoding_cases()
        self.vmdk_cases()
        self.qcow2_cases()
        self.metadata_pointer_cases()
        # The valid ingredients, as control cases that must succeed: a
        # suite whose inputs all fail for some other reason proves nothing.
        sp, _ = sparse_vmdk(self.raw)
        q = qcow2_image(self.tmp, self.raw, "-c")
        for name, image, ext in (("control-sparse", sp, "vmdk"),
                                 ("control-stream", self.vmdk, "vmdk"),
                                 ("control-qcow2", q, "qcow2")):
            self.write(f"{name}.{ext}", image)
            self.add(name, f"{name}.{ext}", [], "", succeed=["convert"])
            members = appliance_members(f"disk1.{ext}", image,
                                        capacity=self.capacity)
            self.write(f"{name}-pkg.ova", tar_bytes(members))
            self.add(f"{name}-in-ova", f"{name}-pkg.ova", [], "",
                     succeed=PACKAGE_READERS)
        names = [c.name for c in self.cases]
        assert len(names) == len(set(names)), "case names are unique"
        for c in self.cases:
            c.victims = c.victims + [f"/tmp/{VICTIM}", f"/{VICTIM}"]
        with open(os.path.join(self.out, "cases.json"), "w") as f:
            json.dump([dataclasses.asdict(c) for c in self.cases], f,
                      indent=1)
        return self.cases


def generate(out):
    """Writes every case under `out`; returns the list of Case."""
    os.makedirs(out, exist_ok=True)
    return Suite(out).generate()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: hostile_cases.py OUTDIR")
    cases = generate(sys.argv[1])
    print(f"{len(cases)} cases in {sys.argv[1]}")
