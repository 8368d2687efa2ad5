#!/bin/bash
# Middlebox mode against nftables SYNPROXY: a router forwards a client's
# connections to a server behind it; the router's CPU under a spoofed SYN
# flood and on an established bulk transfer, with
#   plain  plain forwarding, no program and no rule on the router
#   nft    nftables SYNPROXY on the router (the netfilter recipe for a
#          forwarded port, below), nf_conntrack_tcp_loose=0
#   xdpct  xdpct attach ROUTER_CLIENT_VETH --ports PORT --profile PORT:proxy
#          (detached after each pass: every pass attaches afresh)
# side by side on the same lab, interleaved in every pass (the order
# reversed every other pass, so that drift hits all alike).
#   bench/proxy.sh       (run alone: flock /run/xdpct-netns-tests.lock bench/proxy.sh)
# Overrides: SIZE (bytes of the upload, k/m/g suffixes; default 1g), PASSES
# (default 3), QUICK=1 (one short pass: PASSES=1 SIZE=256m, a shorter flood,
# fewer legitimate connections), CONFIGS (default "plain nft xdpct"; also
# floor: build/xdp_pass.bpf.o on the router's client-facing veth, what any
# XDP program there costs), OUT (default bench/results/proxy.json), PORT
# (default 8080), LEGIT_N (legitimate connections per flood; default 200,
# QUICK 40), FLOOD_S (the flood's least length in seconds; default 8,
# QUICK 4).
# Timings are reported, never asserted: ratios of figures taken side by
# side in this run, medians over the passes. Exits non-zero only when the
# lab or a tool fails.
#
# Lab (as tests/e2e/e2e_proxy.sh builds it):
#   ns cli [xcsID] 10.213.1.2 ---- 10.213.1.1 [xscID] ns rtr [xrsID] 10.213.2.1 ---- 10.213.2.2 [xsrID] ns srv
# The client's veth runs the pass-through XDP program (XDP_TX frames reach
# a veth peer only when it runs NAPI). The router forwards (ip_forward=1)
# and routes the flood's spoofed sources (198.18.0.0/15) back to the
# client, as an upstream router would: every SYN-ACK to them, whoever
# sends it (the server, SYNPROXY, xdpct), goes back over the client link.
#
# CPU: 1 the router: the threaded NAPI kthreads of its two veths, pinned
# (nice -10: other tenants of a shared machine take less from them), and
# ksoftirqd/1 (nothing else of the lab runs there). 0 everything else:
# the generator (nice 5), the legitimate client and the server (processes
# and the NAPI kthreads of their veths, nice -10: they stand for other
# machines). All four veth ends send MTU-sized frames (TSO off, GSO in
# software) and have GRO on (veth then runs NAPI, in a kthread of its own,
# with or without an XDP program; the server's veth needs it so that what
# the router forwards is received in the server's kthread, not in the
# router's softirq). The router's and the server's veths have a queue
# (pfifo): when the peer's ring is full, veth stops it instead of dropping
# (backpressure, Linux 6.16 and later); the client's has one only during
# the upload (a flood is not slowed down by the router it floods: its
# frames are refused when the router's ring is full, as a NIC's ring
# overflows).
# Router CPU = run time (/proc/PID/schedstat) of the router veths' NAPI
# kthreads and ksoftirqd/1 over a measurement. Cross-check: CPU 1's busy
# time from /proc/stat (other tenants included).
#
# Each configuration, each pass:
#   bulk   no flood: one upload of SIZE bytes on one connection from the
#          client to the server's PORT through the router (a small Python
#          mover, below: preallocated buffers, no digests); router CPU per
#          GiB. An upload that stalls (no progress for 30 s) is recorded as
#          such and left out of the medians.
#   flood  build/synflood --mode syn from the client's veth at the maximum
#          rate it reaches (spoofed sources 198.18.0.0/15, at least FLOOD_S
#          seconds, until the legitimate clients are done); meanwhile
#          LEGIT_N legitimate connections (build/tcppeer
#          connect --parallel 4 --timeout 5 --json, after a 0.5 s warm-up):
#          how many complete, p50/p99 connect time; router CPU per SYN =
#          router CPU over the flood / frames the router's client-facing
#          veth received (the flood's SYNs, a few legitimate frames). The
#          SYNs sendto() refused (ENOBUFS: the router's ring was full) are
#          counted apart: they never reached the router.
# The server: the mover, which also answers build/tcppeer's empty exchange
# (header, digest of nothing), so that one server on PORT serves both.
# shellcheck source=tests/lib.sh
TEST_NAME=bench_proxy
source "$(dirname "$0")/../tests/lib.sh"

QUICK=${QUICK:-0}
[[ $QUICK == 1 ]] || QUICK=0
if ((QUICK)); then
	SIZE=${SIZE:-256m}
	PASSES=${PASSES:-1}
	LEGIT_N=${LEGIT_N:-40}
	FLOOD_S=${FLOOD_S:-4}
else
	SIZE=${SIZE:-1g}
	PASSES=${PASSES:-3}
	LEGIT_N=${LEGIT_N:-200}
	FLOOD_S=${FLOOD_S:-8}
fi
CONFIGS=${CONFIGS:-"plain nft xdpct"}
OUT=${OUT:-$ROOT/bench/results/proxy.json}
PORT=${PORT:-8080}
LEGIT_PAR=4
LEGIT_TIMEOUT=5
LEGIT_INTERVAL=0.05 # between one worker's connections: spread over the flood
WARMUP=0.5          # flood start -> legitimate clients
CPU_ENDS=0
CPU_RTR=1
XFER_TIMEOUT=${XFER_TIMEOUT:-300}
SPOOF_NET=198.18.0.0/15
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

SIZE_B=$(size_bytes "$SIZE" 2>/dev/null)
if ! isnum "$SIZE_B" || ((SIZE_B == 0)); then echo "proxy: bad SIZE '$SIZE'" >&2; exit 2; fi
if ! isnum "$PASSES" || ((PASSES == 0)); then echo "proxy: bad PASSES '$PASSES'" >&2; exit 2; fi
if ! isnum "$LEGIT_N" || ((LEGIT_N == 0)); then echo "proxy: bad LEGIT_N '$LEGIT_N'" >&2; exit 2; fi
if ! isnum "$FLOOD_S" || ((FLOOD_S == 0)); then echo "proxy: bad FLOOD_S '$FLOOD_S'" >&2; exit 2; fi
(($(nproc) >= 2)) || { echo "proxy: needs 2 CPUs (router and the rest apart)" >&2; exit 2; }
for t in ethtool nft "$PY"; do
	command -v "$t" >/dev/null || { echo "proxy: $t missing (make deps)" >&2; exit 2; }
done
T0=$(date +%s)

NS_RTR=$NS_ATK
IF_RC=$IF_SRV # router, client side (xdpct attaches here)
IF_RS=xrs$LAB_ID
IF_SR=xsr$LAB_ID
C4=10.213.1.2 R4C=10.213.1.1 R4S=10.213.2.1 S4=10.213.2.2
C6=fd00:213:1::2 R6C=fd00:213:1::1 R6S=fd00:213:2::1 S6=fd00:213:2::2
in_rtr() { in_ns "$NS_RTR" "$@"; }

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD"
lab_begin "$NS_CLI" "$NS_RTR" "$NS_SRV"
RAW=$LAB_TMP/raw
mkdir -p "$RAW" || die "mkdir $RAW" setup
lab_add_link "$NS_RTR" "$IF_RC" "$R4C" "$R6C" "$NS_CLI" "$IF_CLI" "$C4" "$C6" || die "client link" setup
lab_add_link "$NS_RTR" "$IF_RS" "$R4S" "$R6S" "$NS_SRV" "$IF_SR" "$S4" "$S6" || die "server link" setup
ip -n "$NS_CLI" link set dev "$IF_CLI" xdp obj "$XDP_PASS_OBJ" sec xdp || die "pass-through XDP on $IF_CLI" setup
in_cli ip route add default via $R4C && in_srv ip route add default via $R4S || die routes setup
in_rtr sysctl -qw net.ipv4.ip_forward=1 || die forwarding setup
# the flood's sources are routed back to the client (an upstream router);
# permanent neighbours: no ARP under the flood
in_rtr ip route add $SPOOF_NET via $C4 dev "$IF_RC" &&
	in_rtr ip neigh replace $C4 lladdr "$(link_mac "$NS_CLI" "$IF_CLI")" dev "$IF_RC" nud permanent &&
	in_rtr ip neigh replace $S4 lladdr "$(link_mac "$NS_SRV" "$IF_SR")" dev "$IF_RS" nud permanent &&
	in_srv ip neigh replace $R4S lladdr "$(link_mac "$NS_RTR" "$IF_RS")" dev "$IF_SR" nud permanent &&
	in_cli ip neigh replace $R4C lladdr "$(link_mac "$NS_RTR" "$IF_RC")" dev "$IF_CLI" nud permanent ||
	die "routes and neighbours for the flood" setup
# The server as SYNPROXY needs it: its window scale and MSS must be what
# the rule announces (SYNPROXY translates sequence numbers, not windows);
# timestamps and SACK on, as the rule offers them. Set explicitly, recorded.
in_srv sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456" net.ipv4.tcp_timestamps=1 \
	net.ipv4.tcp_sack=1 net.ipv4.tcp_window_scaling=1 net.ipv4.tcp_syncookies=1 || die "server sysctls" setup
WSCALE=$(expected_wscale "$NS_SRV")
MSS=$(($(link_mtu "$NS_SRV" "$IF_SR") - 40))
isnum "$WSCALE" && isnum "$MSS" || die "server wscale/mss unreadable" setup
note "lab: client $NS_CLI ($IF_CLI), router $NS_RTR ($IF_RC, $IF_RS), server $NS_SRV ($IF_SR); server wscale $WSCALE, mss $MSS"
note "$PASSES passes of: $SIZE_B bytes uploaded; a ${FLOOD_S} s SYN flood with $LEGIT_N legitimate connections"

# ---- lab plumbing (as in bench/tax.sh) ----

set_threaded() { # NS DEV: /sys/class/net of the namespace (ip netns exec mounts it)
	ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" 2>/dev/null
}
napi_pids() { # DEV: the NAPI kthreads of DEV (comm napi/DEV-ID, 15 chars)
	local pat="napi/$1-"
	pgrep "^${pat:0:15}"
}
pin_napi() { # DEV CPU [NICE]
	local p n=0
	for p in $(napi_pids "$1"); do
		taskset -pc "$2" "$p" >/dev/null && n=$((n + 1))
		[[ -n ${3:-} ]] && renice -n "$3" -p "$p" >/dev/null
	done
	((n > 0))
}
# dev->threaded survives a program's attach and detach, a kthread may not:
# re-pin after each change
pin_all() {
	local ok=0
	pin_napi "$IF_RC" $CPU_RTR -10 || ok=1
	pin_napi "$IF_RS" $CPU_RTR -10 || ok=1
	pin_napi "$IF_CLI" $CPU_ENDS -10 || ok=1
	pin_napi "$IF_SR" $CPU_ENDS -10 || ok=1
	return $ok
}
for d in "$NS_CLI:$IF_CLI" "$NS_RTR:$IF_RC" "$NS_RTR:$IF_RS" "$NS_SRV:$IF_SR"; do
	in_ns "${d%%:*}" ethtool -K "${d#*:}" gro on >/dev/null || die "GRO on ${d#*:}" setup
	in_ns "${d%%:*}" ethtool -K "${d#*:}" tso off >/dev/null || die "TSO off on ${d#*:}" setup
	set_threaded "${d%%:*}" "${d#*:}" || die "threaded NAPI on ${d#*:}" setup
done
wait_until 2 pin_all || die "could not pin the NAPI kthreads" setup
# A queue on the router's and the server's veths: when the peer's ring is
# full, veth (Linux 6.16 and later) then stops the queue (backpressure)
# instead of dropping the frame. The client's veth gets one only for the
# upload: a flood must not be slowed down by the router it floods.
QDISC="pfifo limit 1000"
for d in "$NS_RTR:$IF_RC" "$NS_RTR:$IF_RS" "$NS_SRV:$IF_SR"; do
	# shellcheck disable=SC2086 # QDISC: words
	in_ns "${d%%:*}" tc qdisc replace dev "${d#*:}" root $QDISC || die "qdisc on ${d#*:}" setup
done
cli_qdisc() { # on | off
	if [[ $1 == on ]]; then
		# shellcheck disable=SC2086
		in_cli tc qdisc replace dev "$IF_CLI" root $QDISC
	else
		in_cli tc qdisc del dev "$IF_CLI" root 2>/dev/null
		! in_cli tc qdisc show dev "$IF_CLI" root | grep -q pfifo
	fi
}

# ---- the mover (server and bulk client) ----

MOVER=$LAB_TMP/mover.py
cat >"$MOVER" <<'EOF'
# mover.py serve PORT | up ADDR PORT BYTES
# serve: one thread per connection. "BULK" + u64 n: read n bytes, answer
# the count read (u64). "XTP1" + 20 bytes: build/tcppeer connect's header;
# only its empty exchange (--up 0 --down 0) is served: the answer is the
# FNV-1a digest of nothing, as tcppeer serve's.
# up: one upload, one JSON line (bytes moved, wall time).
import json, os, socket, struct, sys, threading, time

BUF = 4 << 20
FNV_OFFSET = 0xcbf29ce484222325


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        r = s.recv(n - len(b))
        if not r:
            raise EOFError("early EOF after %d of %d header bytes" % (len(b), n))
        b += r
    return b


def handle(c):
    try:
        c.settimeout(60)
        h = recv_exact(c, 4)
        if h == b"XTP1":
            up, down = struct.unpack(">QQ", recv_exact(c, 20)[4:])
            if up or down:
                raise EOFError("tcppeer exchange with bytes (%d up, %d down): not served" % (up, down))
            c.sendall(struct.pack(">Q", FNV_OFFSET))
        elif h == b"BULK":
            n = struct.unpack(">Q", recv_exact(c, 8))[0]
            buf = memoryview(bytearray(BUF))
            got = 0
            while got < n:
                r = c.recv_into(buf, min(BUF, n - got))
                if not r:
                    break
                got += r
            c.sendall(struct.pack(">Q", got))
        else:
            raise EOFError("bad header %r" % h)
        while c.recv(4096):
            pass
    except (OSError, EOFError) as e:
        print("mover serve: %s" % e, file=sys.stderr, flush=True)
    finally:
        c.close()


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def up(addr, port, n):
    wbuf = memoryview(os.urandom(BUF))
    res = {"want": n, "ok": False, "error": "", "bytes": 0}
    t0 = time.monotonic_ns()
    try:
        # no progress for 30 s: stalled, a result (not a failure of the tool)
        s = socket.create_connection((addr, port), timeout=30)
        t1 = time.monotonic_ns()
        s.sendall(b"BULK" + struct.pack(">Q", n))
        left = n
        while left:
            k = min(left, BUF)
            s.sendall(wbuf[:k])
            left -= k
        res["bytes"] = struct.unpack(">Q", recv_exact(s, 8))[0]
        s.close()
        res["ok"] = res["bytes"] == n
        res["connect_ms"] = (t1 - t0) / 1e6
        if not res["ok"]:
            res["error"] = "moved %d of %d bytes" % (res["bytes"], n)
    except (OSError, EOFError) as e:
        res["error"] = str(e)
    res["wall_ns"] = time.monotonic_ns() - t0
    print(json.dumps(res), flush=True)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        sys.exit(up(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
EOF

bg_ns "$NS_SRV" "$LAB_TMP/server.log" taskset -c $CPU_ENDS nice -n -10 "$PY" "$MOVER" serve "$PORT"
SERVER_PID=$BG_PID
wait_port "$NS_SRV" "$PORT" 10 || die "mover serve did not listen: $(head -c 300 "$LAB_TMP/server.log")" server
in_cli timeout 20 "$TCPPEER" connect --addr $S4 --port "$PORT" --timeout 5 --json >"$LAB_TMP/first.j" 2>&1 &&
	grep -q '"ok":true' "$LAB_TMP/first.j" || die "first connection through the router failed: $(head -c 300 "$LAB_TMP/first.j")" warmup

# ---- configurations ----

# netfilter's SYNPROXY recipe for a forwarded port (the forward chain is
# not named fwd: nft 1.0.6 parses that as its fwd statement), with
# counters (what went to SYNPROXY, what was dropped as invalid)
NFT_RULES="table ip sp {
	chain pre { type filter hook prerouting priority -300; tcp dport $PORT tcp flags syn notrack; }
	chain fw { type filter hook forward priority 0;
		tcp dport $PORT ct state invalid,untracked counter synproxy mss $MSS wscale $WSCALE timestamp sack-perm;
		ct state invalid counter drop; }
}"
LOOSE_WAS=$(in_rtr sysctl -n net.netfilter.nf_conntrack_tcp_loose 2>/dev/null)
CUR=
cfg_down() {
	case $CUR in
	nft)
		in_rtr nft delete table ip sp || { note "nft delete table failed"; return 1; }
		[[ -n $LOOSE_WAS ]] && in_rtr sysctl -qw net.netfilter.nf_conntrack_tcp_loose="$LOOSE_WAS" ;;
	floor)
		in_rtr ip link set dev "$IF_RC" xdp off || return 1 ;;
	xdpct)
		in_rtr timeout 30 "$XDPCT" detach "$IF_RC" >"$LAB_TMP/detach.out" 2>&1 ||
			note "xdpct detach: $(head -c 300 "$LAB_TMP/detach.out")"
		nothing_attached "$NS_RTR" "$IF_RC" || { note "left on $IF_RC: $WHY"; CUR=; return 1; } ;;
	esac
	CUR=
}
cfg_up() { # plain | nft | xdpct | floor
	case $1 in
	plain) ;;
	floor)
		in_rtr ip -force link set dev "$IF_RC" xdp obj "$XDP_PASS_OBJ" sec xdp || return 1 ;;
	nft)
		in_rtr sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 &&
			in_rtr nft -f - <<<"$NFT_RULES" || return 1 ;;
	xdpct)
		LAB_ATTACHED=("$IF_RC") # lab_down removes the pins if we could not
		in_rtr timeout 30 "$XDPCT" attach "$IF_RC" --ports "$PORT" --profile "$PORT:proxy" \
			>"$LAB_TMP/attach.out" 2>&1 ||
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
trap 'cfg_down >/dev/null 2>&1; lab_down' EXIT

# What is on the router, for the record.
describe() {
	{
		echo "# ip -d link show dev $IF_RC (xdp)"
		in_rtr ip -d link show dev "$IF_RC" | grep -o 'prog/xdp.*' || echo none
		echo "# tcx ingress / egress program ids on $IF_RC"
		in_rtr "$BUILD/tcxprogs" "$IF_RC" ingress
		in_rtr "$BUILD/tcxprogs" "$IF_RC" egress
		echo "# tc filter show dev $IF_RC ingress / egress"
		in_rtr tc filter show dev "$IF_RC" ingress
		in_rtr tc filter show dev "$IF_RC" egress
		echo "# nft list ruleset (router)"
		in_rtr nft list ruleset
		[[ $CUR == xdpct ]] && { echo "# xdpct status $IF_RC"; in_rtr timeout 10 "$XDPCT" status "$IF_RC"; }
		for d in "$NS_CLI:$IF_CLI" "$NS_RTR:$IF_RC" "$NS_RTR:$IF_RS" "$NS_SRV:$IF_SR"; do
			echo "# tc qdisc show dev ${d#*:} (the client's: outside the upload)"
			in_ns "${d%%:*}" tc qdisc show dev "${d#*:}"
			echo "# ethtool -k ${d#*:}"
			in_ns "${d%%:*}" ethtool -k "${d#*:}" |
				grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):'
		done
	} 2>&1
}

# ---- measurements ----

# "label pid run_ns" of the router's threads, and of the ends' for the record
snap_threads() {
	local p
	for p in $(napi_pids "$IF_RC"); do echo "rtr_napi_cli $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(napi_pids "$IF_RS"); do echo "rtr_napi_srv $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(pgrep -x "ksoftirqd/$CPU_RTR"); do echo "rtr_softirq $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(napi_pids "$IF_CLI"); do echo "cli_napi $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
	for p in $(napi_pids "$IF_SR"); do echo "srv_napi $p $(cut -d' ' -f1 "/proc/$p/schedstat")"; done
}
# "DEV rx_packets rx_dropped tx_packets tx_dropped" of the four veth ends
snap_links() {
	local d
	for d in "$NS_CLI:$IF_CLI" "$NS_RTR:$IF_RC" "$NS_RTR:$IF_RS" "$NS_SRV:$IF_SR"; do
		in_ns "${d%%:*}" ip -s -j link show dev "${d#*:}" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]; s = l["stats64"]
print(l["ifname"], s["rx"]["packets"], s["rx"]["dropped"], s["tx"]["packets"], s["tx"]["dropped"])'
	done
}
# counters that explain a point: the server's TCP, SYNPROXY's, xdpct's
SCOUNTERS="TcpPassiveOpens TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtListenOverflows TcpExtListenDrops TcpRetransSegs"
CCOUNTERS="TcpActiveOpens TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPSynRetrans"
XCOUNTERS="syn_seen tx_synack pass_cookie drop_cookie_bad pass_proxy_syn drop_proxy_wait proxy_syn_resent proxy_open
	proxy_xlate_in proxy_xlate_out proxy_drop_out proxy_refused tx_proxy_rst proxy_opts_differ drop_proxy_lost drop_error"
snap_counters() {
	local c x
	for c in $SCOUNTERS; do echo "srv_$c $(nstat_get "$NS_SRV" "$c")"; done
	for c in $CCOUNTERS; do echo "cli_$c $(nstat_get "$NS_CLI" "$c")"; done
	# the rules' counters: packets to SYNPROXY, invalid packets dropped
	in_rtr nft list chain ip sp fw 2>/dev/null | grep -o 'counter packets [0-9]*' |
		awk '{ print (NR == 1 ? "nft_synproxy_rule" : "nft_invalid_drop"), $3 }'
	# /proc/net/stat/synproxy: per CPU, hex: entries syn_received
	# cookie_invalid cookie_valid cookie_retrans conn_reopened
	in_rtr cat /proc/net/stat/synproxy 2>/dev/null | python3 -c '
import sys
rows = [l.split() for l in sys.stdin]
for i, n in enumerate(rows[0][1:], 1):
    print("synproxy_" + n, sum(int(r[i], 16) for r in rows[1:] if len(r) > i))'
	if [[ $CUR == xdpct ]]; then
		x=$(in_rtr timeout 10 "$XDPCT" stats "$IF_RC" -j 2>/dev/null)
		for c in $XCOUNTERS; do echo "xdpct_$c $(json_num "$c" <<<"$x")"; done
	fi
}
snap_cpu() { grep "^cpu$CPU_RTR " /proc/stat; }
snap() { # SUFFIX
	snap_threads >"$F.t$1"
	snap_links >"$F.l$1"
	snap_counters >"$F.c$1"
	snap_cpu >"$F.s$1"
	date +%s%N >"$F.w$1"
}

N=0
FAILED=0
bulk() { # PASS CONFIG
	F=$RAW/$N
	N=$((N + 1))
	printf '%s %s bulk\n' "$1" "$2" >"$F.meta"
	cli_qdisc on || { note "qdisc on $IF_CLI failed"; return 1; }
	snap 0
	in_cli timeout "$XFER_TIMEOUT" taskset -c $CPU_ENDS nice -n -10 "$PY" "$MOVER" up $S4 "$PORT" "$SIZE_B" \
		>"$F.client" 2>"$F.err"
	local rc=$?
	snap 1
	cli_qdisc off || { note "qdisc on $IF_CLI left"; return 1; }
	if ! grep -q '"ok"' "$F.client"; then
		note "pass $1 $2 bulk: the mover failed (exit $rc): $(head -c 300 "$F.client") $(head -c 300 "$F.err")"
		return 1
	fi
	if ((rc != 0)); then # the transfer did not complete: recorded, left out of the medians
		note "pass $1 $2 bulk did not complete: $(json_val error <"$F.client")"
		return 0
	fi
	note "pass $1 $2 bulk: $(json_val wall_ns <"$F.client") ns wall"
}

# The generator in chunks of FLOOD_CHUNK seconds (each prints its JSON
# line), until FLOOD_S have passed and the legitimate clients are done:
# they meet the flood from first to last; the gaps between chunks (one
# exec) are a few ms in a second.
FLOOD_CHUNK=1
FLOOD_MAX=120
flood() { # PASS CONFIG
	F=$RAW/$N
	N=$((N + 1))
	printf '%s %s flood\n' "$1" "$2" >"$F.meta"
	local fpid rc overlap=0 dmac t_start left
	dmac=$(link_mac "$NS_RTR" "$IF_RC")
	rm -f "$F.stop"
	snap 0
	t_start=$(date +%s.%N)
	# shellcheck disable=SC2016 # expanded by the inner shell
	bg_ns "$NS_CLI" "$F.flood" bash -c 'stop=$1 max=$2 seed=$3; shift 3; i=0
		while [ ! -e "$stop" ] && [ "$SECONDS" -lt "$max" ]; do
			"$@" --seed $((seed + i)) || exit $?
			i=$((i + 1))
		done' flood "$F.stop" $FLOOD_MAX $(((LAB_ID + N) * 1000)) \
		taskset -c $CPU_ENDS nice -n 5 "$SYNFLOOD" --dev "$IF_CLI" --dmac "$dmac" --dst $S4 --dport "$PORT" \
		--src-net $SPOOF_NET --mode syn --count 1000000000000 --rate 1e12 --timeout $FLOOD_CHUNK
	fpid=$BG_PID
	sleep $WARMUP
	in_cli timeout 300 taskset -c $CPU_ENDS nice -n -10 "$TCPPEER" connect --addr $S4 --port "$PORT" \
		--count "$LEGIT_N" --parallel $LEGIT_PAR --interval $LEGIT_INTERVAL --timeout $LEGIT_TIMEOUT \
		--json >"$F.legit" 2>"$F.legit.err"
	kill -0 "$fpid" 2>/dev/null && overlap=1
	echo $overlap >"$F.overlap"
	left=$(awk -v a="$t_start" -v b="$(date +%s.%N)" -v w="$FLOOD_S" 'BEGIN { l = a + w - b; print (l > 0 ? l : 0) }')
	sleep "$left"
	touch "$F.stop"
	wait_pid "$fpid" $((FLOOD_CHUNK + 20))
	rc=$?
	sleep 0.3 # the rings drain
	snap 1
	if ((rc != 0)) || ! grep -q '"sent"' "$F.flood"; then
		note "pass $1 $2 flood failed (exit $rc): $(head -c 300 "$F.flood")"
		return 1
	fi
	note "pass $1 $2 flood: $(grep -c '"sent"' "$F.flood") s of $(json_val pps <"$F.flood") SYN/s sent; legit $(grep -c '"ok":true' "$F.legit")/$LEGIT_N$( ((overlap)) || echo ', the flood stopped first (FLOOD_MAX)')"
}

ORDER_FWD=$CONFIGS
ORDER_REV=$(tr ' ' '\n' <<<"$CONFIGS" | tac | tr '\n' ' ')
for pass in $(seq "$PASSES"); do
	order=$ORDER_FWD
	((pass % 2 == 0)) && order=$ORDER_REV
	for cfg in $order; do
		switch_to "$cfg" || die "setup of $cfg failed" "config_$cfg"
		[[ -e $RAW/describe.$cfg ]] || describe >"$RAW/describe.$cfg"
		# the bulk transfer first: the flood leaves nothing behind it then
		bulk "$pass" "$cfg" || FAILED=1
		flood "$pass" "$cfg" || FAILED=1
	done
	cfg_down || die "teardown after pass $pass" teardown
done
kill -0 "$SERVER_PID" 2>/dev/null || die "server exited: $(tail -c 300 "$LAB_TMP/server.log")" server
[[ -s $LAB_TMP/server.log ]] && note "server log: $(tail -c 300 "$LAB_TMP/server.log" | tr '\n' '|')"
((FAILED)) && die "a measurement failed" measure

# ---- results ----

jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
sysctls() { # NS NAME...: {"NAME":"value",...}
	local ns=$1 k
	shift
	for k in "$@"; do printf '%s\t%s\n' "$k" "$(in_ns "$ns" sysctl -n "$k" 2>/dev/null | tr '\t' ' ')"; done |
		python3 -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t", 1) for l in sys.stdin)))'
}
T1=$(date +%s)
CMD="SIZE=$SIZE PASSES=$PASSES CONFIGS='$CONFIGS' LEGIT_N=$LEGIT_N FLOOD_S=$FLOOD_S$( ((QUICK)) && echo ' QUICK=1') bench/proxy.sh"
{
	printf '{"command":%s,"date":"%s","duration_s":%d,"quick":%d,"passes":%d,"bytes":%d,"configs":"%s","port":%d,' \
		"$(jstr "$CMD")" "$(date -u '+%Y-%m-%d %H:%M UTC')" $((T1 - T0)) "$QUICK" "$PASSES" "$SIZE_B" "$CONFIGS" "$PORT"
	printf '"flood_s":%d,"warmup_s":%s,"legit":{"n":%d,"parallel":%d,"interval_s":%s,"timeout_s":%d},' \
		"$FLOOD_S" "$WARMUP" "$LEGIT_N" $LEGIT_PAR "$LEGIT_INTERVAL" $LEGIT_TIMEOUT
	printf '"cpu_router":%d,"cpu_ends":%d,"router_veths":["%s","%s"],"client_veth":"%s","kernel":"%s","cpu_model":"%s","nproc":%d,' \
		$CPU_RTR $CPU_ENDS "$IF_RC" "$IF_RS" "$IF_CLI" "$(uname -r)" \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$(nproc)"
	printf '"mtu":%s,"server_mss":%d,"server_wscale":%d,"xdpct_version":%s,"nft_version":%s,' \
		"$(link_mtu "$NS_RTR" "$IF_RC")" "$MSS" "$WSCALE" \
		"$(jstr "$("$XDPCT" --version 2>&1 | head -n 1)")" "$(jstr "$(nft --version | head -n 1)")"
	printf '"sysctls":{"router":%s,"router_under_nft":{"net.netfilter.nf_conntrack_tcp_loose":"0"},"server":%s,"client":%s},' \
		"$(sysctls "$NS_RTR" net.ipv4.ip_forward net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter \
			net.netfilter.nf_conntrack_tcp_loose net.netfilter.nf_conntrack_max)" \
		"$(sysctls "$NS_SRV" net.ipv4.tcp_rmem net.ipv4.tcp_wmem net.core.rmem_max net.ipv4.tcp_timestamps \
			net.ipv4.tcp_sack net.ipv4.tcp_window_scaling net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog \
			net.core.somaxconn net.ipv4.tcp_ecn)" \
		"$(sysctls "$NS_CLI" net.ipv4.ip_forward net.ipv4.tcp_rmem net.ipv4.tcp_timestamps net.ipv4.tcp_sack \
			net.ipv4.tcp_window_scaling net.ipv4.tcp_ecn net.ipv4.tcp_syn_retries)"
	printf '"nft_rules":%s,' "$(jstr "$NFT_RULES")"
	printf '"xdpct_cmd":%s,' "$(jstr "nsenter --net=/run/netns/ROUTER_NS -- build/xdpct attach ROUTER_CLIENT_VETH --ports $PORT --profile $PORT:proxy   (detached after each pass)")"
	printf '"flood_cmd":%s,' "$(jstr "nsenter --net=/run/netns/CLIENT_NS -- taskset -c $CPU_ENDS nice -n 5 build/synflood --dev CLIENT_VETH --dmac ROUTER_CLIENT_VETH_MAC --dst $S4 --dport $PORT --src-net $SPOOF_NET --mode syn --count 1000000000000 --rate 1e12 --timeout $FLOOD_CHUNK --seed S   (again and again, a new seed each time, until at least $FLOOD_S s have passed and the legitimate clients are done)")"
	printf '"legit_cmd":%s,' "$(jstr "nsenter --net=/run/netns/CLIENT_NS -- taskset -c $CPU_ENDS nice -n -10 build/tcppeer connect --addr $S4 --port $PORT --count $LEGIT_N --parallel $LEGIT_PAR --interval $LEGIT_INTERVAL --timeout $LEGIT_TIMEOUT --json   (${WARMUP} s after the flood's start)")"
	printf '"server_cmd":%s,' "$(jstr "nsenter --net=/run/netns/SERVER_NS -- taskset -c $CPU_ENDS nice -n -10 python3 mover.py serve $PORT")"
	printf '"bulk_cmd":%s,' "$(jstr "nsenter --net=/run/netns/CLIENT_NS -- taskset -c $CPU_ENDS nice -n -10 python3 mover.py up $S4 $PORT $SIZE_B")"
	printf '"router_threads":["%s","%s","ksoftirqd/%d"],' "$(printf 'napi/%s-' "$IF_RC" | cut -c1-15)" \
		"$(printf 'napi/%s-' "$IF_RS" | cut -c1-15)" $CPU_RTR
	printf '"qdisc":%s,' "$(jstr "$QDISC on the router's and the server's veths; on the client's during the upload only")"
	printf '"lab":%s}\n' "$(jstr "client ns $C4 [veth: xdp_pass] ---- [veth] router ns (ip_forward=1; route $SPOOF_NET via $C4) [veth] ---- [veth] server ns $S4; every veth: TSO off, GRO on, threaded NAPI, a pfifo queue (the client's: during the upload only); the router's two NAPI kthreads on CPU $CPU_RTR, router kthreads nice -10; everything else on CPU $CPU_ENDS (generator nice 5; client, server and their NAPI kthreads nice -10)")"
} >"$RAW/setup.json"
mkdir -p "$(dirname "$OUT")" || die "mkdir for $OUT" results
python3 - "$RAW" "$OUT" <<'EOF' || die "results" results
import glob, json, math, os, statistics, sys

raw, out = sys.argv[1:]
setup = json.load(open(os.path.join(raw, "setup.json")))
GIB = 1 << 30
BUSY = [0, 1, 2, 5, 6, 7]  # user nice system irq softirq steal
RTR = ("rtr_napi_cli", "rtr_napi_srv", "rtr_softirq")
IF_RC, IF_RS = setup["router_veths"]


def threads(path):
    d = {}
    for line in open(path):
        label, pid, ns = line.split()
        d[(label, pid)] = int(ns)
    return d


def kv(path):
    d = {}
    for line in open(path):
        w = line.split()
        if len(w) == 2 and w[1].lstrip("-").isdigit():
            d[w[0]] = int(w[1])
    return d


def links(path):
    d = {}
    for line in open(path):
        w = line.split()
        d[w[0]] = dict(zip(("rx_packets", "rx_dropped", "tx_packets", "tx_dropped"), map(int, w[1:])))
    return d


def cpu_busy_ns(path):
    v = [int(x) for x in open(path).read().split()[1:]]
    return sum(v[i] for i in BUSY if i < len(v)) * 1e9 / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


points = []
for meta in sorted(glob.glob(os.path.join(raw, "*.meta")), key=lambda p: int(os.path.basename(p)[:-5])):
    base = meta[:-5]
    pss, cfg, kind = open(meta).read().split()
    t0, t1 = threads(base + ".t0"), threads(base + ".t1")
    run, notes = {}, []
    for key in set(t0) | set(t1):
        if key not in t1:
            notes.append("%s %s exited during the measurement" % key)
            continue
        run[key[0]] = run.get(key[0], 0) + t1[key] - t0.get(key, 0)
        if key not in t0:
            notes.append("%s %s started during the measurement" % key)
    rtr_ns = sum(run.get(k, 0) for k in RTR)
    l0, l1 = links(base + ".l0"), links(base + ".l1")
    ld = {dev: {k: l1[dev][k] - l0[dev][k] for k in l1[dev]} for dev in l1 if dev in l0}
    c0, c1 = kv(base + ".c0"), kv(base + ".c1")
    wall_ns = int(open(base + ".w1").read()) - int(open(base + ".w0").read())
    busy = cpu_busy_ns(base + ".s1") - cpu_busy_ns(base + ".s0")
    rec = {"pass": int(pss), "config": cfg, "kind": kind, "window_s": wall_ns / 1e9,
           "router_cpu_ns": rtr_ns, "router_parts_ns": {k: run.get(k, 0) for k in RTR},
           "ends_napi_ns": {k: run.get(k, 0) for k in ("cli_napi", "srv_napi")},
           "cpu_router_busy_ns": busy, "links": ld,
           "counters": {k: c1[k] - c0[k] for k in c1 if k in c0 and c1[k] != c0[k]}}
    if kind == "bulk":
        cl = json.loads(open(base + ".client").read().strip().splitlines()[-1])
        rec.update(ok=cl["ok"], bytes=cl["bytes"], wall_s=cl["wall_ns"] / 1e9)
        if cl["ok"]:
            rec.update(gbit_s=cl["bytes"] * 8 / cl["wall_ns"],
                       router_ms_per_gib=rtr_ns / 1e6 * GIB / cl["bytes"],
                       cpu_router_busy_ms_per_gib=busy / 1e6 * GIB / cl["bytes"])
        else:
            rec["error"] = cl["error"]
            notes.append("the upload did not complete (%s): left out of the medians" % cl["error"])
    else:
        chunks = []
        for line in open(base + ".flood"):
            try:
                chunks.append(json.loads(line))
            except ValueError:
                pass
        chunks = [c for c in chunks if "sent" in c]
        fl = {"chunks": len(chunks), "sent": sum(c["sent"] for c in chunks),
              "failed": sum(c["failed"] for c in chunks), "elapsed_ms": sum(c["elapsed_ms"] for c in chunks)}
        fl["pps"] = fl["sent"] / (fl["elapsed_ms"] / 1e3) if fl["elapsed_ms"] else 0
        conns = []
        for line in open(base + ".legit"):
            try:
                conns.append(json.loads(line))
            except ValueError:
                pass
        ok = [c for c in conns if c.get("ok")]
        cms = [c["connect_ms"] for c in ok if c.get("connect_ms", -1) >= 0]
        tms = [c["total_ms"] for c in ok if "total_ms" in c]
        # frames the router's client-facing veth took in: the flood's
        # SYNs (and a few legitimate frames); what the client's veth could
        # not hand over (the router's ring full) never reached the router
        delivered = ld.get(IF_RC, {}).get("rx_packets", 0)
        tried = fl["sent"] + fl["failed"]
        rec.update(flood=fl, syns_sent=fl["sent"], gen_pps=fl["pps"],
                   # sendto() refused (ENOBUFS): the router's ring was full
                   syns_refused=fl["failed"], ring_full_frac=fl["failed"] / tried if tried else None,
                   offered_pps=tried / (fl["elapsed_ms"] / 1e3) if fl["elapsed_ms"] else None,
                   syns_delivered=delivered,
                   delivered_pps=delivered / (fl["elapsed_ms"] / 1e3) if fl["elapsed_ms"] else None,
                   client_veth_tx_dropped=ld.get(setup["client_veth"], {}).get("tx_dropped"),
                   router_ns_per_syn=rtr_ns / delivered if delivered else None,
                   # the router threads' share of CPU 1 over the measurement
                   router_busy_frac=rtr_ns / wall_ns if wall_ns else None,
                   cpu_router_busy_ns_per_syn=busy / delivered if delivered else None,
                   legit={"n": setup["legit"]["n"], "done": len(conns), "ok": len(ok),
                          "p50_ms": pct(cms, 50), "p99_ms": pct(cms, 99), "max_ms": max(cms) if cms else None,
                          # connect, header, digest: the whole exchange
                          "total_p50_ms": pct(tms, 50), "total_p99_ms": pct(tms, 99),
                          "during_flood": open(base + ".overlap").read().strip() == "1",
                          "errors": sorted({c.get("error", "") for c in conns if not c.get("ok")})[:5]})
    if notes:
        rec["notes"] = notes
    points.append(rec)

configs = setup["configs"].split()
med = statistics.median
passes = sorted({p["pass"] for p in points})


def get(kind, cfg, pss):
    return next((p for p in points if p["kind"] == kind and p["config"] == cfg and p["pass"] == pss), None)


summary = {}
for kind, metric in (("flood", "router_ns_per_syn"), ("bulk", "router_ms_per_gib")):
    s = {}
    for c in configs:
        r = [p for p in points if p["kind"] == kind and p["config"] == c and p.get(metric) is not None]
        if not r:
            continue
        v = {metric: med(p[metric] for p in r), metric + "_passes": [round(p[metric], 1) for p in r]}
        if kind == "flood":
            v.update(gen_pps=med(p["gen_pps"] for p in r), delivered_pps=med(p["delivered_pps"] for p in r),
                     offered_pps=med(p["offered_pps"] for p in r), ring_full_frac=med(p["ring_full_frac"] for p in r),
                     router_busy_frac=med(p["router_busy_frac"] for p in r),
                     cpu_router_busy_ns_per_syn=med(p["cpu_router_busy_ns_per_syn"] for p in r),
                     legit_ok=sum(p["legit"]["ok"] for p in r), legit_n=sum(p["legit"]["n"] for p in r),
                     legit_ok_passes=[p["legit"]["ok"] for p in r],
                     legit_p50_ms=med(p["legit"]["p50_ms"] for p in r if p["legit"]["p50_ms"] is not None)
                     if any(p["legit"]["p50_ms"] is not None for p in r) else None,
                     legit_p99_ms=med(p["legit"]["p99_ms"] for p in r if p["legit"]["p99_ms"] is not None)
                     if any(p["legit"]["p99_ms"] is not None for p in r) else None,
                     legit_during_flood=all(p["legit"]["during_flood"] for p in r))
        else:
            v.update(gbit_s=med(p["gbit_s"] for p in r),
                     cpu_router_busy_ms_per_gib=med(p["cpu_router_busy_ms_per_gib"] for p in r),
                     incomplete=sum(1 for p in points if p["kind"] == kind and p["config"] == c and not p["ok"]),
                     client_retrans_segs=med(p["counters"].get("cli_TcpRetransSegs", 0) for p in r))
        s[c] = v
    ratios = {}
    for num, den in (("xdpct", "nft"), ("xdpct", "plain"), ("nft", "plain"), ("floor", "plain"),
                     ("xdpct", "floor")):
        per = []
        for pss in passes:
            a, b = get(kind, num, pss), get(kind, den, pss)
            if a and b and a.get(metric) and b.get(metric):
                per.append(a[metric] / b[metric])
        if per:
            ratios["%s/%s" % (num, den)] = {"per_pass": [round(x, 3) for x in per], "median": med(per)}
    s["ratios"] = ratios
    summary[kind] = s

describe = {}
for p in glob.glob(os.path.join(raw, "describe.*")):
    describe[p.rsplit(".", 1)[1]] = open(p).read()
res = {"setup": setup, "summary": summary, "points": points, "attached": describe}
with open(out, "w") as f:
    json.dump(res, f, indent=1)
    f.write("\n")


def f1(x, nd=1):
    return "-" if x is None else "%.*f" % (nd, x)


print("\nxdpct proxy ports against nftables SYNPROXY on a router: %d pass(es), %s"
      % (setup["passes"], setup["date"]))
print("router CPU = run time of the router veths' NAPI kthreads and ksoftirqd/%d (CPU %d)"
      % (setup["cpu_router"], setup["cpu_router"]))
s = summary["flood"]
print("\nspoofed SYN flood at the generator's maximum (at least %d s, until the %d legitimate connections are done),"
      " medians over passes:" % (setup["flood_s"], setup["legit"]["n"]))
print("  %-6s %12s %12s %9s %11s %15s %12s %10s %10s   %s" % (
    "config", "SYN/s tried", "SYN/s in", "ring full", "router busy", "router ns/SYN", "legit ok", "p50 ms",
    "p99 ms", "router ns/SYN per pass"))
for c in configs:
    if c in s:
        v = s[c]
        print("  %-6s %12.0f %12.0f %8.1f%% %10.0f%% %15.1f %12s %10s %10s   %s" % (
            c, v["offered_pps"], v["delivered_pps"], v["ring_full_frac"] * 100, v["router_busy_frac"] * 100,
            v["router_ns_per_syn"],
            "%d/%d" % (v["legit_ok"], v["legit_n"]),
            f1(v["legit_p50_ms"], 2), f1(v["legit_p99_ms"], 2),
            " ".join("%.1f" % x for x in v["router_ns_per_syn_passes"])))
for k, r in s["ratios"].items():
    print("  %-12s router CPU per SYN %.3f (passes %s)" % (k, r["median"], " ".join("%.3f" % x for x in r["per_pass"])))
s = summary["bulk"]
print("\nno flood, one upload of %d bytes, medians over passes:" % setup["bytes"])
print("  %-6s %15s %9s %11s %11s   %s" % ("config", "router ms/GiB", "Gbit/s", "retransmits", "incomplete",
                                         "router ms/GiB per pass"))
for c in configs:
    if c in s:
        v = s[c]
        print("  %-6s %15.1f %9.2f %11d %11d   %s" % (c, v["router_ms_per_gib"], v["gbit_s"], v["client_retrans_segs"],
                                                   v["incomplete"],
                                              " ".join("%.1f" % x for x in v["router_ms_per_gib_passes"])))
for k, r in s["ratios"].items():
    print("  %-12s router CPU per GiB %.3f (passes %s)" % (k, r["median"], " ".join("%.3f" % x for x in r["per_pass"])))
for p in points:
    for n in p.get("notes", []):
        print("note: pass %d %s %s: %s" % (p["pass"], p["config"], p["kind"], n))
    if p["kind"] == "flood" and not p["legit"]["during_flood"]:
        print("note: pass %d %s: the flood stopped before the legitimate clients were done" % (p["pass"], p["config"]))
    print("pass %d %-5s %-5s counters: %s" % (p["pass"], p["config"], p["kind"],
                                            ", ".join("%s %d" % kv for kv in sorted(p["counters"].items()))))
    if p["kind"] == "flood" and p["legit"]["errors"]:
        print("note: pass %d %s: legitimate errors: %s" % (p["pass"], p["config"], "; ".join(p["legit"]["errors"])))
print("\nwritten: %s (run time %d s)" % (out, setup["duration_s"]))
EOF
lab_finish
