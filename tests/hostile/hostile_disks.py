"""The disk-image cases of the hostile-input suite: sparse and
streamOptimized VMDKs and qcow2 images with one field or table entry made
hostile, each converted on its own and imported from an otherwise valid
package. A mixin of hostile_cases.Suite.
"""

import os
import struct
import zlib

from hostile_build import (GRAIN, H_CAPACITY, H_COMPRESS, H_DESC_SIZE,
                           H_FLAGS, H_GD, H_GRAIN, H_RGD, H_GTES, H_OVERHEAD,
                           H_VERSION, Q_BACKING_OFF, Q_BACKING_SIZE,
                           Q_CLUSTER_BITS, Q_CRYPT, Q_HEADER_LEN, Q_INCOMPAT,
                           Q_L1_OFF, Q_L1_SIZE, Q_RC_CLUSTERS, Q_RC_OFF,
                           Q_SIZE, SECTOR, grain_marker, patch, q_get,
                           q_patch, qcow2_image, qemu_img, sparse_vmdk,
                           stream_records)

class DiskCases:

    def vmdk_cases(self):
        vm = self.vmdk
        sp, layout = sparse_vmdk(self.raw)
        for label, off, fmt, value, expect in (
            ("capacity-2-62", H_CAPACITY, "<Q", 1 << 62, "capacity"),
            ("capacity-max", H_CAPACITY, "<Q", (1 << 64) - 1, "capacity"),
            ("grain-size-2-31", H_GRAIN, "<Q", 1 << 31, "grain size"),
            ("grain-size-zero", H_GRAIN, "<Q", 0, "grain size"),
            ("grain-size-odd", H_GRAIN, "<Q", 100, "grain size"),
            ("gtes-per-gt-huge", H_GTES, "<I", 0xffffffff,
             "(grain table|entries|gtes|numGTEsPerGT)"),
            ("gd-past-end", H_GD, "<Q", 1 << 40,
             "(grain directory|past the end)"),
            ("gd-at-header", H_GD, "<Q", 0, "(grain directory|header)"),
            ("descriptor-huge", H_DESC_SIZE, "<Q", 1 << 40, "descriptor"),
            ("overhead-huge", H_OVERHEAD, "<Q", 1 << 50,
             "(overhead|past the end|grain)"),
            ("version-99", H_VERSION, "<I", 99, "version"),
        ):
            self.disk_case(f"vmdk-sparse-{label}",
                           patch(sp, off, fmt, value), "vmdk", expect)
        # Compressed grains in an unknown algorithm. (Without the
        # compressed flag the field means nothing.)
        self.disk_case("vmdk-sparse-compression-unknown",
                       patch(patch(sp, H_FLAGS, "<I", 3 | 1 << 16),
                             H_COMPRESS, "<H", 77), "vmdk", "compression")
        gt_at = layout["gt"] * SECTOR
        first = struct.unpack_from("<I", sp, gt_at)[0]
        assert first, "the first grain holds data"
        self.disk_case("vmdk-sparse-gte-past-end",
                       patch(sp, gt_at, "<I", 0xfffffff0), "vmdk",
                       "past the end")
        self.disk_case("vmdk-sparse-gte-at-header",
                       patch(sp, gt_at, "<I", 1), "vmdk", "header")
        self.disk_case("vmdk-sparse-gte-at-gd",
                       patch(sp, gt_at, "<I", layout["gd"]), "vmdk",
                       "(header|metadata|overlap)")
        # Two grain table entries naming the same grain data, and one
        # naming data that overlaps the next grain.
        second = struct.unpack_from("<I", sp, gt_at + 12)[0]
        assert second
        self.disk_case("vmdk-sparse-grains-shared",
                       patch(sp, gt_at + 12, "<I", first), "vmdk",
                       "(overlap|twice|same|shared)")
        self.disk_case("vmdk-sparse-grains-overlap",
                       patch(sp, gt_at + 12, "<I", first + 64), "vmdk",
                       "(overlap|twice|same|shared)")
        gd_at = layout["gd"] * SECTOR
        self.disk_case("vmdk-sparse-gde-past-end",
                       patch(sp, gd_at, "<I", 0xffffff00), "vmdk",
                       "(past the end|grain directory)")
        # (An entry of 0 means "no table here": all zeros, which is valid.)
        self.disk_case("vmdk-sparse-gt-at-descriptor",
                       patch(sp, gd_at, "<I", 1), "vmdk",
                       "(grain table|overlaps)")
        self.disk_case("vmdk-sparse-truncated-in-gd", sp[:gd_at + 2],
                       "vmdk", "(truncated|past the end|short|end of)")
        self.disk_case("vmdk-sparse-truncated-in-grain",
                       sp[:first * SECTOR + 1000], "vmdk",
                       "(truncated|past the end|short|end of)")
        self.disk_case("vmdk-sparse-truncated-in-header", sp[:60], "vmdk",
                       "(truncated|short|header|not a)")

        # Stream-optimized (VMware layout).
        recs = stream_records(vm)
        grain_at = [o for k, o in recs if k == "grain"]
        gt_marker = [o for k, o in recs if k == "gt"][0]
        footer = [o for k, o in recs if k == "footer"][0]
        eos = [o for k, o in recs if k == "eos"][0]
        bomb = zlib.compress(b"\0" * (16 << 20), 9)
        tail = vm[grain_at[0]:]
        self.disk_case("vmdk-stream-inflate-bomb",
                       vm[:grain_at[0]] + grain_marker(0, bomb) + tail,
                       "vmdk", "(inflate|exceeds|grain)")
        self.disk_case("vmdk-stream-inflate-beyond-grain",
                       vm[:grain_at[0]] + grain_marker(
                           0, zlib.compress(os.urandom(GRAIN + 512))) + tail,
                       "vmdk", "(inflate|exceeds|grain)")
        self.disk_case("vmdk-stream-marker-size-huge",
                       patch(vm, grain_at[0] + 8, "<I", 0xfffffff0), "vmdk",
                       "(marker|grain|size|truncated|exceeds)")
        self.disk_case("vmdk-stream-lba-past-capacity",
                       patch(vm, grain_at[0], "<Q", 1 << 40), "vmdk",
                       "(capacity|past|beyond|lba)")
        self.disk_case("vmdk-stream-lba-unaligned",
                       patch(vm, grain_at[0], "<Q", 3), "vmdk",
                       "(align|grain|lba)")
        lba1 = struct.unpack_from("<Q", vm, grain_at[1])[0]
        self.disk_case("vmdk-stream-grain-twice",
                       patch(vm, grain_at[0], "<Q", lba1), "vmdk",
                       "(twice|duplicate|again|overlap)")
        self.disk_case("vmdk-stream-gt-marker-huge",
                       patch(vm, gt_marker, "<Q", 1 << 40), "vmdk",
                       "(grain table|marker|exceeds|past|truncated)")
        self.disk_case("vmdk-stream-unknown-marker",
                       patch(vm, gt_marker + 12, "<I", 77), "vmdk",
                       "(marker|unknown)")
        self.disk_case("vmdk-stream-footer-lies",
                       patch(vm, footer + SECTOR + H_CAPACITY, "<Q", 1 << 62),
                       "vmdk", "(footer|capacity|differs)")
        for label, cut in (("in-header", 200), ("in-descriptor", 700),
                           ("in-grain-marker", grain_at[2] + 6),
                           ("in-grain-data", grain_at[2] + 300),
                           ("in-grain-table", gt_marker + SECTOR + 100),
                           ("in-footer", footer + SECTOR + 20),
                           ("before-eos", eos)):
            self.disk_case(f"vmdk-stream-truncated-{label}", vm[:cut], "vmdk",
                           "(truncated|end of|short|end-of-stream|"
                           "not a vmdk|past the end)")
        # A descriptor file naming thousands of extents.
        text = ('# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n'
                'createType="twoGbMaxExtentFlat"\n' + "".join(
                    f'RW 1 FLAT "x{i}.vmdk" 0\n' for i in range(200000)))
        self.disk_case("vmdk-descriptor-extent-bomb", text.encode(), "vmdk",
                       "(extent|more than|too many|exceeds)")
        for create in ("vmfsSparse", "seSparse", "custom"):
            text = (f'# Disk DescriptorFile\nversion=1\nCID=1\n'
                    f'parentCID=ffffffff\ncreateType="{create}"\n'
                    f'RW 2048 SPARSE "x.vmdk"\n')
            self.disk_case(f"vmdk-createtype-{create}", text.encode(),
                           "vmdk", "(createType|create type|not supported|"
                           "unsupported)", codes=(3, 4))

    # -- qcow2 ---------------------------------------------------------

    def qcow2_cases(self):
        q = qcow2_image(self.tmp, self.raw)
        cb = q_get(q, Q_CLUSTER_BITS, ">I")
        cluster = 1 << cb
        l1_off = q_get(q, Q_L1_OFF, ">Q")
        rc_off = q_get(q, Q_RC_OFF, ">Q")
        l2_off = q_get(q, l1_off, ">Q") & 0x00fffffffffffe00
        assert l2_off
        for label, off, fmt, value, expect in (
            ("cluster-bits-31", Q_CLUSTER_BITS, ">I", 31, "cluster_bits"),
            ("cluster-bits-4", Q_CLUSTER_BITS, ">I", 4, "cluster_bits"),
            ("size-2-63", Q_SIZE, ">Q", 1 << 63, "(size|too large)"),
            ("l1-size-huge", Q_L1_SIZE, ">I", 0x7fffffff, "L1 table"),
            ("l1-past-end", Q_L1_OFF, ">Q", 1 << 50, "L1 table"),
            ("l1-at-header", Q_L1_OFF, ">Q", 0, "(L1 table|header)"),
            ("l1-unaligned", Q_L1_OFF, ">Q", l1_off + 8, "(L1 table|align)"),
            ("refcount-past-end", Q_RC_OFF, ">Q", 1 << 50,
             "(refcount|past the end)"),
            ("refcount-clusters-huge", Q_RC_CLUSTERS, ">I", 0x7fffffff,
             "(refcount|exceeds|past the end)"),
            ("encrypted", Q_CRYPT, ">I", 1, "encrypt"),
            ("incompatible-unknown", Q_INCOMPAT, ">Q", 1 << 40,
             "(incompatible|feature)"),
            ("external-data-file", Q_INCOMPAT, ">Q", 1 << 2,
             "(external data|feature)"),
            ("header-length-huge", Q_HEADER_LEN, ">I", 0x7fffffff,
             "header length"),
        ):
            codes = (3, 4)
            self.disk_case(f"qcow2-{label}", q_patch(q, off, fmt, value),
                           "qcow2", expect, codes=codes)
        self.disk_case("qcow2-l2-past-end",
                       q_patch(q, l1_off, ">Q", (1 << 63) | (1 << 45)),
                       "qcow2", "(L1 entry|past the end|L2)")
        # (Offset 0 means "unallocated", which is valid: no "at header".)
        self.disk_case("qcow2-l2-unaligned",
                       q_patch(q, l1_off, ">Q", (1 << 63) | (l2_off + 512)),
                       "qcow2", "(L1 entry|unaligned|L2)")
        self.disk_case("qcow2-l2-is-l1",
                       q_patch(q, l1_off, ">Q", (1 << 63) | l1_off), "qcow2",
                       "(L1|L2|metadata|overlap|loop)")
        self.disk_case("qcow2-l2-is-refcount-table",
                       q_patch(q, l1_off, ">Q", (1 << 63) | rc_off), "qcow2",
                       "(L1|L2|refcount|metadata|overlap|loop)")
        data0 = q_get(q, l2_off, ">Q") & 0x00fffffffffffe00
        assert data0
        self.disk_case("qcow2-data-past-end",
                       q_patch(q, l2_off, ">Q", (1 << 63) | (1 << 45)),
                       "qcow2", "past the end")
        self.disk_case("qcow2-data-is-l1",
                       q_patch(q, l2_off, ">Q", (1 << 63) | l1_off), "qcow2",
                       "(metadata|overlap)")
        self.disk_case("qcow2-data-unaligned",
                       q_patch(q, l2_off, ">Q", (1 << 63) | (data0 + 512)),
                       "qcow2", "(aligned|L2 entry)")
        self.disk_case("qcow2-data-is-l2",
                       q_patch(q, l2_off, ">Q", (1 << 63) | l2_off), "qcow2",
                       "(metadata|overlap|L2|refcount)")
        # Two L1 entries sharing one L2 table (a loop in the tree): small
        # clusters, so that the disk needs several L2 tables.
        qs = qcow2_image(self.tmp, self.raw, "-o", "cluster_size=1024")
        l1s = q_get(qs, Q_L1_OFF, ">Q")
        l2s = q_get(qs, l1s, ">Q")
        assert q_get(qs, Q_L1_SIZE, ">I") > 2 and l2s
        self.disk_case("qcow2-l2-shared", q_patch(qs, l1s + 8, ">Q", l2s),
                       "qcow2", "(twice|two L1 entries|loop)")
        # Compressed clusters that inflate past a cluster.
        qc = qcow2_image(self.tmp, self.raw, "-c")
        l1c = q_get(qc, Q_L1_OFF, ">Q")
        l2c = q_get(qc, l1c, ">Q") & 0x00fffffffffffe00
        entry = q_get(qc, l2c, ">Q")
        assert entry & (1 << 62), "the first cluster is compressed"
        x = 62 - (cb - 8)
        host = entry & ((1 << x) - 1)
        bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = bomb.compress(b"\0" * (8 * cluster)) + bomb.flush()
        sectors = -(-(payload and len(payload)) // SECTOR)
        at = len(qc) + (-len(qc) % SECTOR)
        qbomb = bytearray(qc.ljust(at, b"\0") + payload)
        new_entry = (1 << 62) | ((sectors - 1) << x) | at
        struct.pack_into(">Q", qbomb, l2c, new_entry)
        self.disk_case("qcow2-compressed-bomb", bytes(qbomb), "qcow2",
                       "(inflate|exceeds|compressed)")
        # Backing files: never followed, whatever they name.
        for label, target in (("absolute", "/etc/passwd"),
                              ("beside", "base.raw"),
                              ("url", "http://198.51.100.1/base.qcow2")):
            qb = bytearray(q)
            name = target.encode()
            at = len(q)
            qb += name
            struct.pack_into(">Q", qb, Q_BACKING_OFF, at)
            struct.pack_into(">I", qb, Q_BACKING_SIZE, len(name))
            self.disk_case(f"qcow2-backing-{label}", bytes(qb), "qcow2",
                           "backing", codes=(4,))
        # Truncations of a qcow2 image.
        for label, cut in (("in-header", 40), ("in-l1", l1_off + 4),
                           ("in-l2", l2_off + 100), ("in-data", data0 + 99)):
            if cut < len(q):
                self.disk_case(f"qcow2-truncated-{label}", q[:cut], "qcow2",
                               "(truncated|past the end|short|end of|"
                               "header|file of)")

    # -- grain and cluster pointers into metadata (issue 13) -----------

    def metadata_pointer_cases(self):
        """Table entries that point into the image's own metadata: a reader
        that follows them hands out the header, descriptor, directories or
        tables as guest data. qemu-img-made images, one entry patched."""
        raw_path = os.path.join(self.tmp, "meta.raw")
        with open(raw_path, "wb") as f:
            f.write(self.raw)

        def made(*opts):
            out = os.path.join(self.tmp, "meta.out")
            qemu_img("convert", "-f", "raw", *opts, raw_path, out)
            with open(out, "rb") as f:
                return f.read()

        def h(data, off, fmt="<Q"):
            return struct.unpack_from(fmt, data, off)[0]

        # qemu-img's streamOptimized (directory and tables up front, no
        # end-of-stream marker) and monolithicSparse: header, descriptor,
        # redundant directory and tables, directory and tables.
        for kind, sub in (("stream", "streamOptimized"),
                          ("sparse", "monolithicSparse")):
            img = made("-O", "vmdk", "-o", f"subformat={sub}")
            gd, rgd = h(img, H_GD), h(img, H_RGD)
            gt = h(img, gd * SECTOR, "<I")
            rgt = h(img, rgd * SECTOR, "<I")
            assert rgd and rgt and gt
            # The first data grain's entry.
            entry = next(gt * SECTOR + 4 * i for i in range(512)
                         if h(img, gt * SECTOR + 4 * i, "<I"))
            # (Sector 0, the header, cannot be named: 0 means "no grain".)
            for label, target in (("descriptor", 1), ("rgd", rgd),
                                  ("rgt", rgt), ("gd", gd), ("gt", gt)):
                self.disk_case(f"vmdk-qemu-{kind}-gte-at-{label}",
                               patch(img, entry, "<I", target), "vmdk",
                               "(metadata|header area|overlaps)")
        # VMware's layout (tests/tools/vmdk_stream.py): the tables after the
        # grains point into the header area, at their own table, or at each
        # other's grain; the footer names another directory.
        vm = self.vmdk
        recs = stream_records(vm)
        gt = [o for k, o in recs if k == "gt"][0]
        gd = [o for k, o in recs if k == "gd"][0]
        footer = [o for k, o in recs if k == "footer"][0]
        used = [gt + SECTOR + 4 * i for i in range(512)
                if h(vm, gt + SECTOR + 4 * i, "<I")]
        assert len(used) >= 2
        for label, target in (("descriptor", 1), ("own-table", gt // SECTOR),
                              ("gd", gd // SECTOR + 1)):
            self.disk_case(f"vmdk-vmware-stream-gte-at-{label}",
                           patch(vm, used[0], "<I", target), "vmdk",
                           "(metadata|not to a grain)")
        swapped = patch(patch(vm, used[0], "<I", h(vm, used[1], "<I")),
                        used[1], "<I", h(vm, used[0], "<I"))
        self.disk_case("vmdk-vmware-stream-gtes-swapped", swapped, "vmdk",
                       "not the ones the grain directory")
        self.disk_case("vmdk-vmware-stream-footer-gd-elsewhere",
                       patch(vm, footer + SECTOR + H_GD, "<Q", 1), "vmdk",
                       "not the grain directory")
        # The same stream, cut at a grain boundary: no end-of-stream marker
        # to miss, the tables say what is missing.
        img = made("-O", "vmdk", "-o", "subformat=streamOptimized")
        overhead = h(img, H_OVERHEAD) * SECTOR
        lba, size = struct.unpack_from("<QI", img, overhead)
        second = overhead + (12 + size + SECTOR - 1) // SECTOR * SECTOR
        self.disk_case("vmdk-qemu-stream-cut-at-grain", img[:second], "vmdk",
                       "truncated")
        # qcow2: L2 tables and data clusters (plain and compressed) on the
        # header, the L1 table, the refcount table and a refcount block.
        q = made("-O", "qcow2")
        l1, rct = q_get(q, Q_L1_OFF, ">Q"), q_get(q, Q_RC_OFF, ">Q")
        rcb = q_get(q, rct, ">Q")
        l2 = q_get(q, l1, ">Q") & 0x00fffffffffffe00
        assert rcb and l2
        for label, target in (("refcount-table", rct),
                              ("refcount-block", rcb)):
            self.disk_case(f"qcow2-l2-is-{label}-meta",
                           q_patch(q, l1, ">Q", (1 << 63) | target), "qcow2",
                           "(metadata|overlap)")
            self.disk_case(f"qcow2-data-is-{label}",
                           q_patch(q, l2, ">Q", (1 << 63) | target), "qcow2",
                           "(metadata|overlap)")
        text = os.path.join(self.tmp, "meta-text.raw")
        with open(text, "wb") as f:
            f.write(b"appliance text\n" * (len(self.raw) // 15))
        out = os.path.join(self.tmp, "meta.out")
        qemu_img("convert", "-f", "raw", "-O", "qcow2", "-c", text, out)
        with open(out, "rb") as f:
            qc = f.read()
        cb = q_get(qc, Q_CLUSTER_BITS, ">I")
        l1c, rctc = q_get(qc, Q_L1_OFF, ">Q"), q_get(qc, Q_RC_OFF, ">Q")
        l2c = q_get(qc, l1c, ">Q") & 0x00fffffffffffe00
        e = q_get(qc, l2c, ">Q")
        assert e & (1 << 62), "the first cluster is compressed"
        mask = (1 << (62 - (cb - 8))) - 1
        for label, target in (("header", 16), ("l1", l1c),
                              ("refcount-table", rctc), ("l2", l2c)):
            self.disk_case(f"qcow2-compressed-at-{label}",
                           q_patch(qc, l2c, ">Q", (e & ~mask) | target),
                           "qcow2", "(metadata|overlap|outside the data)")
