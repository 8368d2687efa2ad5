#!/bin/bash
# xdpct run: bad input, then a run with timeouts scaled down to seconds:
# TIME_WAIT entries leave 2 s after their last packet (not before), an
# idle ESTABLISHED entry on an
# observed port leaves after its own timeout, a cookie flow whose child
# never comes (no listener, the kernel's RST held back by nft) leaves with
# its xdpct_pending entry once the pending timeout is over; the cookie key
# rotates on time (slots of ~1 s: --cookie-slot 1) and a client whose ACK
# is held across a rotation, within its cookie's slots, still gets in
# (previous key); SIGTERM detaches, --keep does not. The timer wheel: with
# passes 600 s apart (one at start), a closed connection's TIME_WAIT entry
# (time_wait=1) leaves after its expiry and long before the next pass, by
# the wheel (close events); with --no-wheel it is still there 1 s after
# its expiry. Evictions are judged by events against generous deadlines
# (never before the expiry; gone well before what a broken eviction would
# take); how soon after expiry is measured in docs/conntrack.md.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P_TW=8080     # protected: connections that end in TIME_WAIT
P_PEND=8085   # protected, no listener: pending cookie flows
P_KEY=8086    # protected: the ACK held across a key rotation
P_OBS=8090    # observed: an idle established connection
TW=2 EST=3 PEND=3 ROT=4 IVL=0.2
DEADLINE=30     # s after an expiry: gone by then, or eviction is broken

need_build "$XDPCT" "$TCPPEER"
command -v nft >/dev/null || die "nft missing (make deps)" setup
lab_up

X() { in_srv timeout 20 "$XDPCT" "$@"; }
conns_j() { X conns "$IF_SRV" -j --port "$1" 2>/dev/null | grep '^{'; }
n_entries() { conns_j "$1" | grep -c .; }
# wait_gone PORT TIMEOUT_S: GONE_MS set when PORT's entries are gone (the
# time of the first poll that saw none), else ""
wait_gone() {
	local end=$(($(now_ms) + $2 * 1000)) n
	GONE_MS=
	while (($(now_ms) < end)); do
		n=$(n_entries "$1")
		if [[ "$n" == 0 ]]; then GONE_MS=$(now_ms); return 0; fi
		sleep 0.05
	done
	return 1
}
wait_tw_gone() { wait_gone $P_TW "$1"; }
# entry_expiry PORT TIMEOUT_S: LINE (PORT's first entry) and EXPIRE_MS,
# its expiry by its idle time. The clock is read before conns: EXPIRE_MS is
# never later than the true expiry, whatever conns takes.
entry_expiry() {
	local t idle
	t=$(now_ms)
	LINE=$(conns_j "$1" | head -n 1)
	idle=$(json_num idle_ms <<<"$LINE")
	EXPIRE_MS=
	isnum "$idle" && EXPIRE_MS=$((t - idle + $2 * 1000))
}
# not_early NAME PORT: PORT's entry stays until 300 ms before EXPIRE_MS
not_early() {
	local early=0
	while (($(now_ms) < EXPIRE_MS - 300)); do
		[[ "$(n_entries "$2")" == 1 ]] || { early=1; break; }
		sleep 0.1
	done
	if ((early)); then fail "$1" "gone $((EXPIRE_MS - $(now_ms))) ms before its expiry"; else pass "$1"; fi
}
status_j() { X status "$IF_SRV" -j 2>/dev/null; }
key_epoch() { status_j | json_num key_epoch; }
# ms since boot, the clock of the entries' idle times
now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
# for wait_until, which re-runs a command (not a string computed once)
no_entries() { [[ "$(n_entries "$1")" == 0 ]]; }
epoch_not() { [[ "$(key_epoch)" != "$1" ]]; }

# expect_usage NAME REGEX args...: one stderr line, non-zero, nothing attached
expect_usage() {
	local name=$1 re=$2 rc nl why=
	shift 2
	in_srv timeout 20 "$XDPCT" run "$IF_SRV" "$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err" </dev/null
	rc=$?
	nl=$(grep -c . "$LAB_TMP/err")
	((rc != 0 && rc != 124)) || why+="exit status $rc; "
	[[ "$nl" == 1 ]] || why+="$nl lines on stderr; "
	grep -Eqi -- "$re" "$LAB_TMP/err" || why+="stderr does not match /$re/; "
	nothing_attached "$NS_SRV" "$IF_SRV" || why+="$WHY"
	if [[ -z "$why" ]]; then pass "$name"; else
		fail "$name" "${why}stderr: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
	fi
}

# ---- bad input ----
expect_usage bad_timeout_no_equals 'timeout.*STATE=SECONDS' --ports $P_TW --timeout time_wait
expect_usage bad_timeout_not_number 'timeout.*not a number' --ports $P_TW --timeout time_wait=2x
expect_usage bad_timeout_zero 'timeout.*not a number' --ports $P_TW --timeout close=0
expect_usage bad_timeout_empty_state 'timeout' --ports $P_TW --timeout =5
expect_usage bad_timeout_unknown_state "unknown state 'bogus'" --ports $P_TW --timeout time_wait=5,bogus=3
expect_usage bad_key_rotate 'key-rotate' --ports $P_TW --key-rotate 0
expect_usage bad_evict_interval 'evict-interval' --ports $P_TW --evict-interval fast
expect_usage not_attached_needs_ports 'ports' --timeout time_wait=5
expect_usage bad_ports 'port' --ports 70000

# ---- servers ----
bg_ns "$NS_SRV" "$LAB_TMP/srv.tw.log" "$TCPPEER" serve --port $P_TW --backlog 128
bg_ns "$NS_SRV" "$LAB_TMP/srv.key.log" "$TCPPEER" serve --port $P_KEY --backlog 128
bg_ns "$NS_SRV" "$LAB_TMP/srv.obs.log" socat -T 300 TCP-LISTEN:$P_OBS,reuseaddr,fork SYSTEM:"sleep 300"
for p in $P_TW $P_KEY $P_OBS; do wait_port "$NS_SRV" $p 30 || die "no listener on $p" servers; done
# the kernel's RST for the listener-less port stays home: the flow stays pending
in_srv nft -f - <<EOF || die "nft rule in the server ns" setup
table inet xdpct_run_test {
	chain out {
		type filter hook output priority 0;
		tcp sport $P_PEND tcp flags & rst == rst drop
	}
}
EOF

# ---- run ----
LAB_ATTACHED+=("$IF_SRV")
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRV" --ports "$P_TW,$P_PEND,$P_KEY" \
	--observe $P_OBS --timeout "time_wait=$TW" --timeout "established=$EST,pending=$PEND" \
	--key-rotate $ROT --cookie-slot 1 --evict-interval $IVL -v
RUN=$BG_PID
if wait_until 30 grep -qs 'running on' "$LAB_TMP/run.log"; then pass run_started; else
	die "run did not start: $(head -c 400 "$LAB_TMP/run.log")" run_started
fi
note "$(grep 'running on' "$LAB_TMP/run.log")"
if wait_grep 30 "\"run_pid\":${RUN}[,}]" status_j; then pass status_names_run_pid; else
	fail status_names_run_pid "$(status_j | head -c 400)"
fi
# run publishes its timeouts in xdpct_config: status shows them
tos=$(status_j | grep -o '"timeouts":{[^}]*}')
assert_eq status_shows_run_timeouts \
	"$(json_num time_wait <<<"$tos"),$(json_num established <<<"$tos"),$(json_num pending <<<"$tos")" \
	"$TW,$EST,$PEND"

# ---- TIME_WAIT leaves after time_wait seconds, not before ----
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $P_TW --up 10k --down 10k \
	--timeout 5 >/dev/null 2>&1
check_rc tw_connection $? "tcppeer to $P_TW failed"
entry_expiry $P_TW $TW
if [[ "$(json_val state <<<"$LINE")" == TIME_WAIT ]] && isnum "$EXPIRE_MS"; then
	pass tw_entry
	# conns counts down from run's time_wait, not the default 120 s
	assert_le tw_conns_timeout_is_runs "$(json_num timeout <<<"$LINE")" $TW
	not_early tw_not_evicted_early $P_TW
	if wait_tw_gone $((TW + DEADLINE)); then
		lag=$((GONE_MS - EXPIRE_MS))
		note "TIME_WAIT entry seen gone $lag ms after its expiry (pass every ${IVL}s)"
		pass tw_evicted_after_expiry
	else
		fail tw_evicted_after_expiry "still there $(($(now_ms) - EXPIRE_MS)) ms after expiry"
	fi
else
	fail tw_entry "entry: ${LINE:-none}"
fi
if grep -q 'evicted 1 entry' "$LAB_TMP/run.log"; then pass tw_eviction_logged; else
	fail tw_eviction_logged "$(tail -n 5 "$LAB_TMP/run.log")"
fi

# ---- an idle ESTABLISHED entry leaves after established seconds ----
# the client holds the connection far past the deadline: only eviction
# can remove its entry
bg_ns "$NS_CLI" "$LAB_TMP/obs.cli" bash -c "exec 3<>/dev/tcp/$SRV4/$P_OBS && sleep 120"
OBS_CLI=$BG_PID
if wait_grep 30 '"state":"ESTABLISHED"' conns_j $P_OBS; then
	pass est_entry
	entry_expiry $P_OBS $EST
	not_early est_not_evicted_early $P_OBS
	if wait_gone $P_OBS $((EST + DEADLINE)); then
		note "idle ESTABLISHED entry seen gone $((GONE_MS - EXPIRE_MS)) ms after its expiry (established=${EST}s)"
		pass est_evicted_after_timeout
	else
		fail est_evicted_after_timeout "still there $(($(now_ms) - EXPIRE_MS)) ms after expiry: $(conns_j $P_OBS | head -c 300)"
	fi
else
	fail est_entry "$(conns_j $P_OBS | head -c 300)"
fi
stop_pid "$OBS_CLI"

# ---- a cookie flow whose child never comes leaves with its pending entry ----
pending_entries() { status_j | grep -o '"xdpct_pending":{"entries":[0-9]*' | grep -o '[0-9]*$'; }
bg_ns "$NS_CLI" "$LAB_TMP/pend.cli" bash -c "exec 3<>/dev/tcp/$SRV4/$P_PEND && sleep 120"
PEND_CLI=$BG_PID
if wait_grep 30 '"flags":\[[^]]*"PENDING"' conns_j $P_PEND; then
	pass pending_flow
	assert_eq pending_map_entry "$(pending_entries)" 1
	# pending time is counted in whole seconds from the next one: one more
	entry_expiry $P_PEND $((PEND - 1))
	not_early pending_not_evicted_early $P_PEND
	if wait_gone $P_PEND $((PEND + DEADLINE)); then
		note "pending flow seen gone $((GONE_MS - EXPIRE_MS)) ms after $((PEND - 1)) s idle (pending=${PEND}s)"
		pass pending_evicted_after_timeout
	else
		fail pending_evicted_after_timeout "still there: $(conns_j $P_PEND | head -c 300)"
	fi
	assert_eq pending_map_entry_gone "$(pending_entries)" 0
else
	fail pending_flow "$(conns_j $P_PEND | head -c 300)"
fi
stop_pid "$PEND_CLI"

# ---- key rotation ----
# slots of ~1.07 s (--cookie-slot 1): a cookie is valid one to two slots;
# the rotations ROT s apart are never refused (the newest key's first slot
# is past by then)
e0=$(key_epoch)
wait_until 60 epoch_not "$e0"
e1=$(key_epoch)
if isnum "$e0" && isnum "$e1" && ((e1 == e0 + 1)); then pass key_rotates; else
	fail key_rotates "epoch $e0 -> $e1 in 60 s"
fi
# key_read: KEY_E and KEY_S, the key epoch and key_sel of one read of the
# config map (config_json): read apart, a rotation could fall between them
key_read() {
	local j
	j=$(config_json "$(pin_of "$IF_SRV")")
	KEY_E=$(json_num key_epoch <<<"$j") KEY_S=$(json_num key_sel <<<"$j")
}
# shellcheck disable=SC2317 # called through wait_until
key_age_ge() { awk -v a="$(status_j | json_val key_age_s)" -v m="$1" 'BEGIN { exit !(a != "" && a >= m) }'; }
# shellcheck disable=SC2317 # called through wait_until
ended() { ! kill -0 "$1" 2>/dev/null; }
hold_rule() {
	in_cli nft -f - <<EOF
table inet xdpct_run_test {
	chain out {
		type filter hook output priority 0;
		tcp dport $P_KEY tcp flags & syn == 0 drop
	}
}
EOF
}
# The client's packets after its SYN are held from shortly before the next
# rotation until it took effect (key_sel moved): its cookie is the old
# key's, then the previous one. Held ~0.3 s, its ACK is back (retransmitted
# within ~0.6 s) while its slot is still valid; if the machine made the
# hold too long and the client is not in 4 s after it, again at the next
# rotation.
stats_snap "$IF_SRV"
prev0=$(xstat cookie_prev_key)
held=''
for attempt in 1 2 3; do
	hold_rule || fail key_hold_rule "nft in the client ns"
	wait_until $((ROT + 2)) key_age_ge "$(awk -v r=$ROT 'BEGIN { print r - 0.3 }')"
	key_read
	e_syn=$KEY_E sel_syn=$KEY_S
	bg_ns "$NS_CLI" "$LAB_TMP/key.j" "$TCPPEER" connect --addr "$SRV4" --port $P_KEY --up 10k \
		--down 10k --timeout 15 --json
	KEY_CLI=$BG_PID
	wait_until $((ROT + 2)) epoch_not "$e_syn"
	key_read
	e2=$KEY_E sel2=$KEY_S
	in_cli nft delete table inet xdpct_run_test
	note "attempt $attempt: client held from epoch $e_syn (key_sel $sel_syn) to $e2 (key_sel $sel2)"
	# the client's own fate, not xdpct's stale count: the earlier cases'
	# clients (the pending flow's FIN, retransmitted for minutes) meet the
	# cookie check too, and their drops are counted there as well
	if ! wait_until 4 ended "$KEY_CLI"; then
		note "attempt $attempt: not in 4 s after the hold (its ACK came back after its cookie's slots?): again at the next rotation"
		stop_pid "$KEY_CLI"
		continue
	fi
	wait_pid "$KEY_CLI" 1
	held=$?
	break
done
if [[ -n "$held" ]]; then
	check_rc key_prev_still_valid "$held" "$(head -c 300 "$LAB_TMP/key.j")"
	# the hold spanned a rotation that moved the keys' slots
	if isnum "$e_syn" && isnum "$sel2" && [[ "$e2" == $((e_syn + 1)) && "$sel2" != "$sel_syn" ]]; then
		pass key_hold_spans_rotation
	else
		fail key_hold_spans_rotation "epoch $e_syn -> $e2, key_sel $sel_syn -> $sel2"
	fi
	stats_snap "$IF_SRV"
	assert_ge key_prev_cookie_counted "$(($(xstat cookie_prev_key) - prev0))" 1
else
	fail key_prev_still_valid "the held client was not in 4 s after the hold in $attempt attempts"
fi

# ---- stopping ----
kill -TERM "$RUN"
wait_pid "$RUN" 10
check_rc sigterm_exit_0 $? "$(tail -n 3 "$LAB_TMP/run.log")"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass sigterm_detaches; else fail sigterm_detaches "$WHY"; fi
lock=$(in_srv "$XDPCT" pin-dir "$IF_SRV" --lock)
[[ -n "$lock" && ! -e "$lock" ]] && pass run_lock_removed || fail run_lock_removed "'$lock' left"

bg_ns "$NS_SRV" "$LAB_TMP/run2.log" "$XDPCT" run "$IF_SRV" --ports $P_TW --keep
RUN=$BG_PID
wait_until 30 grep -qs 'running on' "$LAB_TMP/run2.log" || fail keep_started "$(head -c 300 "$LAB_TMP/run2.log")"
kill -INT "$RUN"
wait_pid "$RUN" 10
check_rc sigint_keep_exit_0 $? "$(tail -n 3 "$LAB_TMP/run2.log")"
if nothing_attached "$NS_SRV" "$IF_SRV"; then fail keep_leaves_attached "nothing left"; else
	pass keep_leaves_attached
fi
X detach "$IF_SRV" >/dev/null 2>&1
nothing_attached "$NS_SRV" "$IF_SRV" || fail detach_after_keep "$WHY"

# ---- the timer wheel: on time without passes; --no-wheel: not ----
# passes 600 s apart (the first at start, before the connection): only the
# wheel can remove the entry within the deadline
# wheel_run NAME LOG [args]: start, RUN set
wheel_run() {
	local name=$1 log=$2
	shift 2
	bg_ns "$NS_SRV" "$log" "$XDPCT" run "$IF_SRV" --ports $P_TW --timeout time_wait=1 \
		--evict-interval 600 -v "$@"
	RUN=$BG_PID
	if wait_until 30 grep -qs 'running on' "$log"; then pass "${name}_started"; else
		fail "${name}_started" "$(head -c 300 "$log")"
	fi
}
# close_one NAME [ADDR]: a connection to P_TW, closed; CLOSED_MS, EXPIRE_MS
# (from the entry's idle time) set, 0 without a TIME_WAIT entry
close_one() {
	in_cli timeout 10 "$TCPPEER" connect --addr "${2:-$SRV4}" --port $P_TW --up 1k --down 1k \
		--timeout 5 >/dev/null 2>&1
	check_rc "$1_connection" $? "tcppeer to $P_TW failed"
	CLOSED_MS=$(now_ms)
	entry_expiry $P_TW 1
	if [[ "$(json_val state <<<"$LINE")" == TIME_WAIT ]] && isnum "$EXPIRE_MS"; then
		pass "$1_tw_entry"
		# time left from run's time_wait=1 (xdpct_config), not the default 120 s
		assert_le "$1_conns_timeout_is_runs" "$(json_num timeout <<<"$LINE")" 1
		return 0
	fi
	fail "$1_tw_entry" "entry: ${LINE:-none}"
	return 1
}
stop_run() {
	kill -TERM "$RUN"
	wait_pid "$RUN" 10
	check_rc "$1_stopped" $? "$(tail -n 3 "$2" | tr '\n' '|')"
}

LAB_ATTACHED+=("$IF_SRV")
wheel_run wheel "$LAB_TMP/wheel.log"
for fam in 4 6; do
	addr=$SRV4
	[[ $fam == 6 ]] && addr=$SRV6
	close_one "wheel_ipv$fam" "$addr" || continue
	not_early "wheel_ipv${fam}_tw_not_early" $P_TW
	if wait_tw_gone $DEADLINE; then
		note "wheel, IPv$fam: TIME_WAIT entry seen gone $((GONE_MS - CLOSED_MS)) ms after the close, $((GONE_MS - EXPIRE_MS)) ms after its expiry (passes 600 s apart)"
		pass "wheel_ipv${fam}_tw_gone_before_a_pass"
	else
		fail "wheel_ipv${fam}_tw_gone_before_a_pass" "still there $(($(now_ms) - CLOSED_MS)) ms after the close"
	fi
done
if grep -q 'wheel: evicted 1 entry' "$LAB_TMP/wheel.log"; then pass wheel_eviction_logged; else
	fail wheel_eviction_logged "$(tail -n 5 "$LAB_TMP/wheel.log" | tr '\n' '|')"
fi
stats_snap "$IF_SRV"
assert_eq wheel_no_event_lost "$(xstat event_lost)" 0
stop_run wheel "$LAB_TMP/wheel.log"

wheel_run nowheel "$LAB_TMP/nowheel.log" --no-wheel
if close_one nowheel; then
	while (($(now_ms) < EXPIRE_MS + 1000)); do sleep 0.1; done
	line=$(conns_j $P_TW | head -n 1)
	if [[ "$(json_val state <<<"$line")" == TIME_WAIT ]]; then
		pass nowheel_tw_still_there_after_expiry
		# a one-off pass by `xdpct evict` takes run's time_wait=1 from the
		# config map (the default, 120 s, would keep the entry)
		out=$(X evict "$IF_SRV" 2>&1)
		check_rc evict_uses_runs_timeouts_rc $? "$out"
		assert_eq evict_uses_runs_timeouts "$(n_entries $P_TW)" 0
	else
		fail nowheel_tw_still_there_after_expiry "entry: ${line:-none}"
	fi
fi
grep -q 'wheel' "$LAB_TMP/nowheel.log" && fail nowheel_no_wheel "$(grep wheel "$LAB_TMP/nowheel.log" | head -n 2)" ||
	pass nowheel_no_wheel
stop_run nowheel "$LAB_TMP/nowheel.log"
nothing_attached "$NS_SRV" "$IF_SRV" || fail wheel_runs_detached "$WHY"
note "run log: $(tr '\n' '|' <"$LAB_TMP/run.log" | head -c 1500)"
lab_finish
