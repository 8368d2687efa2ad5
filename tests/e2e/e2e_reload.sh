#!/bin/bash
# Hot reload: new programs replace the attached ones in place over the
# pinned maps, and no connection notices. A 100 MB download runs across
# `xdpct attach` on the attached interface and `xdpct reload`; handshakes
# pending at a full accept queue (the listener stopped: they cannot
# complete) at a reload are handed over by the new programs once it
# accepts again; a second 100 MB download runs across kill -9 of `xdpct
# run` and its restart. Each time: the digest is right, no reset anywhere
# (TcpEstabResets, TcpOutRsts on both ends), no drop counted, and the
# replaced programs and their private maps leave the kernel. The downloads
# are paced by the server and their last 64 KiB wait for the test's
# release: they span the swaps by construction. Reload refuses what it
# cannot do in place; SIGHUP makes `xdpct run` re-execute itself and take
# over in place.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P_DL=8080     # the downloads (tcppeer, HTTP mode)
P_Q=8081      # accept queue held: pending handshakes
BYTES=104857600
RATE=25m      # server-paced until released

need_build "$XDPCT" "$TCPPEER"
command -v curl >/dev/null || die "curl missing (make deps)" setup
lab_up

X() { in_srv timeout 30 "$XDPCT" "$@"; }
xdp_id() { X status "$IF_SRV" -j 2>/dev/null | grep -o '"xdp":{"id":[0-9]*,"attached":true' | grep -o '[0-9][0-9]*'; }
conns_j() { X conns "$IF_SRV" -j --port "$1" 2>/dev/null | grep '^{'; }
EXPECTED=$("$TCPPEER" gen --bytes $BYTES | sha256sum | cut -d' ' -f1)
drops() { # drops that only a broken reload would cause
	local n=0 c v
	stats_snap "$IF_SRV" || return 1
	for c in drop_no_flow drop_cookie_bad drop_cookie_stale drop_ct_invalid drop_ack_window \
		drop_rst_window drop_seq_window tc_no_listener tc_handoff_fail ct_pending_lost; do
		v=$(xstat $c)
		isnum "$v" || return 1 # unreadable: nothing, and the check fails
		n=$((n + v))
	done
	echo $n
}
download() { # NAME: start a paced download held until NAME.release; DL_PID
	bg_ns "$NS_CLI" "$LAB_TMP/$1.err" curl -sS --max-time 180 \
		-o "$LAB_TMP/$1.bin" "http://$SRV4:$P_DL/$BYTES?rate=$RATE&hold=$LAB_TMP/$1.release"
	DL_PID=$BG_PID
}
download_done() { # NAME: release, wait, check the digest
	touch "$LAB_TMP/$1.release"
	wait_pid "$DL_PID" 120
	local rc=$? got
	got=$(sha256sum <"$LAB_TMP/$1.bin" 2>/dev/null | cut -d' ' -f1)
	if ((rc == 0)) && [[ "$got" == "$EXPECTED" ]]; then pass "$1_digest"; else
		fail "$1_digest" "curl rc $rc, $(stat -c %s "$LAB_TMP/$1.bin" 2>/dev/null) bytes: $(head -c 200 "$LAB_TMP/$1.err")"
	fi
}
dl_established() { in_ns "$NS_SRV" ss -Htn state established "( sport = :$P_DL )" | grep -q .; }

bg_ns "$NS_SRV" "$LAB_TMP/srv.dl.log" "$TCPPEER" serve --port $P_DL --backlog 128 --timeout 150
wait_port "$NS_SRV" $P_DL 30 || die "no listener on $P_DL" servers
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $P_DL --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1 || die "warm-up connection failed" warmup

if ! xdpct_attach "$IF_SRV" "$P_DL,$P_Q" >"$LAB_TMP/attach.out" 2>&1; then
	die "attach: $(head -c 300 "$LAB_TMP/attach.out")" attach
fi
pass attach

# ---- a download across attach-again and reload ----
R0=$(tcp_resets) D0=$(drops) id0=$(xdp_id)
download reload
wait_until 30 dl_established || die "download not established" reload_setup
OLD=$(replaced_ids "$(attachment_ids "$IF_SRV")" "$(pinned_map_ids "$IF_SRV")")
X attach "$IF_SRV" --ports "$P_DL,$P_Q" >"$LAB_TMP/again.out" 2>&1
check_rc attach_again_reloads $? "$(head -c 300 "$LAB_TMP/again.out")"
note "$(cat "$LAB_TMP/again.out")"
if grep -q 'reloaded on .*programs replaced in place.*maps kept; protecting ports 8080-8081' "$LAB_TMP/again.out"; then
	pass attach_again_says_reloaded
else
	fail attach_again_says_reloaded "$(cat "$LAB_TMP/again.out")"
fi
id1=$(xdp_id)
[[ -n "$id1" && "$id1" != "$id0" ]] && pass attach_again_new_program ||
	fail attach_again_new_program "xdp id $id0 -> $id1"
check_freed attach_again_frees_replaced "$OLD"
OLD=$(replaced_ids "$(attachment_ids "$IF_SRV")" "$(pinned_map_ids "$IF_SRV")")
X reload "$IF_SRV" >"$LAB_TMP/reload.out" 2>&1
check_rc reload $? "$(head -c 300 "$LAB_TMP/reload.out")"
id2=$(xdp_id)
[[ -n "$id2" && "$id2" != "$id1" ]] && pass reload_new_program || fail reload_new_program "xdp id $id1 -> $id2"
check_freed reload_frees_replaced "$OLD"
# held by the server until released: alive unless the connection broke
kill -0 "$DL_PID" 2>/dev/null && pass reload_during_download ||
	fail reload_during_download "curl ended: $(head -c 200 "$LAB_TMP/reload.err")"
line=$(conns_j $P_DL | grep -v TIME_WAIT | head -n 1)
[[ "$(json_val state <<<"$line")" == ESTABLISHED ]] && pass reload_entry_kept ||
	fail reload_entry_kept "${line:-no entry}"
download_done reload
assert_eq reload_no_resets "$(diff_num "$(tcp_resets)" "$R0")" 0
assert_eq reload_no_drops "$(diff_num "$(drops)" "$D0")" 0

# ---- handshakes pending at a full accept queue, across a reload ----
# The listener is stopped (SIGSTOP) before the clients come: its queue
# (backlog 1) fills, the kernel drops every further child, and those
# flows stay pending in xdpct, with their handover attributes in
# xdpct_pending, until the listener accepts again: they are pending at
# the swap by construction. After the reload the listener resumes: the
# new programs must hand each of them over (the clients' retransmits)
# and retire their pending entries.
R0=$(tcp_resets) D0=$(drops)
bg_ns "$NS_SRV" "$LAB_TMP/srv.q.log" "$TCPPEER" serve --port $P_Q --backlog 1 --timeout 60
Q_SRV=$BG_PID
wait_port "$NS_SRV" $P_Q 30 || die "no listener on $P_Q" queue_setup
kill -STOP "$Q_SRV"
bg_ns "$NS_CLI" "$LAB_TMP/q.j" "$TCPPEER" connect --addr "$SRV4" --port $P_Q --count 6 \
	--parallel 6 --up 16k --down 64k --timeout 60 --json
Q_PID=$BG_PID
# the client ports of the pending flows (the opener's tuple comes first)
pending_sports() { conns_j $P_Q | grep '"PENDING"' | sed -n 's/.*"orig":{[^}]*"sport":\([0-9]*\).*/\1/p' | sort -u; }
# 6 clients, at most 2 children in the stopped listener's queue
four_pending() { (($(pending_sports | grep -c .) >= 4)); }
wait_until 30 four_pending
PEND=$(pending_sports)
n_pend=$(grep -c . <<<"$PEND")
n_map=$(pending_count "$IF_SRV")
note "pending at the swap: $n_pend flows (xdpct_pending: $n_map entries)"
assert_ge queue_pending_at_swap "$n_pend" 4
assert_ge queue_pending_map_at_swap "$n_map" "$n_pend"
stats_snap "$IF_SRV"
ho0=$(xstat tc_handoff)
X reload "$IF_SRV" >"$LAB_TMP/reload2.out" 2>&1
check_rc queue_reload $? "$(head -c 300 "$LAB_TMP/reload2.out")"
kill -CONT "$Q_SRV"
wait_pid "$Q_PID" 90
rc=$?
assert_eq queue_all_complete "$rc:$(grep -c '"ok":true' "$LAB_TMP/q.j")" "0:6"
# every flow pending at the swap was handed over by the new programs...
stats_snap "$IF_SRV"
assert_ge queue_pending_handed_over_after_reload "$(diff_num "$(xstat tc_handoff)" "$ho0")" "$n_pend"
# ...and left its pending state: none of those flows is pending now
left=$(comm -12 <(echo "$PEND") <(pending_sports))
# shellcheck disable=SC2086 # one line
assert_empty queue_pending_retired_after_reload "$(echo $left)"
assert_eq queue_pending_map_empty "$(pending_count "$IF_SRV")" 0
assert_eq queue_no_resets "$(diff_num "$(tcp_resets)" "$R0")" 0
assert_eq queue_no_drops "$(diff_num "$(drops)" "$D0")" 0

# ---- a download across kill -9 of xdpct run and a restart ----
bg_ns "$NS_SRV" "$LAB_TMP/run1.log" "$XDPCT" run "$IF_SRV" --evict-interval 0.2
RUN=$BG_PID
wait_until 30 grep -qs 'running on' "$LAB_TMP/run1.log" || fail run_takes_over "$(head -c 300 "$LAB_TMP/run1.log")"
grep -q 'reloaded on' "$LAB_TMP/run1.log" && pass run_takes_over ||
	fail run_takes_over "$(head -c 300 "$LAB_TMP/run1.log")"
R0=$(tcp_resets) D0=$(drops)
download restart
wait_until 30 dl_established || die "download not established" restart_setup
kill -KILL "$RUN"
wait "$RUN" 2>/dev/null
id3=$(xdp_id)
[[ -n "$id3" ]] && pass kill9_leaves_attached || fail kill9_leaves_attached "no attached XDP program"
OLD=$(replaced_ids "$(attachment_ids "$IF_SRV")" "$(pinned_map_ids "$IF_SRV")")
bg_ns "$NS_SRV" "$LAB_TMP/run2.log" "$XDPCT" run "$IF_SRV" --evict-interval 0.2
RUN=$BG_PID
wait_until 30 grep -qs 'running on' "$LAB_TMP/run2.log"
if grep -q 'reloaded on' "$LAB_TMP/run2.log"; then pass restart_reloads; else
	fail restart_reloads "$(head -c 300 "$LAB_TMP/run2.log")"
fi
check_freed restart_frees_replaced "$OLD"
kill -0 "$DL_PID" 2>/dev/null && pass restart_during_download ||
	fail restart_during_download "curl ended: $(head -c 200 "$LAB_TMP/restart.err")"
download_done restart
assert_eq restart_no_resets "$(diff_num "$(tcp_resets)" "$R0")" 0
assert_eq restart_no_drops "$(diff_num "$(drops)" "$D0")" 0

# ---- what a reload cannot do ----
# expect_refused NAME REGEX args...: one line, exit 1, the attachment intact
expect_refused() {
	local name=$1 re=$2 rc why='' before
	shift 2
	before=$(xdp_id)
	X reload "$IF_SRV" "$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
	rc=$?
	((rc == 1)) || why+="exit status $rc; "
	[[ "$(grep -c . "$LAB_TMP/err")" == 1 ]] || why+="$(grep -c . "$LAB_TMP/err") stderr lines; "
	grep -Eqi -- "$re" "$LAB_TMP/err" || why+="stderr does not match /$re/; "
	[[ "$(xdp_id)" == "$before" ]] || why+="the program changed; "
	if [[ -z "$why" ]]; then pass "$name"; else
		fail "$name" "${why}stderr: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
	fi
}
expect_refused reload_other_mode 'mode' --mode skb
expect_refused reload_other_size 'max-conns' --max-conns 4096
X reload nosuchif0 >/dev/null 2>"$LAB_TMP/err"
assert_eq reload_unknown_interface "$?:$(grep -c . "$LAB_TMP/err")" "1:1"

# ---- SIGHUP: the binary on disk takes over, same process ----
id4=$(xdp_id)
kill -HUP "$RUN"
n_running() { [[ "$(grep -c 'running on' "$LAB_TMP/run2.log")" == 2 ]]; }
if wait_until 30 n_running && kill -0 "$RUN" 2>/dev/null; then pass sighup_reexecs; else
	fail sighup_reexecs "$(tail -n 4 "$LAB_TMP/run2.log" | tr '\n' '|')"
fi
id5=$(xdp_id)
[[ -n "$id5" && "$id5" != "$id4" ]] && pass sighup_reloads_programs ||
	fail sighup_reloads_programs "xdp id $id4 -> $id5"

kill -TERM "$RUN"
wait_pid "$RUN" 10
check_rc run_stop $? "$(tail -n 2 "$LAB_TMP/run2.log")"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass run_stop_detaches; else fail run_stop_detaches "$WHY"; fi
lab_finish
