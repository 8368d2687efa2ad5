#!/usr/bin/env python3
"""bench/report.py: one bench run -> results JSON, plot, BENCHMARKS.md.

  bench/report.py --raw RAW --out DIR --md FILE [--quick 0|1]

Reads DIR/micro.json and DIR/memory.json (written by build/bench/micro and
build/bench/mem) and RAW/macro/{setup.json,points.jsonl} (bench/macro.sh),
RAW/commands.json and RAW/profile.*.txt (perf, when taken). Writes
DIR/macro.json, DIR/summary.json, the plots (DIR/macro.png: the SYN sweep;
DIR/flood_{ack,rst,fin,mixed}.png, DIR/tax.png) and the report. Only the
standard library; the plots are drawn by gnuplot.

  bench/report.py --from-results --raw SCRATCH --out DIR --md FILE

writes the report and plots again from DIR alone (a change to the report,
the run's figures kept and dated as they were).
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys

PEERS = ["kernel", "nft", "xdpct"]
FLOORS = ["floor_drop", "floor_read", "floor_tx"]
NAMES = {
    "floor_drop": "floor: XDP_DROP",
    "floor_read": "floor: read the headers + XDP_DROP",
    "floor_tx": "floor: swap MACs + XDP_TX",
    "kernel": "kernel alone (syncookies=1)",
    "nft": "nftables SYNPROXY",
    "xdpct": "xdpct",
}
# Floods at the maximum rate besides the SYN sweep (bench/macro.sh
# EXTRA_MODES): those that need no answer, against the XDP_DROP floor and
# nftables; the mixed one with the legitimate clients.
FLOODS = ["ack", "rst", "fin"]
MIXED = "mixed"
FLOOD_NAMES = {
    "ack": "ACK (random cookies)",
    "rst": "RST",
    "fin": "FIN|ACK (unknown tuples)",
    "mixed": "mixed: SYN, ACK, RST in turn",
}
TARGETS = {
    "cpu_per_syn_ratio": 1 / 6,
    "flood_cpu_vs_floor_drop": 1.5,
    "flood_cpu_vs_nft": 0.25,
    "synack_linux_net_ns": 100,
    "data_established_net_ns": 40,
    "legit_ok_ratio": 1.0,
    "legit_p99_ms": 20,
    "bytes_per_conn": 64,
}


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        if default is not None:
            return default
        sys.exit(f"report: cannot read {path}")


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, math.ceil(p / 100 * len(v)) - 1)
    return v[k]


def fmt(x, nd=0, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "timeout"
    if nd == 0:
        return f"{x:,.0f}{unit}"
    return f"{x:,.{nd}f}{unit}"


def ratio_s(a, b, nd=2):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.{nd}f}"


# ---- macro ----

def legit_stats(lgs, expect_n):
    """Legitimate connections of one or more floods pooled; a connect()
    that failed, or never reported, counts as a timeout."""
    conns = [c for lg in lgs for c in lg["connect_ms"]]
    n = max(sum(lg["n"] for lg in lgs), expect_n * len(lgs))
    ok = sum(lg["ok"] for lg in lgs)
    ms = [c if c is not None and c >= 0 else math.inf for c in conns]
    ms += [math.inf] * max(0, n - len(ms))
    return {
        "n": n,
        "ok": ok,
        "ok_ratio": ok / n if n else None,
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms) if ms else None,
        "errors": sorted({e for lg in lgs for e in lg.get("errors", [])})[:5],
        "connect_ms": conns,
    }


def median(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def pass_figures(p, expect_n):
    """One flood of one pass: what the medians of passes are taken of."""
    f = p["flood"]
    el, sent, dl = f.get("elapsed_s") or 0, f.get("sent") or 0, f.get("delivered") or 0
    rec = {
        "pass": p.get("pass"),
        "offered_pps": sent / el if el else None,
        "ring_drop_frac": (f.get("ring_drops") or 0) / sent if sent else None,
        "reply_pps": f.get("reply_pps"),
        "synack_pps": f.get("synack_pps"),
        "cpu_ns_per_pkt": (f["threads_cpu_s"] * 1e9 / dl
                           if dl and "threads_cpu_s" in f else None),
        "cpu_srv_busy_frac": (f.get("cpu", {}).get("1") or {}).get("busy_frac"),
    }
    if p.get("legit"):
        lg = legit_stats([p["legit"]], expect_n)
        del lg["connect_ms"]
        rec["legit"] = lg
    return rec


def point_summary(group, expect_n):
    """One figure per (defender, mode, rate): the passes pooled (sums of
    frames, CPU time and elapsed time; all legitimate connections), and
    each pass's own figures (by_pass) with the median of their CPU per
    packet."""
    p0 = group[0]
    fs = [p["flood"] for p in group]
    by_pass = sorted((pass_figures(p, expect_n) for p in group),
                     key=lambda b: b["pass"] if b["pass"] is not None else 0)

    def tot(key, sub=None):
        v = 0
        for f in fs:
            x = (f.get(sub) or {}).get(key) if sub else f.get(key)
            v += x or 0
        return v

    el = tot("elapsed_s")
    sent, delivered, drops = tot("sent"), tot("delivered"), tot("ring_drops")
    synack, replies, rdrops = tot("synack", "sink"), tot("tcp", "sink"), tot("reply_ring_drops")
    cpu = tot("threads_cpu_s") if all("threads_cpu_s" in f for f in fs) else None
    busy = sum((f.get("cpu", {}).get("1") or {}).get("busy_s", 0) for f in fs)
    idle = sum((f.get("cpu", {}).get("1") or {}).get("idle_s", 0) for f in fs)
    rec = {
        "defender": p0["defender"],
        "mode": p0["mode"],
        "target_pps": p0["rate"],
        "passes": len(group),
        "offered_pps": sent / el if el else None,
        "sent": sent,
        "elapsed_s": el,
        "delivered": delivered,
        "delivered_pps": delivered / el if el else None,
        "ring_drops": drops,
        "ring_drop_frac": drops / sent if sent else None,
        "synack_pps": synack / el if el else None,
        "reply_pps": replies / el if el else None,
        "replies": replies,
        "reply_ring_drops": rdrops,
        "answered_frac": ((synack + rdrops) / delivered
                          if delivered and p0["mode"] == "syn" else None),
        "server_cpu_s": cpu,
        "cpu_ns_per_pkt": cpu * 1e9 / delivered if delivered and cpu is not None else None,
        "cpu_ns_per_pkt_by_pass": [f["threads_cpu_s"] * 1e9 / f["delivered"]
                                   for f in fs if f.get("delivered") and "threads_cpu_s" in f],
        "cpu_ns_per_pkt_median": median(b["cpu_ns_per_pkt"] for b in by_pass),
        "by_pass": by_pass,
        "synack_pps_by_pass": [f.get("synack_pps") for f in fs if f.get("sent")],
        "cpu_srv_busy_frac": busy / (busy + idle) if busy + idle else None,
        "gen_cpu_s": tot("gen_cpu_s"),
        "counters": {},
        "legit_overlap": all(p.get("legit_overlap") for p in group),
        "profiled": p0.get("profiled", False),
    }
    for p in group:
        for k, v in p.get("counters", {}).items():
            rec["counters"][k] = rec["counters"].get(k, 0) + v
    lgs = [p["legit"] for p in group if p.get("legit")]
    if lgs:
        rec["legit"] = legit_stats(lgs, expect_n)
    return rec


def by(points, defender, mode="syn", rate=None):
    out = [p for p in points if p["defender"] == defender and p["mode"] == mode
           and not p["profiled"]]
    if rate is not None:
        out = [p for p in out if p["target_pps"] == rate]
    return out


def one(points, defender, rate, mode="syn"):
    r = by(points, defender, mode, rate)
    return r[0] if r else None


def flood_summary(points, mode):
    """One extra flood kind at the maximum rate: each defender's CPU per
    packet, the median of its passes and each pass's figure, and the
    ratios paired pass by pass (the median of the per-pass ratios: a drift
    that hits one pass cancels): xdpct's to floor_drop, nft and the
    kernel, everyone's to floor_drop (vs_floor_drop), floor_drop/nft,
    what any XDP program's ratio to nft is bounded by, and xdpct's to
    floor_read with floor_read/floor_drop: what reading the frame costs."""
    defs = {d: one(points, d, 0, mode=mode) for d in FLOORS + PEERS}
    defs = {d: p for d, p in defs.items() if p}
    if not defs:
        return None
    passes = sorted({b["pass"] for p in defs.values() for b in p["by_pass"]},
                    key=lambda n: n if n is not None else 0)
    out = {"mode": mode, "passes": passes, "defenders": {}, "ratios": {}}
    for d, p in defs.items():
        bp = {b["pass"]: b for b in p["by_pass"]}
        lg = p.get("legit")
        out["defenders"][d] = {
            "cpu_ns_per_pkt_median": p["cpu_ns_per_pkt_median"],
            "cpu_ns_per_pkt_by_pass": [(bp.get(n) or {}).get("cpu_ns_per_pkt") for n in passes],
            "offered_pps": p["offered_pps"],
            "ring_drop_frac": p["ring_drop_frac"],
            "ring_drop_frac_by_pass": [(bp.get(n) or {}).get("ring_drop_frac") for n in passes],
            "reply_pps": p["reply_pps"],
            "synack_pps": p["synack_pps"],
            "cpu_srv_busy_frac": p["cpu_srv_busy_frac"],
            "legit": lg and {k: v for k, v in lg.items() if k != "connect_ms"},
            "legit_by_pass": [(bp.get(n) or {}).get("legit") for n in passes] if lg else None,
        }
    for num, den in (("xdpct", "floor_drop"), ("xdpct", "nft"), ("xdpct", "kernel"),
                     ("floor_drop", "nft"), ("xdpct", "floor_read"),
                     ("floor_read", "floor_drop"), ("floor_read", "nft")):
        a, b = out["defenders"].get(num), out["defenders"].get(den)
        if not a or not b:
            continue
        per = [x / y if x is not None and y else None
               for x, y in zip(a["cpu_ns_per_pkt_by_pass"], b["cpu_ns_per_pkt_by_pass"])]
        out["ratios"][f"{num}/{den}"] = {"per_pass": per, "median": median(per)}
    fl = out["defenders"].get("floor_drop")
    for d, x in out["defenders"].items():
        if fl:
            per = [a / b if a is not None and b else None
                   for a, b in zip(x["cpu_ns_per_pkt_by_pass"], fl["cpu_ns_per_pkt_by_pass"])]
            x["vs_floor_drop"] = {"per_pass": per, "median": median(per)}
    return out


def mixed_met(lg):
    return bool(lg and lg["ok_ratio"] == 1.0 and lg["p99_ms"] is not None
                and lg["p99_ms"] < TARGETS["legit_p99_ms"])


def verdict(met):
    return "not measured" if met is None else "met" if met else "**missed**"


def json_safe(o):
    if isinstance(o, float) and (math.isinf(o) or math.isnan(o)):
        return None
    if isinstance(o, dict):
        return {k: json_safe(v) for k, v in o.items()}
    if isinstance(o, list):
        return [json_safe(v) for v in o]
    return o


# ---- profiles ----

LINES_KEY = "xdpct_lines"  # profile.json: xdpct's profile by source line

def read_profile(path, comms=None):
    """perf report lines "PCT% [COMM] [k] SYM"; with comms, only the
    threads whose names start with one of them, renormalised to 100%."""
    rows = {}
    total = 0.0
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3 or not parts[0].endswith("%"):
                    continue
                pc = float(parts[0].rstrip("%"))
                if comms is not None:
                    if len(parts) < 4 or not any(parts[1].startswith(c) for c in comms):
                        continue
                    sym = " ".join(parts[3:])
                else:
                    sym = " ".join(parts[2:])
                rows[sym] = rows.get(sym, 0) + pc
                total += pc
    except OSError:
        pass
    if comms is not None and total > 0:
        rows = {k: 100 * v / total for k, v in rows.items()}
    out = [{"pct": v, "sym": k} for k, v in sorted(rows.items(), key=lambda kv: -kv[1])]
    if comms is not None and out:
        out.insert(0, {"pct": total, "sym": "(share of all CPU 1 samples taken by the server's "
                       "threads; the rows below are shares of those)"})
    return out


# ---- plot ----

def gnuplot(lines):
    """Runs a gnuplot script; False (and why, on stderr) if it failed."""
    try:
        subprocess.run(["gnuplot"], input="\n".join(lines) + "\n", text=True, check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"report: gnuplot failed: {getattr(e, 'stderr', e)}", file=sys.stderr)
        return False
    return True


def plot(points, out_png, raw):
    dat = os.path.join(raw, "plot")
    os.makedirs(dat, exist_ok=True)
    series = []
    for d in [f for f in FLOORS if f != "floor_drop"] + PEERS:
        pts = sorted(by(points, d), key=lambda p: p["offered_pps"] or 0)
        if not pts:
            continue
        fn = os.path.join(dat, d + ".dat")
        with open(fn, "w") as f:
            for p in pts:
                y1 = p["synack_pps"] if d != "floor_tx" else p["reply_pps"]
                lg = p.get("legit") or {}
                p99 = lg.get("p99_ms")
                p99 = "NaN" if p99 is None or math.isinf(p99) else f"{p99:.3f}"
                cpu = p["cpu_ns_per_pkt"]
                f.write(f"{p['offered_pps']} {y1 or 0} {p99} {cpu if cpu else 'NaN'}\n")
        series.append((d, fn))
    if not series:
        return False
    styles = {"floor_tx": "lc rgb '#999999' dt 2 pt 1", "kernel": "lc rgb '#d62728' pt 7",
              "nft": "lc rgb '#1f77b4' pt 5", "xdpct": "lc rgb '#2ca02c' pt 9"}
    g = [
        "set terminal pngcairo size 1500,500 font ',10' noenhanced",
        f"set output '{out_png}'",
        "set multiplot layout 1,3 title 'SYN flood in a veth lab, server on one CPU "
        "(x: offered SYN/s, log scale)'",
        "set logscale x", "set grid", "set key top left box opaque",
        "set xlabel 'offered SYN/s'", "set format x '%.0s%c'",
        "set ylabel 'SYN-ACKs/s delivered'", "set format y '%.1s%c'", "set yrange [0:*]",
        "set title 'SYN-ACKs per second'",
        "plot " + ", ".join(
            f"'{fn}' using 1:2 with linespoints {styles.get(d, '')} lw 2 title "
            f"'{NAMES[d] if d != 'floor_tx' else 'floor: XDP_TX echo (replies/s)'}'"
            for d, fn in series),
        "set title 'legitimate connect() p99 during the flood'",
        "set ylabel 'p99 connect latency (ms)'", "set logscale y", "set format y '%g'",
        "set yrange [*:*]",
        "plot " + ", ".join(
            f"'{fn}' using 1:3 with linespoints {styles.get(d, '')} lw 2 title '{NAMES[d]}'"
            for d, fn in series if d in PEERS),
        "set title 'server CPU per SYN'", "set ylabel 'ns of server CPU per SYN'",
        "set key bottom left box opaque",
        "plot " + ", ".join(
            f"'{fn}' using 1:4 with linespoints {styles.get(d, '')} lw 2 title "
            f"'{NAMES[d]}'" for d, fn in series),
        "unset multiplot",
    ]
    return gnuplot(g)


STYLE_COLORS = {"floor_drop": "#999999", "floor_read": "#777777", "floor_tx": "#999999", "kernel": "#d62728",
                "nft": "#1f77b4", "xdpct": "#2ca02c", "none": "#cccccc", "floor": "#999999"}


def plot_bars(out_png, title, panels, raw):
    """One PNG of bar panels, side by side. panels: [(subtitle, ylabel,
    rows)], rows: [(label, color key, median or None, [per-pass values])];
    the bar is the median, the dots the passes."""
    dat = os.path.join(raw, "plot")
    os.makedirs(dat, exist_ok=True)
    base = os.path.splitext(os.path.basename(out_png))[0]
    g = [f"set terminal pngcairo size {520 * len(panels)},460 font ',10' noenhanced",
         f"set output '{out_png}'",
         f"set multiplot layout 1,{len(panels)} title '{title}'",
         "set style fill solid 0.8 border -1", "set boxwidth 0.6", "set grid ytics",
         "set key off", "set xtics rotate by -20", "set yrange [0:*]", "set xrange [-0.6:*]"]
    drawn = False
    for i, (sub, ylabel, rows) in enumerate(panels):
        rows = [r for r in rows if r[2] is not None]
        if not rows:
            continue
        fb, fp = os.path.join(dat, f"{base}.{i}.bars"), os.path.join(dat, f"{base}.{i}.passes")
        with open(fb, "w") as fh:
            for j, (label, ck, med, _) in enumerate(rows):
                col = int(STYLE_COLORS.get(ck, "#555555")[1:], 16)
                fh.write(f"{j} {med} {col} \"{label}\"\n")
        with open(fp, "w") as fh:
            for j, (_, _, _, per) in enumerate(rows):
                for v in per or []:
                    if v is not None:
                        fh.write(f"{j} {v}\n")
        g += [f"set title '{sub}'", f"set ylabel '{ylabel}'",
              f"plot '{fb}' using 1:2:3:xtic(4) with boxes lc rgb variable, "
              f"'{fb}' using 1:2:(sprintf($2 >= 100 ? '%.0f' : '%.1f', $2)) with labels offset 0,0.8, "
              f"'{fp}' using 1:2 with points pt 7 ps 0.6 lc rgb '#000000'"]
        drawn = True
    g.append("unset multiplot")
    if not drawn:
        return False
    return gnuplot(g)


def plot_floods(floods, tax, out, raw):
    """flood_KIND.png per flood kind (ACK, RST, FIN, mixed) and tax.png:
    {kind or "tax": path} of those drawn."""
    drawn = {}
    for m in FLOODS + [MIXED]:
        fl = floods.get(m)
        if not fl:
            continue
        dd = fl["defenders"]
        ds = [d for d in FLOORS + PEERS if d in dd]
        cpu = [(NAMES[d], d, dd[d]["cpu_ns_per_pkt_median"], dd[d]["cpu_ns_per_pkt_by_pass"])
               for d in ds]
        p99 = [(NAMES[d], d, (dd[d].get("legit") or {}).get("p99_ms"),
                [(q or {}).get("p99_ms") for q in dd[d].get("legit_by_pass") or []])
               for d in ds if dd[d].get("legit")]
        n = len(fl["passes"])
        png = os.path.join(out, f"flood_{m}.png")
        if plot_bars(png, f"{FLOOD_NAMES[m]} flood at the maximum rate, server on one CPU "
                     f"(bar: median of {n} pass{'' if n == 1 else 'es'}, dots: each pass)",
                     [("server CPU per packet", "ns per delivered packet", cpu),
                      ("legitimate connect() p99 during the flood", "p99 connect (ms)", p99)],
                     raw):
            drawn[m] = png
    sm = (tax or {}).get("summary", {})
    panels = []
    for d, name in (("up", "upload (client -> server)"), ("down", "download (server -> client)")):
        x = sm.get(d)
        if not x:
            continue
        panels.append((name, "server CPU ms per GiB", [
            ({"none": "no program", "floor": "floor: XDP + TC do nothing",
              "xdpct": "xdpct"}[c], c, (x.get(c) or {}).get("server_ms_per_gib"),
             (x.get(c) or {}).get("server_ms_per_gib_passes", [])) for c in ("none", "floor", "xdpct")]))
    if panels:
        png = os.path.join(out, "tax.png")
        if plot_bars(png, "The tax on established traffic: bulk transfers through the protected "
                     "veth (bar: median of the passes, dots: each pass)", panels, raw):
            drawn["tax"] = png
    return drawn


# ---- the report ----

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--quick", default="0")
    ap.add_argument("--from-results", action="store_true",
                    help="RAW is gone: take the run's summaries from OUT (macro.json, "
                    "summary.json, profile.json) and write the report and plots again")
    a = ap.parse_args()
    if a.from_results:
        return rerender(a)
    quick = a.quick == "1"

    micro = load(os.path.join(a.out, "micro.json"))
    mem = load(os.path.join(a.out, "memory.json"))
    cmds = load(os.path.join(a.raw, "commands.json"), {})
    setup = load(os.path.join(a.raw, "macro", "setup.json"), {})
    raw_points = []
    try:
        with open(os.path.join(a.raw, "macro", "points.jsonl")) as f:
            raw_points = [json.loads(line) for line in f if line.strip()]
    except OSError:
        pass
    expect_n = setup.get("legit", {}).get("n", 0)
    groups = {}
    for p in raw_points:
        groups.setdefault((p["defender"], p["mode"], p["rate"], bool(p.get("profiled"))),
                          []).append(p)
    points = [point_summary(g, expect_n) for g in groups.values()]
    comms = setup.get("server_comms")
    profiles = {d: read_profile(os.path.join(a.raw, "macro", f"profile.{d}.txt"), comms)
                for d in FLOORS + PEERS}
    profiles.update({k: read_profile(os.path.join(a.raw, f"profile.micro.{k}.txt"))
                     for k in ("data_established", "syn_synack_linux")})
    profiles = {k: v for k, v in profiles.items() if v}
    # the other floods' profiles (PROFILE_MODES): floor_read's and xdpct's
    for m in FLOODS:
        profiles.update({f"{d}.{m}": read_profile(
            os.path.join(a.raw, "macro", f"profile.{d}.{m}.txt"), comms)
            for d in ("floor_read", "xdpct")})
    profiles = {k: v for k, v in profiles.items() if v}
    for m in [""] + FLOODS:
        lines = load(os.path.join(a.raw, "macro", f"profile_lines.xdpct{'.' + m if m else ''}.json"), {})
        if lines and lines.get("lines"):
            profiles[LINES_KEY + ("." + m if m else "")] = [
                {"pct": 100 * x["of_all"], "pct_bpf": 100 * x["of_bpf"], "sym": x["symbol"],
                 "line": x["line"], "source": x["source"]} for x in lines["lines"][:40]]

    rates = setup.get("rates", [])
    rate_order = [r for r in rates if r] + [0]
    rate_order = list(dict.fromkeys(rate_order))

    # ---- micro lookups ----
    mc = {(c["name"], c["method"]): c for c in micro["cases"]}

    def mnet(name, method):
        c = mc.get((name, method))
        return c["net"] if c else None

    # ---- targets ----
    tg = []
    # 1. CPU per SYN vs the kernel, every rate
    cpu_rows = []
    for r in rate_order:
        k, x = one(points, "kernel", r), one(points, "xdpct", r)
        if k and x and k["cpu_ns_per_pkt"] and x["cpu_ns_per_pkt"]:
            cpu_rows.append((r, x["cpu_ns_per_pkt"] / k["cpu_ns_per_pkt"], x, k))
    at_max = [c for c in cpu_rows if c[0] == 0]
    met_rates = [c[0] for c in cpu_rows if c[1] <= TARGETS["cpu_per_syn_ratio"]]
    v = at_max[0][1] if at_max else None
    tg.append({
        "id": "cpu_per_syn", "target": "server CPU per SYN <= 1/6 of the kernel alone",
        "measured": v, "measured_text": (
            f"at the maximum rate: {fmt(at_max[0][2]['cpu_ns_per_pkt'])} ns vs "
            f"{fmt(at_max[0][3]['cpu_ns_per_pkt'])} ns = 1/{1 / v:.1f}" if at_max else "-") +
        ("; per rate: " + ", ".join(
            f"{rlabel(r)} 1/{1 / q:.1f}" for r, q, _, _ in cpu_rows) if cpu_rows else ""),
        "met": (v is not None and v <= TARGETS["cpu_per_syn_ratio"]),
        "met_at_rates": met_rates,
    })
    v = mnet("syn_synack_linux", "calls")
    tg.append({"id": "synack_linux", "target": "SYN -> SYN-ACK, Linux options, <= 100 ns net "
               "of the XDP_PASS baseline (test_run)", "measured": v,
               "measured_text": f"{fmt(v, 1)} ns net (repeat=1 calls)",
               "met": v is not None and v <= TARGETS["synack_linux_net_ns"]})
    v = mnet("data_established", "repeat")
    v2 = mnet("data_established", "calls")
    tg.append({"id": "data_established", "target": "data packet of an established flow, "
               "<= 40 ns net (test_run)", "measured": v,
               "measured_text": f"{fmt(v, 1)} ns net (repeat=N); {fmt(v2, 1)} ns (repeat=1 calls)",
               "met": v is not None and v <= TARGETS["data_established_net_ns"]})
    xm = one(points, "xdpct", 0)
    lg = (xm or {}).get("legit")
    x0 = one(points, "xdpct", 0, mode="none")
    lg0 = (x0 or {}).get("legit")
    tg.append({"id": "legit_at_max", "target": "100% of legitimate connections complete at "
               "the maximum flood rate, p99 connect < 20 ms",
               "measured": lg and {"ok_ratio": lg["ok_ratio"], "p99_ms": lg["p99_ms"]},
               "measured_text": (f"{lg['ok']}/{lg['n']} ok, p50 {fmt(lg['p50_ms'], 2)} ms, "
                                 f"p99 {fmt(lg['p99_ms'], 2)} ms at "
                                 f"{fmt(xm['offered_pps'])} SYN/s offered" if lg else "-") +
               (f" (no flood: p50 {fmt(lg0['p50_ms'], 2)} ms, p99 {fmt(lg0['p99_ms'], 2)} ms)"
                if lg0 else ""),
               "met": bool(lg and lg["ok_ratio"] == 1.0 and lg["p99_ms"] is not None
                           and lg["p99_ms"] < TARGETS["legit_p99_ms"])})
    # ACK, RST and FIN floods: xdpct's CPU per packet against the floor
    # and nftables, per flood kind; the mixed flood: the legitimate clients
    floods = {m: flood_summary(points, m) for m in FLOODS + [MIXED]}
    floods = {m: f for m, f in floods.items() if f}
    for tid, den, limit, target in (
            ("flood_cpu_vs_floor_drop", "floor_drop", TARGETS["flood_cpu_vs_floor_drop"],
             "ACK (random cookies), RST and FIN|ACK floods at the maximum rate: server CPU "
             "per packet <= 1.5x the XDP_DROP floor (median of the per-pass ratios)"),
            ("flood_cpu_vs_nft", "nft", TARGETS["flood_cpu_vs_nft"],
             "ACK, RST and FIN|ACK floods at the maximum rate: server CPU per packet <= 1/4 "
             "of nftables SYNPROXY (median of the per-pass ratios)")):
        rows = {}
        for m in FLOODS:
            r = (floods.get(m) or {}).get("ratios", {}).get(f"xdpct/{den}")
            if r and r["median"] is not None:
                rows[m] = r
        missed = [m for m, r in rows.items() if r["median"] > limit]
        absent = [m for m in FLOODS if m not in rows]
        tg.append({
            "id": tid, "target": target,
            "measured": {m: r["median"] for m, r in rows.items()} or None,
            "measured_text": "; ".join(
                f"{m.upper()} {r['median']:.2f} (passes: "
                f"{', '.join(fmt(x, 2) for x in r['per_pass'])}; medians "
                f"{fmt(floods[m]['defenders']['xdpct']['cpu_ns_per_pkt_median'])} ns vs "
                f"{fmt(floods[m]['defenders'][den]['cpu_ns_per_pkt_median'])} ns)"
                for m, r in rows.items()) +
            (f"; not measured: {', '.join(m.upper() for m in absent)}" if rows and absent
             else "" if rows else "-"),
            "met": (not missed) if rows else None,
            "missed": missed,
        })
    mx = (floods.get(MIXED) or {}).get("defenders", {})
    lg = (mx.get("xdpct") or {}).get("legit")
    tg.append({
        "id": "legit_mixed",
        "target": "mixed SYN + ACK + RST flood at the maximum rate: 100% of legitimate "
                  "connections complete, p99 connect < 20 ms",
        "measured": lg and {"ok_ratio": lg["ok_ratio"], "p99_ms": lg["p99_ms"]},
        "measured_text": (f"{lg['ok']}/{lg['n']} ok, p50 {fmt(lg['p50_ms'], 2)} ms, "
                          f"p99 {fmt(lg['p99_ms'], 2)} ms at "
                          f"{fmt(mx['xdpct']['offered_pps'])} packets/s offered" if lg else "-") +
        "".join(f"; {NAMES[d]}: {mx[d]['legit']['ok']}/{mx[d]['legit']['n']}, p99 "
                f"{fmt(mx[d]['legit']['p99_ms'], 2)} ms"
                for d in ("kernel", "nft") if lg and (mx.get(d) or {}).get("legit")),
        "met": mixed_met(lg) if lg else None,
    })
    f4 = next((m for m in mem["maps"] if m["name"] == "xdpct_flows4"), None)
    tg.append({"id": "bytes_per_conn", "target": "<= 64 bytes per tracked connection",
               "measured": mem["key_value_bytes"],
               "measured_text": f"{mem['key_value_bytes']} B of key + value (IPv4); the kernel "
                                f"charges {fmt(f4['bytes_per_entry'], 0) if f4 else '-'} B per "
                                f"xdpct_flows4 entry (bpftool bytes_memlock / max_entries)",
               "met": mem["key_value_bytes"] <= TARGETS["bytes_per_conn"],
               "kernel_bytes_per_entry": f4 and f4["bytes_per_entry"]})

    # ---- ratios ----
    ratios = []
    for r in rate_order:
        x = one(points, "xdpct", r)
        if not x:
            continue
        row = {"rate": r, "offered_pps": x["offered_pps"]}
        for peer in ["kernel", "nft"]:
            p = one(points, peer, r)
            if not p:
                continue
            row[f"synack_vs_{peer}"] = (x["synack_pps"] / p["synack_pps"]
                                        if p["synack_pps"] else None)
            row[f"cpu_vs_{peer}"] = (x["cpu_ns_per_pkt"] / p["cpu_ns_per_pkt"]
                                     if p["cpu_ns_per_pkt"] and x["cpu_ns_per_pkt"] else None)
        ft = one(points, "floor_tx", r)
        if ft and ft["cpu_ns_per_pkt"] and x["cpu_ns_per_pkt"]:
            row["cpu_vs_floor_tx"] = x["cpu_ns_per_pkt"] / ft["cpu_ns_per_pkt"]
            row["synack_vs_floor_tx_replies"] = (x["synack_pps"] / ft["reply_pps"]
                                                 if ft["reply_pps"] else None)
        ratios.append(row)

    summary = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "quick": quick, "targets": tg, "ratios": ratios, "floods": floods,
        "commands": cmds}
    with open(os.path.join(a.out, "macro.json"), "w") as f:
        json.dump(json_safe({"setup": setup, "points": points, "floods": floods}), f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(json_safe(summary), f, indent=1)
        f.write("\n")
    if profiles:
        with open(os.path.join(a.out, "profile.json"), "w") as f:
            json.dump(profiles, f, indent=1)
            f.write("\n")
    png = os.path.join(a.out, "macro.png")
    have_png = plot(points, png, a.raw)
    tax = load(os.path.join(a.out, "tax.json"))
    plots = plot_floods(floods, tax, a.out, a.raw)
    qs = queues_summary(a.raw)
    if qs:
        with open(os.path.join(a.out, "queues.json"), "w") as f:
            json.dump(json_safe(qs), f, indent=1)
            f.write("\n")

    md = render(a, quick, micro, mem, setup, cmds, points, tg, ratios, profiles, rate_order,
                png if have_png else None, tax, load(os.path.join(a.out, "proxy.json"), {}),
                floods, plots)
    with open(a.md, "w") as f:
        f.write(md)
    print(f"report: {a.md}, {a.out}/macro.json, summary.json" + (", macro.png" if have_png else "")
          + "".join(f", {os.path.basename(p)}" for p in plots.values()))


def rerender(a):
    """The report and plots again from a run's summaries in OUT (after a
    change to the report itself): the figures are that run's, dated so."""
    macro = load(os.path.join(a.out, "macro.json"))
    summary = load(os.path.join(a.out, "summary.json"))
    micro = load(os.path.join(a.out, "micro.json"))
    mem = load(os.path.join(a.out, "memory.json"))
    tax = load(os.path.join(a.out, "tax.json"))
    setup, points = macro["setup"], macro["points"]
    # the flood summaries again from the points: a ratio the report added
    # since the run is there too
    floods = {m: flood_summary(points, m) for m in FLOODS + [MIXED]}
    floods = {m: f for m, f in floods.items() if f} or \
        summary.get("floods") or macro.get("floods") or {}
    rates = setup.get("rates", [])
    rate_order = list(dict.fromkeys([r for r in rates if r] + [0]))
    os.makedirs(a.raw, exist_ok=True)
    png = os.path.join(a.out, "macro.png")
    have_png = plot(points, png, a.raw)
    plots = plot_floods(floods, tax, a.out, a.raw)
    md = render(a, bool(summary.get("quick")), micro, mem, setup, summary.get("commands", {}),
                points, summary["targets"], summary["ratios"],
                load(os.path.join(a.out, "profile.json"), {}), rate_order,
                png if have_png else None, tax, load(os.path.join(a.out, "proxy.json"), {}),
                floods, plots, generated=summary.get("generated"))
    with open(a.md, "w") as f:
        f.write(md)
    print(f"report: {a.md} again from {a.out}/" +
          "".join(f", {os.path.basename(p)}" for p in plots.values()))


def queues_summary(raw_dir):
    """bench/queues.sh's points: per defender and queue count, the medians
    over passes of SYNs delivered/s, answers/s and server CPU per SYN."""
    try:
        with open(os.path.join(raw_dir, "queues", "points.jsonl")) as f:
            pts = [json.loads(line) for line in f if line.strip()]
    except OSError:
        return None
    groups = {}
    for p in pts:
        fl = p["floods"]
        a = fl[0]
        el = a.get("elapsed_s") or 0
        dl = sum(x.get("sent", 0) for x in fl) - a.get("ring_drops", 0)
        groups.setdefault((p["defender"], p["queues"]), []).append({
            "delivered_pps": dl / el if el else None,
            "answers_pps": a.get("reply_pps"),
            "cpu_ns_per_syn": (a["threads_cpu_s"] * 1e9 / dl
                               if dl > 0 and "threads_cpu_s" in a else None),
            "gen_pps": sum(x.get("pps", 0) for x in fl)})
    rows = []
    for (d, q), g in sorted(groups.items()):
        row = {"defender": d, "queues": q, "passes": len(g)}
        for k in ("delivered_pps", "answers_pps", "cpu_ns_per_syn", "gen_pps"):
            v = [x[k] for x in g if x[k] is not None]
            row[k] = median(v) if v else None
            row[k + "_by_pass"] = v
        rows.append(row)
    return {"rows": rows}


def render_queues(w, qs):
    """Issue 12 item 5: one queue against two (bench/queues.sh)."""
    rows = {(r["defender"], r["queues"]): r for r in qs.get("rows", [])}
    w("## More than one queue\n")
    w("`bench/queues.sh RAW_DIR`: a SYN flood at the maximum over an attacker link of one "
      "queue (one generator on CPU 0, the server's NAPI on CPU 1) and over one of two (a "
      "generator on each CPU; a veth hands a frame to the peer's queue of the sending CPU, "
      "and each queue's NAPI kthread is pinned to that CPU), floor_tx and xdpct interleaved. "
      "With 2 vCPUs the generators share the CPUs with the server: the 2-queue figures say "
      "what a second queue buys when both CPUs are busy, not how xdpct scales on many cores. "
      "Server CPU per SYN = run time of the server veth's NAPI kthreads and ksoftirqd of the "
      "CPUs they run on / SYNs delivered. Medians over passes (each pass after it).\n")
    w("| defender | queues | SYNs delivered/s | answers/s | server CPU per SYN | "
      "answers/s vs 1 queue | CPU per SYN vs 1 queue | CPU per SYN vs floor_tx |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")

    def bp(r, k, nd=0):
        v = r.get(k + "_by_pass") or []
        return f"{fmt(r.get(k), nd)} ({', '.join(fmt(x, nd) for x in v)})" if v else "-"
    for d in ("floor_tx", "xdpct"):
        for q in (1, 2):
            r = rows.get((d, q))
            if not r:
                continue
            one_q, fl = rows.get((d, 1)), rows.get(("floor_tx", q))
            w(f"| {d} | {q} | {bp(r, 'delivered_pps')} | {bp(r, 'answers_pps')} | "
              f"{bp(r, 'cpu_ns_per_syn')} ns | "
              f"{ratio_s(r['answers_pps'], one_q['answers_pps']) if one_q and q > 1 and r['answers_pps'] else '-'} | "
              f"{ratio_s(r['cpu_ns_per_syn'], one_q['cpu_ns_per_syn']) if one_q and q > 1 and r['cpu_ns_per_syn'] else '-'} | "
              f"{ratio_s(r['cpu_ns_per_syn'], fl['cpu_ns_per_syn']) if fl and d != 'floor_tx' and r['cpu_ns_per_syn'] and fl['cpu_ns_per_syn'] else '-'} |")
    w("")


def rlabel(r):
    return "max" if r == 0 else f"{r / 1000:g}k/s"


def render_tax(w, tax, rel_out, png=None):
    """The tax on established traffic (bench/tax.sh, issue 12 item 4)."""
    st, sm = tax.get("setup", {}), tax.get("summary", {})
    w("## The tax on established traffic\n")
    w(f"`{st.get('command', 'bench/tax.sh')}` ({st.get('date', '?')}, {st.get('duration_s', '?')} s; "
      f"raw: `{rel_out}/tax.json`): bulk transfers of {fmt(st.get('bytes', 0) / 2**30, 1)} GiB "
      "each way through the protected veth, server CPU per GiB (the server process, its veth's "
      "NAPI thread and ksoftirqd, pinned to one CPU) with no program, with a do-nothing XDP + TC "
      "floor (bench/floor_tc.bpf.c, build/xdp_pass.bpf.o) and with xdpct, interleaved in each of "
      f"{st.get('passes', '?')} passes; medians. Target: xdpct at most 1.1x the floor in each "
      "direction.\n")
    if png:
        w(f"![server CPU per GiB, upload and download: no program, the floor, xdpct]({png})\n")
    w("| direction | none ms/GiB | floor ms/GiB | xdpct ms/GiB | xdpct/floor (median of passes) "
      "| floor/none | xdpct's programs (bpf_stats) | target |")
    w("|---|---:|---:|---:|---:|---:|---:|---|")
    for d, name in (("up", "upload (client -> server)"), ("down", "download (server -> client)")):
        x = sm.get(d)
        if not x:
            continue
        r = x.get("ratios", {})
        xf = r.get("xdpct/floor", {})
        pr = x.get("programs", {})
        t = x.get("target", {})
        per = xf.get("server_per_pass", [])
        w(f"| {name} | {fmt(x.get('none', {}).get('server_ms_per_gib'), 1)} | "
          f"{fmt(x.get('floor', {}).get('server_ms_per_gib'), 1)} | "
          f"{fmt(x.get('xdpct', {}).get('server_ms_per_gib'), 1)} | "
          f"{fmt(xf.get('server_median'), 3)}"
          f"{f' ({min(per):.3f} to {max(per):.3f})' if per else ''} | "
          f"{fmt(r.get('floor/none', {}).get('server_median'), 3)} | "
          f"{fmt(pr.get('xdpct', {}).get('ms_per_gib'), 1)} ms/GiB vs floor "
          f"{fmt(pr.get('floor', {}).get('ms_per_gib'), 1)} (implied {fmt(pr.get('implied_ratio'), 3)}) | "
          f"{'met' if t.get('met') else 'missed'} |")
    w("\nOn veth any XDP program makes the kernel copy each frame (the floor's "
      "floor/none above), which a NIC with native XDP does not: there the same program time is "
      "a larger share. What an established frame pays in xdpct: counters, the config and port "
      "lookups, the parse, the xdpct_seen bit and the flow-table lookup, the entry's lock, "
      "netfilter's window checks, packet and byte counts.\n")


PROXY_NAMES = {
    "plain": "plain forwarding",
    "floor": "XDP_PASS on the router's client veth",
    "nft": "nftables SYNPROXY",
    "xdpct": "xdpct proxy ports",
}


def size_s(b):
    if b and b % 2**30 == 0:
        return f"{b >> 30} GiB"
    if b and b % 2**20 == 0:
        return f"{b >> 20} MiB"
    return f"{fmt(b)} B"


def render_proxy(w, proxy, rel_out):
    """Middlebox: xdpct's proxy ports against nftables SYNPROXY and plain
    forwarding on one router (bench/proxy.sh)."""
    st, sm = proxy.get("setup", {}), proxy.get("summary", {})
    fl, bk = sm.get("flood", {}), sm.get("bulk", {})
    lg = st.get("legit", {})
    configs = [c for c in st.get("configs", "plain nft xdpct").split() if c in fl or c in bk]

    def nm(cs, sep=None):
        n = [PROXY_NAMES.get(c, c) for c in cs]
        if sep:
            return sep.join(n)
        return " and ".join([", ".join(n[:-1]), n[-1]] if len(n) > 1 else n)

    def cell(r):
        if not r:
            return "-"
        return f"{' '.join(f'{x:.3f}' for x in r['per_pass'])}; **{r['median']:.3f}**"

    w("## Middlebox: xdpct proxy ports against nftables SYNPROXY\n")
    w(f"`{st.get('command', 'bench/proxy.sh')}` ({st.get('date', '?')}, {st.get('duration_s', '?')} s; "
      f"raw: `{rel_out}/proxy.json`): a router between a client and a server (three namespaces, "
      "as tests/e2e/e2e_proxy.sh), its NAPI threads pinned to one CPU, everything else on the "
      "other; on the router plain forwarding, nftables SYNPROXY on the forwarded port "
      "(`nf_conntrack_tcp_loose=0`; the server's window scale "
      f"{st.get('server_wscale', '?')} and MSS {st.get('server_mss', '?')} are the rule's) and "
      f"`xdpct attach ROUTER_VETH --ports {st.get('port', 8080)} --profile "
      f"{st.get('port', 8080)}:proxy`, interleaved in each of {st.get('passes', '?')} "
      f"pass{'' if st.get('passes') == 1 else 'es'}; medians. Under a spoofed SYN flood "
      "(build/synflood at its maximum, from the client's veth, at least "
      f"{st.get('flood_s', '?')} s and until the legitimate clients are done), "
      f"{lg.get('n', '?')} legitimate connections each "
      "(build/tcppeer, 4 in parallel, 5 s timeout) and the router's CPU (its veths' NAPI "
      "threads and ksoftirqd) per SYN that reached it; with no flood, the router's CPU per GiB "
      f"of one {size_s(st.get('bytes', 0))} upload through it.\n")
    w("| on the router | SYN/s tried | SYN/s reaching the router | refused (ring full) "
      "| router CPU busy | router ns/SYN | legit ok | legit connect p50 / p99 ms "
      "| router ms/GiB, bulk | bulk Gbit/s |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in configs:
        f, b = fl.get(c, {}), bk.get(c, {})
        rf, rb = f.get("ring_full_frac"), f.get("router_busy_frac")
        w(f"| {PROXY_NAMES.get(c, c)} | {fmt(f.get('offered_pps'))} | {fmt(f.get('delivered_pps'))} | "
          f"{fmt(rf * 100 if rf is not None else None, 1, '%')} | "
          f"{fmt(rb * 100 if rb is not None else None, 0, '%')} | "
          f"{fmt(f.get('router_ns_per_syn'))} | "
          f"{f.get('legit_ok', '-')}/{f.get('legit_n', '-')} | "
          f"{fmt(f.get('legit_p50_ms'), 2)} / {fmt(f.get('legit_p99_ms'), 1)} | "
          f"{fmt(b.get('router_ms_per_gib'), 1)} | {fmt(b.get('gbit_s'), 2)} |")
    w("")
    w("| ratio (per pass; median) | router CPU per SYN under the flood | router CPU per GiB, bulk |")
    w("|---|---:|---:|")
    for k in ("xdpct/nft", "xdpct/plain", "nft/plain", "floor/plain", "xdpct/floor"):
        rf, rb = fl.get("ratios", {}).get(k), bk.get("ratios", {}).get(k)
        if rf or rb:
            w(f"| {nm(k.split('/'), ' / ')} | {cell(rf)} | {cell(rb)} |")
    # what bounds each figure, from what this run measured
    fc = {c: fl[c] for c in configs if isinstance(fl.get(c), dict) and fl[c].get("offered_pps")}
    tried = [v["offered_pps"] for v in fc.values()]
    rings = ", ".join(f"{v['ring_full_frac'] * 100:.1f}% under {PROXY_NAMES.get(c, c)}"
                      for c, v in fc.items())
    bound = [c for c, v in fc.items() if (v.get("ring_full_frac") or 0) >= 0.05]
    spare = [c for c in fc if c not in bound]
    gbit = [bk[c]["gbit_s"] for c in configs if bk.get(c, {}).get("gbit_s")]
    fp = bk.get("ratios", {}).get("floor/plain")
    w("\nWhat bounds each figure as measured: the flood comes from one AF_PACKET generator on the "
      "CPU that the client and the server share (with other tenants of a shared machine), "
      f"{fmt(min(tried)) if tried else '-'} to {fmt(max(tried)) if tried else '-'} SYN/s tried, "
      f"of which the router's full veth ring refused {rings or '-'}: the router's CPU (what "
      f"other tenants leave of it) bounds the figures of {nm(bound) or 'none of them'}"
      + (f", while {nm(spare)} kept up with the generator with CPU to spare (the busy column: "
         f"{'their' if len(spare) > 1 else 'its'} cost per SYN is taken below capacity, at the "
         "generator's rate)" if spare else "")
      + "; the legitimate connect times by the CPU the client shares with the generator and, "
      "when a SYN or SYN-ACK is lost at a full veth ring, by the client's 1 s SYN "
      "retransmission; the bulk figures are the router's "
      "per-frame costs (MTU frames, GRO on, segmented again on the way out) at "
      f"{fmt(min(gbit), 2) if gbit else '-'} to {fmt(max(gbit), 2) if gbit else '-'} Gbit/s, a "
      "rate bounded by the two endpoints sharing one CPU, with conntrack on every packet under "
      "SYNPROXY and, under xdpct, the XDP program on every client frame (on veth any XDP "
      "program makes the kernel copy each frame"
      + (f": XDP_PASS alone costs {fp['median']:.2f}x plain forwarding here" if fp else "")
      + "), the translation and the TC egress program on the server's ACKs.\n")


def render_floods(w, floods, plots=None):
    """ACK, RST and FIN floods against the floor and the peers, and the
    mixed flood with the legitimate clients (issue 12, items 1 and 3)."""
    kinds = [m for m in FLOODS if m in floods]
    npass = max((len(f["passes"]) for f in floods.values()), default=0)

    def per_pass(v, nd=0):
        return " ".join(fmt(x, nd) for x in v)

    def pct_s(x):
        return fmt(100 * x, 1, "%") if x is not None else "-"

    def oks(lg):
        return f"{lg['ok']}/{lg['n']}" if lg else "-"

    if kinds:
        w(f"Floods that need no answer, at the maximum rate, in each of {npass} "
          f"pass{'' if npass == 1 else 'es'} after the SYN sweep (defenders in the pass's "
          "order): ACK with random cookies, bare RST, FIN|ACK of tuples nobody knows; "
          "the floor is XDP_DROP (floor_drop), which never reads the frame; floor_read reads "
          "the headers a TCP filter reads (EtherType, IPv4, ports, flags, numbers), then "
          "drops: the first touch of the frame's bytes, a cache line the generator's CPU "
          "wrote, which every program that looks at a packet pays. "
          "**CPU/pkt** = the median over passes of the "
          "server's CPU per delivered packet (each pass's figure after it, and in "
          "macro.json); the other columns pool the passes; the legitimate clients run "
          "meanwhile, except under the floor.\n")
        for m in kinds:
            if (plots or {}).get(m):
                w(f"![{FLOOD_NAMES[m]} flood: server CPU per packet and legitimate p99 connect, "
                  f"per defender]({plots[m]})\n")
        w("| flood | defender | offered/s | ring drops | replies/s | CPU/pkt ns | per pass "
          "| vs floor_drop (median of per-pass ratios) | legit ok | p50 ms | p99 ms |")
        w("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        for m in kinds:
            dd = floods[m]["defenders"]
            for d in FLOORS + PEERS:
                x = dd.get(d)
                if not x:
                    continue
                lg = x.get("legit")
                w(f"| {m.upper()} | {NAMES[d]} | {fmt(x['offered_pps'])} | "
                  f"{pct_s(x['ring_drop_frac'])} | {fmt(x['reply_pps'])} | "
                  f"{fmt(x['cpu_ns_per_pkt_median'])} | {per_pass(x['cpu_ns_per_pkt_by_pass'])} | "
                  f"{fmt((x.get('vs_floor_drop') or {}).get('median'), 2)} | "
                  f"{oks(lg)} | "
                  f"{fmt(lg['p50_ms'], 2) if lg else '-'} | {fmt(lg['p99_ms'], 2) if lg else '-'} |")
        w("")
        w("xdpct's CPU per packet against the floor and the peers, pass by pass (same pass, "
          "so a drift of the shared machine hits both sides); verdicts on the median of the "
          "per-pass ratios. floor_drop / nft is the lowest ratio to nftables any XDP "
          "program reaches in this lab; floor_read / floor_drop what reading the frame "
          "costs, and xdpct / floor_read xdpct's work beyond that read.\n")
        w(f"| flood | xdpct / floor_drop | target <= {TARGETS['flood_cpu_vs_floor_drop']:g} "
          f"| xdpct / nft | target <= {TARGETS['flood_cpu_vs_nft']:g} | xdpct / kernel "
          "| floor_drop / nft | floor_read / floor_drop | xdpct / floor_read |")
        w("|---|---:|---|---:|---|---:|---:|---:|---:|")
        for m in kinds:
            r = floods[m]["ratios"]

            def cell(k):
                x = r.get(k)
                if not x or x["median"] is None:
                    return "-"
                return f"{per_pass(x['per_pass'], 2)}; **{x['median']:.2f}**"

            def vd(k, limit):
                x = r.get(k)
                return verdict(None if not x or x["median"] is None else x["median"] <= limit)

            w(f"| {m.upper()} | {cell('xdpct/floor_drop')} | "
              f"{vd('xdpct/floor_drop', TARGETS['flood_cpu_vs_floor_drop'])} | "
              f"{cell('xdpct/nft')} | {vd('xdpct/nft', TARGETS['flood_cpu_vs_nft'])} | "
              f"{cell('xdpct/kernel')} | {cell('floor_drop/nft')} | "
              f"{cell('floor_read/floor_drop')} | {cell('xdpct/floor_read')} |")
        w("")
    mx = floods.get(MIXED)
    if mx:
        n = len(mx["passes"])
        w(f"Mixed flood at the maximum rate ({FLOOD_NAMES[MIXED]}, random spoofed sources; "
          f"{n} pass{'' if n == 1 else 'es'}), the legitimate clients meanwhile as at the SYN "
          "points. Target for xdpct: every connection completes, p99 connect < 20 ms "
          "(verdicts for the peers too). **SYN-ACK/s** = SYN-ACKs that reached the "
          "attacker's veth; **CPU/pkt** as above, over packets of the three kinds; legit "
          "figures pool every connection of every pass.\n")
        if (plots or {}).get(MIXED):
            w(f"![{FLOOD_NAMES[MIXED]} flood: server CPU per packet and legitimate p99 connect, "
              f"per defender]({plots[MIXED]})\n")
        w("| defender | offered/s | ring drops | SYN-ACK/s | CPU1 busy | CPU/pkt ns | per pass "
          "| legit ok | p50 ms | p99 ms | p99 per pass | 100%, p99 < 20 ms |")
        w("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|")
        for d in PEERS:
            x = mx["defenders"].get(d)
            if not x:
                continue
            lg = x.get("legit")
            b = x.get("cpu_srv_busy_frac")
            w(f"| {NAMES[d]} | {fmt(x['offered_pps'])} | {pct_s(x['ring_drop_frac'])} | "
              f"{fmt(x['synack_pps'])} | {fmt(100 * b, 0, '%') if b is not None else '-'} | "
              f"{fmt(x['cpu_ns_per_pkt_median'])} | {per_pass(x['cpu_ns_per_pkt_by_pass'])} | "
              f"{oks(lg)} | "
              f"{fmt(lg['p50_ms'], 2) if lg else '-'} | {fmt(lg['p99_ms'], 2) if lg else '-'} | "
              f"{' '.join(fmt((q or {}).get('p99_ms'), 2) for q in x.get('legit_by_pass') or [])} | "
              f"{verdict(mixed_met(lg)) if lg else verdict(None)} |")
        w("")


def render(a, quick, micro, mem, setup, cmds, points, tg, ratios, profiles, rate_order, png,
           tax=None, proxy=None, floods=None, plots=None, generated=None):
    L = []
    w = L.append
    mdir = os.path.dirname(os.path.abspath(a.md))
    rel_out = os.path.relpath(os.path.abspath(a.out), mdir)
    plots = {k: os.path.relpath(os.path.abspath(p), mdir) for k, p in (plots or {}).items()}
    now = datetime.datetime.now(datetime.timezone.utc)
    ran = datetime.datetime.fromisoformat(generated) if generated else now
    w("# xdpct benchmarks\n")
    w(f"Written by `{cmds.get('make', 'make bench')}` on "
      f"{ran.strftime('%Y-%m-%d %H:%M UTC')}"
      f"{now.strftime(' (the report and plots drawn again from its results on %Y-%m-%d %H:%M UTC by `bench/report.py --from-results`)') if generated else ''}"
      f"{' (QUICK: a check that the bench runs, not figures to quote)' if quick else ''}. "
      f"Raw results: `{rel_out}/` (micro.json, memory.json, macro.json, summary.json"
      f"{', profile.json' if profiles else ''}). Machine: {setup.get('nproc', '?')} vCPU "
      f"{setup.get('cpu_model', '')}, kernel {setup.get('kernel', platform.release())}. "
      "The machine is shared and noisy: every comparison below is between figures taken in "
      "this one run, peers interleaved point by point; read ratios, not absolutes. Timings "
      "are never asserted by tests.\n")

    # targets
    w("## Targets\n")
    w("| target | measured (this run) | verdict |")
    w("|---|---|---|")
    for t in tg:
        v = verdict(t["met"])
        if t.get("missed"):
            v += f" ({', '.join(m.upper() for m in t['missed'])})"
        w(f"| {t['target']} | {t['measured_text']} | {v} |")
    w("")
    w(bounds_text(tg, micro, mem, points, profiles, floods or {}))

    # micro
    w("## Micro: ns per packet in BPF_PROG_TEST_RUN\n")
    w(f"Command: `{cmds.get('micro', 'build/bench/micro')}` "
      f"({micro['rounds']} rounds, each case once per round, interleaved; figure = median "
      "over rounds).\n")
    w("- **repeat**: one call runs the program `repeat` times on the same buffer "
      f"(repeat={micro['repeat']}); the kernel's mean, in whole ns. Only for paths that "
      "leave the packet as it was.")
    w(f"- **calls**: {micro['calls']} calls with repeat=1 per round, a fresh copy of the "
      "frame each time (paths that rewrite the packet or write maps: the packet and the maps "
      "are reset outside the timed part); interquartile mean of the per-call durations. Each "
      "includes the harness's own cost (about the floor_pass figure), hence **net** = case "
      "minus floor_pass of the same method and round (median over rounds).\n")
    w("| case | method | ns | net ns | floor | floor net ns | vs floor (ns ratio) | "
      "verdict checked |")
    w("|---|---|---:|---:|---|---:|---:|---|")
    mc = {(c["name"], c["method"]): c for c in micro["cases"]}
    for c in micro["cases"]:
        fl = mc.get((c["floor"], c["method"])) if c.get("floor") else None
        w(f"| {c['name']} | {c['method']} | {c['ns']:.1f} | {c['net']:.1f} | "
          f"{c['floor'] or '-'} | {fmt(fl['net'], 1) if fl else '-'} | "
          f"{ratio_s(c['ns'], fl['ns']) if fl else '-'} | {c['verdict']} |")
    w("")
    w("The config is what `xdpct attach` sets on a default Linux: SACK, timestamps, window "
      "scaling and ECN, the interface "
      "MAC, and LOCAL_ONLY with the server's addresses in xdpct_local (a packet with no flow "
      "asks whether its destination is this host's; the last address found is kept per CPU "
      "for the rest of the jiffy, so a flood to one address pays a compare). "
      "Cases: SYN with no options / MSS only / Linux's options (MSS, SACK_PERM, TS, NOP, WS) "
      "answered with a cookie SYN-ACK (the same frame every call; _rebuilt: the same frame "
      "rebuilt in userspace before each call, which cools the caches; _spoofed: rebuilt with "
      "a new random source each call, as in a flood, so the tuple's xdpct_seen bit is read "
      "from a cold cache line; the tables have the CLI's default size, 2^20); the client's ACK with a valid cookie (flow entry, "
      "pending entry and XDP metadata written); the same ACK with a hash bit off (bad cookie, "
      "TS options parsed); an ACK without options from an unknown tuple (what an ACK flood "
      "is: cookie check, drop), its cookie of now's slot (ack_unknown: hashed) or of a stale "
      "one (ack_unknown_stale: refused before the hash; a random cookie is either, half and "
      "half); an RST of an unknown tuple (drop_no_flow); a 100-byte PSH|ACK of an "
      "established flow (state machine, PASS). The part_ cases are building blocks of xdpct's "
      "per-packet work, each in a program of its own: part_ktime_coarse one "
      "bpf_ktime_get_coarse_ns() (the clock xdpct reads, in now_ns(), once per jiffy and "
      "CPU: a cached reading otherwise), part_ktime one "
      "bpf_ktime_get_ns() (a TSC read, for comparison: xdpct does not call it), part_jiffies "
      "one bpf_jiffies64() (inlined by the verifier into a load: what now_ns() compares "
      "its cached reading's jiffy with), "
      "part_counter one per-CPU counter bumped (xdpct's count()), part_lru_hit one hit in "
      "an LRU hash shaped like xdpct_flows4.\n")

    # macro
    w("## Macro: floods in a veth lab\n")
    w(f"Command: `{cmds.get('macro', 'bench/macro.sh RAW_DIR')}`; one flood per point and "
      f"pass, defenders interleaved at each rate in the order {setup.get('defenders', '?')} "
      "(reversed every other pass: xdpct next to its floors either way, their ratio taken "
      f"seconds apart), {setup.get('passes', 1)} pass(es); the SYN "
      "points pooled over them (sums of frames, CPU time and time; every legitimate "
      "connection), the other floods' CPU per packet their median. Setup in "
      "[Setup](#setup); per-pass figures in macro.json.\n")
    if png:
        w(f"![SYN-ACKs per second, legitimate p99 connect latency and server CPU per SYN "
          f"against offered rate]({os.path.relpath(os.path.abspath(png), mdir)})\n")
    w("Columns: **offered** = frames/s the generator sent; **ring drops** = share the "
      "server's veth ring refused (the server did not keep up); **SYN-ACK/s** = SYN-ACKs "
      "that reached the attacker's veth (floors: echoed frames); **answered** = (SYN-ACKs "
      "received + SYN-ACKs the attacker's ring refused) / SYNs delivered to the server "
      "(the kernel also retransmits SYN-ACKs of its SYN queue: can exceed 100%); **CPU/SYN** = "
      "run time of the server's NAPI kthreads and ksoftirqd over the flood / SYNs delivered; "
      "**legit** = connections of the legitimate client that completed during the flood "
      "(connect timeout "
      f"{setup.get('legit', {}).get('timeout_s', '?')} s, a failure counts as a timeout in "
      "the percentiles). The clients connect "
      f"{setup.get('legit', {}).get('parallel', '?')} at a time, so one stall of this shared "
      "VM delays several connections at once and can set the p99 alone: the **no flood** "
      "rows show the lab's own tail, and macro.json keeps every connect time.\n")
    w("| offered rate | defender | offered/s | ring drops | SYN-ACK/s | answered | CPU/SYN ns "
      "| vs floor_tx | CPU1 busy | legit ok | p50 ms | p99 ms |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d in PEERS:  # the lab's own latency: legit clients, no flood
        p = one(points, d, 0, mode="none")
        lg = p and p.get("legit")
        if lg:
            w(f"| no flood | {NAMES[d]} | - | - | - | - | - | - | - | {lg['ok']}/{lg['n']} | "
              f"{fmt(lg['p50_ms'], 2)} | {fmt(lg['p99_ms'], 2)} |")
    for r in rate_order:
        ft = one(points, "floor_tx", r)
        for d in FLOORS + PEERS:
            p = one(points, d, r)
            if not p:
                continue
            lg = p.get("legit")
            ls = f"{lg['ok']}/{lg['n']}" if lg else "-"
            if lg and not p["legit_overlap"]:
                ls += " (flood ended first)"
            sy = p["synack_pps"] if not d.startswith("floor") else p["reply_pps"]
            w(f"| {rlabel(r)} | {NAMES[d]} | {fmt(p['offered_pps'])} | "
              f"{fmt(100 * p['ring_drop_frac'], 1, '%') if p['ring_drop_frac'] is not None else '-'}"
              f" | {fmt(sy)} | "
              f"{fmt(100 * p['answered_frac'], 1, '%') if p['answered_frac'] is not None and not d.startswith('floor') else '-'}"
              f" | {fmt(p['cpu_ns_per_pkt'])} | "
              f"{ratio_s(p['cpu_ns_per_pkt'], ft['cpu_ns_per_pkt']) if ft and ft['cpu_ns_per_pkt'] else '-'}"
              f" | {fmt(100 * p['cpu_srv_busy_frac'], 0, '%') if p['cpu_srv_busy_frac'] is not None else '-'}"
              f" | {ls}"
              f" | {fmt(lg['p50_ms'], 2) if lg else '-'} | {fmt(lg['p99_ms'], 2) if lg else '-'} |")
    w("")
    w("Ratios, xdpct against each peer and the floor, same rate, same run "
      "(SYN-ACK/s: higher is better for xdpct; CPU/SYN: lower is better):\n")
    w("| offered rate | SYN-ACK/s vs kernel | vs nft | vs floor_tx echo | CPU/SYN vs kernel "
      "| vs nft | vs floor_tx |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for row in ratios:
        def g(k):
            v = row.get(k)
            return "-" if v is None else f"{v:.2f}"
        w(f"| {rlabel(row['rate'])} | {g('synack_vs_kernel')} | {g('synack_vs_nft')} | "
          f"{g('synack_vs_floor_tx_replies')} | {g('cpu_vs_kernel')} | {g('cpu_vs_nft')} | "
          f"{g('cpu_vs_floor_tx')} |")
    w("")
    render_floods(w, floods or {}, plots)
    xc = [p for p in points if p["defender"] == "xdpct" and p["mode"] == "syn"
          and not p["profiled"]]
    if xc:
        w("xdpct's own counters over each SYN point (attacker link): every SYN that reached "
          "XDP was answered there, and the kernel sent no cookie of its own:\n")
        w("| offered rate | syn_seen | tx_synack | kernel SyncookiesSent | legit pass_cookie "
          "| legit tc_handoff |")
        w("|---|---:|---:|---:|---:|---:|")
        for p in xc:
            c = p["counters"]
            w(f"| {rlabel(p['target_pps'])} | {fmt(c.get('atk_syn_seen'))} | "
              f"{fmt(c.get('atk_tx_synack'))} | {fmt(c.get('TcpExtSyncookiesSent'))} | "
              f"{fmt(c.get('cli_pass_cookie'))} | {fmt(c.get('cli_tc_handoff'))} |")
        w("")

    # memory
    if tax:
        render_tax(w, tax, rel_out, plots.get("tax"))
    if proxy:
        render_proxy(w, proxy, rel_out)
    qs = load(os.path.join(a.out, "queues.json"))
    if qs:
        render_queues(w, qs)
    w("## Memory and scale\n")
    w(f"Command: `{cmds.get('memory', 'build/bench/mem')}`: loads xdpct with the CLI's "
      "default table sizes (`--max-conns` 1048576), fills xdpct_flows4 through the map API "
      "(BPF_MAP_UPDATE_BATCH), reads each map's memory from `bpftool -j map show id ID` "
      "(bytes_memlock), and times full passes.\n")
    w(f"- Per IPv4 connection: key {mem['key_bytes']} B + value {mem['value_bytes']} B = "
      f"**{mem['key_value_bytes']} B** stored.")
    w(f"- Entries present after filling {mem['entries_filled']:,}: "
      f"{mem['entries_present']:,} (an LRU map evicts early when its per-CPU free lists run "
      "dry; none lost here if equal).\n")
    w("| map | type | max_entries | key B | value B | memory (bpftool) | per entry |")
    w("|---|---|---:|---:|---:|---:|---:|")
    total = 0
    for m in mem["maps"]:
        total += max(0, m["bytes_memlock"])
        w(f"| {m['name']} | {m['type']} | {m['max_entries']:,} | {m['key']} | {m['value']} | "
          f"{m['bytes_memlock'] / 2**20:,.1f} MiB | {m['bytes_per_entry']:.0f} B |")
    w(f"| **all maps** | | | | | **{total / 2**20:,.1f} MiB** | |")
    w("")
    t = mem["timings"]
    n = t["scan_entries"] or 1
    w("| one pass over the full table | entries | time | per entry |")
    w("|---|---:|---:|---:|")
    w(f"| fill: BPF_MAP_UPDATE_BATCH | {mem['entries_filled']:,} | "
      f"{t['fill_update_batch_s'] * 1e3:,.0f} ms | "
      f"{t['fill_update_batch_s'] * 1e9 / mem['entries_filled']:,.0f} ns |")
    w(f"| scan: BPF_MAP_LOOKUP_BATCH (keys + values) | {t['scan_entries']:,} | "
      f"{t['scan_lookup_batch_s'] * 1e3:,.0f} ms | {t['scan_ns_per_entry']:,.0f} ns |")
    w(f"| delete: BPF_MAP_DELETE_BATCH of every key | {t['scan_entries']:,} | "
      f"{t['delete_batch_s'] * 1e3:,.0f} ms | {t['delete_batch_s'] * 1e9 / n:,.0f} ns |")
    w(f"| scan + delete (lookup_batch, then delete_batch) | {t['scan_entries']:,} | "
      f"{t['scan_plus_delete_s'] * 1e3:,.0f} ms | {t['scan_plus_delete_s'] * 1e9 / n:,.0f} ns |")
    w(f"| BPF_MAP_LOOKUP_AND_DELETE_BATCH, after a refill | "
      f"{t['lookup_and_delete_entries']:,} | {t['lookup_and_delete_batch_s'] * 1e3:,.0f} ms | "
      f"{t['lookup_and_delete_ns_per_entry']:,.0f} ns |")
    w("")

    # profiles
    if profiles:
        w("## Profiles\n")
        w("perf, `-e cpu-clock`, symbols above 1%. Macro: the server CPU during a SYN "
          "flood at the maximum rate per defender, and a RST flood for floor_read and xdpct "
          "(bench/macro.sh PROFILE_MODES), one more than the points above (`perf "
          "record -C 1 -F 4999 -- sleep 2`). Micro: `perf record -e cpu-clock -F 20000 -- "
          "build/bench/micro --only CASE ...` (harness symbols such as bpf_test_run, "
          "__local_bh_enable_ip and floor_pass are the test_run loop).\n")
        def title(k):
            d, _, m = k.partition(".")
            if m in FLOOD_NAMES:
                return f"{NAMES.get(d, d)}, {FLOOD_NAMES[m]} flood"
            return NAMES.get(k, "micro: " + k)

        for k, rows in profiles.items():
            if k.startswith(LINES_KEY):
                continue
            w(f"<details><summary>{title(k)}</summary>\n")
            w("| % | symbol |")
            w("|---:|---|")
            for r in rows[:20]:
                sym = r["sym"] if r["sym"].startswith("(") else f"`{r['sym']}`"
                w(f"| {r['pct']:.1f} | {sym} |")
            w("\n</details>\n")
        for k, rows in profiles.items():
            if not k.startswith(LINES_KEY):
                continue
            m = k[len(LINES_KEY) + 1:]
            w(f"<details><summary>xdpct, line by line{', ' + FLOOD_NAMES[m] + ' flood' if m in FLOOD_NAMES else ''}</summary>\n")
            w("The same samples of xdpct's profile that fell in its BPF code, by the source "
              "line their JIT code comes from (build/bench/jitlines while the program was "
              "loaded, bench/profile_lines.py): the share of the server threads' samples, "
              "and of those in BPF code. A sample lands on the instruction after a stalled "
              "one: a load's cost shows on the line that uses what it loaded; line 0 is code the "
              "compiler tied to no line.\n")
            w("| % | % of BPF | function | line | source |")
            w("|---:|---:|---|---|---|")
            for x in rows[:25]:
                fn = x["sym"].split("_", 3)[-1] if x["sym"].startswith("bpf_prog_") else x["sym"]
                src = x["source"].replace("|", "\\|")
                w(f"| {x['pct']:.1f} | {x['pct_bpf']:.1f} | `{fn}` | {x['line']} | `{src}` |")
            w("\n</details>\n")

    # setup
    w("## Setup\n")
    lgs = setup.get("legit", {})
    w("Lab (tests/lib.sh `lab_up attacker`): three network namespaces, two veth pairs. "
      "The attacker and the legitimate client have separate links to the server "
      "(a fast shield's SYN-ACKs to spoofed sources must not load the client's "
      "veth).\n")
    w("```")
    w("client ns  10.200.1.2 [veth] ---- [veth] 10.200.1.1  server ns  10.200.2.1 [veth] ---- "
      "[veth] 10.200.2.2  attacker ns")
    w("```")
    w(f"- CPU {setup.get('cpu_gen', 0)}: the generator (nice 5), the attacker's and the "
      f"client's veth NAPI, the legitimate client (its NAPI kthread and processes at nice "
      "-10: it stands for another host, and must not wait behind the generator's spin or "
      "the attacker's reply processing, which share its CPU only because the lab has two). "
      f"CPU {setup.get('cpu_srv', 1)}: the server: "
      "threaded NAPI kthreads of both server veths (pinned), the listener, ksoftirqd. "
      "Threaded NAPI (`/sys/class/net/DEV/threaded`) moves the receive path, XDP and the "
      "TCP stack, out of the sender's softirq into a kthread that can be pinned and timed "
      "(`/proc/PID/task/TID/schedstat`).")
    w("- Every server veth runs an XDP program (veth needs one for NAPI and to receive "
      "XDP_TX/redirected frames): floor_pass for the kernel and nftables, xdpct's own for "
      "xdpct, the floor itself for the floors. The attacker's veth runs the generator's "
      "sink (counts and drops replies) during each flood.")
    w(f"- Generator: `bench/flood`, BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES into the "
      "attacker's veth, XDP_TX to the server. SYNs carry Linux's options (MSS "
      f"{setup.get('mss', '?')}, SACK_PERM, TS, NOP, WS 7); ACKs NOP NOP TS with a random "
      "ack number (a random cookie); RSTs bare; FIN|ACKs laid out as the ACKs; the mixed "
      "flood SYN, ACK, RST in turn, each frame as its own flood sends it. Sources random in "
      "10.201.0.0/16, ports and sequence numbers random; every header field rewritten per "
      "frame. Paced "
      "rates: the program keeps the schedule (one call lasts the whole flood: each "
      "BPF_PROG_RUN call costs ~24 ms of page-pool teardown on this kernel), so the "
      "generator's CPU spins at any rate.")
    w(f"- Spoofed sources routed back over the attacker link (`ip route add 10.201.0.0/16 via "
      "10.200.2.2`, a permanent neighbour entry): replies of the kernel and nftables reach "
      "the sink like XDP_TX replies do.")
    w(f"- Listener: `{setup.get('server_cmd', '')}`; tcp_syncookies=1; tcp_max_syn_backlog "
      f"{setup.get('tcp_max_syn_backlog', '?')}; somaxconn {setup.get('somaxconn', '?')}.")
    w(f"- Legitimate client per point: `{setup.get('legit_cmd', '')}` "
      f"({lgs.get('n', '?')} connections per pass, each a 24-byte request and an 8-byte "
      "answer), "
      f"started {0.6} s into the flood; the flood stops after them (SIGTERM), at least "
      f"{setup.get('min_window_s', '?')} s after the warm-up.")
    w(f"- Flood per point: `{setup.get('flood_cmd', '')}`")
    w(f"- xdpct: `{setup.get('xdpct_cmd', '')}` (defaults: SipHash cookies, TS/SACK/WS/ECN "
      "per sysctls).")
    w(f"- Floors: `{setup.get('floor_cmd', '')}`")
    w("- nftables SYNPROXY, with `net.netfilter.nf_conntrack_tcp_loose=0`:")
    w("```")
    w(setup.get("nft_rules", ""))
    w("```")
    v = setup.get("versions", {})
    w(f"- Software: kernel {setup.get('kernel', '')}; {v.get('clang', '')}; libbpf "
      f"{v.get('libbpf', '')}; {v.get('iproute2', '')}; {setup.get('nft', '')}; "
      f"{v.get('gnuplot', '')}.")
    ed = setup.get("extra_defenders", {})
    w(f"- Rates (SYN/s, 0 = as fast as the generator can): {setup.get('rates', [])}; "
      "floods at the maximum rate after each pass's SYN sweep: "
      + ("; ".join(f"{m} ({ed.get(m, '?')})" for m in setup.get("extra_modes", "").split())
         or "none") + ".")
    w("")
    return "\n".join(L) + "\n"


def profile_groups(rows):
    """Shares of a server-thread profile by what the symbols do."""
    if not rows:
        return []
    g = {}
    for r in rows:
        s = r["sym"]
        if s.startswith("("):
            continue
        if "lookup_nulls_elem" in s or "htab" in s or "jhash" in s or "lru" in s:
            k = "flow-table lookup"
        elif s.startswith("bpf_prog_"):
            k = "XDP program code"
        elif "read_tsc" in s or "ktime" in s:
            k = "clock reads"
        elif any(t in s for t in ("veth", "napi", "page_pool", "xdp", "netmem")):
            k = "veth/NAPI/XDP_TX machinery"
        elif any(t in s for t in ("task_switch", "schedule", "rcu", "spin", "lock")):
            k = "scheduling and locks"
        else:
            k = "other"
        g[k] = g.get(k, 0) + r["pct"]
    return sorted(g.items(), key=lambda kv: -kv[1])


def flood_bounds(byid, mc, floods, points, profiles=None):
    """What bounds the missed flood targets: the floor, xdpct's program as
    test_run times it, the load (ring drops, CPU 1 busy)."""
    out = []
    case = {"ack": "ack_unknown", "rst": "rst_unknown", "fin": "ack_unknown"}
    sp = mc.get(("syn_synack_linux_spoofed", "calls"))
    rb = mc.get(("syn_synack_linux_rebuilt", "calls"))

    def pc(x):
        return fmt(100 * x, 0, "%") if x is not None else "-"

    def load_s(d, x):
        return (f"{NAMES[d]}: CPU 1 busy {pc(x['cpu_srv_busy_frac'])}, "
                f"{fmt(100 * x['ring_drop_frac'], 1, '%') if x['ring_drop_frac'] is not None else '-'}"
                " of the frames refused at the server's ring")

    t = byid.get("flood_cpu_vs_floor_drop")
    for m in (t or {}).get("missed", []):
        dd = floods[m]["defenders"]
        x, fl = dd["xdpct"], dd["floor_drop"]
        xc, fc = x["cpu_ns_per_pkt_median"], fl["cpu_ns_per_pkt_median"]
        c = mc.get((case[m], "repeat"))
        st = mc.get(("ack_unknown_stale", "repeat")) if m in ("ack", "fin") else None
        if c and st:
            # random cookies: half of a live slot (hashed), half stale (not)
            c = dict(c, net=(c["net"] + st["net"]) / 2, live=c["net"], stale=st["net"])
        txt = (f"- **{FLOOD_NAMES[m]} flood against the floor** (xdpct/floor_drop "
               f"{floods[m]['ratios']['xdpct/floor_drop']['median']:.2f}): xdpct spends "
               f"{fmt(xc)} ns of server CPU per packet, XDP_DROP {fmt(fc)} ns (medians), "
               f"{xc - fc:+,.0f} ns for xdpct's work. ")
        if c:
            txt += (f"Its program drops such a packet in {c['net']:.0f} ns net of floor_drop in "
                    f"test_run ({case[m]}, repeat=N, a warm loop over one frame"
                    + ("; a FIN|ACK takes the ACK's path, the cookie check" if m == "fin" else "")
                    + (f"; the mean of a random cookie's two cases: a live slot, hashed "
                       f"(SipHash-2-4), {c['live']:.0f} ns, and a stale one, refused before "
                       f"the hash, {c['stale']:.0f} ns" if "live" in c else "")
                    + "); ")
            cold = sp["ns"] - rb["ns"] if sp and rb else 0
            if cold:
                txt += (f"a new random source costs {cold:+.0f} ns more per packet there "
                        "(syn_synack_linux_spoofed against _rebuilt: the cold xdpct_seen bit "
                        "and headers), which every packet of a flood from random sources "
                        "pays; ")
            rest = xc - fc - c["net"] - max(cold, 0)
            txt += (f"the remaining {rest:,.0f} ns are not in the program as test_run times "
                    "it, on one warm frame: the live path, a new frame each packet. "
                    if rest > 0 else "that accounts for the gap. ")
        rd = dd.get("floor_read")
        rr = floods[m]["ratios"]
        if rd and (rr.get("floor_read/floor_drop") or {}).get("median") is not None:
            txt += (f"Reading the frame's headers and dropping it (floor_read) costs "
                    f"{fmt(rd['cpu_ns_per_pkt_median'])} ns, "
                    f"{rr['floor_read/floor_drop']['median']:.2f}x XDP_DROP: the first touch "
                    "of a cache line the generator's CPU wrote, which XDP_DROP never pays "
                    "and every program that reads a packet does; against that floor xdpct "
                    f"is at {rr['xdpct/floor_read']['median']:.2f}x. ")
        # this flood's line profile, else another one's without an answer
        pm = next((k for k in [m] + FLOODS if f"{LINES_KEY}.{k}" in (profiles or {})), None)
        if pm:
            top = profiles[f"{LINES_KEY}.{pm}"][0]
            txt += (f"In xdpct's line profile of a{'n' if pm in ('ack', 'rst') else ''} "
                    f"{FLOOD_NAMES[pm]} flood (Profiles), one line takes "
                    f"{top['pct']:.1f}% of the server threads' samples: {top['line']} "
                    f"(`{top['source'].strip()}`). ")
        txt += f"Load: {load_s('xdpct', x)}; {load_s('floor_drop', fl)}."
        out.append(txt)
    t = byid.get("flood_cpu_vs_nft")
    for m in (t or {}).get("missed", []):
        dd = floods[m]["defenders"]
        x, n, fl = dd["xdpct"], dd["nft"], dd.get("floor_drop")
        r = floods[m]["ratios"]
        txt = (f"- **{FLOOD_NAMES[m]} flood against nftables** (xdpct/nft "
               f"{r['xdpct/nft']['median']:.2f}): nftables spends "
               f"{fmt(n['cpu_ns_per_pkt_median'])} ns per packet, xdpct "
               f"{fmt(x['cpu_ns_per_pkt_median'])} ns. ")
        fr = (r.get("floor_drop/nft") or {}).get("median")
        if fl and fr is not None:
            txt += (f"The XDP_DROP floor alone spends {fmt(fl['cpu_ns_per_pkt_median'])} ns, "
                    f"{fr:.2f} of nftables' figure: what the veth costs per frame before any "
                    "XDP program (ring, page, NAPI poll) bounds the ratio there, "
                    + ("above the 0.25 target: no XDP program meets it in this lab. "
                       if fr > TARGETS["flood_cpu_vs_nft"] else
                       "below the target: the difference is xdpct's own work above the "
                       "floor. "))
        rd, rn = dd.get("floor_read"), (r.get("floor_read/nft") or {}).get("median")
        if rd and rn is not None:
            left = TARGETS["flood_cpu_vs_nft"] * n["cpu_ns_per_pkt_median"] - \
                rd["cpu_ns_per_pkt_median"]
            txt += (f"Reading the frame's headers and dropping it (floor_read) spends "
                    f"{fmt(rd['cpu_ns_per_pkt_median'])} ns, {rn:.2f} of nftables' figure, "
                    f"which leaves {fmt(left)} ns of work per packet under the target; xdpct "
                    f"spends {fmt(x['cpu_ns_per_pkt_median'] - rd['cpu_ns_per_pkt_median'])} "
                    "ns above floor_read. ")
        txt += f"Load: {load_s('nft', n)}; {load_s('xdpct', x)}."
        out.append(txt)
    t = byid.get("legit_mixed")
    if t and t["met"] is False:
        x = floods[MIXED]["defenders"]["xdpct"]
        lg = x["legit"]
        x0 = one(points, "xdpct", 0, mode="none")
        lg0 = (x0 or {}).get("legit")
        txt = (f"- **Legitimate connections under the mixed flood**: {lg['ok']}/{lg['n']} ok, "
               f"p99 {fmt(lg['p99_ms'], 2)} ms (per pass: "
               f"{', '.join(fmt((q or {}).get('p99_ms'), 2) for q in x['legit_by_pass'])} ms)"
               + (f"; with no flood the lab's own p99 is {fmt(lg0['p99_ms'], 2)} ms" if lg0 else "")
               + f". Load: {load_s('xdpct', x)}. ")
        if lg["ok"] < lg["n"]:
            txt += (f"{lg['n'] - lg['ok']} connections failed "
                    f"({', '.join(lg['errors']) or 'no error reported'}). ")
        if lg["p99_ms"] is not None and lg["p99_ms"] >= 1000:
            txt += ("A p99 of a second or more is a retransmission: over 1% of the "
                    "connections lost a SYN, a SYN-ACK or the handshake's ACK, and the "
                    "client's 1 s timer resent it. ")
        txt += ("With 2 vCPUs the generator, the attacker's NAPI and the client share CPU 0, "
                "so the client's own CPU is contended at the maximum rate (a lab limit, not "
                "the server's).")
        out.append(txt)
    return out


def bounds_text(tg, micro, mem, points, profiles, floods):
    """What bounds each missed target, from this run's own figures."""
    mc = {(c["name"], c["method"]): c for c in micro["cases"]}
    kt = mc.get(("part_ktime", "repeat"))
    kc = mc.get(("part_ktime_coarse", "repeat"))
    cn = mc.get(("part_counter", "repeat"))
    lru = mc.get(("part_lru_hit", "repeat"))
    out = []
    byid = {t["id"]: t for t in tg}
    parts = kc and lru and cn

    def budget(measured, limit, blocks):
        """How much of a target the unavoidable building blocks take."""
        if blocks > limit:
            return f"{blocks:.0f} ns, already more than the {limit} ns budget"
        return f"{blocks:.0f} ns of the {limit} ns budget"

    def precise():
        return (f"; bpf_ktime_get_ns(), a TSC read in this VM, would cost {kt['net']:.0f} ns "
                "in part_ktime" if kt else "")

    if not byid["data_established"]["met"] and parts:
        m = byid["data_established"]["measured"]
        blk = lru["net"]
        rest = m - blk - 2 * cn["net"] if m is not None else None
        out.append(
            f"- **Data packet of an established flow** ({fmt(m, 1)} ns net): xdpct_xdp bumps a "
            "per-CPU counter, looks up its config (ARRAY), parses Ethernet, IP and TCP, looks "
            "up the destination port in xdpct_ports (ARRAY), the tuple's xdpct_seen bit (a "
            "BPF-to-BPF call) and the tuple in xdpct_flows4 "
            f"(one LRU-hash hit on a 12-byte key, {lru['net']:.0f} ns in part_lru_hit: "
            "`htab_lru_map_lookup_elem`, jhash, key compare), then, in xdp_flow_packet (a "
            "second call), reads "
            "the clock (now_ns(): a reading kept per CPU, taken again once per jiffy with "
            f"bpf_ktime_get_coarse_ns(), {kc['net']:.0f} ns in part_ktime_coarse"
            f"{precise()}), takes the entry's lock, runs the state machine's shortcut for an "
            "in-window ACK of an established flow (ct_update_established(), inlined: "
            "netfilter's window checks and updates) and bumps a second counter "
            f"({cn['net']:.0f} ns each in part_counter: the "
            "JIT inlines per-CPU array lookups). The flow lookup, which the path cannot "
            f"drop, takes {budget(m, TARGETS['data_established_net_ns'], blk)}"
            + (f"; the remaining {rest:.0f} ns are the parse, the array lookups (the cached "
               "clock reading's among them), the xdpct_seen check, the two calls, the lock and "
               "the window checks." if rest is not None and rest > 0
               else "."))
    if not byid["synack_linux"]["met"] and parts:
        m = byid["synack_linux"]["measured"]
        blk = kc["net"]
        out.append(
            f"- **SYN -> SYN-ACK** ({fmt(m, 1)} ns net): before answering, xdpct_xdp does what "
            "every packet does (counter, config and port lookups, parse) and reads the tuple's "
            "bit in xdpct_seen (clear: no flow entry, so no lookup in xdpct_flows4, whose hit "
            f"costs {lru['net']:.0f} ns above); answer_syn then parses the options "
            "(parse_opts: bpf_xdp_load_bytes into a per-CPU scratch copy, read directly in "
            "Linux's layout, walked by bpf_loop otherwise), "
            "reads the coarse clock (now_ns(): once per jiffy and CPU, a cached reading "
            f"otherwise; {kc['net']:.0f} ns in part_ktime_coarse when it does; no TSC read; for "
            "the cookie's time slot and the TSval), runs SipHash-2-4 over an 18-byte message "
            "(IPv4: 2 words and the final block), resizes the frame "
            "(bpf_xdp_adjust_tail, only when the SYN-ACK's options take other room than the "
            "SYN's: not for Linux's), writes fresh IP and TCP headers and options with two "
            f"checksums, and bumps three per-CPU counters in all ({cn['net']:.0f} ns each). "
            f"A clock read (once per jiffy and CPU) takes {budget(m, TARGETS['synack_linux_net_ns'], blk)}. "
            "Measured with repeat=1 calls, which also charges the cold caches of a fresh "
            "syscall that floor_pass does not suffer.")
    sp = mc.get(("syn_synack_linux_spoofed", "calls"))
    rb = mc.get(("syn_synack_linux_rebuilt", "calls"))
    fl = [p for p in points if p["defender"] == "floor_tx" and p["target_pps"] == 0
          and p["mode"] == "syn" and not p["profiled"]]
    x = [p for p in points if p["defender"] == "xdpct" and p["target_pps"] == 0
         and p["mode"] == "syn" and not p["profiled"]]
    txt = f"- **CPU per SYN against the kernel** ({byid['cpu_per_syn']['measured_text']}): "
    if fl and x and fl[0]["cpu_ns_per_pkt"] and x[0]["cpu_ns_per_pkt"]:
        txt += (f"at the maximum rate xdpct spends {fmt(x[0]['cpu_ns_per_pkt'])} ns of server "
                f"CPU per SYN, the do-nothing XDP_TX floor {fmt(fl[0]['cpu_ns_per_pkt'])} ns "
                "(veth ring, page pool, XDP_TX flush to the peer, NAPI wake-ups). ")
    if sp and rb:
        txt += ("A SYN whose tuple surely has no flow entry is answered without the "
                "flow-table lookup: xdpct_xdp reads the tuple's summary bit in xdpct_seen "
                "(2^20 bits, 128 KiB) and, only when that is set, its bit (sized from the "
                "tables: 2^25 bits, 4 MiB, at the default ones), and looks in "
                "xdpct_flows4 only when both are set; that table's 2^20 "
                "buckets are a 16 MiB vmalloc'd array in 4 KiB pages, where a random source "
                "met a TLB and cache miss (a nested page walk in this VM) on every SYN. In "
                f"test_run, a new random source each call (syn_synack_linux_spoofed, "
                f"{sp['ns']:.0f} ns) against the same frame built the same way each call "
                f"(syn_synack_linux_rebuilt, {rb['ns']:.0f} ns): {sp['ns'] - rb['ns']:+.0f} ns "
                "per SYN for the cold cache lines that remain (the summary bit, the SYN's "
                "own headers). ")
    grp = profile_groups(profiles.get("xdpct"))
    if grp:
        txt += ("Profile of the server's threads under xdpct at the maximum rate: " +
                ", ".join(f"{k} {v:.0f}%" for k, v in grp) + ". ")
    txt += ("At paced rates every few SYNs wake the NAPI kthread: the floor itself costs "
            "microseconds per SYN there (floor_tx rows) and bounds any XDP program, so the "
            "ratio to the kernel cannot reach 1/6 at low rates.")
    out.append(txt)
    if not byid["legit_at_max"]["met"]:
        out.append("- **Legitimate connections at the maximum rate**: see the xdpct row at "
                   "max; with 2 vCPUs the generator, the attacker's NAPI and the client share "
                   "CPU 0, so the client's own CPU is contended at the maximum rate (a lab "
                   "limit, not the server's).")
    out += flood_bounds(byid, mc, floods, points, profiles)
    kb = byid["bytes_per_conn"].get("kernel_bytes_per_entry")
    if kb:
        kv = byid["bytes_per_conn"]["measured"]
        out.append(f"- **Bytes per connection**: the stored record is {kv} B "
                   f"({mem['key_bytes']} B key + {mem['value_bytes']} B value); the kernel's "
                   f"LRU hash charges {kb:.0f} B per entry: a 48-byte htab_elem header "
                   "(hash node, LRU node, hash), key and value each rounded up to 8 "
                   "bytes, and a 16-byte bucket per entry (buckets = max_entries rounded "
                   "up to a power of two). The map preallocates every entry: memory is "
                   "the same at 0 and 1M connections." +
                   ("" if byid["bytes_per_conn"]["met"] else
                    " Over the 64 B target since issue 9: the value carries netfilter's "
                    "window tracking for both sides (end, maxend, maxwin, maxack: 16 B "
                    "per side) and the 64-bit tag-and-lock word that lets XDP and TC "
                    "update one entry from two CPUs; 20 B more per entry buy segments "
                    "that a spoofer cannot use to move the state, and 8 B more 64-bit "
                    "byte counters (a 32-bit one wrapped at 4 GiB) (docs/conntrack.md, "
                    "Sizes)."))
    if not out:
        return ""
    return "What bounds the figures (measured in this run):\n\n" + "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
