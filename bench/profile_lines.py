#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Folds perf samples in BPF programs into their source lines.

  perf script -F comm,ip,sym,symoff -i perf.data | \\
      bench/profile_lines.py JITLINES [--comm PREFIX,...] [--top N] [--json FILE]

JITLINES is what build/bench/jitlines printed for the programs while they
were loaded (SYMBOL+0xOFFSET, FILE:LINE, SOURCE per line-info record). A
sample at SYMBOL+0xOFF belongs to the last record of SYMBOL at or before
OFF. Only samples of threads whose name starts with a --comm prefix count
(default: all). Prints the top lines: samples, share of all counted
samples, share of those in BPF code, FILE:LINE and the source; --json
writes every line. A sample lands on the instruction after a stalled one:
read a load's cost on the line after it.
"""
import argparse
import bisect
import collections
import json
import re
import sys

TAG = re.compile(r"^bpf_prog_[0-9a-f]+_")
SAMPLE = re.compile(r"^\s*(\S.*?)\s+[0-9a-f]+\s+(\S+)\+0x([0-9a-f]+)\s*$")


def read_jitlines(path):
    recs = collections.defaultdict(list)
    with open(path) as f:
        for ln in f:
            parts = ln.rstrip("\n").split("\t", 2)
            if len(parts) < 2 or "+0x" not in parts[0]:
                continue
            sym, off = parts[0].rsplit("+0x", 1)
            recs[sym].append((int(off, 16), parts[1], parts[2] if len(parts) > 2 else ""))
    for v in recs.values():
        v.sort()
    return recs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jitlines")
    ap.add_argument("--comm", default="")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json")
    a = ap.parse_args()
    recs = read_jitlines(a.jitlines)
    offs = {s: [r[0] for r in v] for s, v in recs.items()}
    # perf and /proc/kallsyms may put different tags in a program's name
    # (bpf_prog_TAG_NAME): NAME alone finds it when the whole does not
    by_name = collections.defaultdict(list)
    for s in recs:
        by_name[TAG.sub("", s)].append(s)
    prefixes = [p for p in a.comm.split(",") if p]
    total = in_bpf = 0
    by_line = collections.Counter()
    by_sym = collections.Counter()
    unknown = collections.Counter()
    src = {}
    for ln in sys.stdin:
        m = SAMPLE.match(ln)
        if not m:
            continue
        comm, sym, off = m.group(1), m.group(2), int(m.group(3), 16)
        if prefixes and not any(comm.startswith(p) for p in prefixes):
            continue
        total += 1
        if not sym.startswith("bpf_prog_"):
            continue
        in_bpf += 1
        if sym not in recs and len(by_name.get(TAG.sub("", sym), [])) == 1:
            sym = by_name[TAG.sub("", sym)][0]
        by_sym[sym] += 1
        i = bisect.bisect_right(offs.get(sym, []), off) - 1
        if i < 0:
            unknown[sym] += 1
            key = (sym, "?")
        else:
            _, where, text = recs[sym][i]
            key = (sym, where)
            src[key] = text
        by_line[key] += 1
    rows = [{"symbol": s, "line": w, "source": src.get((s, w), ""), "samples": n,
             "of_all": n / total if total else 0, "of_bpf": n / in_bpf if in_bpf else 0}
            for (s, w), n in by_line.most_common()]
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"samples": total, "in_bpf": in_bpf, "lines": rows,
                       "symbols": dict(by_sym.most_common())}, f, indent=1)
    print(f"# {total} samples counted, {in_bpf} in BPF programs")
    if unknown:
        print("# not in JITLINES (another program, or loaded again since): " +
              ", ".join(f"{s} {n}" for s, n in unknown.most_common(5)))
    for r in rows[:a.top]:
        name = TAG.sub("", r["symbol"])
        print(f"{r['samples']:7d} {100 * r['of_all']:5.1f}% {100 * r['of_bpf']:5.1f}%  "
              f"{name:<16} {r['line']:<16} {r['source'][:90]}")


if __name__ == "__main__":
    main()
