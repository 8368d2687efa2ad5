#!/bin/bash
# kill -9 of `xdpct run` under a SYN flood. One `xdpct run` per server
# veth (client link and attacker link); a paced SYN flood of spoofed
# sources comes in on the attacker link (build/bench/flood, live frames)
# and a 100 MB download runs over the client link. Both runs are killed
# with SIGKILL; with no run alive, the programs stay attached: the flood is
# still answered in XDP, no flood SYN leaves state, new legitimate
# connections complete. Restarted, each run reloads its programs in place
# over the pinned maps (same map ids, the download's entry kept). The
# download ends with the right digest, no reset on either end, no drop on
# the client link, and every legitimate connection of every phase (run
# alive, none alive, restarted) succeeds. The replaced programs and their
# private maps leave the kernel; the flood leaves no flow and no pending
# entry. The download is paced by the server and its last 64 KiB wait for
# the test's release: it spans the kill and the restart by construction.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
BYTES=104857600
RATE=10m                                 # server-paced until released
SYN_RATE=${KILLFLOOD_SYN_RATE:-20000}   # moderate: the lab has 2 CPUs
DEAD_S=${KILLFLOOD_DEAD_S:-1.5}          # how long no run is alive
N_LEGIT=10
FLOOD=$BUILD/bench/flood

need_build "$XDPCT" "$TCPPEER" "$BUILD/mapfill"
command -v curl >/dev/null || die "curl missing (make deps)" setup
if [[ ! -x "$FLOOD" ]]; then # bench/ is outside `make all`
	make -s -C "$ROOT" build/bench/flood >/dev/null 2>&1 || true
fi
need_build "$FLOOD"
lab_up attacker
# kill -9 leaves the run's lock file behind: ours only (unique names)
LOCKS=("$(in_srv "$XDPCT" pin-dir "$IF_SRV" --lock)" "$(in_srv "$XDPCT" pin-dir "$IF_SRVA" --lock)")
trap 'lab_down; rm -f "${LOCKS[@]}"; rmdir "${LOCKS[0]%/*}" 2>/dev/null' EXIT

X() { in_srv timeout 30 "$XDPCT" "$@"; }
xdp_id() { X status "$1" -j 2>/dev/null | grep -o '"xdp":{"id":[0-9]*,"attached":true' | grep -o '[0-9][0-9]*'; }
map_id() { bpftool map show pinned "$(pin_of "$1")/$2" 2>/dev/null | head -n 1 | cut -d: -f1; }
EXPECTED=$("$TCPPEER" gen --bytes $BYTES | sha256sum | cut -d' ' -f1)
drops() { # drops on the client link: none unless the data path broke
	local n=0 c v
	stats_snap "$IF_SRV" || return 1
	for c in drop_no_flow drop_cookie_bad drop_cookie_stale drop_ct_invalid drop_ack_window \
		drop_rst_window drop_seq_window drop_error tc_no_listener tc_handoff_fail ct_pending_lost; do
		v=$(xstat $c)
		isnum "$v" || return 1 # unreadable: nothing, and the check fails
		n=$((n + v))
	done
	echo $n
}
syn_atk() { stats_snap "$IF_SRVA" && echo "$(xstat syn_seen) $(xstat tx_synack)"; }
alive() { kill -0 "$1" 2>/dev/null; }

# run_start IFACE LOG [args]: RUN_PID
run_start() {
	local ifc=$1 log=$2
	shift 2
	bg_ns "$NS_SRV" "$log" "$XDPCT" run "$ifc" --evict-interval 0.5 "$@"
	RUN_PID=$BG_PID
	wait_until 30 grep -qs 'running on' "$log"
}
# legit PHASE: N_LEGIT connections over the client link, all must complete
legit() {
	in_cli timeout 60 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 16k --down 64k \
		--count $N_LEGIT --parallel 2 --interval 0.05 --timeout 10 --json \
		>"$LAB_TMP/legit.$1.j" 2>&1
	local rc=$? n
	n=$(grep -c '"ok":true' "$LAB_TMP/legit.$1.j")
	assert_eq "legit_${N_LEGIT}_$1" "$rc:$n" "0:$N_LEGIT"
}

bg_ns "$NS_SRV" "$LAB_TMP/srv.log" "$TCPPEER" serve --port $PORT --backlog 4096 --timeout 120
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" server
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1 || die "warm-up connection failed" warmup
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
[[ -n "$DMAC" ]] || die "no MAC for $IF_SRVA" setup

# ---- runs up, flood on, download running ----
LAB_ATTACHED+=("$IF_SRV" "$IF_SRVA")
run_start "$IF_SRV" "$LAB_TMP/run.cli.1.log" --ports $PORT || die "run on $IF_SRV: $(head -c 300 "$LAB_TMP/run.cli.1.log")" run
RUN_CLI=$RUN_PID
run_start "$IF_SRVA" "$LAB_TMP/run.atk.1.log" --ports $PORT || die "run on $IF_SRVA: $(head -c 300 "$LAB_TMP/run.atk.1.log")" run
RUN_ATK=$RUN_PID
pass runs_started
M4_CLI=$(map_id "$IF_SRV" xdpct_flows4) M4_ATK=$(map_id "$IF_SRVA" xdpct_flows4)
P_CLI=$(xdp_id "$IF_SRV") P_ATK=$(xdp_id "$IF_SRVA")

R0=$(tcp_resets) D0=$(drops)
bg_ns "$NS_ATK" "$LAB_TMP/flood.j" "$FLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
	--dport $PORT --src-net 10.201.0.0/16 --mode syn --rate "$SYN_RATE" --duration 120
FLOOD_PID=$BG_PID
flood_on() { read -r s _ <<<"$(syn_atk)" && isnum "$s" && ((s > 1000)); }
wait_until 30 flood_on || die "no flood SYN counted on $IF_SRVA" flood
note "flood on"

bg_ns "$NS_CLI" "$LAB_TMP/dl.err" curl -sS --max-time 180 \
	-o "$LAB_TMP/dl.bin" "http://$SRV4:$PORT/$BYTES?rate=$RATE&hold=$LAB_TMP/dl.release"
DL_PID=$BG_PID
dl_established() { in_srv ss -Htn state established "( sport = :$PORT )" | grep -q .; }
wait_until 30 dl_established || die "no established download" download_started
legit run_alive
# the runs say what they see: a SYN flood on the attacker's link (20,000/s
# against the default threshold of 10,000/s), none on the client's
check run_logs_syn_flood "run log: $(head -c 300 "$LAB_TMP/run.atk.1.log" | tr '\n' '|')" \
	wait_until 10 grep -q "warning: SYN flood on $IF_SRVA: [0-9]* SYN/s" "$LAB_TMP/run.atk.1.log"
if grep -q 'flood on' "$LAB_TMP/run.cli.1.log"; then
	fail run_no_flood_on_client_link "$(grep 'flood on' "$LAB_TMP/run.cli.1.log" | head -n 1)"
else
	pass run_no_flood_on_client_link
fi

# ---- kill -9 both runs: nothing in user space ----
kill -KILL "$RUN_CLI" "$RUN_ATK"
wait "$RUN_CLI" "$RUN_ATK" 2>/dev/null
t_kill=$(date +%s%N)
if alive "$RUN_CLI" || alive "$RUN_ATK"; then die "a run is still alive after SIGKILL" runs_killed; fi
if isnum "$P_CLI" && isnum "$P_ATK"; then
	assert_eq kill9_leaves_programs "$(xdp_id "$IF_SRV"):$(xdp_id "$IF_SRVA")" "$P_CLI:$P_ATK"
else
	fail kill9_leaves_programs "program ids before the kill unreadable: '$P_CLI' '$P_ATK'"
fi
# what the restart must replace: programs and private maps, not the pins
OLD_CLI=$(replaced_ids "$(attachment_ids "$IF_SRV")" "$(pinned_map_ids "$IF_SRV")")
OLD_ATK=$(replaced_ids "$(attachment_ids "$IF_SRVA")" "$(pinned_map_ids "$IF_SRVA")")
read -r s0 t0 <<<"$(syn_atk)"
legit no_run_alive
sleep "$DEAD_S"
read -r s1 t1 <<<"$(syn_atk)"
note "with no run alive: $(diff_num "$s1" "$s0") flood SYNs counted, $(diff_num "$t1" "$t0") SYN-ACKs sent in XDP"
assert_gt flood_answered_without_run "$(diff_num "$t1" "$t0")" 0
# counters read under the flood, one after the other: a NAPI batch (64)
# may fall between them; the exact check comes once the flood stopped
d=$(diff_num "$(diff_num "$t1" "$t0")" "$(diff_num "$s1" "$s0")")
d=${d#-}
assert_le flood_all_answered_without_run "$d" 64
alive "$FLOOD_PID" || fail flood_still_on "the generator ended: $(head -c 200 "$LAB_TMP/flood.j")"
# held by the server until released: alive unless the connection broke
check download_across_kill "curl ended: $(head -c 200 "$LAB_TMP/dl.err")" alive "$DL_PID"

# ---- restart: reload in place over the pinned maps ----
run_start "$IF_SRV" "$LAB_TMP/run.cli.2.log"
RUN_CLI=$RUN_PID
run_start "$IF_SRVA" "$LAB_TMP/run.atk.2.log"
RUN_ATK=$RUN_PID
dead_ms=$((($(date +%s%N) - t_kill) / 1000000))
note "no run alive for $dead_ms ms (at least ${DEAD_S} s by construction)"
for l in cli atk; do
	if grep -q 'reloaded on' "$LAB_TMP/run.$l.2.log"; then pass "restart_${l}_reloads"; else
		fail "restart_${l}_reloads" "$(head -c 300 "$LAB_TMP/run.$l.2.log")"
	fi
done
if isnum "$M4_CLI" && isnum "$M4_ATK"; then
	assert_eq restart_adopts_maps "$(map_id "$IF_SRV" xdpct_flows4):$(map_id "$IF_SRVA" xdpct_flows4)" \
		"$M4_CLI:$M4_ATK"
else
	fail restart_adopts_maps "map ids before the kill unreadable: '$M4_CLI' '$M4_ATK'"
fi
p1=$(xdp_id "$IF_SRV") p2=$(xdp_id "$IF_SRVA")
check restart_new_programs "xdp ids $P_CLI/$P_ATK -> $p1/$p2" \
	test -n "$p1" -a -n "$p2" -a "$p1" != "$P_CLI" -a "$p2" != "$P_ATK"
# the replaced programs and their private maps leave the kernel
check_freed restart_frees_replaced_cli "$OLD_CLI"
check_freed restart_frees_replaced_atk "$OLD_ATK"
line=$(X conns "$IF_SRV" -j --port $PORT 2>/dev/null | grep '^{' | grep ESTABLISHED | head -n 1)
check restart_download_entry_kept "no ESTABLISHED entry: $(X conns "$IF_SRV" -j --port $PORT 2>&1 | head -c 300)" test -n "$line"
check download_across_restart "curl ended: $(head -c 200 "$LAB_TMP/dl.err")" alive "$DL_PID"
legit restarted
touch "$LAB_TMP/dl.release"

# ---- the download ends; the flood stops ----
wait_pid "$DL_PID" 120
rc=$?
got=$(sha256sum <"$LAB_TMP/dl.bin" 2>/dev/null | cut -d' ' -f1)
if ((rc == 0)) && [[ "$got" == "$EXPECTED" ]]; then pass download_digest; else
	fail download_digest "curl rc $rc, $(stat -c %s "$LAB_TMP/dl.bin" 2>/dev/null) bytes: $(head -c 200 "$LAB_TMP/dl.err")"
fi
assert_eq no_resets "$(diff_num "$(tcp_resets)" "$R0")" 0
assert_eq no_drops_client_link "$(diff_num "$(drops)" "$D0")" 0
alive "$FLOOD_PID" || fail flood_on_to_the_end "the generator ended early: $(head -c 200 "$LAB_TMP/flood.j")"
kill -TERM "$FLOOD_PID"
wait_pid "$FLOOD_PID" 30 || fail flood_report "generator: $(head -c 300 "$LAB_TMP/flood.j")"
note "flood: $(head -c 400 "$LAB_TMP/flood.j")"
delivered=$(json_num delivered <"$LAB_TMP/flood.j")
read -r s2 t2 <<<"$(syn_atk)"
note "attacker link: syn_seen $s2, tx_synack $t2; generator delivered ${delivered:-?}"
assert_ge flood_syn_seen "$s2" "$delivered"
assert_eq flood_all_answered "$t2" "$s2"
assert_eq flood_no_state "$(flows_count "$IF_SRVA")" 0
assert_eq flood_no_pending "$(pending_count "$IF_SRVA")" 0
assert_eq kernel_no_cookies "$(nstat_get "$NS_SRV" TcpExtSyncookiesSent)" 0

# ---- stop: detach ----
kill -TERM "$RUN_CLI" "$RUN_ATK"
wait_pid "$RUN_CLI" 10
r1=$?
wait_pid "$RUN_ATK" 10
assert_eq runs_stop "$r1:$?" "0:0"
for l in cli:"$IF_SRV" atk:"$IF_SRVA"; do
	if nothing_attached "$NS_SRV" "${l#*:}"; then pass "run_stop_detaches_${l%%:*}"; else
		fail "run_stop_detaches_${l%%:*}" "$WHY"
	fi
done
lab_finish
