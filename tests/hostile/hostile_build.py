"""The ingredients of the hostile-input suite: a small valid appliance
(raw disk, VMware-layout streamOptimized VMDK from tests/tools/vmdk_stream.py,
ovftool-shaped OVF from tests/tools/ovf_write.py, SHA256 manifest), a tar
writer that writes what tarfile will not (lying sizes, any type, any name),
and builders and patchers for sparse VMDKs and qcow2 images (qemu-img).
Python standard library only, plus qemu-img.
"""

import dataclasses
import hashlib
import io
import os
import struct
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import ovf_write  # noqa: E402
import vmdk_stream  # noqa: E402

SECTOR = 512
GRAIN = 64 * 1024

# --- the valid ingredients ---------------------------------------------


def raw_disk(size=1024 * 1024 + 3 * 64 * 1024):
    """A small disk with data in several grains and zeros between."""
    d = bytearray(size)
    for i, at in enumerate(range(0, size, 3 * GRAIN)):
        chunk = hashlib.sha256(str(i).encode()).digest() * (GRAIN // 64)
        d[at:at + GRAIN // 2] = chunk[:GRAIN // 2]
    d[-100:] = b"end of the hostile test disk".ljust(100, b"!")
    return bytes(d)


def stream_vmdk(tmp, raw):
    raw_path = os.path.join(tmp, "base.raw")
    vmdk_path = os.path.join(tmp, "base.vmdk")
    with open(raw_path, "wb") as f:
        f.write(raw)
    vmdk_stream.write_stream_optimized(raw_path, vmdk_path, cid=0x1234,
                                       long_content_id="ab" * 16)
    with open(vmdk_path, "rb") as f:
        return f.read()


def descriptor(disks, name="hostile"):
    """disks: list of (href, file_size, capacity)."""
    def disk(href, size, capacity):
        d = ovf_write.Disk(href, size, capacity)
        if href.endswith(".qcow2"):  # the URI qemu and virt-convert use
            d.format = "http://www.gnome.org/~markmc/qcow-image-format.html"
        return d
    vs = ovf_write.VirtualSystem(
        name=name, disks=[disk(h, s, c) for h, s, c in disks])
    return ovf_write.format_ovf(vs)


def manifest(members, algo="SHA256"):
    out = ""
    for name, data in members:
        h = hashlib.new(algo.lower().replace("-", ""), data).hexdigest()
        out += f"{algo}({name})= {h}\n"
    return out.encode()


# --- tar writing, including what tarfile will not write ----------------


@dataclasses.dataclass
class Member:
    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    size: int = None  # the declared size, if not len(data)
    pax: dict = None


def tar_bytes(members, fmt=tarfile.USTAR_FORMAT, end=True):
    """A tar archive of members; `size` may lie about the data."""
    buf = io.BytesIO()
    for m in members:
        info = tarfile.TarInfo(m.name)
        info.type = m.type
        info.linkname = m.linkname
        info.mode = 0o644
        info.mtime = 1700000000
        info.size = len(m.data) if m.type == tarfile.REGTYPE else 0
        if m.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            info.devmajor, info.devminor = 1, 3
        if m.pax:
            info.pax_headers = m.pax
        header = info.tobuf(fmt if not m.pax else tarfile.PAX_FORMAT,
                            "utf-8", "surrogateescape")
        if m.size is not None:
            # Rewrite the declared size of the last header block and its
            # checksum.
            block = bytearray(header[-SECTOR:])
            block[124:136] = b"%011o\0" % m.size if m.size < 8**11 else (
                b"\x80" + m.size.to_bytes(11, "big"))
            block[148:156] = b"        "
            block[148:156] = b"%06o\0 " % sum(block)
            header = header[:-SECTOR] + bytes(block)
        buf.write(header)
        buf.write(m.data)
        buf.write(b"\0" * (-len(m.data) % SECTOR))
    if end:
        buf.write(b"\0" * (2 * SECTOR))
    return buf.getvalue()


def appliance_members(disk_name="disk1.vmdk", disk=None, ovf_text=None,
                      capacity=None, extra=(), with_manifest=True):
    """The members of a valid OVA, optionally with something changed."""
    ovf = ovf_text.encode() if isinstance(ovf_text, str) else ovf_text
    if ovf is None:
        ovf = descriptor([(disk_name, len(disk), capacity)]).encode()
    files = [("hostile.ovf", ovf)]
    data = [(disk_name, disk)] + list(extra)
    out = [Member("hostile.ovf", ovf)]
    if with_manifest:
        out.append(Member("hostile.mf", manifest(files + data)))
    out += [Member(n, d) for n, d in data]
    return out


# --- VMDK building and patching ----------------------------------------

_SPARSE_HEADER = struct.Struct("<IIIQQQQIQQQB4sH")


def sparse_vmdk(raw, grain_sectors=128, gtes=512):
    """A monolithicSparse VMDK (version 1, no redundant tables):
    header, descriptor, grain directory, grain tables, grains."""
    cap = len(raw) // SECTOR
    grains = -(-cap // grain_sectors)
    tables = -(-grains // gtes)
    desc = (f'# Disk DescriptorFile\nversion=1\nCID=12345678\n'
            f'parentCID=ffffffff\ncreateType="monolithicSparse"\n'
            f'RW {cap} SPARSE "x.vmdk"\n'
            f'ddb.adapterType = "lsilogic"\n').encode()
    desc_sectors = 20
    gd_sector = 1 + desc_sectors
    gd_sectors = -(-tables * 4 // SECTOR)
    gt_sector = gd_sector + gd_sectors
    gt_sectors = -(-tables * gtes * 4 // SECTOR)
    overhead = -(-(gt_sector + gt_sectors) // grain_sectors) * grain_sectors
    gd = [gt_sector + t * gtes * 4 // SECTOR for t in range(tables)]
    gt = [0] * (tables * gtes)
    body = bytearray()
    next_sector = overhead
    for g in range(grains):
        chunk = raw[g * grain_sectors * SECTOR:(g + 1) * grain_sectors *
                    SECTOR]
        if chunk.count(0) == len(chunk):
            continue
        gt[g] = next_sector
        body += chunk.ljust(grain_sectors * SECTOR, b"\0")
        next_sector += grain_sectors
    header = _SPARSE_HEADER.pack(0x564D444B, 1, 3, cap, grain_sectors, 1,
                                 desc_sectors, gtes, 0, gd_sector, overhead,
                                 0, b"\n \r\n", 0).ljust(SECTOR, b"\0")
    out = bytearray(header)
    out += desc.ljust(desc_sectors * SECTOR, b"\0")
    out += struct.pack(f"<{tables}I", *gd).ljust(gd_sectors * SECTOR, b"\0")
    out += struct.pack(f"<{len(gt)}I", *gt).ljust(gt_sectors * SECTOR,
                                                  b"\0")
    out = out.ljust(overhead * SECTOR, b"\0")
    out += body
    return bytes(out), {"gd": gd_sector, "gt": gt_sector,
                        "overhead": overhead}


# Offsets of the sparse header fields.
H_VERSION, H_FLAGS, H_CAPACITY, H_GRAIN = 4, 8, 12, 20
H_DESC_OFF, H_DESC_SIZE, H_GTES, H_RGD, H_GD, H_OVERHEAD = (28, 36, 44, 48,
                                                            56, 64)
H_COMPRESS = 77


def patch(data, offset, fmt, value):
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def stream_records(vmdk):
    """(kind, byte offset) of each marker of a VMware-layout stream."""
    out = []
    sector = struct.unpack_from("<Q", vmdk, H_OVERHEAD)[0]
    while sector * SECTOR < len(vmdk):
        val, size = struct.unpack_from("<QI", vmdk, sector * SECTOR)
        if size:
            out.append(("grain", sector * SECTOR))
            sector += -(-(12 + size) // SECTOR)
            continue
        kind = struct.unpack_from("<I", vmdk, sector * SECTOR + 12)[0]
        out.append(({0: "eos", 1: "gt", 2: "gd", 3: "footer"}[kind],
                    sector * SECTOR))
        if kind == 0:
            break
        sector += 1 + val
    return out


def grain_marker(lba, payload):
    data = struct.pack("<QI", lba, len(payload)) + payload
    return data + b"\0" * (-len(data) % SECTOR)


# --- qcow2 -------------------------------------------------------------


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def qcow2_image(tmp, raw, *opts):
    raw_path = os.path.join(tmp, "q.raw")
    out = os.path.join(tmp, "q.qcow2")
    with open(raw_path, "wb") as f:
        f.write(raw)
    qemu_img("convert", "-f", "raw", "-O", "qcow2", *opts, raw_path, out)
    with open(out, "rb") as f:
        return f.read()


def q_get(data, offset, fmt):
    return struct.unpack_from(fmt, data, offset)[0]


def q_patch(data, offset, fmt, value):
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


Q_BACKING_OFF, Q_BACKING_SIZE, Q_CLUSTER_BITS, Q_SIZE = 8, 16, 20, 24
Q_CRYPT, Q_L1_SIZE, Q_L1_OFF, Q_RC_OFF, Q_RC_CLUSTERS = 32, 36, 40, 48, 56
Q_INCOMPAT, Q_HEADER_LEN = 72, 100
