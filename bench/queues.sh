#!/bin/bash
# More than one queue: a SYN flood at the maximum over an attacker link of
# one queue and over one of two, against floor_tx (swap MACs + XDP_TX) and
# xdpct, interleaved, PASSES times (the order reversed every other pass).
#   bench/queues.sh RAW_DIR       (QUICK=1: one pass, shorter floods)
# 1 queue: one generator on CPU 0, the server's NAPI on CPU 1, as in
# bench/macro.sh. 2 queues: a generator on each CPU; a veth hands a frame
# to the peer's queue of the sending CPU, so each queue is fed by one CPU,
# and its NAPI kthread (threaded, pinned) runs there. Generators at nice 5,
# as in bench/macro.sh, so that the NAPI kthreads beside them get most of a
# shared CPU. With 2 vCPUs the
# generators share the CPUs with the server: "scaling" here is what one
# more queue buys when both CPUs are busy, not a many-core figure.
# Figures per flood: answers/s (the sink on the attacker's veth counts
# every frame the server sends back), server CPU per SYN (run time of the
# server veth's NAPI kthreads and ksoftirqd of the CPUs it runs on / SYNs
# delivered to it). Writes RAW_DIR/points.jsonl; bench/report.py reads it.
# shellcheck source=tests/lib.sh
TEST_NAME=bench_queues
source "$(dirname "$0")/../tests/lib.sh"

RAW=${1:?usage: bench/queues.sh RAW_DIR}
QUICK=${QUICK:-0}
FLOOD=$BUILD/bench/flood
FLOORS=$BUILD/bench/floors.bpf.o
PORT=8080
if ((QUICK)); then
	PASSES=${PASSES:-1}
	DURATION=${DURATION:-1.5}
else
	PASSES=${PASSES:-3}
	DURATION=${DURATION:-4}
fi
DEFENDERS=${DEFENDERS:-"floor_tx xdpct"}

(($(nproc) >= 2)) || die "needs 2 CPUs, have $(nproc)" cpus
need_build "$XDPCT" "$FLOOD" "$FLOORS"
mkdir -p "$RAW" || exit 2
: >"$RAW/points.jsonl"

lab_begin "$NS_SRV" "$NS_ATK"
# one link per queue count, each to its own server address
declare -A SIF AIF SADDR
for q in 1 2; do
	SIF[$q]=xq${q}s$LAB_ID AIF[$q]=xq${q}a$LAB_ID SADDR[$q]=10.203.$q.1
	ip link add "${SIF[$q]}" numtxqueues $q numrxqueues $q netns "$NS_SRV" type veth \
		peer name "${AIF[$q]}" numtxqueues $q numrxqueues $q netns "$NS_ATK" ||
		die "veth with $q queues" setup
	in_srv ip addr add "${SADDR[$q]}/24" dev "${SIF[$q]}" &&
		in_atk ip addr add "10.203.$q.2/24" dev "${AIF[$q]}" &&
		in_srv ip link set dev "${SIF[$q]}" up && in_atk ip link set dev "${AIF[$q]}" up ||
		die "link $q up" setup
	# XDP gives a veth its NAPI (one per queue); threaded, so we can pin it
	ip -n "$NS_ATK" link set dev "${AIF[$q]}" xdp obj "$XDP_PASS_OBJ" sec xdp ||
		die "pass-through XDP on ${AIF[$q]}" setup
	ip -force -n "$NS_SRV" link set dev "${SIF[$q]}" xdp obj "$FLOORS" program floor_pass ||
		die "floor_pass on ${SIF[$q]}" setup
	for d in "$NS_SRV:${SIF[$q]}" "$NS_ATK:${AIF[$q]}"; do
		ip netns exec "${d%%:*}" sh -c "echo 1 > /sys/class/net/${d#*:}/threaded" ||
			die "threaded NAPI on ${d#*:}" setup
	done
done
bg_ns "$NS_SRV" "$LAB_TMP/server.log" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done'

# NAPI kthreads of DEV, oldest first (queue 0 first): one per queue
napi_pids() {
	local pat="napi/$1-"
	pgrep -o "^${pat:0:15}" >/dev/null || return 1
	ps -eo pid=,comm= --sort=start_time | awk -v p="${pat:0:15}" 'index($2, p) == 1 { print $1 }'
}
# pin DEV Q: with 1 queue its NAPI on CPU FIRST; with 2, queue i on CPU i
pin() { # DEV Q FIRST
	local i=0 p n=0
	for p in $(napi_pids "$1"); do
		taskset -pc $(($2 == 1 ? $3 : i % 2)) "$p" >/dev/null && n=$((n + 1))
		i=$((i + 1))
	done
	((n == $2))
}
pin_q() { pin "${SIF[$1]}" "$1" 1 && pin "${AIF[$1]}" "$1" 0; }

defender_up() { # DEF Q
	local dev=${SIF[$2]}
	case $1 in
	floor_tx) ip -force -n "$NS_SRV" link set dev "$dev" xdp obj "$FLOORS" program floor_tx ;;
	xdpct)
		ip -n "$NS_SRV" link set dev "$dev" xdp off
		xdpct_attach "$dev" $PORT >"$LAB_TMP/attach.out" 2>&1 ;;
	*) return 1 ;;
	esac || return 1
	wait_until 2 pin_q "$2"
}
defender_down() { # DEF Q
	[[ $1 == xdpct ]] && in_srv timeout 30 "$XDPCT" detach "${SIF[$2]}" >/dev/null 2>&1
	ip -force -n "$NS_SRV" link set dev "${SIF[$2]}" xdp obj "$FLOORS" program floor_pass
}

# rx_queue_N_xdp_packets and _xdp_tx of the server's veth, "N:packets:tx" per queue
queue_counts() {
	in_srv ethtool -S "$1" | awk '$1 ~ /^rx_queue_[0-9]+_xdp_(packets|tx):$/ {
		split($1, a, "_"); q = a[3]; if ($1 ~ /packets/) p[q] = $2; else t[q] = $2 }
		END { for (q in p) printf "%s:%s:%s\n", q, p[q], t[q] }' | sort -n
}

# one_point DEF Q PASS: Q generators at once, one per CPU; the first also
# counts the answers and the server's thread time
one_point() {
	local def=$1 q=$2 pass=$3 dev=${SIF[$2]} adev=${AIF[$2]} c pids=() comm cpus
	local dmac
	dmac=$(link_mac "$NS_SRV" "$dev")
	comm="napi/$dev-"
	comm=${comm:0:15}
	cpus=1
	((q == 2)) && cpus=0,1
	comm+=",ksoftirqd/1"
	((q == 2)) && comm+=",ksoftirqd/0"
	queue_counts "$dev" >"$LAB_TMP/q0"
	for ((c = 0; c < q; c++)); do
		local extra=()
		((c == 0)) && extra=(--sink --watch-comm "$comm" --watch-cpu "$cpus"
			--peer-ns "/run/netns/$NS_SRV" --peer-dev "$dev")
		bg_ns "$NS_ATK" "$LAB_TMP/f$c.j" nice -n 5 "$FLOOD" --dev "$adev" --dmac "$dmac" \
			--dst "${SADDR[$q]}" --dport $PORT --src-net 10.201.0.0/16 --mode syn --rate 0 \
			--duration "$DURATION" --cpu $c --mss 1460 --wscale 7 "${extra[@]}"
		pids+=("$BG_PID")
	done
	sleep 0.2
	pin_q "$q" || note "$def q$q: NAPI not pinned"
	for c in "${pids[@]}"; do wait_pid "$c" $((${DURATION%.*} + 20)); done
	queue_counts "$dev" >"$LAB_TMP/q1"
	for ((c = 0; c < q; c++)); do
		grep -q '"sent"' "$LAB_TMP/f$c.j" || {
			note "flood $c failed ($def q$q): $(head -c 300 "$LAB_TMP/f$c.j")"
			return 1
		}
	done
	python3 - "$def" "$q" "$pass" "$LAB_TMP/q0" "$LAB_TMP/q1" "$LAB_TMP"/f*.j >>"$RAW/points.jsonl" <<'EOF'
import json, sys
d, q, npass, q0, q1 = sys.argv[1:6]
fl = [json.loads(open(f).read().strip().splitlines()[-1]) for f in sys.argv[6:6 + int(q)]]
def qc(path):
    return {int(l.split(":")[0]): [int(x) for x in l.split(":")[1:]] for l in open(path) if l.strip()}
a, b = qc(q0), qc(q1)
# what each server queue's XDP program saw and sent back over the flood
per_q = [{"queue": k, "xdp_packets": b[k][0] - a.get(k, [0, 0])[0],
          "xdp_tx": b[k][1] - a.get(k, [0, 0])[1]} for k in sorted(b)]
print(json.dumps({"defender": d, "queues": int(q), "pass": int(npass), "floods": fl,
                  "server_queues": per_q}))
EOF
	rm -f "$LAB_TMP"/f*.j
	note "$def q$q pass $pass: $(tail -n 1 "$RAW/points.jsonl" | python3 -c '
import json, sys
p = json.loads(sys.stdin.read()); f = p["floods"]; a = f[0]
dl = sum(x["sent"] for x in f) - a["ring_drops"]
print("sent %d, delivered %d, answers/s %.0f, server threads %.3f s, per queue (xdp packets/tx) %s" % (
    sum(x["sent"] for x in f), dl, a.get("reply_pps", 0), a.get("threads_cpu_s", 0),
    " ".join("%d/%d" % (s["xdp_packets"], s["xdp_tx"]) for s in p["server_queues"])))')"
}

REVERSED=$(tr ' ' '\n' <<<"$DEFENDERS" | tac | tr '\n' ' ')
for pass in $(seq "$PASSES"); do
	order=$DEFENDERS
	((pass % 2 == 0)) && order=$REVERSED
	for def in $order; do
		for q in 1 2; do
			defender_up "$def" "$q" || die "$def on ${SIF[$q]}: $(cat "$LAB_TMP/attach.out" 2>/dev/null)" attach
			one_point "$def" "$q" "$pass"
			defender_down "$def" "$q"
		done
	done
done
note "points: $(wc -l <"$RAW/points.jsonl")"
exit 0
