#!/bin/bash
# Macro benchmark: SYN floods, and ACK, RST, FIN and mixed ones, in a veth
# lab, each defender in the same run, interleaved point by point so that a
# noisy neighbour hits all of them alike; PASSES sweeps (the order of
# defenders reversed every other pass), pooled or taken the median of by
# bench/report.py.
#   bench/macro.sh RAW_DIR      (QUICK=1: fewer rates, shorter windows)
# Overrides: RATES="50000 0" (SYN/s, 0 = maximum), DEFENDERS, PASSES,
# EXTRA_MODES="ack rst fin mixed" (floods at the maximum rate after the SYN
# sweep of each pass; QUICK: none), PROFILE=0|1 (an extra perf-sampled
# flood at the maximum per defender; xdpct's also line by line),
# PROFILE_MODES="syn rst" (the kinds of those floods: SYN for every
# defender but floor_drop; ACK, RST or FIN for floor_read and xdpct, files
# named DEF.MODE; default: syn, and rst when EXTRA_MODES has it).
# Writes RAW_DIR/points.jsonl (one object per flood) and RAW_DIR/setup.json;
# bench/report.py turns them into bench/results/macro.json.
#
# Lab (tests/lib.sh): the attacker (bench/flood, live frames) and the
# legitimate client have separate veths to the server (SYN-ACKs to spoofed
# sources must not load the client's veth).
# CPU 0: generator (nice 5), the attacker's and the client's NAPI, the
# client (client NAPI and processes at nice -10: it stands for another host).
# CPU 1: the server: NAPI of both server veths (threaded, pinned), the
# listener. Server CPU per SYN = run time of the server's NAPI kthreads and
# ksoftirqd/1 over the flood / SYNs that reached the server.
# Defenders: floor_drop and floor_tx (bench/floors.bpf.c: XDP_DROP, swap
# MACs + XDP_TX; no legit clients), kernel (tcp_syncookies=1, backlog
# 4096), nft (SYNPROXY), xdpct.
# Extra floods: ack (random cookies), rst, fin (FIN|ACK of unknown tuples)
# against floor_drop (their floor: nothing to answer), floor_read (the
# headers read, then XDP_DROP) and the peers; mixed
# (SYN, ACK, RST in turn) against the peers only, legit clients meanwhile.
# shellcheck source=tests/lib.sh
TEST_NAME=bench_macro
source "$(dirname "$0")/../tests/lib.sh"

RAW=${1:?usage: bench/macro.sh RAW_DIR}
QUICK=${QUICK:-0}
FLOOD=$BUILD/bench/flood
FLOORS=$BUILD/bench/floors.bpf.o
JITLINES=$BUILD/bench/jitlines
PORT=8080
CPU_GEN=0
CPU_SRV=1

if ((QUICK)); then
	RATES=${RATES-"100000 0"}
	PASSES=${PASSES:-1}
	DEFENDERS=${DEFENDERS:-"floor_tx xdpct kernel nft"}
	EXTRA_MODES=${EXTRA_MODES-""}
	MIN_WINDOW=1.5
	LEGIT_N=200
	LEGIT_PAR=4
	LEGIT_INTERVAL=0.01
else
	RATES=${RATES-"50000 100000 200000 400000 1000000 0"}
	PASSES=${PASSES:-3} # the extra floods are reported as medians of passes
	# xdpct next to its floors, in both orders of the passes: their
	# ratio is taken seconds apart, not a whole round of peers apart
	DEFENDERS=${DEFENDERS:-"floor_drop floor_tx xdpct kernel nft"}
	EXTRA_MODES=${EXTRA_MODES-"ack rst fin mixed"}
	MIN_WINDOW=4
	LEGIT_N=200
	LEGIT_PAR=4
	LEGIT_INTERVAL=0.04
fi
PROFILE=${PROFILE:-$((QUICK ? 0 : 1))}
if [[ -z ${PROFILE_MODES:-} ]]; then
	PROFILE_MODES=syn
	[[ " $EXTRA_MODES " == *" rst "* ]] && PROFILE_MODES+=" rst"
fi
for m in $PROFILE_MODES; do
	[[ $m == @(syn|ack|rst|fin) ]] || die "PROFILE_MODES: $m is not syn, ack, rst or fin" setup
done
WARMUP=0.6       # flood start -> legit clients (the flood attaches its sink first)
LEGIT_TIMEOUT=5  # per connect; a failure, not a hang
NPROC=$(nproc)
for m in $EXTRA_MODES; do
	[[ $m == @(ack|rst|fin|mixed) ]] || die "EXTRA_MODES: $m is not ack, rst, fin or mixed" setup
done

mkdir -p "$RAW" || exit 2
: >"$RAW/points.jsonl"
((NPROC >= 2)) || die "needs 2 CPUs (generator and server apart), have $NPROC" cpus
need_build "$XDPCT" "$TCPPEER" "$FLOOD" "$FLOORS" "$JITLINES"
command -v nft >/dev/null || die "nft missing (make bench installs nftables)" nft

lab_up attacker
note "lab: server $NS_SRV ($IF_SRV client link, $IF_SRVA attacker link)"

# ---- lab plumbing ----

# XDP on a veth gives it NAPI; then threaded NAPI (a kthread we can pin).
# dev->threaded survives detach/attach, the kthread does not: re-pin.
set_threaded() { # NS DEV
	ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" 2>/dev/null
}
pin_napi() { # DEV CPU
	local pat="napi/$1-" p n=0
	pat=${pat:0:15}
	for p in $(pgrep "^${pat}"); do
		taskset -pc "$2" "$p" >/dev/null && n=$((n + 1))
	done
	((n > 0))
}
srv_xdp() { # DEV PROGRAM: a floors.bpf.o program on a server veth
	ip -force -n "$NS_SRV" link set dev "$1" xdp obj "$FLOORS" program "$2"
}
srv_xdp_off() { ip -n "$NS_SRV" link set dev "$1" xdp off 2>/dev/null; }
pin_all() {
	local ok=0
	wait_until 2 pin_napi "$IF_SRVA" $CPU_SRV || ok=1
	wait_until 2 pin_napi "$IF_SRV" $CPU_SRV || ok=1
	pin_napi "$IF_CLI" $CPU_GEN || ok=1
	# The legitimate client stands for another machine: its NAPI and its
	# processes run at nice -10, so that the generator's spin and the
	# attacker's reply processing, which share CPU 0 in a 2-vCPU lab, do
	# not delay it; the server side is untouched.
	local pat="napi/$IF_CLI-" p
	for p in $(pgrep "^${pat:0:15}"); do renice -n -10 -p "$p" >/dev/null; done
	return $ok
}

srv_xdp "$IF_SRVA" floor_pass || die "floor_pass on $IF_SRVA" setup
srv_xdp "$IF_SRV" floor_pass || die "floor_pass on $IF_SRV" setup
for d in "$NS_SRV:$IF_SRVA" "$NS_SRV:$IF_SRV" "$NS_CLI:$IF_CLI" "$NS_ATK:$IF_ATK"; do
	set_threaded "${d%%:*}" "${d#*:}" || die "threaded NAPI on ${d#*:}" setup
done
pin_all || die "could not pin the NAPI kthreads" setup
pin_napi "$IF_ATK" $CPU_GEN

# Spoofed sources are routed back over the attacker link: one neighbour
# (the attacker), as a router upstream would be.
in_srv ip route add 10.201.0.0/16 via "$ATK4" dev "$IF_SRVA" || die "route" setup
in_srv ip neigh replace "$ATK4" lladdr "$(link_mac "$NS_ATK" "$IF_ATK")" dev "$IF_SRVA" nud permanent ||
	die "neighbour entry for the attacker" setup
in_srv sysctl -qw net.ipv4.tcp_syncookies=1
WSCALE=$(expected_wscale "$NS_SRV")
MSS=$(($(link_mtu "$NS_SRV" "$IF_SRV") - 40))

bg_ns "$NS_SRV" "$LAB_TMP/server.log" taskset -c $CPU_SRV "$TCPPEER" serve --port $PORT --backlog 4096
SERVER_PID=$BG_PID
wait_port "$NS_SRV" $PORT 5 || die "tcppeer serve did not listen" server
in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --timeout 5 --json >/dev/null 2>&1 ||
	die "first legit connection failed" warmup
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
SERVER_COMM_A="napi/$IF_SRVA-"
SERVER_COMM_C="napi/$IF_SRV-"

# ---- defenders ----

NFT_RULES="table ip sp {
	chain pre { type filter hook prerouting priority raw; tcp dport $PORT tcp flags syn notrack; }
	chain in { type filter hook input priority filter;
		tcp dport $PORT ct state invalid,untracked synproxy mss $MSS wscale $WSCALE timestamp sack-perm;
		ct state invalid drop; }
}"

defender_up() {
	case $1 in
	floor_drop | floor_read | floor_tx)
		srv_xdp "$IF_SRVA" "$1" && srv_xdp "$IF_SRV" floor_pass ;;
	kernel)
		srv_xdp "$IF_SRVA" floor_pass && srv_xdp "$IF_SRV" floor_pass ;;
	nft)
		srv_xdp "$IF_SRVA" floor_pass && srv_xdp "$IF_SRV" floor_pass &&
			in_srv sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 &&
			in_srv nft -f - <<<"$NFT_RULES" ;;
	xdpct)
		srv_xdp_off "$IF_SRVA"
		srv_xdp_off "$IF_SRV"
		xdpct_attach "$IF_SRVA" $PORT >"$LAB_TMP/attach.out" 2>&1 &&
			xdpct_attach "$IF_SRV" $PORT >>"$LAB_TMP/attach.out" 2>&1 ;;
	*) return 1 ;;
	esac || return 1
	wait_until 2 pin_all
}

defender_down() {
	case $1 in
	nft)
		in_srv nft delete table ip sp
		in_srv sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1 ;;
	xdpct)
		in_srv timeout 30 "$XDPCT" detach "$IF_SRVA" >/dev/null 2>&1
		in_srv timeout 30 "$XDPCT" detach "$IF_SRV" >/dev/null 2>&1 ;;
	esac
	return 0
}

# Counters that explain a point: xdpct verdicts, or the kernel's cookies.
KCOUNTERS="TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed TcpExtListenOverflows TcpExtListenDrops TcpExtTCPReqQFullDoCookies"
XCOUNTERS="syn_seen tx_synack drop_cookie_bad drop_no_flow pass_cookie tc_handoff"
snap_counters() { # -> "name value" lines
	local c
	for c in $KCOUNTERS; do echo "$c $(nstat_get "$NS_SRV" "$c")"; done
	if [[ $1 == xdpct ]]; then
		stats_snap "$IF_SRVA" && for c in $XCOUNTERS; do echo "atk_$c $(xstat "$c")"; done
		stats_snap "$IF_SRV" && for c in $XCOUNTERS; do echo "cli_$c $(xstat "$c")"; done
	fi
}
counters_json() { # BEFORE_FILE AFTER_FILE -> {"name":delta,...}
	awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; printf "%s\"%s\":%d", (n++ ? "," : ""), $1, d }
	     BEGIN { printf "{" } END { printf "}" }' "$1" "$2"
}

# one_point DEFENDER MODE RATE [profile]: "profile" also samples the
# server CPU with perf (a separate point: sampling costs CPU too).
one_point() {
	local def=$1 mode=$2 rate=$3 prof=${4:-} legit=1 fj="$LAB_TMP/flood.j" lj="$LAB_TMP/legit.j"
	local fpid t_start t_legit_end overlap=0 rc ppid= tag=$1
	[[ $mode != syn ]] && tag+=.$mode
	[[ $def == floor_* ]] && legit=0
	snap_counters "$def" >"$LAB_TMP/c0"
	rm -f "$fj" "$lj"
	: >"$lj"
	if [[ $mode == none ]]; then
		# no flood: what the lab itself costs a legitimate connection
		bg_ns "$NS_ATK" "$fj" sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done'
		echo '{"mode":"none","sent":0}' >"$fj.none"
	else
		bg_ns "$NS_ATK" "$fj" nice -n 5 "$FLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
			--dport $PORT --src-net 10.201.0.0/16 --mode "$mode" --rate "$rate" --duration 60 \
			--cpu $CPU_GEN --sink --napi-cpu $CPU_GEN --watch-cpu $CPU_SRV \
			--watch-comm "napi/$IF_SRVA-,napi/$IF_SRV-,ksoftirqd/$CPU_SRV" \
			--peer-ns "/run/netns/$NS_SRV" --peer-dev "$IF_SRVA" --mss "$MSS" --wscale 7
	fi
	fpid=$BG_PID
	t_start=$(date +%s.%N)
	sleep $WARMUP
	if [[ -n $prof ]]; then
		perf record -q -C $CPU_SRV -e cpu-clock -F 4999 -o "$RAW/perf.$tag.data" -- sleep 2 \
			>/dev/null 2>&1 &
		ppid=$!
		LAB_PIDS+=("$ppid")
	fi
	if ((legit)); then
		in_cli timeout 120 nice -n -10 taskset -c $CPU_GEN "$TCPPEER" connect --addr "$SRV4" --port $PORT \
			--count $LEGIT_N --parallel $LEGIT_PAR --interval $LEGIT_INTERVAL \
			--timeout $LEGIT_TIMEOUT --json >"$lj" 2>"$LAB_TMP/legit.err"
	fi
	kill -0 "$fpid" 2>/dev/null && overlap=1
	[[ -n $ppid ]] && wait_pid "$ppid" 10
	t_legit_end=$(date +%s.%N)
	# the flood lasts at least MIN_WINDOW after its warm-up
	local left
	left=$(awk -v a="$t_start" -v b="$t_legit_end" -v w="$MIN_WINDOW" -v u="$WARMUP" \
		'BEGIN { l = a + u + w - b; print (l > 0 ? l : 0) }')
	sleep "$left"
	kill -TERM "$fpid" 2>/dev/null
	wait_pid "$fpid" 10
	rc=$?
	snap_counters "$def" >"$LAB_TMP/c1"
	[[ $mode == none ]] && mv "$fj.none" "$fj"
	if ((rc != 0)) || ! grep -q '"sent"' "$fj"; then
		note "flood failed ($def $mode $rate): $(head -c 300 "$fj")"
		return 1
	fi
	if [[ -n $prof ]]; then
		# all of CPU 1 was sampled: keep the server's threads (report.py
		# renormalises), other tenants of a shared machine show up too
		perf report -i "$RAW/perf.$tag.data" --stdio --no-children --sort comm,sym \
			--percent-limit 0.1 2>/dev/null | grep '%' >"$RAW/profile.$tag.txt"
		[[ $def == xdpct ]] && profile_lines "$tag"
		rm -f "$RAW/perf.$tag.data"
	fi
	python3 - "$def" "$mode" "$rate" "$fj" "$lj" "$overlap" "$legit" \
		"$(counters_json "$LAB_TMP/c0" "$LAB_TMP/c1")" "${prof:+1}" "$PASS" >>"$RAW/points.jsonl" <<'EOF'
import json, sys
d, mode, rate, fj, lj, overlap, legit, ctr, prof, npass = sys.argv[1:]
flood = json.loads(open(fj).read().strip().splitlines()[-1])
rec = {"defender": d, "mode": mode, "rate": int(rate), "pass": int(npass), "flood": flood,
       "counters": json.loads(ctr), "legit_overlap": overlap == "1",
       "profiled": prof == "1"}
if legit == "1":
    conns = []
    for line in open(lj):
        try:
            conns.append(json.loads(line))
        except ValueError:
            pass
    rec["legit"] = {"n": len(conns), "ok": sum(1 for c in conns if c.get("ok")),
                    "connect_ms": [c.get("connect_ms", -1) for c in conns],
                    "errors": sorted({c.get("error", "") for c in conns if not c.get("ok")})[:5]}
print(json.dumps(rec))
EOF
	local sp
	sp=$(json_num synack_pps <"$fj")
	note "$def $mode rate=$rate: $(json_val pps <"$fj") pps sent, $(json_val ring_drops <"$fj") ring drops, synack/s ${sp:-0}, server threads $(json_val threads_cpu_s <"$fj") s; legit $(grep -c '"ok":true' "$lj")/$LEGIT_N"
}

# profile_lines TAG: the samples of RAW/perf.TAG.data in the server's
# threads folded into the source lines of the XDP program on the attacker
# link, read while it is loaded (build/bench/jitlines,
# bench/profile_lines.py): RAW/profile_lines.TAG.{txt,json}.
profile_lines() {
	local id
	id=$(ip -n "$NS_SRV" -j link show dev "$IF_SRVA" | python3 -c \
		'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])' 2>/dev/null)
	if [[ -z $id ]] || ! "$JITLINES" "$id" >"$RAW/jitlines.$1.txt"; then
		note "no line profile for $1: no XDP program id on $IF_SRVA, or jitlines failed"
		return 0
	fi
	perf script -i "$RAW/perf.$1.data" -F comm,ip,sym,symoff 2>/dev/null |
		python3 bench/profile_lines.py "$RAW/jitlines.$1.txt" \
			--comm "${SERVER_COMM_A:0:15},${SERVER_COMM_C:0:15},ksoftirqd/$CPU_SRV" \
			--json "$RAW/profile_lines.$1.json" >"$RAW/profile_lines.$1.txt"
}

# extra_defenders MODE ORDER: who faces an extra flood, in ORDER. ACK, RST
# and FIN floods need no answer: their floor is XDP_DROP (floor_drop, also
# when ORDER names only floor_tx), next to floor_read (the headers read,
# then XDP_DROP: the first touch of the frame, which floor_drop never
# pays); the mixed flood carries the legitimate clients' points, which no
# floor serves.
extra_defenders() {
	local d f out=" "
	for d in $2; do
		if [[ $d == floor_* ]]; then
			[[ $1 == mixed ]] && continue
			for f in floor_drop floor_read; do
				[[ $out == *" $f "* ]] || out+="$f "
			done
			continue
		fi
		[[ $out == *" $d "* ]] || out+="$d "
	done
	out=${out# }
	echo "${out% }"
}

jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# setup.json: what the lab was
{
	printf '{"quick":%s,"passes":%d,"rates":[%s],"defenders":"%s","extra_modes":"%s",' "$QUICK" "$PASSES" \
		"$(tr ' ' ',' <<<"$RATES")" "$DEFENDERS" "$EXTRA_MODES"
	printf '"extra_defenders":{%s},' "$(for m in $EXTRA_MODES; do
		printf '%s"%s":"%s"' "${sep:-}" "$m" "$(extra_defenders "$m" "$DEFENDERS")"
		sep=,
	done)"
	printf '"min_window_s":%s,"legit":{"n":%d,"parallel":%d,"interval_s":%s,"timeout_s":%d},' \
		"$MIN_WINDOW" $LEGIT_N $LEGIT_PAR "$LEGIT_INTERVAL" $LEGIT_TIMEOUT
	printf '"cpu_gen":%d,"cpu_srv":%d,"mss":%d,"wscale":%d,"port":%d,' $CPU_GEN $CPU_SRV "$MSS" "$WSCALE" $PORT
	printf '"kernel":"%s","cpu_model":"%s","nproc":%d,' "$(uname -r)" \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$NPROC"
	printf '"tcp_max_syn_backlog":%s,"somaxconn":%s,"nft":"%s",' \
		"$(in_srv cat /proc/sys/net/ipv4/tcp_max_syn_backlog)" "$(in_srv cat /proc/sys/net/core/somaxconn)" \
		"$(nft --version | head -n 1)"
	printf '"flood_cmd":%s,' "$(jstr "nsenter --net=/run/netns/ATTACKER_NS -- nice -n 5 build/bench/flood --dev ATTACKER_VETH --dmac SERVER_VETH_MAC --dst $SRVA4 --dport $PORT --src-net 10.201.0.0/16 --mode MODE --rate RATE --duration 60 --cpu $CPU_GEN --sink --napi-cpu $CPU_GEN --watch-cpu $CPU_SRV --watch-comm napi/SERVER_VETH-,napi/SERVER_CLIENT_VETH-,ksoftirqd/$CPU_SRV --peer-ns /run/netns/SERVER_NS --peer-dev SERVER_VETH --mss $MSS --wscale 7   (stopped by SIGTERM after the legit clients, at least ${MIN_WINDOW} s after a ${WARMUP} s warm-up)")"
	printf '"legit_cmd":%s,' "$(jstr "nsenter --net=/run/netns/CLIENT_NS -- nice -n -10 taskset -c $CPU_GEN build/tcppeer connect --addr $SRV4 --port $PORT --count $LEGIT_N --parallel $LEGIT_PAR --interval $LEGIT_INTERVAL --timeout $LEGIT_TIMEOUT --json")"
	printf '"server_cmd":%s,' "$(jstr "nsenter --net=/run/netns/SERVER_NS -- taskset -c $CPU_SRV build/tcppeer serve --port $PORT --backlog 4096")"
	printf '"xdpct_cmd":%s,' "$(jstr "xdpct attach SERVER_VETH --ports $PORT; xdpct attach SERVER_CLIENT_VETH --ports $PORT")"
	printf '"floor_cmd":%s,' "$(jstr "ip -force -n SERVER_NS link set dev SERVER_VETH xdp obj build/bench/floors.bpf.o program floor_drop|floor_read|floor_tx|floor_pass")"
	printf '"versions":{"clang":%s,"libbpf":%s,"iproute2":%s,"gnuplot":%s},' \
		"$(jstr "$(clang --version | head -n 1)")" "$(jstr "$(pkg-config --modversion libbpf)")" \
		"$(jstr "$(ip -V)")" "$(jstr "$(gnuplot --version 2>/dev/null)")"
	printf '"server_comms":["%s","%s","ksoftirqd/%d"],' "${SERVER_COMM_A:0:15}" "${SERVER_COMM_C:0:15}" $CPU_SRV
	printf '"nft_rules":%s}\n' "$(jstr "$NFT_RULES")"
} >"$RAW/setup.json"

# Points: rate-major, defenders interleaved.
CUR=
switch_to() {
	[[ $CUR == "$1" ]] && return 0
	[[ -n $CUR ]] && defender_down "$CUR"
	CUR=
	defender_up "$1" || { note "setup of $1 failed: $(tail -c 300 "$LAB_TMP/attach.out" 2>/dev/null)"; return 1; }
	CUR=$1
	sleep 0.3
}
REVERSED=$(tr ' ' '\n' <<<"$DEFENDERS" | tac | tr '\n' ' ')
PASS=0
for pass in $(seq "$PASSES"); do
	PASS=$pass
	order=$DEFENDERS
	((pass % 2 == 0)) && order=$REVERSED # drift hits every defender alike
	for def in $order; do # the lab's own latency: legit clients, no flood
		[[ $def == floor_* ]] && continue
		switch_to "$def" || continue
		one_point "$def" none 0
	done
	for rate in $RATES; do
		for def in $order; do
			switch_to "$def" || continue
			one_point "$def" syn "$rate"
		done
	done
	for mode in $EXTRA_MODES; do # at the maximum: CPU per packet when it is scarce
		for def in $(extra_defenders "$mode" "$order"); do
			switch_to "$def" || continue
			one_point "$def" "$mode" 0
		done
	done
done
PASS=0 # the profiles: apart from the passes
if ((PROFILE)) && command -v perf >/dev/null; then
	for mode in $PROFILE_MODES; do
		if [[ $mode == syn ]]; then defs=${DEFENDERS/floor_drop/}; else defs="floor_read xdpct"; fi
		for def in $defs; do
			switch_to "$def" || continue
			one_point "$def" "$mode" 0 profile
		done
	done
fi
[[ -n $CUR ]] && defender_down "$CUR"
kill -0 "$SERVER_PID" 2>/dev/null || note "server exited: $(tail -c 300 "$LAB_TMP/server.log")"
note "points: $(wc -l <"$RAW/points.jsonl")"
exit 0
