#!/bin/bash
# The tax on established traffic (issue 12, item 4): bulk transfers in both
# directions through the protected interface, server CPU per GiB with xdpct
# against no program at all and against a do-nothing XDP + TC floor.
#   bench/tax.sh            (run alone: flock /run/xdpct-netns-tests.lock bench/tax.sh)
# Overrides: SIZE (bytes per transfer, k/m/g suffixes; default 2g), PASSES
# (default 3), CONFIGS (default "none floor xdpct"; also xdpct_clsact:
# xdpct with XDPCT_TC_CLSACT=1, its TC programs on the floor's kind of hook
# instead of TCX), OUT (default bench/results/tax.json), PORT (default 8080),
# PROG_STATS (default 1: after the passes, one more upload and download
# under floor and xdpct with kernel.bpf_stats_enabled=1, restored after,
# for the run time inside the programs; those transfers are not timed),
# PROFILE (default 1: then one more upload per configuration with perf
# sampling the server's CPU; not timed either).
# Timings are reported, never asserted: ratios of figures taken side by
# side in this run, medians over the passes.
#
# Lab (tests/lib.sh lab_up): client and server namespaces over one veth; the
# client's end keeps lab_up's pass-through XDP (veth needs an XDP program on
# the peer for native XDP). Configurations of the server's end, interleaved
# in every pass (the order reversed every other pass, so that drift hits
# all alike):
#   none   no XDP or TC program
#   floor  XDP_PASS (build/xdp_pass.bpf.o) and a TC_ACT_OK classifier on
#          clsact ingress and egress (build/bench/floor_tc.bpf.o)
#   xdpct  xdpct attach SERVER_VETH --ports PORT (detached after the pass)
# Each: an upload (client -> server) and a download (server -> client) of
# SIZE bytes on one connection to the protected port (xdpct: a cookie
# handshake, then the established path: XDP on ingress, TC egress).
#
# Data mover: a small Python client and server (below), a preallocated
# buffer sent with sendall() and received with recv_into(): the bytes cost
# the kernel's copies only. build/tcppeer's byte-wise stream and FNV-1a
# digests cost ~2 ns per byte each in user space, several times the network
# path: they would dilute the tax they are meant to expose.
#
# CPU: 0 the client (its process, its veth's threaded NAPI kthread); 1 the
# server (its process, its veth's threaded NAPI kthread, ksoftirqd/1). Both
# veth ends send MTU-sized frames (TSO off; GSO segments in software, after
# TC egress) in every configuration: an XDP program on one end turns its
# peer's TSO off anyway, and a real link carries no 64 KiB frames. GRO is
# on at both ends, as on a NIC: on the server's, veth then runs NAPI without
# XDP too (as an XDP program turns it on), so that the receive path runs in
# a kthread of its own in all three configurations, not in the sender's
# softirq.
# Server CPU of a transfer = run time (/proc/PID/schedstat, ns) of the
# server process, the server veth's NAPI kthread and ksoftirqd/1 over the
# transfer; it holds no other tenant's work. Cross-checks: the client's
# threads alike, and the machine's busy time from /proc/stat (user, nice,
# system, irq, softirq, steal; 10 ms units, other tenants included).
# shellcheck source=tests/lib.sh
TEST_NAME=bench_tax
source "$(dirname "$0")/../tests/lib.sh"

SIZE=${SIZE:-2g}
PASSES=${PASSES:-3}
CONFIGS=${CONFIGS:-"none floor xdpct"}
OUT=${OUT:-$ROOT/bench/results/tax.json}
PORT=${PORT:-8080}
CPU_CLI=0
CPU_SRV=1
FLOOR_TC=$BUILD/bench/floor_tc.bpf.o
XFER_TIMEOUT=${XFER_TIMEOUT:-300}
PROG_STATS=${PROG_STATS:-1}
PROFILE=${PROFILE:-1}
command -v perf >/dev/null || PROFILE=0
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

SIZE_B=$(size_bytes "$SIZE" 2>/dev/null)
if ! isnum "$SIZE_B" || ((SIZE_B == 0)); then echo "tax: bad SIZE '$SIZE'" >&2; exit 2; fi
if ! isnum "$PASSES" || ((PASSES == 0)); then echo "tax: bad PASSES '$PASSES'" >&2; exit 2; fi
(($(nproc) >= 2)) || { echo "tax: needs 2 CPUs (client and server apart)" >&2; exit 2; }
command -v ethtool >/dev/null || { echo "tax: ethtool missing (make deps)" >&2; exit 2; }
T0=$(date +%s)

need_build "$XDPCT" "$FLOOR_TC" "$XDP_PASS_OBJ"
lab_up
RAW=$LAB_TMP/raw
mkdir -p "$RAW" || die "mkdir $RAW" setup
note "lab: server $NS_SRV ($IF_SRV), client $NS_CLI ($IF_CLI); $PASSES passes of $SIZE_B bytes each way"

# ---- the data mover ----

MOVER=$LAB_TMP/mover.py
cat >"$MOVER" <<'EOF'
# mover.py serve PORT | up|down ADDR PORT BYTES
# One exchange per connection: a 9-byte header, "U" or "D" and a big-endian
# u64 byte count; U: the client sends the bytes, the server answers how many
# it read (u64); D: the server sends the bytes and closes its side.
# The client prints one JSON line: bytes moved, wall time, its own run time,
# /proc/stat deltas (USER_HZ units) over the exchange.
import json, os, socket, struct, sys, time

BUF = 4 << 20


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        r = s.recv(n - len(b))
        if not r:
            raise EOFError("early EOF after %d of %d header bytes" % (len(b), n))
        b += r
    return b


def drain(s, mv):
    while s.recv_into(mv):
        pass


def serve(port):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(64)
    rbuf = memoryview(bytearray(BUF))
    wbuf = memoryview(os.urandom(BUF))
    while True:
        c, _ = ls.accept()
        try:
            op, n = struct.unpack(">cQ", recv_exact(c, 9))
            if op == b"U":
                got = 0
                while got < n:
                    r = c.recv_into(rbuf, min(BUF, n - got))
                    if not r:
                        break
                    got += r
                c.sendall(struct.pack(">Q", got))
            elif op == b"D":
                left = n
                while left:
                    k = min(left, BUF)
                    c.sendall(wbuf[:k])
                    left -= k
                c.shutdown(socket.SHUT_WR)
            drain(c, rbuf)
        except (OSError, EOFError) as e:
            print("mover serve: %s" % e, file=sys.stderr, flush=True)
        finally:
            c.close()


def stat():
    cpus = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu"):
                w = line.split()
                cpus[w[0]] = [int(x) for x in w[1:]]
    return cpus


def runtime():
    with open("/proc/self/schedstat") as f:
        return int(f.read().split()[0])


def client(op, addr, port, n):
    rbuf = memoryview(bytearray(BUF))
    wbuf = memoryview(os.urandom(BUF))
    res = {"op": op, "want": n, "ok": False, "error": ""}
    s0, r0, t0 = stat(), runtime(), time.monotonic_ns()
    got = 0
    try:
        s = socket.create_connection((addr, port), timeout=60)
        if op == "up":
            s.sendall(struct.pack(">cQ", b"U", n))
            left = n
            while left:
                k = min(left, BUF)
                s.sendall(wbuf[:k])
                left -= k
            got = struct.unpack(">Q", recv_exact(s, 8))[0]
        else:
            s.sendall(struct.pack(">cQ", b"D", n))
            while True:
                r = s.recv_into(rbuf)
                if not r:
                    break
                got += r
        s.close()
        res["ok"] = got == n
        if not res["ok"]:
            res["error"] = "moved %d of %d bytes" % (got, n)
    except (OSError, EOFError) as e:
        res["error"] = str(e)
    t1, r1, s1 = time.monotonic_ns(), runtime(), stat()
    res.update(bytes=got, wall_ns=t1 - t0, cli_run_ns=r1 - r0,
               stat={k: [b - a for a, b in zip(s0[k], s1[k])] for k in s1 if k in s0},
               user_hz=os.sysconf("SC_CLK_TCK"))
    print(json.dumps(res), flush=True)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        sys.exit(client(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
EOF

# ---- lab plumbing (as in bench/macro.sh) ----

# threaded NAPI: /sys/class/net of the namespace (ip netns exec mounts it;
# nsenter --net would show the host's)
set_threaded() { # NS DEV
	ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" 2>/dev/null
}
napi_pids() { # DEV: the NAPI kthreads of DEV (comm napi/DEV-ID, 15 chars)
	local pat="napi/$1-"
	pgrep "^${pat:0:15}"
}
pin_napi() { # DEV CPU
	local p n=0
	for p in $(napi_pids "$1"); do
		taskset -pc "$2" "$p" >/dev/null && n=$((n + 1))
	done
	((n > 0))
}
# dev->threaded survives a program's attach and detach, a kthread may not:
# re-pin after each change
pin_all() {
	local ok=0
	wait_until 2 pin_napi "$IF_SRV" $CPU_SRV || ok=1
	wait_until 2 pin_napi "$IF_CLI" $CPU_CLI || ok=1
	return $ok
}

in_srv ethtool -K "$IF_SRV" gro on >/dev/null || die "GRO on $IF_SRV (veth NAPI without XDP)" setup
in_cli ethtool -K "$IF_CLI" gro on >/dev/null || die "GRO on $IF_CLI" setup
# frames of one MTU each way, as on any real link (an XDP program on the
# server's end turns the client's TSO off anyway; without one, veth would
# pass 64 KiB super-frames, and outside NAPI)
in_cli ethtool -K "$IF_CLI" tso off >/dev/null || die "TSO off on $IF_CLI" setup
in_srv ethtool -K "$IF_SRV" tso off >/dev/null || die "TSO off on $IF_SRV" setup
set_threaded "$NS_SRV" "$IF_SRV" || die "threaded NAPI on $IF_SRV" setup
set_threaded "$NS_CLI" "$IF_CLI" || die "threaded NAPI on $IF_CLI" setup
pin_all || die "could not pin the NAPI kthreads" setup

bg_ns "$NS_SRV" "$LAB_TMP/server.log" taskset -c $CPU_SRV "$PY" "$MOVER" serve "$PORT"
SERVER_PID=$BG_PID
wait_port "$NS_SRV" "$PORT" 10 || die "mover serve did not listen: $(head -c 300 "$LAB_TMP/server.log")" server
# nsenter and taskset exec: the pid is the server's
[[ "$(cat "/proc/$SERVER_PID/comm" 2>/dev/null)" == python3* ]] ||
	die "server pid $SERVER_PID is $(cat "/proc/$SERVER_PID/comm" 2>/dev/null), not the mover" server

# ---- configurations ----

CUR=
cfg_down() {
	case $CUR in
	floor)
		in_srv ip link set dev "$IF_SRV" xdp off
		in_srv tc qdisc del dev "$IF_SRV" clsact 2>/dev/null ;;
	xdpct | xdpct_clsact)
		xdpct_srv detach "$IF_SRV" >"$LAB_TMP/detach.out" 2>&1 ||
			note "xdpct detach: $(head -c 300 "$LAB_TMP/detach.out")" ;;
	esac
	CUR=
	nothing_attached "$NS_SRV" "$IF_SRV" || { note "left on $IF_SRV: $WHY"; return 1; }
}
cfg_up() { # none | floor | xdpct
	case $1 in
	none) ;;
	floor)
		in_srv ip -force link set dev "$IF_SRV" xdp obj "$XDP_PASS_OBJ" sec xdp &&
			in_srv tc qdisc add dev "$IF_SRV" clsact &&
			in_srv tc filter add dev "$IF_SRV" ingress bpf direct-action obj "$FLOOR_TC" sec tc &&
			in_srv tc filter add dev "$IF_SRV" egress bpf direct-action obj "$FLOOR_TC" sec tc ||
			return 1 ;;
	xdpct)
		xdpct_attach "$IF_SRV" "$PORT" >"$LAB_TMP/attach.out" 2>&1 ||
			{ note "xdpct attach: $(tail -c 300 "$LAB_TMP/attach.out")"; return 1; } ;;
	xdpct_clsact) # xdpct's TC programs as clsact filters, the floor's hooks
		XDPCT_TC_CLSACT=1 xdpct_attach "$IF_SRV" "$PORT" >"$LAB_TMP/attach.out" 2>&1 ||
			{ note "xdpct attach: $(tail -c 300 "$LAB_TMP/attach.out")"; return 1; } ;;
	*) return 1 ;;
	esac
	CUR=$1
	wait_until 2 pin_all
}
switch_to() {
	[[ $CUR == "$1" ]] && return 0
	cfg_down || return 1
	cfg_up "$1" || return 1
	sleep 0.3
}

# What is on the server's veth, for the record.
describe() {
	{
		echo "# ip -d link show dev $IF_SRV (xdp)"
		in_srv ip -d link show dev "$IF_SRV" | grep -o 'prog/xdp.*' || echo none
		echo "# tc filter show dev $IF_SRV ingress / egress"
		in_srv tc filter show dev "$IF_SRV" ingress
		in_srv tc filter show dev "$IF_SRV" egress
		echo "# tcx ingress / egress program ids"
		in_srv "$BUILD/tcxprogs" "$IF_SRV" ingress
		in_srv "$BUILD/tcxprogs" "$IF_SRV" egress
		echo "# ethtool -k $IF_CLI (the client's offloads)"
		in_cli ethtool -k "$IF_CLI" | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):'
		echo "# ethtool -k $IF_SRV"
		in_srv ethtool -k "$IF_SRV" | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):'
	} 2>&1
}

# "label pid run_ns" of every thread whose CPU a transfer is charged
snap_threads() {
	local p
	echo "srv_proc $SERVER_PID $(cut -d' ' -f1 "/proc/$SERVER_PID/schedstat")"
	for p in $(napi_pids "$IF_SRV"); do echo "srv_napi $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(pgrep -x "ksoftirqd/$CPU_SRV"); do echo "srv_softirq $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(napi_pids "$IF_CLI"); do echo "cli_napi $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(pgrep -x "ksoftirqd/$CPU_CLI"); do echo "cli_softirq $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
}

# "hook id run_cnt run_time_ns" of each program on the server's veth
# (run_* only while kernel.bpf_stats_enabled=1)
hook_ids() { # xdp | ingress | egress
	case $1 in
	xdp) in_srv ip -d link show dev "$IF_SRV" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' ;;
	*)
		in_srv tc filter show dev "$IF_SRV" "$1" | grep -o ' id [0-9]*' | awk '{print $2}'
		in_srv "$BUILD/tcxprogs" "$IF_SRV" "$1" ;;
	esac
}
prog_snap() {
	local h id j n t
	for h in xdp ingress egress; do
		for id in $(hook_ids $h); do
			j=$(bpftool -j prog show id "$id" 2>/dev/null) || continue
			# bpftool leaves out run_* while they are 0
			n=$(json_num run_cnt <<<"$j")
			t=$(json_num run_time_ns <<<"$j")
			echo "$h $id ${n:-0} ${t:-0}"
		done
	done
}
STATS_ON=0
STATS_WAS=
stats_on() {
	STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled) || return 1
	sysctl -qw kernel.bpf_stats_enabled=1 && STATS_ON=1
}
stats_off() {
	[[ -n $STATS_WAS ]] && sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	STATS_WAS=
	STATS_ON=0
}
trap 'stats_off; lab_down' EXIT

N=0
transfer() { # PASS CONFIG DIR
	local f=$RAW/$N rc
	printf '%s %s %s\n' "$1" "$2" "$3" >"$f.meta"
	[[ $2 == xdpct* ]] && in_srv timeout 10 "$XDPCT" stats "$IF_SRV" -j >"$f.x0" 2>/dev/null
	snap_threads >"$f.t0"
	((STATS_ON)) && prog_snap >"$f.p0"
	local ppid=
	if (($1 < 0)); then # sampled, all of the server's CPU
		perf record -q -C $CPU_SRV -e cpu-clock -F 4999 -o "$f.perf" >/dev/null 2>&1 &
		ppid=$!
		LAB_PIDS+=("$ppid")
		sleep 0.5
	fi
	in_cli timeout "$XFER_TIMEOUT" taskset -c $CPU_CLI "$PY" "$MOVER" "$3" "$SRV4" "$PORT" "$SIZE_B" \
		>"$f.client" 2>"$f.err"
	rc=$?
	snap_threads >"$f.t1"
	((STATS_ON)) && prog_snap >"$f.p1"
	if [[ -n $ppid ]]; then
		kill -INT "$ppid" 2>/dev/null
		wait_pid "$ppid" 30
		perf report -i "$f.perf" --stdio --no-children --sort comm,sym --percent-limit 0.05 2>/dev/null |
			grep '%' >"$f.prof"
		rm -f "$f.perf"
	fi
	[[ $2 == xdpct* ]] && in_srv timeout 10 "$XDPCT" stats "$IF_SRV" -j >"$f.x1" 2>/dev/null
	N=$((N + 1))
	if ((rc != 0)); then
		note "$2 $3 (pass $1) failed (exit $rc): $(head -c 300 "$f.client") $(head -c 300 "$f.err")"
		return 1
	fi
	note "pass $1 $2 $3: $(json_val wall_ns <"$f.client") ns wall"
}

ORDER_FWD=$CONFIGS
ORDER_REV=$(tr ' ' '\n' <<<"$CONFIGS" | tac | tr '\n' ' ')
FAILED=0
for pass in $(seq "$PASSES"); do
	order=$ORDER_FWD
	((pass % 2 == 0)) && order=$ORDER_REV
	for cfg in $order; do
		switch_to "$cfg" || die "setup of $cfg failed" "config_$cfg"
		[[ -e $RAW/describe.$cfg ]] || describe >"$RAW/describe.$cfg"
		for dir in up down; do
			transfer "$pass" "$cfg" "$dir" || FAILED=1
		done
	done
	# xdpct detached after each pass: every pass attaches afresh
	cfg_down || die "teardown after pass $pass" teardown
done
# Time inside the programs: not timed transfers (stats cost two clock
# reads per run), pass 0 in the results.
if ((PROG_STATS)); then
	stats_on || die "kernel.bpf_stats_enabled" prog_stats
	for cfg in $CONFIGS; do
		[[ $cfg == none ]] && continue
		switch_to "$cfg" || die "setup of $cfg failed" "config_$cfg"
		for dir in up down; do
			transfer 0 "$cfg" "$dir" || FAILED=1
		done
	done
	cfg_down || die "teardown after the program statistics" teardown
	stats_off
fi
# Where the server's CPU goes: perf, an upload per configuration, pass -1.
if ((PROFILE)); then
	for cfg in $CONFIGS; do
		switch_to "$cfg" || die "setup of $cfg failed" "config_$cfg"
		transfer -1 "$cfg" up || FAILED=1
	done
	cfg_down || die "teardown after the profiles" teardown
fi
kill -0 "$SERVER_PID" 2>/dev/null || note "server exited: $(tail -c 300 "$LAB_TMP/server.log")"
[[ -s $LAB_TMP/server.log ]] && note "server log: $(tail -c 300 "$LAB_TMP/server.log")"
((FAILED)) && die "a transfer failed" transfer

# ---- results ----

jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
T1=$(date +%s)
{
	printf '{"date":"%s","duration_s":%d,"passes":%d,"bytes":%d,"configs":"%s","port":%d,' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')" $((T1 - T0)) "$PASSES" "$SIZE_B" "$CONFIGS" "$PORT"
	printf '"server_veth":"%s","cpu_cli":%d,"cpu_srv":%d,"kernel":"%s","cpu_model":"%s","nproc":%d,' "$IF_SRV" $CPU_CLI $CPU_SRV \
		"$(uname -r)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$(nproc)"
	printf '"profile":%d,"prog_stats":%d,"mtu":%s,"xdpct_version":%s,' "$PROFILE" "$PROG_STATS" "$(link_mtu "$NS_SRV" "$IF_SRV")" \
		"$(jstr "$("$XDPCT" --version 2>&1 | head -n 1)")"
	printf '"command":%s,' "$(jstr "SIZE=$SIZE PASSES=$PASSES CONFIGS='$CONFIGS' bench/tax.sh")"
	printf '"server_cmd":%s,' "$(jstr "nsenter --net=/run/netns/SERVER_NS -- taskset -c $CPU_SRV python3 mover.py serve $PORT")"
	printf '"client_cmd":%s,' "$(jstr "nsenter --net=/run/netns/CLIENT_NS -- taskset -c $CPU_CLI python3 mover.py up|down $SRV4 $PORT $SIZE_B")"
	printf '"floor_cmd":%s,' "$(jstr "ip link set dev SERVER_VETH xdp obj build/xdp_pass.bpf.o sec xdp; tc qdisc add dev SERVER_VETH clsact; tc filter add dev SERVER_VETH ingress|egress bpf direct-action obj build/bench/floor_tc.bpf.o sec tc")"
	printf '"xdpct_cmd":%s,' "$(jstr "xdpct attach SERVER_VETH --ports $PORT   (detached after each pass)")"
	printf '"lab":%s}\n' "$(jstr "client ns [veth: xdp_pass, TSO off, GRO on, threaded NAPI on CPU $CPU_CLI] ---- [veth: TSO off, GRO on, threaded NAPI on CPU $CPU_SRV] server ns; client process on CPU $CPU_CLI, server process on CPU $CPU_SRV")"
} >"$RAW/setup.json"
mkdir -p "$(dirname "$OUT")" || die "mkdir for $OUT" results
python3 - "$RAW" "$OUT" <<'EOF' || die "results" results
import glob, json, os, re, statistics, sys

raw, out = sys.argv[1:]
SRV_NAPI = None
setup = json.load(open(os.path.join(raw, "setup.json")))
SRV_NAPI = ("napi/" + setup["server_veth"] + "-")[:15]
GIB = 1 << 30
BUSY = [0, 1, 2, 5, 6, 7]  # user nice system irq softirq steal
XC = ["xdp_packets", "pass_flow", "tx_synack", "pass_cookie", "tc_out_packets", "tc_out_flow",
      "ct_invalid", "ct_lock_busy", "ct_csum_defer", "ct_pending_lost", "drop_ct_invalid",
      "drop_no_flow", "drop_error"]


def threads(path):
    d = {}
    for line in open(path):
        label, pid, ns = line.split()
        d[(label, pid)] = int(ns)
    return d


def xstats(path):
    try:
        t = open(path).read()
    except OSError:
        return None
    return {k: int(v) for k, v in re.findall(r'"([a-z0-9_]+)": *([0-9]+)', t)}


transfers = []
for meta in sorted(glob.glob(os.path.join(raw, "*.meta")), key=lambda p: int(os.path.basename(p)[:-5])):
    base = meta[:-5]
    pss, cfg, d = open(meta).read().split()
    cl = json.loads(open(base + ".client").read().strip().splitlines()[-1])
    t0, t1 = threads(base + ".t0"), threads(base + ".t1")
    run, notes = {}, []
    for key in set(t0) | set(t1):
        if key not in t1:
            notes.append("%s %s exited during the transfer" % key)
            continue
        run[key[0]] = run.get(key[0], 0) + t1[key] - t0.get(key, 0)
        if key not in t0:
            notes.append("%s %s started during the transfer" % key)
    srv_ns = run.get("srv_proc", 0) + run.get("srv_napi", 0) + run.get("srv_softirq", 0)
    cli_ns = cl["cli_run_ns"] + run.get("cli_napi", 0) + run.get("cli_softirq", 0)
    tick = 1e9 / cl["user_hz"]
    busy = {k: sum(v[i] for i in BUSY if i < len(v)) * tick for k, v in cl["stat"].items()}
    st = cl["stat"]["cpu"]
    rec = {
        "pass": int(pss), "config": cfg, "dir": d, "bytes": cl["bytes"],
        "wall_s": cl["wall_ns"] / 1e9,
        "gbit_s": cl["bytes"] * 8 / cl["wall_ns"],
        "server_cpu_ns": srv_ns,
        "server_ms_per_gib": srv_ns / 1e6 * GIB / cl["bytes"],
        "server_ns_per_byte": srv_ns / cl["bytes"],
        "server_parts_ns": {k: run.get(k, 0) for k in ("srv_proc", "srv_napi", "srv_softirq")},
        "client_cpu_ns": cli_ns,
        "client_ms_per_gib": cli_ns / 1e6 * GIB / cl["bytes"],
        "client_parts_ns": {"cli_proc": cl["cli_run_ns"], "cli_napi": run.get("cli_napi", 0),
                            "cli_softirq": run.get("cli_softirq", 0)},
        "machine_busy_ns": busy["cpu"],
        "machine_ms_per_gib": busy["cpu"] / 1e6 * GIB / cl["bytes"],
        "cpu_busy_ns": {k: v for k, v in busy.items() if k != "cpu"},
        "machine_split_ns": {n: st[i] * tick for n, i in
                             (("user", 0), ("nice", 1), ("system", 2), ("irq", 5), ("softirq", 6), ("steal", 7))
                             if i < len(st)},
        # what the machine spent beyond our threads: other tenants, and
        # what /proc/stat's 10 ms units and tick sampling blur
        "other_ns": busy["cpu"] - srv_ns - cli_ns,
    }
    x0, x1 = xstats(base + ".x0"), xstats(base + ".x1")
    if x0 is not None and x1 is not None:
        rec["xdpct_counters"] = {k: x1.get(k, 0) - x0.get(k, 0) for k in XC if k in x1}
    if notes:
        rec["notes"] = notes
    if os.path.exists(base + ".p0") and os.path.exists(base + ".p1"):
        p0 = {tuple(l.split()[:2]): l.split()[2:] for l in open(base + ".p0") if l.strip()}
        progs = {}
        for l in open(base + ".p1"):
            w = l.split()
            if len(w) < 4 or tuple(w[:2]) not in p0 or len(p0[tuple(w[:2])]) < 2:
                continue
            cnt = int(w[2]) - int(p0[tuple(w[:2])][0])
            ns = int(w[3]) - int(p0[tuple(w[:2])][1])
            progs[w[0]] = {"id": int(w[1]), "runs": cnt, "run_ns": ns,
                           "ns_per_run": ns / cnt if cnt else None,
                           "ms_per_gib": ns / 1e6 * GIB / cl["bytes"]}
        rec["programs"] = progs
        rec["programs_ms_per_gib"] = sum(p["ms_per_gib"] for p in progs.values())
    if os.path.exists(base + ".prof"):
        rows, tot = [], 0.0
        for l in open(base + ".prof"):
            w = l.split()
            if len(w) < 4 or not w[0].endswith("%"):
                continue
            pct, comm, sym = float(w[0][:-1]), w[1], " ".join(w[3:])
            tot += pct
            # the server's threads: its process, its veth's NAPI kthread,
            # ksoftirqd of its CPU (other tenants of CPU 1 left out)
            if comm == "python3" or comm.startswith(SRV_NAPI) or comm == "ksoftirqd/%d" % setup["cpu_srv"]:
                rows.append((pct, sym))
        own = sum(p for p, _ in rows)
        syms = {}
        for p, sym in rows:
            syms[sym] = syms.get(sym, 0) + p
        rec["profile"] = {"server_share_of_cpu_samples": own / tot if tot else None,
                          "bpf_programs_share": sum(p for p, sm in rows if sm.startswith("bpf_prog_")) / own if own else None,
                          "top": [[round(p / own * 100, 2), sm] for sm, p in
                                  sorted(syms.items(), key=lambda x: -x[1])[:25]] if own else []}
    transfers.append(rec)

configs = setup["configs"].split()
med = statistics.median
summary = {}
timed = [t for t in transfers if t["pass"] > 0]
for d in ("up", "down"):
    rows = [t for t in timed if t["dir"] == d]
    s = {}
    for c in configs:
        r = [t for t in rows if t["config"] == c]
        if not r:
            continue
        s[c] = {m: med(t[m] for t in r) for m in
                ("server_ms_per_gib", "client_ms_per_gib", "machine_ms_per_gib", "gbit_s", "wall_s")}
        s[c]["server_ms_per_gib_passes"] = [round(t["server_ms_per_gib"], 1) for t in r]
    ratios = {}
    for num, den in (("xdpct", "floor"), ("floor", "none"), ("xdpct", "none"),
                     ("xdpct_clsact", "floor"), ("xdpct", "xdpct_clsact")):
        per = []
        mper = []
        for p in sorted({t["pass"] for t in rows}):
            a = [t for t in rows if t["pass"] == p and t["config"] == num]
            b = [t for t in rows if t["pass"] == p and t["config"] == den]
            if a and b:
                per.append(a[0]["server_ms_per_gib"] / b[0]["server_ms_per_gib"])
                mper.append(a[0]["machine_ms_per_gib"] / b[0]["machine_ms_per_gib"])
        if per:
            ratios["%s/%s" % (num, den)] = {"server_per_pass": [round(x, 3) for x in per],
                                            "server_median": med(per),
                                            "machine_per_pass": [round(x, 3) for x in mper],
                                            "machine_median": med(mper)}
    s["ratios"] = ratios
    prof = {t["config"]: t["profile"] for t in transfers if t["pass"] < 0 and t["dir"] == d and "profile" in t}
    if prof:
        s["profiles"] = prof
    prog = {t["config"]: t for t in transfers if t["pass"] == 0 and t["dir"] == d and "programs" in t}
    if prog:
        s["programs"] = {c: {"ms_per_gib": t["programs_ms_per_gib"], "hooks": t["programs"]}
                         for c, t in prog.items()}
        if "xdpct" in prog and "floor" in prog and "floor" in s:
            extra = prog["xdpct"]["programs_ms_per_gib"] - prog["floor"]["programs_ms_per_gib"]
            s["programs"]["xdpct_minus_floor_ms_per_gib"] = extra
            # the tax the programs' own time accounts for, over the floor's
            # median server CPU (an estimate: it leaves out the caches and
            # memory traffic the programs cost the rest of the stack)
            s["programs"]["implied_ratio"] = 1 + extra / s["floor"]["server_ms_per_gib"]
    if "xdpct/floor" in ratios:
        s["target"] = {"what": "server CPU per GiB, xdpct <= 1.1 x floor",
                       "median_ratio": ratios["xdpct/floor"]["server_median"],
                       "met": ratios["xdpct/floor"]["server_median"] <= 1.1}
    summary[d] = s

describe = {}
for p in glob.glob(os.path.join(raw, "describe.*")):
    describe[p.rsplit(".", 1)[1]] = open(p).read()
res = {"setup": setup, "summary": summary, "transfers": transfers, "attached": describe}
with open(out, "w") as f:
    json.dump(res, f, indent=1)
    f.write("\n")

# human summary
print("\nThe tax on established traffic: %d passes, %d bytes per transfer, %s"
      % (setup["passes"], setup["bytes"], setup["date"]))
print("server CPU = run time of the server process, its veth's NAPI kthread and ksoftirqd/%d"
      % setup["cpu_srv"])
for d, name in (("up", "upload (client -> server)"), ("down", "download (server -> client)")):
    s = summary[d]
    print("\n%s, medians over passes:" % name)
    print("  %-12s %14s %14s %14s %9s   %s" % ("config", "server ms/GiB", "client ms/GiB",
                                            "machine ms/GiB", "Gbit/s", "server ms/GiB per pass"))
    for c in configs:
        if c in s:
            v = s[c]
            print("  %-12s %14.1f %14.1f %14.1f %9.2f   %s" % (c, v["server_ms_per_gib"], v["client_ms_per_gib"],
                                                          v["machine_ms_per_gib"], v["gbit_s"],
                                                          " ".join("%.1f" % x for x in v["server_ms_per_gib_passes"])))
    for k, r in s["ratios"].items():
        print("  %-26s server %.3f (passes %s)   machine %.3f (passes %s)"
              % (k, r["server_median"], " ".join("%.3f" % x for x in r["server_per_pass"]),
                 r["machine_median"], " ".join("%.3f" % x for x in r["machine_per_pass"])))
    for c, p in sorted((c, p) for c, p in s.get("programs", {}).items() if isinstance(p, dict)):
        print("  inside the programs, %-6s %.1f ms/GiB: %s" % (c, p["ms_per_gib"], ", ".join(
            "%s %d runs, %.0f ns/run" % (h, v["runs"], v["ns_per_run"] or 0) for h, v in sorted(p["hooks"].items()))))
    if "implied_ratio" in s.get("programs", {}):
        print("  xdpct - floor inside the programs: %.1f ms/GiB = %.3f x the floor's server CPU"
              % (s["programs"]["xdpct_minus_floor_ms_per_gib"], s["programs"]["implied_ratio"]))
    for c in configs:
        p = s.get("profiles", {}).get(c)
        if p and p["top"]:
            print("  perf, %s, server threads (%.0f%% of CPU %d's samples), BPF programs %.1f%%: %s" % (
                c, (p["server_share_of_cpu_samples"] or 0) * 100, setup["cpu_srv"],
                (p["bpf_programs_share"] or 0) * 100, ", ".join("%s %.1f%%" % (sm, x) for x, sm in p["top"][:10])))
    if "target" in s:
        print("  target xdpct/floor <= 1.1: %s (%.3f)" % ("met" if s["target"]["met"] else "MISSED",
                                                      s["target"]["median_ratio"]))
print("(program times: one extra transfer per direction with kernel.bpf_stats_enabled=1; profiles: one extra"
      " upload per configuration under perf; neither is in the timed figures)")
for t in transfers:
    for n in t.get("notes", []):
        print("note: pass %d %s %s: %s" % (t["pass"], t["config"], t["dir"], n))
    if "xdpct_counters" in t:
        c = t["xdpct_counters"]
        print("%s pass %d %-4s: %s" % (t["config"], t["pass"], t["dir"], ", ".join("%s %d" % (k, v) for k, v in c.items() if v)))
print("\nwritten: %s (run time %d s)" % (out, setup["duration_s"]))
EOF
lab_finish
