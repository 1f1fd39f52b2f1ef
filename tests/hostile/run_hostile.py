#!/usr/bin/env python3
"""Runs the hostile-input suite (hostile_cases.py) through every command that
reads each input, and checks what the user and the host would see:

  * refused inputs exit 3 (corrupt, hostile) or 4 (unsupported), with one
    error line "ova2virt: ..." that names the problem (the case's pattern);
  * no run dies by a signal, runs past its time limit, or uses more memory
    than its limit (RLIMIT_AS where no sanitizer reserves shadow memory, and
    the peak RSS (GNU time) in every build);
  * nothing is written outside the run's own scratch directory: each run has
    a fresh, empty working directory, TMPDIR, HOME, journal directory and
    storage directory, all of which must be empty afterwards (a failed
    convert leaves no output, a failed import no disk file); the inputs are
    unchanged; no traversal target exists;
  * the control cases (valid inputs) succeed, so the suite cannot pass by
    refusing everything.

    run_hostile.py --ova2virt BIN [--sanitized] [--jobs N] [--filter RE]
                   [--keep] [--list]
Exit 0 when every check holds.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostile_cases  # noqa: E402

MIB = 1 << 20


def snapshot(root):
    """(path, size, mtime) of everything under root."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out.add((os.path.relpath(p, root), st.st_size, st.st_mtime_ns))
    return out


def listing(path):
    """Every file and directory under path, relative, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, n), path))
    return sorted(out)


class Runner:

    def __init__(self, args, cases_dir, scratch):
        self.args = args
        self.cases_dir = cases_dir
        self.scratch = scratch
        self.timeout = args.timeout
        self.max_rss = args.max_rss_mib * MIB
        self.results = []

    def command(self, kind, input_path, run):
        b = self.args.ova2virt
        if kind == "inspect":
            return [b, "inspect", input_path], None
        if kind == "verify":
            return [b, "verify", input_path], None
        if kind == "verify-pipe":
            return [b, "verify", "-"], input_path
        if kind == "dry-run":
            return [b, "import", "--dry-run", "-c", "test:///default",
                    "--pool", "default-pool",
                    input_path], None
        if kind == "import":
            return [b, "import", "-c", "test:///default", "--storage-dir",
                    run["store"], input_path], None
        if kind == "convert":
            return [b, "convert", input_path, "out.qcow2"], None
        raise ValueError(kind)

    def limited(self, argv, rss_file):
        """argv under GNU time (which writes the peak RSS to rss_file) and
        prlimit: no core files and, where no sanitizer reserves shadow
        address space, an address-space limit. (Not a preexec_fn: wait4
        would then count this Python process's memory as the child's.)"""
        limits = ["--core=0"]
        if not self.args.sanitized:
            limits.append(f"--as={self.args.max_as_mib * MIB}")
        return ["/usr/bin/time", "-f", "%M", "-o", rss_file, "prlimit",
                *limits, "--", *argv]

    def run_one(self, case, kind, index, outcomes=None):
        """Runs one command on one case; returns a list of failures, and
        records (exit status, error line) in outcomes[kind]."""
        base = os.path.join(self.scratch, f"{case['name']}.{index}")
        run = {k: os.path.join(base, k)
               for k in ("cwd", "tmp", "home", "state", "store")}
        for d in run.values():
            os.makedirs(d)
        input_path = os.path.join(self.cases_dir, case["input"])
        argv, stdin_path = self.command(kind, input_path, run)
        if stdin_path is not None and os.path.isdir(stdin_path):
            shutil.rmtree(base)
            return []  # a directory cannot come through a pipe
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": run["tmp"],
            "HOME": run["home"],
            "XDG_STATE_HOME": os.path.join(run["home"], ".local", "state"),
            "OVA2VIRT_STATE_DIR": run["state"],
            "LANG": "C.UTF-8",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        err_path = os.path.join(base, "stderr")
        out_path = os.path.join(base, "stdout")
        start = time.monotonic()
        with open(err_path, "wb") as err, open(out_path, "wb") as out:
            rss_file = os.path.join(base, "rss")
            proc = subprocess.Popen(self.limited(argv, rss_file),
                                    cwd=run["cwd"],
                                    env=env, stdin=stdin, stdout=out,
                                    stderr=err, start_new_session=True)
            timed_out = False
            while True:
                pid, status = os.waitpid(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > self.timeout:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    pid, status = os.waitpid(proc.pid, 0)
                    break
                time.sleep(0.01)
            proc.returncode = 0  # reaped here, not by Popen
        if stdin_path:
            stdin.close()
        seconds = time.monotonic() - start
        with open(err_path, "rb") as f:
            stderr = f.read().decode("utf-8", "replace")
        what = f"{case['name']} [{kind}]"
        fails = []
        if timed_out:
            fails.append(f"{what}: still running after {self.timeout} s")
        rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        rss = 0
        report = []
        if os.path.exists(rss_file):  # not after a timeout's SIGKILL
            with open(rss_file) as f:
                report = f.read().split()
        if report and report[-1].isdigit():
            rss = int(report[-1]) * 1024
        if not timed_out and (rc < 0 or rc >= 128 or "terminated by signal"
                              in " ".join(report)):
            fails.append(f"{what}: killed by a signal (exit {rc}): "
                         f"{stderr[-2000:]}")
        if rss > self.max_rss:
            fails.append(f"{what}: peak RSS {rss // MIB} MiB exceeds "
                         f"{self.max_rss // MIB} MiB")
        if "Sanitizer" in stderr or "runtime error:" in stderr:
            fails.append(f"{what}: sanitizer report: {stderr[-3000:]}")
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if not ln.startswith("ova2virt: warning:")]
        must = "refuse" if kind in case["refuse"] else (
            "succeed" if kind in case["succeed"] else "accept")
        if not fails:
            if must == "succeed" and rc != 0:
                fails.append(f"{what}: a valid input failed: exit {rc}: "
                             f"{stderr.strip()}")
            elif must == "refuse" and rc not in case["codes"]:
                fails.append(f"{what}: exit {rc}, expected "
                             f"{' or '.join(map(str, case['codes']))}: "
                             f"{stderr.strip()[:1000]}")
            elif must == "accept" and rc not in [0] + case["codes"]:
                fails.append(f"{what}: exit {rc}: {stderr.strip()[:1000]}")
            if rc != 0 and rc in (3, 4):
                if len(errors) != 1 or not errors[0].startswith("ova2virt: "):
                    fails.append(f"{what}: expected one error line, got "
                                 f"{len(errors)}: {stderr[:1000]!r}")
                elif (must == "refuse" and case["expect"] and not re.search(
                        case["expect"], errors[0], re.I)):
                    fails.append(f"{what}: error does not match "
                                 f"/{case['expect']}/: {errors[0]}")
        # Nothing written where it should not be.
        allowed = {"cwd": ["out.qcow2"] if rc == 0 else [],
                   "store": None if rc == 0 and kind == "import" else []}
        for d, path in run.items():
            left = listing(path)
            if d == "state":  # the journal directory stays; no journal may
                left = [x for x in left
                        if not os.path.isdir(os.path.join(path, x))]
            ok = allowed.get(d, [])
            if ok is None:
                left = [x for x in left if ".ova2virt-tmp-" in x]
            else:
                left = [x for x in left if x not in ok]
            if left:
                fails.append(f"{what}: left in {d}: {left[:5]}")
        for v in case["victims"]:
            if os.path.lexists(v):
                fails.append(f"{what}: {v} exists: a traversal escaped")
        self.record(case["name"], kind, rc, seconds, rss, errors)
        if outcomes is not None:
            outcomes[kind] = (rc, errors[-1] if errors else "")
        if not fails or not self.args.keep:
            shutil.rmtree(base, ignore_errors=True)
        return fails



    def record(self, name, kind, rc, seconds, rss, errors):
        self.results.append({"case": name, "command": kind, "exit": rc,
                             "seconds": round(seconds, 3),
                             "rss_mib": round(rss / MIB, 1),
                             "error": errors[-1] if errors else ""})

    def run_case(self, case):
        before = snapshot(self.cases_dir)
        fails = []
        kinds = case["refuse"] + case["accept"] + case["succeed"]
        outcomes = {}
        for i, kind in enumerate(kinds):
            fails += self.run_one(case, kind, i, outcomes)
        # A dry run is the import but for the disk bytes: where both must
        # refuse, they refuse alike (same exit status, same error line).
        if ("dry-run" in case["refuse"] and "import" in case["refuse"] and
                "dry-run" in outcomes and "import" in outcomes and
                outcomes["dry-run"] != outcomes["import"]):
            fails.append(f"{case['name']}: import --dry-run and import "
                         f"refuse differently: {outcomes['dry-run']} vs "
                         f"{outcomes['import']}")
        if snapshot(self.cases_dir) != before:
            fails.append(f"{case['name']}: the inputs changed")
        return fails


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ova2virt", required=True)
    p.add_argument("--sanitized", action="store_true",
                   help="an ASan/UBSan build: no RLIMIT_AS, longer limits")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--filter", default="")
    p.add_argument("--timeout", type=float, default=None)
    p.add_argument("--max-rss-mib", type=int, default=None)
    p.add_argument("--max-as-mib", type=int, default=4096)
    p.add_argument("--keep", action="store_true",
                   help="keep the scratch directories of failed runs")
    p.add_argument("--report", help="write every run's outcome as JSON here")
    p.add_argument("--list", action="store_true",
                   help="print each run's exit status and error line")
    args = p.parse_args()
    if args.timeout is None:
        args.timeout = 120.0 if args.sanitized else 30.0
    if args.max_rss_mib is None:
        args.max_rss_mib = 1536 if args.sanitized else 512
    args.ova2virt = os.path.abspath(args.ova2virt)

    work = tempfile.mkdtemp(prefix="ova2virt-hostile-")
    started = time.monotonic()
    try:
        cases_dir = os.path.join(work, "cases")
        scratch = os.path.join(work, "runs")
        os.makedirs(scratch)
        cases = [json.loads(json.dumps(c.__dict__))
                 for c in hostile_cases.generate(cases_dir)]
        shutil.rmtree(os.path.join(cases_dir, ".work"))
        if args.filter:
            cases = [c for c in cases if re.search(args.filter, c["name"])]
        runner = Runner(args, cases_dir, scratch)
        fails = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for f in pool.map(runner.run_case, cases):
                fails += f
        runs = len(runner.results)
        if args.list:
            for r in sorted(runner.results,
                            key=lambda r: (r["case"], r["command"])):
                print(f"{r['case']:40} {r['command']:12} {r['exit']:3} "
                      f"{r['seconds']:7.2f}s {r['rss_mib']:7.1f}M "
                      f"{r['error'][:150]}")
        if args.report:
            with open(args.report, "w") as f:
                json.dump(runner.results, f, indent=1)
        slowest = max(runner.results, key=lambda r: r["seconds"])
        biggest = max(runner.results, key=lambda r: r["rss_mib"])
        for f in fails:
            print("FAIL:", f)
        refused = sum(1 for c in cases if c["refuse"])
        print(f"{len(cases)} cases ({refused} hostile, "
              f"{len(cases) - refused} controls), {runs} runs, "
              f"{len(fails)} failures, {time.monotonic() - started:.1f} s; "
              f"slowest {slowest['case']} [{slowest['command']}] "
              f"{slowest['seconds']:.2f} s; largest {biggest['case']} "
              f"[{biggest['command']}] {biggest['rss_mib']:.0f} MiB")
        return 1 if fails else 0
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
