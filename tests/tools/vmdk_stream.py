#!/usr/bin/env python3
"""Writes streamOptimized VMDK files in VMware's layout, from a raw image.

An independent producer for tests: Python standard library only, sharing no
code with ova2virt's C++ readers, so those readers are checked against a
second implementation of the format rather than against themselves.

The layout is the one VMware's exporters (ovftool, vSphere, open-vmdk) write,
per VMware's "Virtual Disk Format 5.0", section "Stream-Optimized Compressed
Sparse Extents":

  sector 0     sparse extent header: version 3, flags 0x30001 (valid
               newline test, compressed grains, markers), gdOffset
               GD_AT_END (all ones), overHead 128
  sector 1..   the embedded descriptor (createType "streamOptimized"),
               zero padded up to overHead
  then, for each stretch of numGTEsPerGT (512) grains that holds data:
               grain markers (LBA, compressed size, zlib data), each
               padded to a sector, for every grain that is not all zeros;
               a grain-table marker and the 512-entry grain table
  then         a grain-directory marker and the grain directory, a footer
               marker and a copy of the header with the real gdOffset,
               and the end-of-stream marker (one zero sector).

qemu-img writes another layout (directory and tables first, no footer); this
module exists because qemu-img alone never exercises the VMware one.

Command line:
    vmdk_stream.py RAW OUT.vmdk [--adapter lsilogic] [--hw-version 13] ...
As a module:
    write_stream_optimized(raw_path, vmdk_path, adapter_type="lsilogic", ...)
    read_layout(vmdk_path) -> Layout  (walks the markers; for assertions)
"""

import argparse
import dataclasses
import random
import struct
import sys
import zlib

SECTOR = 512
MAGIC = 0x564D444B  # "KDMV" little-endian
GD_AT_END = 0xFFFFFFFFFFFFFFFF
FLAG_VALID_NEWLINE_TEST = 1 << 0
FLAG_COMPRESSED = 1 << 16
FLAG_MARKERS = 1 << 17
COMPRESSION_DEFLATE = 1

MARKER_EOS = 0
MARKER_GT = 1
MARKER_GD = 2
MARKER_FOOTER = 3

DEFAULT_GRAIN_SECTORS = 128  # 64 KiB
GTES_PER_GT = 512
OVERHEAD_SECTORS = 128

# The sparse extent header (VMDK 5.0, "Hosted Sparse Extent Header"): 79 bytes
# of fields, then 433 bytes of padding to one sector.
_HEADER = struct.Struct("<IIIQQQQIQQQB4sH")
assert _HEADER.size == 79
_MARKER = struct.Struct("<QI")  # val (LBA or sectors), size; then type/data

# SCSI adapters VMware records as "lsilogic" in a descriptor; the descriptor
# knows only ide, buslogic, lsilogic and legacyESX (SATA disks say "ide").
ADAPTER_TYPES = ("ide", "buslogic", "lsilogic", "legacyESX")


def chs_geometry(capacity_sectors, adapter_type):
    """Returns (cylinders, heads, sectors) as VMware computes them.

    IDE (and SATA, which VMware records as "ide") uses 16 heads and 63 sectors
    with at most 16383 cylinders; SCSI adapters use 64/32 below 1 GiB, 128/32
    below 2 GiB, else 255/63, with at most 65535 cylinders.
    """
    if adapter_type == "ide":
        heads, sectors, max_cylinders = 16, 63, 16383
    else:
        gib = (1 << 30) // SECTOR
        if capacity_sectors < gib:
            heads, sectors = 64, 32
        elif capacity_sectors < 2 * gib:
            heads, sectors = 128, 32
        else:
            heads, sectors = 255, 63
        max_cylinders = 65535
    cylinders = capacity_sectors // (heads * sectors)
    cylinders = max(1, min(cylinders, max_cylinders))
    return cylinders, heads, sectors


def format_descriptor(capacity_sectors, cid, adapter_type, hw_version,
                      extent_name, long_content_id):
    """Returns the embedded descriptor text, in ovftool 4.x's shape.

    ovftool writes a space before several line ends and names the extent
    "generated-stream.vmdk" whatever the file is called; both are kept because
    readers meet them in real files.
    """
    cylinders, heads, sectors = chs_geometry(capacity_sectors, adapter_type)
    return ("# Disk DescriptorFile\n"
            "version=1 \n"
            f"CID={cid:08x} \n"
            "parentCID=ffffffff \n"
            'createType="streamOptimized" \n'
            "\n"
            "# Extent description\n"
            f'RDONLY {capacity_sectors} SPARSE "{extent_name}"\n'
            "\n"
            "# The Disk Data Base \n"
            "#DDB\n"
            "\n"
            f'ddb.adapterType = "{adapter_type}"\n'
            f'ddb.geometry.cylinders = "{cylinders}"\n'
            f'ddb.geometry.heads = "{heads}"\n'
            f'ddb.geometry.sectors = "{sectors}"\n'
            f'ddb.longContentID = "{long_content_id}"\n'
            f'ddb.virtualHWVersion = "{hw_version}"\n')


def pack_header(capacity_sectors, grain_sectors, descriptor_sectors,
                gd_offset):
    """Returns the 512-byte sparse extent header."""
    fields = _HEADER.pack(
        MAGIC,
        3,  # version 3: streamOptimized
        FLAG_VALID_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS,
        capacity_sectors,
        grain_sectors,
        1,  # descriptorOffset
        descriptor_sectors,
        GTES_PER_GT,
        0,  # rgdOffset: no redundant directory in a stream
        gd_offset,
        OVERHEAD_SECTORS,
        0,  # uncleanShutdown
        b"\n \r\n",  # the newline detection characters
        COMPRESSION_DEFLATE)
    return fields.ljust(SECTOR, b"\0")


def metadata_marker(num_sectors, marker_type):
    """Returns a one-sector marker announcing num_sectors of metadata."""
    return (_MARKER.pack(num_sectors, 0) +
            struct.pack("<I", marker_type)).ljust(SECTOR, b"\0")


def _pad(data):
    return data + b"\0" * (-len(data) % SECTOR)


class _Output:
    """A file written strictly forward, counting sectors."""

    def __init__(self, f):
        self.f = f
        self.sector = 0

    def write(self, data):
        assert len(data) % SECTOR == 0
        self.f.write(data)
        self.sector += len(data) // SECTOR


@dataclasses.dataclass
class Stats:
    capacity_bytes: int
    grains_written: int
    grain_tables_written: int
    file_bytes: int


def write_stream_optimized(raw_path,
                           vmdk_path,
                           adapter_type="lsilogic",
                           hw_version=13,
                           cid=None,
                           long_content_id=None,
                           extent_name="generated-stream.vmdk",
                           capacity_bytes=None,
                           grain_sectors=DEFAULT_GRAIN_SECTORS,
                           compress_level=6,
                           shuffle_seed=None):
    """Converts the raw image at raw_path into a streamOptimized VMDK.

    capacity_bytes defaults to the raw file's size; it must be a multiple of
    512 and at least the raw size (the rest reads as zeros). The last grain,
    when the capacity is not a whole number of grains, is stored as a full
    grain padded with zeros. With shuffle_seed, the grains of each grain table
    are written in a shuffled order (markers carry each grain's LBA, so the
    result is still valid: readers must not assume ascending order).
    Returns Stats. Raises ValueError on bad arguments.
    """
    if adapter_type not in ADAPTER_TYPES:
        raise ValueError(f"adapter type {adapter_type!r} not one of "
                         f"{', '.join(ADAPTER_TYPES)}")
    if grain_sectors <= 0 or grain_sectors & (grain_sectors - 1):
        raise ValueError("grain size must be a power of two sectors")
    grain_bytes = grain_sectors * SECTOR
    rng = random.Random(shuffle_seed)
    if cid is None:
        cid = random.SystemRandom().getrandbits(32)
    if long_content_id is None:
        long_content_id = (f"{random.SystemRandom().getrandbits(96):024x}"
                           f"{cid:08x}")

    with open(raw_path, "rb") as raw, open(vmdk_path, "wb") as f:
        raw.seek(0, 2)
        raw_size = raw.tell()
        if capacity_bytes is None:
            capacity_bytes = raw_size
        if capacity_bytes % SECTOR or capacity_bytes < raw_size:
            raise ValueError(f"capacity {capacity_bytes} must be a multiple "
                             f"of 512 and at least the raw size {raw_size}")
        capacity_sectors = capacity_bytes // SECTOR
        num_grains = -(-capacity_sectors // grain_sectors)
        num_gts = -(-num_grains // GTES_PER_GT)

        descriptor = format_descriptor(capacity_sectors, cid, adapter_type,
                                       hw_version, extent_name,
                                       long_content_id).encode("ascii")
        descriptor_sectors = -(-len(descriptor) // SECTOR)
        if 1 + descriptor_sectors > OVERHEAD_SECTORS:
            raise ValueError("descriptor does not fit before the first grain")

        out = _Output(f)
        out.write(pack_header(capacity_sectors, grain_sectors,
                              descriptor_sectors, GD_AT_END))
        out.write(_pad(descriptor))
        out.write(b"\0" * (OVERHEAD_SECTORS - out.sector) * SECTOR)

        directory = [0] * num_gts
        grains_written = 0
        tables_written = 0
        for gt in range(num_gts):
            first = gt * GTES_PER_GT
            order = list(range(first, min(first + GTES_PER_GT, num_grains)))
            if shuffle_seed is not None:
                rng.shuffle(order)
            table = [0] * GTES_PER_GT
            for grain in order:
                raw.seek(grain * grain_bytes)
                data = raw.read(grain_bytes)
                if data.count(0) == len(data):
                    continue  # all-zero grains are simply absent
                data = data.ljust(grain_bytes, b"\0")
                compressed = zlib.compress(data, compress_level)
                table[grain - first] = out.sector
                marker = _MARKER.pack(grain * grain_sectors, len(compressed))
                out.write(_pad(marker + compressed))
                grains_written += 1
            if not any(table):
                continue  # VMware writes no table for a stretch without data
            table_bytes = struct.pack(f"<{GTES_PER_GT}I", *table)
            out.write(metadata_marker(len(table_bytes) // SECTOR, MARKER_GT))
            directory[gt] = out.sector
            out.write(table_bytes)
            tables_written += 1

        directory_bytes = _pad(struct.pack(f"<{num_gts}I", *directory))
        out.write(metadata_marker(len(directory_bytes) // SECTOR, MARKER_GD))
        gd_offset = out.sector
        out.write(directory_bytes)
        out.write(metadata_marker(1, MARKER_FOOTER))
        out.write(pack_header(capacity_sectors, grain_sectors,
                              descriptor_sectors, gd_offset))
        out.write(b"\0" * SECTOR)  # end-of-stream marker
        return Stats(capacity_bytes, grains_written, tables_written,
                     out.sector * SECTOR)


@dataclasses.dataclass
class Layout:
    """What read_layout found, in file order."""
    header: dict
    footer: dict
    descriptor: str
    # (kind, sector, value): ("grain", sector, lba), ("gt", sector, n),
    # ("gd", sector, n), ("footer", sector, 1), ("eos", sector, 0)
    records: list
    grain_directory: list
    grain_tables: dict  # GD index -> list of GT entries


_HEADER_FIELDS = ("magic", "version", "flags", "capacity", "grain_size",
                  "descriptor_offset", "descriptor_size", "gtes_per_gt",
                  "rgd_offset", "gd_offset", "overhead", "unclean_shutdown",
                  "newline_chars", "compress_algorithm")


def parse_header(sector):
    return dict(zip(_HEADER_FIELDS, _HEADER.unpack_from(sector)))


def read_layout(vmdk_path):
    """Walks a streamOptimized VMDK marker by marker.

    Returns a Layout. Raises ValueError when the file is not a well-formed
    stream: a test's way of asserting the layout, not a general reader.
    """
    with open(vmdk_path, "rb") as f:
        data = f.read()
    if len(data) % SECTOR:
        raise ValueError("file size is not a whole number of sectors")
    header = parse_header(data[:SECTOR])
    if header["magic"] != MAGIC:
        raise ValueError("no sparse extent magic")
    d_start = header["descriptor_offset"] * SECTOR
    descriptor = data[d_start:d_start + header["descriptor_size"] *
                      SECTOR].rstrip(b"\0").decode("ascii")
    records, tables, directory, footer = [], {}, [], None
    sector = header["overhead"]
    total = len(data) // SECTOR
    while True:
        if sector >= total:
            raise ValueError("no end-of-stream marker")
        val, size = _MARKER.unpack_from(data, sector * SECTOR)
        if size:
            records.append(("grain", sector, val))
            sector += -(-(_MARKER.size + size) // SECTOR)
            continue
        kind = struct.unpack_from("<I", data,
                                  sector * SECTOR + _MARKER.size)[0]
        body = data[(sector + 1) * SECTOR:(sector + 1 + val) * SECTOR]
        if kind == MARKER_EOS:
            records.append(("eos", sector, 0))
            if sector + 1 != total:
                raise ValueError("data after the end-of-stream marker")
            break
        if kind == MARKER_GT:
            records.append(("gt", sector, val))
            tables[sector + 1] = list(
                struct.unpack(f"<{len(body) // 4}I", body))
        elif kind == MARKER_GD:
            records.append(("gd", sector, val))
            directory = list(struct.unpack(f"<{len(body) // 4}I", body))
        elif kind == MARKER_FOOTER:
            records.append(("footer", sector, val))
            footer = parse_header(body)
        else:
            raise ValueError(f"unknown marker type {kind} at sector {sector}")
        sector += 1 + val
    by_index = {i: tables.get(s) for i, s in enumerate(directory) if s}
    return Layout(header, footer, descriptor, records, directory, by_index)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw")
    parser.add_argument("vmdk")
    parser.add_argument("--adapter", default="lsilogic", choices=ADAPTER_TYPES)
    parser.add_argument("--hw-version", type=int, default=13)
    parser.add_argument("--cid", type=lambda s: int(s, 16))
    parser.add_argument("--long-content-id")
    parser.add_argument("--capacity", type=int, help="bytes")
    parser.add_argument("--grain-sectors", type=int,
                        default=DEFAULT_GRAIN_SECTORS)
    parser.add_argument("--level", type=int, default=6, help="zlib level")
    parser.add_argument("--shuffle-seed", type=int,
                        help="write each table's grains in a shuffled order")
    args = parser.parse_args(argv)
    try:
        stats = write_stream_optimized(args.raw, args.vmdk, args.adapter,
                                       args.hw_version, args.cid,
                                       args.long_content_id,
                                       capacity_bytes=args.capacity,
                                       grain_sectors=args.grain_sectors,
                                       compress_level=args.level,
                                       shuffle_seed=args.shuffle_seed)
    except (OSError, ValueError) as e:
        print(f"vmdk_stream: {e}", file=sys.stderr)
        return 1
    print(f"{args.vmdk}: {stats.grains_written} grains, "
          f"{stats.grain_tables_written} grain tables, "
          f"{stats.file_bytes} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
