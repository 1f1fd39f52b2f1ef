#!/usr/bin/env python3
"""Writes manifests and OVA packages the way VMware ovftool 4.x does.

An independent producer for tests (Python standard library only):
  - the manifest: one line per file, "SHA256(name)= hex", LF line ends, in
    package order (ovftool 4.2 and later default to SHA256; SHA1 and SHA512
    are available for tests of older producers);
  - the package: a POSIX ustar archive with the descriptor first, then the
    manifest, then the disks (ovftool's order), every member mode 0644 and
    owned by uid/gid 64 "someone" as ovftool records it, data padded to
    512-byte blocks.

As a module:
  text = format_manifest([("a.ovf", "/path/a.ovf"), ...], "sha256")
  pack_ova("out.ova", [("a.ovf", path), ("a.mf", path), ("a-disk1.vmdk", p)])
Command line:
  ova_pack.py OUT.ova DESCRIPTOR.ovf DISK... [--digest sha256]
  (writes DESCRIPTOR's manifest beside it, then the package)
"""

import argparse
import hashlib
import os
import sys
import tarfile

DIGESTS = {"sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512"}

# ovftool's member metadata.
OWNER_ID = 64
OWNER_NAME = "someone"
MODE = 0o644


def file_digest(path, algorithm="sha256"):
    """Returns the hex digest of the file at path."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def format_manifest(files, algorithm="sha256"):
    """Returns manifest text for files, a list of (name in package, path)."""
    if algorithm not in DIGESTS:
        raise ValueError(f"unknown digest {algorithm!r}")
    tag = DIGESTS[algorithm]
    return "".join(f"{tag}({name})= {file_digest(path, algorithm)}\n"
                   for name, path in files)


def pack_ova(ova_path, members, mtime=None,
             tar_format=tarfile.USTAR_FORMAT):
    """Writes an OVA holding members, a list of (name, path), in order.

    mtime (seconds since the epoch) is recorded on every member; by default
    each file's own modification time. Streams each file: no member is held
    in memory. tar_format is ustar by default (what ovftool writes); ustar
    cannot hold a member of 8 GiB or more or a long name (ValueError), so
    tests of those pass tarfile.PAX_FORMAT or tarfile.GNU_FORMAT.
    """
    with tarfile.open(ova_path, "w", format=tar_format) as tar:
        for name, path in members:
            info = tarfile.TarInfo(name)
            info.size = os.path.getsize(path)
            if mtime is None:
                mtime_of_member = os.path.getmtime(path)
            else:
                mtime_of_member = mtime
            info.mtime = int(mtime_of_member)
            info.mode = MODE
            info.uid = info.gid = OWNER_ID
            info.uname = info.gname = OWNER_NAME
            info.type = tarfile.REGTYPE
            with open(path, "rb") as f:
                tar.addfile(info, f)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ova")
    parser.add_argument("descriptor")
    parser.add_argument("disks", nargs="*")
    parser.add_argument("--digest", default="sha256", choices=DIGESTS)
    parser.add_argument("--mtime", type=int)
    parser.add_argument("--format", default="ustar",
                        choices=("ustar", "pax", "gnu"))
    args = parser.parse_args(argv)
    files = [(os.path.basename(p), p) for p in [args.descriptor] + args.disks]
    manifest = os.path.splitext(args.descriptor)[0] + ".mf"
    try:
        with open(manifest, "w", encoding="ascii", newline="\n") as f:
            f.write(format_manifest(files, args.digest))
        members = files[:1] + [(os.path.basename(manifest), manifest)]
        tar_format = {"ustar": tarfile.USTAR_FORMAT,
                      "pax": tarfile.PAX_FORMAT,
                      "gnu": tarfile.GNU_FORMAT}[args.format]
        pack_ova(args.ova, members + files[1:], args.mtime, tar_format)
    except (OSError, ValueError) as e:
        print(f"ova_pack: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
