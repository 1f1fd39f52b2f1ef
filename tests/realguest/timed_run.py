#!/usr/bin/env python3
"""Runs a command, copies its stdout (a guest's console) to a file, and
prints on stdout "FIRST_BYTE_S TOTAL_S RC": seconds from the start to the
first byte of output (-1: none) and to the command's exit, and its exit
status. The boot-time figure of issue 14, measured from outside ova2virt.

  timed_run.py CONSOLE_FILE COMMAND...
"""
import subprocess
import sys
import time

out_path, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
first = -1.0
with open(out_path, "wb") as out:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    while True:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        if first < 0:
            first = time.monotonic() - start
        out.write(chunk)
        out.flush()
    rc = proc.wait()
print(f"{first:.1f} {time.monotonic() - start:.1f} {rc}")
