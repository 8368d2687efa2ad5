#!/bin/bash
# Hot reload: new programs replace the attached ones in place over the
# pinned maps, and no connection notices. A 100 MB download runs across
# `xdpct attach` on the attached interface and `xdpct reload`; handshakes
# pending at a full accept queue run across a reload; a second 100 MB
# download runs across kill -9 of `xdpct run` and its restart. Each time:
# the digest is right, no reset anywhere (TcpEstabResets, TcpOutRsts on
# both ends), no drop counted. Reload refuses what it cannot do in place;
# SIGHUP makes `xdpct run` re-execute itself and take over in place.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P_DL=8080     # the downloads (tcppeer, HTTP mode)
P_Q=8081      # accept queue held: pending handshakes
BYTES=104857600
RATE=25M      # ~4 s per download

need_build "$XDPCT" "$TCPPEER"
command -v curl >/dev/null || die "curl missing (make deps)" setup
lab_up

X() { in_srv timeout 30 "$XDPCT" "$@"; }
xdp_id() { X status "$IF_SRV" -j 2>/dev/null | grep -o '"xdp":{"id":[0-9]*,"attached":true' | grep -o '[0-9][0-9]*'; }
conns_j() { X conns "$IF_SRV" -j --port "$1" 2>/dev/null | grep '^{'; }
EXPECTED=$("$TCPPEER" gen --bytes $BYTES | sha256sum | cut -d' ' -f1)
drops() { # drops that only a broken reload would cause
	local n=0 c
	stats_snap "$IF_SRV"
	for c in drop_no_flow drop_cookie_bad drop_cookie_stale drop_ct_invalid drop_ack_window \
		drop_rst_window tc_no_listener tc_handoff_fail ct_pending_lost; do
		n=$((n + $(xstat $c)))
	done
	echo $n
}
download() { # NAME: start a rate-limited download; DL_PID
	bg_ns "$NS_CLI" "$LAB_TMP/$1.err" curl -sS --max-time 40 --limit-rate $RATE \
		-o "$LAB_TMP/$1.bin" "http://$SRV4:$P_DL/$BYTES"
	DL_PID=$BG_PID
}
download_done() { # NAME: wait, check the digest
	wait_pid "$DL_PID" 40
	local rc=$? got
	got=$(sha256sum <"$LAB_TMP/$1.bin" 2>/dev/null | cut -d' ' -f1)
	if ((rc == 0)) && [[ "$got" == "$EXPECTED" ]]; then pass "$1_digest"; else
		fail "$1_digest" "curl rc $rc, $(stat -c %s "$LAB_TMP/$1.bin" 2>/dev/null) bytes: $(head -c 200 "$LAB_TMP/$1.err")"
	fi
}
dl_established() { in_ns "$NS_SRV" ss -Htn state established "( sport = :$P_DL )" | grep -q .; }

bg_ns "$NS_SRV" "$LAB_TMP/srv.dl.log" "$TCPPEER" serve --port $P_DL --backlog 128
wait_port "$NS_SRV" $P_DL 5 || die "no listener on $P_DL" servers
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $P_DL --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1 || die "warm-up connection failed" warmup

if ! xdpct_attach "$IF_SRV" "$P_DL,$P_Q" >"$LAB_TMP/attach.out" 2>&1; then
	die "attach: $(head -c 300 "$LAB_TMP/attach.out")" attach
fi
pass attach

# ---- a download across attach-again and reload ----
R0=$(tcp_resets) D0=$(drops) id0=$(xdp_id)
download reload
wait_until 5 dl_established || fail reload_setup "download not established"
sleep 1
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
sleep 0.5
X reload "$IF_SRV" >"$LAB_TMP/reload.out" 2>&1
check_rc reload $? "$(head -c 300 "$LAB_TMP/reload.out")"
id2=$(xdp_id)
[[ -n "$id2" && "$id2" != "$id1" ]] && pass reload_new_program || fail reload_new_program "xdp id $id1 -> $id2"
kill -0 "$DL_PID" 2>/dev/null && pass reload_during_download || fail reload_during_download "download over too soon"
line=$(conns_j $P_DL | grep -v TIME_WAIT | head -n 1)
[[ "$(json_val state <<<"$line")" == ESTABLISHED ]] && pass reload_entry_kept ||
	fail reload_entry_kept "${line:-no entry}"
download_done reload
assert_eq reload_no_resets "$(($(tcp_resets) - R0))" 0
assert_eq reload_no_drops "$(($(drops) - D0))" 0

# ---- handshakes pending at a full accept queue, across a reload ----
R0=$(tcp_resets) D0=$(drops)
bg_ns "$NS_SRV" "$LAB_TMP/srv.q.log" "$TCPPEER" serve --port $P_Q --backlog 1 --accept-delay 2.5 \
	--timeout 30
wait_port "$NS_SRV" $P_Q 5 || fail queue_setup "no listener on $P_Q"
bg_ns "$NS_CLI" "$LAB_TMP/q.j" "$TCPPEER" connect --addr "$SRV4" --port $P_Q --count 6 \
	--parallel 6 --up 16k --down 64k --timeout 20 --json
Q_PID=$BG_PID
has_pending() { conns_j $P_Q | grep -q '"PENDING"'; }
if wait_until 2 has_pending; then
	pass queue_pending_before_reload
	note "pending before reload: $(conns_j $P_Q | grep -c '"PENDING"')"
else
	fail queue_pending_before_reload "$(conns_j $P_Q | head -c 400)"
fi
X reload "$IF_SRV" >"$LAB_TMP/reload2.out" 2>&1
check_rc queue_reload $? "$(head -c 300 "$LAB_TMP/reload2.out")"
has_pending && pass queue_pending_after_reload || fail queue_pending_after_reload "no pending flow left"
wait_pid "$Q_PID" 25
rc=$?
assert_eq queue_all_complete "$rc:$(grep -c '"ok":true' "$LAB_TMP/q.j")" "0:6"
assert_eq queue_no_resets "$(($(tcp_resets) - R0))" 0
assert_eq queue_no_drops "$(($(drops) - D0))" 0

# ---- a download across kill -9 of xdpct run and a restart ----
bg_ns "$NS_SRV" "$LAB_TMP/run1.log" "$XDPCT" run "$IF_SRV" --evict-interval 0.2
RUN=$BG_PID
wait_until 10 grep -qs 'running on' "$LAB_TMP/run1.log" || fail run_takes_over "$(head -c 300 "$LAB_TMP/run1.log")"
grep -q 'reloaded on' "$LAB_TMP/run1.log" && pass run_takes_over ||
	fail run_takes_over "$(head -c 300 "$LAB_TMP/run1.log")"
R0=$(tcp_resets) D0=$(drops)
download restart
wait_until 5 dl_established || fail restart_setup "download not established"
sleep 1
kill -KILL "$RUN"
wait "$RUN" 2>/dev/null
id3=$(xdp_id)
[[ -n "$id3" ]] && pass kill9_leaves_attached || fail kill9_leaves_attached "no attached XDP program"
sleep 0.5
bg_ns "$NS_SRV" "$LAB_TMP/run2.log" "$XDPCT" run "$IF_SRV" --evict-interval 0.2
RUN=$BG_PID
wait_until 10 grep -qs 'running on' "$LAB_TMP/run2.log"
if grep -q 'reloaded on' "$LAB_TMP/run2.log"; then pass restart_reloads; else
	fail restart_reloads "$(head -c 300 "$LAB_TMP/run2.log")"
fi
kill -0 "$DL_PID" 2>/dev/null && pass restart_during_download || fail restart_during_download "download over too soon"
download_done restart
assert_eq restart_no_resets "$(($(tcp_resets) - R0))" 0
assert_eq restart_no_drops "$(($(drops) - D0))" 0

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
if wait_until 10 n_running && kill -0 "$RUN" 2>/dev/null; then pass sighup_reexecs; else
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
