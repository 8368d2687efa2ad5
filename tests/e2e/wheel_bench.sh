#!/bin/bash
# Not a test (tests/run skips it): the figures of docs/conntrack.md
# "Eviction". Real connections in the veth lab end in TIME_WAIT while
# `xdpct run` removes them, once with the timer wheel (close events) and
# once with passes only (--no-wheel), interleaved, over N background
# entries (build/mapfill: ESTABLISHED, never expiring). Per run: lag from
# expiry to removal (avg from the metrics' histogram, max from the -v log),
# passes, and the CPU time of the xdpct run process over a fixed window.
#   tests/e2e/wheel_bench.sh [N...]        default: 100000 1000000
#   CONNS=200 SPREAD=10 TW=2 REPS=2        connections per run, spread
#                                          over SPREAD s; time_wait=TW;
#                                          runs of each mode per N
# One line per run on stdout ("entries=... mode=..."); timings are
# reported, never asserted.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
MPORT=9105
CONNS=${CONNS:-200}
SPREAD=${SPREAD:-10}
TW=${TW:-2}
REPS=${REPS:-2}
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(100000 1000000)
MAPFILL=$BUILD/mapfill
HZ=$(getconf CLK_TCK)

need_build "$XDPCT" "$TCPPEER" "$MAPFILL"
lab_up
bg_ns "$NS_SRV" "$LAB_TMP/srv.log" "$TCPPEER" serve --port $PORT --backlog 1024
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" servers

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
m() { # metric line value from the last scrape
	awk -v k="$1" '$1 == k {print $2; exit}' "$LAB_TMP/metrics.txt"
}

# one run: N MODE
one() {
	local n=$1 mode=$2 log=$LAB_TMP/run.$1.$2.log args=() c0 c1 t0 t1 window
	[[ $mode == passes ]] && args=(--no-wheel)
	bg_ns "$NS_SRV" "$log" "$XDPCT" run "$IF_SRV" --timeout "time_wait=$TW" --keep -v \
		--metrics "127.0.0.1:$MPORT" "${args[@]}"
	RUN=$BG_PID
	wait_until 20 grep -qs 'running on' "$log" || die "run did not start: $(head -c 300 "$log")" run
	sleep 3 # the first pass (a second at 1M entries) is over
	# the window: the connections, their TIME_WAIT, then room for the
	# slowest passes (20x a 1M-entry pass) to catch up
	window=$((SPREAD + TW + 25))
	t0=$(date +%s%N)
	c0=$(cpu_ticks "$RUN")
	in_cli "$TCPPEER" connect --addr "$SRV4" --port $PORT --count "$CONNS" --parallel 1 \
		--interval "$(awk -v s="$SPREAD" -v c="$CONNS" 'BEGIN {print s / c}')" \
		--up 100 --down 100 --timeout 5 >/dev/null 2>&1 || note "tcppeer failed ($n $mode)"
	while (($(date +%s%N) < t0 + window * 1000000000)); do sleep 0.5; done
	c1=$(cpu_ticks "$RUN")
	t1=$(date +%s%N)
	in_srv curl -sS --max-time 5 -o "$LAB_TMP/metrics.txt" "http://127.0.0.1:$MPORT/metrics"
	kill -TERM "$RUN"
	wait_pid "$RUN" 20 >/dev/null
	local ev bw bp lsum lcnt lmax passes psum cpu
	ev=$(m 'xdpct_evictions_total{map="xdpct_flows4",reason="time_wait"}')
	bw=$(m 'xdpct_eviction_lag_seconds_count{by="wheel"}')
	bp=$(m 'xdpct_eviction_lag_seconds_count{by="pass"}')
	lsum=$(awk '/^xdpct_eviction_lag_seconds_sum/ {s += $2} END {print s}' "$LAB_TMP/metrics.txt")
	lcnt=$(awk '/^xdpct_eviction_lag_seconds_count/ {s += $2} END {print s}' "$LAB_TMP/metrics.txt")
	lmax=$(grep -o 'latest [0-9.]* s after expiry' "$log" | awk '$2 > x {x = $2} END {print x + 0}')
	passes=$(m 'xdpct_eviction_pass_duration_seconds_count')
	psum=$(m 'xdpct_eviction_pass_duration_seconds_sum')
	cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {print (b - a) / hz}')
	awk -v n="$n" -v mode="$mode" -v conns="$CONNS" -v ev="$ev" -v bw="$bw" -v bp="$bp" \
		-v lsum="$lsum" -v lcnt="$lcnt" -v lmax="$lmax" -v passes="$passes" -v psum="$psum" \
		-v cpu="$cpu" -v win="$(((t1 - t0) / 1000000))" -v ws="$(m xdpct_wheel_seconds_total)" \
		-v ivl="$(m xdpct_eviction_pass_interval_seconds)" 'BEGIN {
		printf "entries=%d mode=%s conns=%d evicted=%d by_wheel=%d by_pass=%d lag_avg_s=%.3f lag_max_s=%.3f passes=%d pass_ms_avg=%.1f pass_interval_s=%.2f window_s=%.1f cpu_s=%.2f cpu_ms_per_s=%.2f cpu_us_per_eviction=%.0f wheel_us_per_eviction=%.1f\n",
			n, mode, conns, ev, bw, bp, lcnt ? lsum / lcnt : 0, lmax, passes,
			passes ? psum / passes * 1000 : 0, ivl, win / 1000, cpu, cpu * 1000 / (win / 1000),
			ev ? cpu * 1e6 / ev : 0, bw ? ws * 1e6 / bw : 0 }'
}

LAB_ATTACHED+=("$IF_SRV")
for n in "${SIZES[@]}"; do
	max=1048576
	((n >= max / 2)) && max=$((4 * n > 2097152 ? 2097152 : 4 * n))
	in_srv "$XDPCT" attach "$IF_SRV" --ports $PORT --max-conns $max >/dev/null 2>&1 ||
		die "attach --max-conns $max failed" attach
	"$MAPFILL" fill "$(pin_of "$IF_SRV")/xdpct_flows4" "$n" --lport 9 >/dev/null ||
		die "mapfill $n failed" fill
	note "$n background entries in a table of $max"
	for ((r = 0; r < REPS; r++)); do
		for mode in wheel passes; do
			one "$n" "$mode"
		done
	done
	in_srv "$XDPCT" detach "$IF_SRV" >/dev/null 2>&1
done
lab_finish
