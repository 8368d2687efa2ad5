#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Mutation harness: `make mutate`.

Each mutant in tests/mutate/mutants.ini is one small deliberate defect in
bpf/, user/ or include/: a text that must occur exactly once in one file,
replaced by another. For each, the tracked files of the repository are
copied to a scratch directory, the defect applied, everything built, and
the tests the mutant names run there (tests/run, as `make test` runs them).
The mutant is KILLED when the build of the product succeeds and a test
fails; SURVIVED when every named test passes; it is an error when the text
is not found once (the code moved: the mutant must follow) or the product
does not build. Mutants marked `equivalent` are listed with the reason and
not run.

  tests/mutate/mutate.py [--only ID,...] [--keep] [--out docs/testing.md]
  tests/mutate/mutate.py --check    (every mutant still applies?)

Prints a table (mutant, what it breaks, killed by / SURVIVED) and the kill
rate, and writes it to --out. Exit 1 if a mutant survived or failed to
apply or build. Needs root (the tests do).
"""
import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MUTANTS = os.path.join(ROOT, "tests", "mutate", "mutants.ini")


def load():
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str
    with open(MUTANTS) as f:
        cp.read_file(f)
    out = []
    for mid in cp.sections():
        m = dict(cp[mid])
        m["id"] = mid
        for k in ("what", "file", "find", "replace", "tests"):
            if k not in m and not (k in ("find", "replace", "tests") and "equivalent" in m):
                sys.exit(f"mutants.ini: [{mid}] has no {k}")
        # values are one line; \\n and \\t stand for a newline and a tab
        for k in ("find", "replace"):
            if k in m:
                m[k] = m[k].replace("\\n", "\n").replace("\\t", "\t")
        out.append(m)
    return out


def scratch_copy():
    d = tempfile.mkdtemp(prefix="xdpct-mutant-")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = os.path.join(ROOT, f.decode())
        if not os.path.isfile(src):
            continue  # deleted in the work tree
        dst = os.path.join(d, f.decode())
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    # this tree's build, times kept: make rebuilds only what the mutated
    # file feeds (`make mutate` builds the tree first)
    b = os.path.join(ROOT, "build")
    if os.path.isdir(b):
        shutil.copytree(b, os.path.join(d, "build"), symlinks=True)
    return d


def apply(d, m):
    path = os.path.join(d, m["file"])
    with open(path) as f:
        s = f.read()
    n = s.count(m["find"])
    if n != 1:
        return f"text found {n} times in {m['file']}"
    with open(path, "w") as f:
        f.write(s.replace(m["find"], m["replace"]))
    # newer than every copied build output
    t = time.time() + 2
    os.utime(path, (t, t))
    return None


def build(d):
    r = subprocess.run(["make", "-j2", "all", "build/bench/flood", "build/xdp_pass.bpf.o"],
                       cwd=d, capture_output=True, text=True)
    # BPF objects load at test time: a verifier refusal shows there
    return r.returncode == 0, (r.stdout + r.stderr)[-2000:]


def run_sanitize(d):
    """`make sanitize`'s checks (tests/sanitize.sh) on the mutant's CLI."""
    b = subprocess.run(["make", "-j2", "build/asan/xdpct", "build/vgbpf.so"],
                       cwd=d, capture_output=True, text=True)
    if b.returncode:
        return 2, ["sanitize (build)"], "", b.stdout + b.stderr
    r = subprocess.run(["tests/sanitize.sh"], cwd=d, capture_output=True, text=True)
    out = r.stdout + r.stderr
    first = next((l for l in out.splitlines() if l.startswith("FAIL ")), "")
    return r.returncode, (["sanitize"] if r.returncode else []), first, out


def run_tests(d, tests, timeout):
    env = dict(os.environ, TEST_TIMEOUT=str(timeout))
    if "sanitize" in tests:  # not one of tests/run's files
        tests = [t for t in tests if t != "sanitize"]
        rc, failed, first, out = run_sanitize(d)
        if rc or not tests:
            return rc, failed, first, out
    r = subprocess.run(["tests/run"] + tests, cwd=d, capture_output=True, text=True, env=env)
    out = r.stdout
    failed = []
    for line in out.splitlines():
        mm = re.match(r"^--- (\S+): \d+ ok, (\d+) failed", line)
        if mm and int(mm.group(2)) > 0:
            failed.append(mm.group(1))
    first = next((l for l in out.splitlines() if l.startswith("FAIL ")), "")
    return r.returncode, failed, first, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copies")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "testing.md"))
    ap.add_argument("--timeout", type=int, default=300, help="seconds per test file")
    ap.add_argument("--check", action="store_true",
                    help="only check that every mutant applies to this tree")
    a = ap.parse_args()
    if a.check:
        bad = 0
        for m in load():
            if "equivalent" in m:
                continue
            with open(os.path.join(ROOT, m["file"])) as f:
                n = f.read().count(m["find"])
            if n != 1:
                bad += 1
                print(f"{m['id']}: text found {n} times in {m['file']}")
        print(f"{len(load())} mutants, {bad} do not apply")
        return 1 if bad else 0
    if os.geteuid() != 0:
        sys.exit("mutate: must run as root (the tests need namespaces and BPF)")
    mutants = load()
    if a.only:
        want = set(a.only.split(","))
        unknown = want - {m["id"] for m in mutants}
        if unknown:
            sys.exit(f"mutate: unknown mutant(s) {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m["id"] in want]
    rows = []
    t_all = time.time()
    for m in mutants:
        if "equivalent" in m:
            rows.append((m, "equivalent", m["equivalent"]))
            print(f"# {m['id']}: equivalent ({m['equivalent']})", flush=True)
            continue
        t0 = time.time()
        d = scratch_copy()
        try:
            err = apply(d, m)
            if err:
                rows.append((m, "ERROR", "does not apply: " + err))
            else:
                ok, log = build(d)
                if not ok:
                    rows.append((m, "ERROR", "does not build: " + log.strip().splitlines()[-1]))
                else:
                    rc, failed, first, _ = run_tests(d, m["tests"].split(), a.timeout)
                    if failed or rc:
                        rows.append((m, "KILLED", ", ".join(failed) or f"exit {rc}",
                                     first[:200]))
                    else:
                        rows.append((m, "SURVIVED", m["tests"]))
        finally:
            if not a.keep:
                shutil.rmtree(d, ignore_errors=True)
            # pins a mutant put where no detach looks (reload_forgets_config)
            shutil.rmtree("/sys/fs/bpf/xdpct-mutant", ignore_errors=True)
        r = rows[-1]
        print(f"# {m['id']}: {r[1]} ({r[2]}) {time.time() - t0:.0f} s", flush=True)

    killed = sum(1 for r in rows if r[1] == "KILLED")
    run = sum(1 for r in rows if r[1] != "equivalent")
    bad = [r for r in rows if r[1] in ("SURVIVED", "ERROR")]
    today = time.strftime("%Y-%m-%d")
    new = {}
    for r in rows:
        m = r[0]
        res = r[1]
        by = r[2] if res == "KILLED" else ("" if res == "SURVIVED" else r[2])
        new[m["id"]] = f"| `{m['id']}` | {m['file']} | {m['what']} | {res} | {by} | {today} |"
    summary = (f"{killed} of {run} mutants killed ({100.0 * killed / max(run, 1):.0f}%), "
               f"{len(rows) - run} equivalent, {len(bad)} survived or in error; "
               f"{time.time() - t_all:.0f} s")
    print("\n".join(new.values()))
    print(summary)
    # --only updates its rows of the document; the others keep their last result
    write_doc(a.out, new, [m["id"] for m in load()])
    return 1 if bad else 0


def old_rows(path):
    rows = {}
    try:
        with open(path) as f:
            for line in f:
                mm = re.match(r"^\| `([^`]+)` \|", line)
                if mm:
                    rows[mm.group(1)] = line.rstrip("\n")
    except FileNotFoundError:
        pass
    return rows


def write_doc(path, new, order):
    rows = old_rows(path)
    rows.update(new)
    lines = ["| mutant | file | the defect | result | killed by | run |",
             "|---|---|---|---|---|---|"]
    lines += [rows[i] for i in order if i in rows]
    res = [l.split(" | ")[3] for l in lines[2:]]
    killed, equiv = res.count("KILLED"), res.count("equivalent")
    missing = [i for i in order if i not in rows]
    summary = (f"{killed} of {len(res) - equiv} mutants killed "
               f"({100.0 * killed / max(len(res) - equiv, 1):.0f}%), {equiv} equivalent, "
               f"{len(res) - killed - equiv} survived or in error"
               + (f"; never run: {', '.join(missing)}" if missing else "") + ".")
    table = "\n".join(lines)
    head = """# Testing: what the tests catch

`make mutate` (tests/mutate/mutate.py) plants each deliberate defect of
tests/mutate/mutants.ini in a scratch copy of the tree, builds it, and runs
the tests that should catch it (unit, property, race and the e2e scripts
that matter). A mutant is killed when one of them fails. Every survivor
is either a missing test (to be written) or an equivalent mutant (a defect
that changes nothing observable, with the reason in mutants.ini).

"""
    with open(path, "w") as f:
        f.write(head + summary + " The run column dates each mutant's last result.\n\n"
                + table + "\n")


if __name__ == "__main__":
    sys.exit(main())
