#!/bin/bash
# A full flow table: attach with a small --max-conns, fill both flow maps
# to their limit (and past it, round after round) with fake connections
# through the map API (build/mapfill), while a download runs and another
# connection sits idle. What xdpct must do with a full table (the LRU
# itself is the kernel's):
#  - the running download keeps flowing through the fill and after it, and
#    completes with the right digest;
#  - the idle connection, whose entry is gone (pushed out by the fill, or,
#    where the LRU kept it, deleted by the test as the LRU might have),
#    carries on when it speaks again: its entry comes back from the
#    kernel's socket into the full table (ct_readopt), its transfer
#    completes;
#  - new connections (IPv4, IPv6) complete through cookies and get entries;
#  - the counters explain it: an entry found missing is matched by a
#    re-adoption, and no legitimate packet was dropped.
# The download is paced by the server and its last 64 KiB wait for the
# test's release: it outlives the fill by construction.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
MAX=2048            # --max-conns
ROUNDS=8            # fills of MAX fake entries per family
BUSY_BYTES=64000000 # paced at 2 MB/s until released
BUSY_SPORT=40321
MAPFILL=$BUILD/mapfill

need_build "$XDPCT" "$TCPPEER" "$MAPFILL"
command -v curl >/dev/null || die "curl missing (make deps)" setup
lab_up

if ! xdpct_attach "$IF_SRV" "$PORT" --max-conns $MAX >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
pass attach
PIN4=$(pin_of "$IF_SRV")/xdpct_flows4
PIN6=$(pin_of "$IF_SRV")/xdpct_flows6
for m in "$PIN4" "$PIN6"; do
	me=$(bpftool map show pinned "$m" 2>/dev/null | grep -o 'max_entries [0-9]*' | grep -o '[0-9]*$')
	assert_eq "max_entries_$(basename "$m")" "$me" $MAX
done

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 4096 --timeout 120
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" server
for a in "$SRV4" "$SRV6"; do # neighbours resolved, paths warm
	in_cli timeout 10 "$TCPPEER" connect --addr "$a" --port $PORT --up 1k --down 1k \
		--timeout 5 >/dev/null 2>&1 || die "warm-up connection to $a failed" warmup
done

count() { "$MAPFILL" count "$1" 2>/dev/null; }
busy_present() { "$MAPFILL" has "$PIN4" "$CLI4" $BUSY_SPORT "$SRV4" $PORT >/dev/null 2>&1; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
busy_over() { (($(size_of "$LAB_TMP/busy.bin") > $1)); }
# the client port of the idle connection (one ESTABLISHED tcppeer socket)
idle_sport() {
	in_cli ss -Htn state established "( dport = :$PORT )" |
		awk '{ n = split($3, a, ":"); print a[n] }' | grep -vx $BUSY_SPORT | head -n 1
}
idle_present() { "$MAPFILL" has "$PIN4" "$CLI4" "$IDLE_SPORT" "$SRV4" $PORT >/dev/null 2>&1; }
# hex bytes of a dotted IPv4 address / a 16-bit port (network order)
hex4() { local IFS=.; printf '%02x %02x %02x %02x' $1; }
hex16() { printf '%02x %02x' $(($1 >> 8)) $(($1 & 255)); }
# idle_delete: its struct xdpct_flow4_key (raddr, laddr, rport, lport)
idle_delete() {
	# shellcheck disable=SC2046
	bpftool map delete pinned "$PIN4" key hex $(hex4 "$CLI4") $(hex4 "$SRV4") \
		$(hex16 "$IDLE_SPORT") $(hex16 $PORT)
}
# legitimate packets dropped by xdpct, summed (nothing if unreadable)
drops() {
	local n=0 c v
	stats_snap "$IF_SRV" || return 1
	for c in drop_no_flow drop_cookie_bad drop_cookie_stale drop_ct_invalid drop_ack_window \
		drop_rst_window drop_seq_window drop_error tc_no_listener tc_handoff_fail ct_pending_lost; do
		v=$(xstat $c)
		isnum "$v" || return 1
		n=$((n + v))
	done
	echo $n
}

# -- the established connections, opened before the fill --
bg_ns "$NS_CLI" "$LAB_TMP/busy.err" curl -sS --max-time 120 --local-port $BUSY_SPORT \
	-o "$LAB_TMP/busy.bin" "http://$SRV4:$PORT/$BUSY_BYTES?rate=2m&hold=$LAB_TMP/busy.release"
BUSY_PID=$BG_PID
# the idle one: its 24-byte header, then nothing until idle.release
bg_ns "$NS_CLI" "$LAB_TMP/idle.j" "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 256k \
	--down 256k --hold "$LAB_TMP/idle.release" --timeout 90 --json
IDLE_PID=$BG_PID
# flowing, and tracked
wait_until 30 busy_present || fail busy_entry_before "no flow entry for the download"
wait_until 30 busy_over 100000 ||
	die "download did not start: $(head -c 200 "$LAB_TMP/busy.err")" busy_started
IDLE_SPORT=
wait_until 30 test -n '$(idle_sport)' && IDLE_SPORT=$(idle_sport)
isnum "$IDLE_SPORT" || die "the idle connection did not connect: $(head -c 200 "$LAB_TMP/idle.j")" idle_started
wait_until 30 idle_present || fail idle_entry_before "no flow entry for the idle connection"

before4=$(count "$PIN4")
before6=$(count "$PIN6")
note "entries before the fill: flows4 $before4, flows6 $before6 (max $MAX each)"
stats_snap "$IF_SRV"
BASE_STATS=$XSTATS
D0=$(drops)

# -- fill, round after round: each round alone fills a table --
busy_lost=
t0=$(date +%s%N)
for ((r = 0; r < ROUNDS; r++)); do
	for m in "$PIN4" "$PIN6"; do
		"$MAPFILL" fill "$m" $MAX --start $((r * MAX)) --lport 9 >"$LAB_TMP/fill.out" 2>&1 ||
			die "mapfill fill $m: $(cat "$LAB_TMP/fill.out")" fill
	done
	[[ -z "$busy_lost" ]] && ! busy_present && busy_lost=$r
done
ms=$((($(date +%s%N) - t0) / 1000000))
after4=$(count "$PIN4")
after6=$(count "$PIN6")
idle_how="pushed out by the fill"
if idle_present; then
	idle_how="kept by the LRU, deleted by the test"
	require idle_entry_deleted "cannot delete the idle connection's entry" idle_delete
fi
idle_lost=1
note "entries after $ROUNDS rounds of $MAX per family ($ms ms): flows4 $after4, flows6 $after6; download's entry ${busy_lost:+lost in round $busy_lost}${busy_lost:-kept}; idle connection's entry $idle_how"
# the fill did fill the tables (LRU: within its per-CPU free lists of the
# limit); else nothing below is about a full table
FULL_MIN=$((MAX - 160 * $(nproc)))
((after4 >= FULL_MIN && after6 >= FULL_MIN)) ||
	die "the fill left flows4 $after4, flows6 $after6 (want >= $FULL_MIN)" fill_full

# -- the running download keeps flowing, completes --
s1=$(size_of "$LAB_TMP/busy.bin")
check busy_running_after_fill "curl ended at $s1 bytes: $(head -c 200 "$LAB_TMP/busy.err")" \
	kill -0 "$BUSY_PID"
# still paced (not released): the bytes after the fill went through the full table
if wait_until 30 busy_over $((s1 + 1000000)); then pass busy_flowing_after_fill; else
	fail busy_flowing_after_fill "$(($(size_of "$LAB_TMP/busy.bin") - s1)) bytes in 30 s after the fill"
fi
touch "$LAB_TMP/busy.release"
wait_pid "$BUSY_PID" 60
rc=$?
want=$("$TCPPEER" gen --bytes $BUSY_BYTES | sha256sum | cut -d' ' -f1)
got=$(sha256sum <"$LAB_TMP/busy.bin" | cut -d' ' -f1)
if ((rc == 0)) && [[ "$got" == "$want" ]]; then pass busy_download_complete; else
	fail busy_download_complete "curl rc $rc, $(size_of "$LAB_TMP/busy.bin") bytes, sha256 ${got:0:12} want ${want:0:12}: $(head -c 200 "$LAB_TMP/busy.err")"
fi

# -- the idle connection speaks again --
touch "$LAB_TMP/idle.release"
wait_pid "$IDLE_PID" 60
check_rc idle_transfer_after_fill $? "$(head -c 300 "$LAB_TMP/idle.j")"
# an entry of a live connection is there again (or never left)
check idle_entry_after_fill "no entry for the idle connection (port $IDLE_SPORT)" idle_present

# -- the counters explain it --
stats_snap "$IF_SRV"
readopt=$(diff_num "$(xstat ct_readopt)" "$(json_num ct_readopt <<<"$BASE_STATS")")
lost=$((idle_lost + (${#busy_lost} > 0)))
note "entries lost by live connections: $lost; ct_readopt +$readopt"
assert_ge readopt_covers_lost_entries "$readopt" "$lost"
assert_eq no_legit_drops "$(diff_num "$(drops)" "$D0")" 0

# -- new connections into the full table --
stats_snap "$IF_SRV"
BASE_STATS=$XSTATS
N4=20 N6=10
in_cli timeout 60 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 64k --down 64k \
	--count $N4 --parallel 4 --timeout 10 --json >"$LAB_TMP/new4.j" 2>&1
rc=$?
ok=$(grep -c '"ok":true' "$LAB_TMP/new4.j")
if ((rc == 0 && ok == N4)); then pass new_connections_ipv4; else
	fail new_connections_ipv4 "rc $rc, $ok/$N4 ok: $(grep -v '"ok":true' "$LAB_TMP/new4.j" | head -c 200)"
fi
in_cli timeout 60 "$TCPPEER" connect --addr "$SRV6" --port $PORT --up 64k --down 64k \
	--count $N6 --parallel 2 --timeout 10 --json >"$LAB_TMP/new6.j" 2>&1
rc=$?
ok=$(grep -c '"ok":true' "$LAB_TMP/new6.j")
if ((rc == 0 && ok == N6)); then pass new_connections_ipv6; else
	fail new_connections_ipv6 "rc $rc, $ok/$N6 ok: $(grep -v '"ok":true' "$LAB_TMP/new6.j" | head -c 200)"
fi
stats_snap "$IF_SRV"
d() { diff_num "$(xstat "$1")" "$(json_num "$1" <<<"$BASE_STATS")"; }
note "new connections: cookie_good +$(d cookie_good), pass_cookie +$(d pass_cookie), tc_handoff +$(d tc_handoff)"
assert_eq new_connections_cookie_good "$(d cookie_good)" $((N4 + N6))
assert_ge new_connections_handed_over "$(d tc_handoff)" $((N4 + N6))
# each got an entry in the full table (closed by now: TIME_WAIT)
n_new=$(in_srv timeout 30 "$XDPCT" conns "$IF_SRV" -j --port $PORT 2>/dev/null | grep '^{' |
	grep -c '"state":"TIME_WAIT"')
assert_ge new_connections_have_entries "$n_new" $((N4 + N6))
assert_eq new_connections_no_drops "$(diff_num "$(drops)" "$D0")" 0

# -- `xdpct run` over the full tables says so, as a warning --
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRV" --keep --evict-interval 0.5
RUN_PID=$BG_PID
full_logged() { grep -Eq 'warning: xdpct_flows4 is (8[0-9]|9[0-9]|100)% full \([0-9]+ of 2048 entries\)' "$LAB_TMP/run.log"; }
check run_warns_table_full "run log: $(head -c 400 "$LAB_TMP/run.log" | tr '\n' '|')" \
	wait_until 30 full_logged
stop_pid "$RUN_PID"

lab_finish
