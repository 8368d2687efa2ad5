#!/bin/bash
# Auto mode (`xdpct run --auto`): with no attack the kernel answers the
# protected port's SYNs (no SYN-ACK from XDP, the flows tracked); a SYN
# flood turns cookies on within a bound measured here, its end turns them
# off after the hold time, a second flood on again; real clients connect
# in every phase, every one; each switch is a log line, an event and a
# metric; the kernel sends no SYN cookie of its own; when run is gone
# (kill -9), cookies answer again within the claim's 3 s.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P=8080
P2=8081 # its profile's threshold: never reached here
RATE=300 HOLD=3
FLOOD_PPS=3000
MPORT=$((20000 + LAB_ID % 20000))

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD"
lab_up attacker
for port in $P $P2; do
	bg_ns "$NS_SRV" "$LAB_TMP/server$port.log" "$TCPPEER" serve --port $port --backlog 4096 --timeout 600
	wait_port "$NS_SRV" $port 10 || die "tcppeer serve did not listen on $port" server
done
X() { in_srv timeout 20 "$XDPCT" "$@"; }
st() { X stats "$IF_SRVA" -j 2>/dev/null | json_num "$1"; }
metric() { in_srv curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" | grep "^$1 " | cut -d' ' -f2; }
cookies_sent() { nstat_get "$NS_SRV" TcpExtSyncookiesSent; }
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")

LAB_ATTACHED+=("$IF_SRVA")
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRVA" --ports $P,$P2 --profile $P2:auto-rate=100000 --auto \
	--auto-syn-rate $RATE --auto-hold $HOLD --metrics "127.0.0.1:$MPORT"
RUN=$BG_PID
wait_grep 20 "auto mode on 2 ports" cat "$LAB_TMP/run.log" || die "run: $(cat "$LAB_TMP/run.log")" run
pass run_auto_started
nsenter --net="/run/netns/$NS_SRV" -- "$XDPCT" events "$IF_SRVA" -j >"$LAB_TMP/ev.j" 2>"$LAB_TMP/ev.err" &
EV=$!
LAB_PIDS+=("$EV")
wait_grep 10 "events of" cat "$LAB_TMP/ev.err" || die "events did not start" events
cs0=$(cookies_sent)
CLIENTS=0 CLIENTS_OK=0

# clients NAME N: N connections from the attacker namespace's own address
clients() {
	in_ns "$NS_ATK" timeout 60 "$TCPPEER" connect --addr $SRVA4 --port $P --up 16k --down 16k \
		--count "$2" --parallel 2 --timeout 10 --json >"$LAB_TMP/$1.j" 2>&1
	local ok
	ok=$(grep -c '"ok":true' "$LAB_TMP/$1.j")
	CLIENTS_OK=$((CLIENTS_OK + ok)) CLIENTS=$((CLIENTS + $2))
	assert_eq "$1_all_connected" "$ok" "$2"
}
flood() { # NET [PORT]: FLOOD_PPS a second for 3 s, in the background (FLOOD_PID)
	in_ns "$NS_ATK" timeout 40 "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst $SRVA4 --dport "${2:-$P}" \
		--src-net "$1" --count $((FLOOD_PPS * 3)) --rate $FLOOD_PPS --timeout 30 --seed $$ \
		>"$LAB_TMP/flood.j" 2>&1 &
	FLOOD_PID=$!
	LAB_PIDS+=("$FLOOD_PID")
}
cookies_on() { grep -q "port $P: .*SYN cookies on" "$LAB_TMP/run.log"; }

# ---- calm: the kernel answers ----
tx0=$(st tx_synack) k0=$(st auto_kernel_syn)
clients calm 10
assert_eq calm_no_cookie "$(diff_num "$(st tx_synack)" "$tx0")" 0
assert_ge calm_kernel_syns "$(diff_num "$(st auto_kernel_syn)" "$k0")" 10
assert_eq calm_metric_off "$(metric 'xdpct_auto_cookies{port="8080"}')" 0
X status "$IF_SRVA" -j | grep -q '"auto":\[{"port":8080,"cookies":false},{"port":8081,"cookies":false}\]' && pass status_kernel ||
	fail status_kernel "$(X status "$IF_SRVA" -j | grep -o '"auto":[^]]*]')"
n=$(X conns "$IF_SRVA" --port $P 2>/dev/null | grep -c "src=$ATK4 ")
assert_ge calm_flows_tracked "$n" 10

# ---- a flood: cookies on, clients still get through ----
t0=$(date +%s%N)
flood 10.208.0.0/16
wait_until 10 cookies_on
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
note "cookies on ${ms} ms after the flood started ($FLOOD_PPS SYNs/s, threshold $RATE/s)"
if cookies_on; then pass flood_cookies_on; else fail flood_cookies_on "$(tail -n 3 "$LAB_TMP/run.log")"; fi
# by the rate (the listener's drops may follow, the rate comes first)
grep -q "port $P: [0-9]* SYNs/s (over $RATE/s): SYN cookies on" "$LAB_TMP/run.log" && pass flood_by_rate ||
	fail flood_by_rate "$(grep "cookies on" "$LAB_TMP/run.log" | head -n 1)"
assert_le flood_switch_within_1500ms "$ms" 1500
tx0=$(st tx_synack)
clients attack 10
wait_pid "$FLOOD_PID" 40
assert_gt attack_cookies_answered "$(diff_num "$(st tx_synack)" "$tx0")" 10
assert_eq attack_metric_on "$(metric 'xdpct_auto_cookies{port="8080"}')" 1
# per port: the other one stays with the kernel
assert_eq attack_other_port_calm "$(metric 'xdpct_auto_cookies{port="8081"}')" 0
assert_eq threshold_run "$(metric 'xdpct_auto_threshold{port="8080"}')" $RATE
assert_eq threshold_profile "$(metric 'xdpct_auto_threshold{port="8081"}')" 100000
X status "$IF_SRVA" | grep -q "auto       $P:cookies $P2:kernel" && pass status_cookies || fail status_cookies "$(X status "$IF_SRVA" | grep auto)"

# ---- the flood is over: after the hold, the kernel again ----
cookies_off() { grep -q "port $P: .*cookies off, the kernel answers" "$LAB_TMP/run.log"; }
t0=$(date +%s%N)
wait_until $((HOLD + 10)) cookies_off
ms=$(((($(date +%s%N) - t0)) / 1000000))
note "cookies off ${ms} ms after the flood ended (hold $HOLD s)"
if cookies_off; then pass calm_again_cookies_off; else fail calm_again_cookies_off "$(tail -n 3 "$LAB_TMP/run.log")"; fi
assert_ge calm_again_after_hold "$ms" $((HOLD * 1000 - 500))
tx0=$(st tx_synack)
clients calm_again 10
assert_eq calm_again_no_cookie "$(diff_num "$(st tx_synack)" "$tx0")" 0

# ---- a second flood: on again ----
flood 10.209.0.0/16
wait_until 10 test "$(grep -c "SYN cookies on" "$LAB_TMP/run.log")" -ge 2
[[ $(grep -c "SYN cookies on" "$LAB_TMP/run.log") -ge 2 ]] && pass second_flood_on || fail second_flood_on "$(tail -n 3 "$LAB_TMP/run.log")"
clients second_attack 10
wait_pid "$FLOOD_PID" 40

# ---- the listener's signal: a flood under its port's threshold (the
# profile's 100000/s) whose SYNs the listener drops (spoofed sources it
# cannot answer: ListenDrops) ----
flood 10.210.0.0/16 $P2
wait_until 10 grep -q "port $P2: the listeners' queues overflowed: SYN cookies on" "$LAB_TMP/run.log"
grep -q "port $P2: the listeners' queues overflowed: SYN cookies on" "$LAB_TMP/run.log" &&
	pass listener_signal_cookies_on || fail listener_signal_cookies_on "$(grep "$P2" "$LAB_TMP/run.log" | tail -n 2)"
wait_pid "$FLOOD_PID" 40

assert_eq kernel_sent_no_cookies "$(diff_num "$(cookies_sent)" "$cs0")" 0
assert_ge metric_switches "$(metric 'xdpct_auto_switches_total{port="8080",to="cookies"}')" 2

# each switch an event
kill -INT "$EV"
wait_pid "$EV" 10
on=$(grep -c '"event":"COOKIES".*"port":8080,"cookies":true' "$LAB_TMP/ev.j")
off=$(grep -c '"event":"COOKIES".*"port":8080,"cookies":false' "$LAB_TMP/ev.j")
assert_ge events_on "$on" 2
assert_ge events_off "$off" 1

# ---- run gone: cookies within the claim's 3 s ----
kill -KILL "$RUN" 2>/dev/null
wait "$RUN" 2>/dev/null
sleep 3.5
tx0=$(st tx_synack)
clients run_gone 3
assert_ge run_gone_cookies "$(diff_num "$(st tx_synack)" "$tx0")" 3

# errors
out=$(X run "$IF_SRV" --ports $P --auto-hold 5 2>&1)
assert_eq err_hold_without_auto $? 2
out=$(X run "$IF_SRV" --observe $P --auto 2>&1)
assert_eq err_auto_without_ports $? 2
out=$(X run "$IF_SRV" --ports $P --auto --auto-syn-rate 0 2>&1)
assert_eq err_bad_rate $? 2

note "clients: $CLIENTS_OK of $CLIENTS connections completed across the phases"
lab_finish
