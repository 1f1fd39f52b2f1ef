#!/usr/bin/env python3
"""Checks that the include graph between the project's folders is layered.

    check_layers.py SOURCE_DIR

Every `#include "FOLDER/..."` in a folder's .cc and .h files must name the
folder itself or one below it (LAYERS, lowest first: a folder may use any
folder of a lower layer, none of its own layer but itself, none above).
cli/ talks to use cases only: it must not include virtdriver/ (libvirt is
reached through pipeline/). Test files (*_test.cc, *_fuzz.cc) may also
include tests/support (the `tests` prefix). Prints one line per offending
include and exits 1, or prints a summary and exits 0.
"""
import os
import re
import sys

LAYERS = [
    ["core"],
    ["ova", "ovf", "convert", "virtdriver"],
    ["pipeline"],
    ["batch"],
    ["cli"],
]
FORBIDDEN = {("cli", "virtdriver")}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)


def layer_of(folder):
    for i, names in enumerate(LAYERS):
        if folder in names:
            return i
    return None


def main():
    root = sys.argv[1]
    bad = []
    edges = set()
    for folder in (f for names in LAYERS for f in names):
        top = os.path.join(root, folder)
        if not os.path.isdir(top):
            continue
        for dirpath, _, files in os.walk(top):
            for name in sorted(files):
                if not name.endswith((".cc", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                is_test = name.endswith(("_test.cc", "_fuzz.cc")) or \
                    name.startswith("test_") or "_test_" in name
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for used in INCLUDE.findall(text):
                    rel = os.path.relpath(path, root)
                    if used == folder:
                        continue
                    if used == "tests":
                        if not is_test:
                            bad.append(f"{rel}: includes tests/ outside a test")
                        continue
                    lu, lf = layer_of(used), layer_of(folder)
                    if lu is None:
                        bad.append(f"{rel}: includes unknown folder {used}/")
                    elif (folder, used) in FORBIDDEN:
                        bad.append(f"{rel}: {folder}/ must not include {used}/")
                    elif lu >= lf:
                        bad.append(f"{rel}: {folder}/ (layer {lf}) includes "
                                   f"{used}/ (layer {lu}), not below it")
                    else:
                        edges.add((folder, used))
    for line in bad:
        print(line)
    if bad:
        return 1
    print("layered: " + ", ".join(f"{a}->{b}" for a, b in sorted(edges)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
